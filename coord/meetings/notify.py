"""Mails about a meeting, queued in the outbox inside the caller's transaction.

One message per invitee, each with the agenda in the body, answer links that work without an
account, and a calendar invitation (REQUEST) or cancellation (CANCEL) whose UID comes from the
meeting, so every client updates the event it already has. Every invitation lists the organiser and
all active invitees; the recipient is one of the ATTENDEEs (Outlook shows no Accept/Decline buttons
otherwise).

SEQUENCE only rises for each attendee (RFC 5546 §2.1.4): `Meeting.sequence` is the highest SEQUENCE
ever sent to anyone and `Invitation.sent_sequence` the last one sent to that attendee. A change for
someone who already holds the meeting's SEQUENCE (a re-invitation after a removal, a new role) first
raises the meeting's, so clients never take an update for a stale copy.

Dedupe keys make a retried request harmless and a real change a new mail (each change mailed to
someone carries a SEQUENCE they never received):
    convocation:{meeting}:{invitation}:{sequence}
    reminder:{meeting}:{invitation}:{day or tag}
    refresh:{meeting}:{invitation}:{sequence}:{day}
    cancellation:{meeting}:{invitation}:{sequence}
    removal:{meeting}:{invitation}:{sequence}
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

from coord.access import department_of
from coord.committees.tables import Committee, CommitteeMember
from coord.core import clock
from coord.core.french import DAYS, MONTHS, date_fr
from coord.core.settings import current_settings
from coord.ics import CalendarAttendee, CalendarEvent, Person, build_cancel, build_request
from coord.links import service as links
from coord.mail import outbox
from coord.mail import render as mails
from coord.meetings import annex_links
from coord.meetings.quality import quality
from coord.meetings.seams import carried_forward_items
from coord.meetings.tables import AgendaItem, Invitation, Meeting

ROLE_TO_ICAL = {
    "chair": "CHAIR",
    "required": "REQ-PARTICIPANT",
    "optional": "OPT-PARTICIPANT",
    "info": "NON-PARTICIPANT",
}
ANSWER_TO_PARTSTAT = {
    "needs_action": "NEEDS-ACTION",
    "accepted": "ACCEPTED",
    "declined": "DECLINED",
    "tentative": "TENTATIVE",
    "delegated": "DELEGATED",
}
ROLE_LABELS = {
    "chair": "présidence",
    "required": "membre",
    "optional": "participation facultative",
    "info": "pour information",
}
# The answer page of a link offers these; `?reponse=<code>` pre-selects one (GET changes nothing).
ANSWER_LINKS = (
    ("accepted", "Accepter"),
    ("declined", "Refuser"),
    ("tentative", "Peut-être"),
    ("delegated", "Déléguer à un collègue"),
)
ZONE_NAMES = {
    "Europe/Paris": "heure de Paris",
    "America/Guadeloupe": "heure de la Guadeloupe",
    "America/Martinique": "heure de la Martinique",
    "America/Cayenne": "heure de la Guyane",
    "Indian/Reunion": "heure de La Réunion",
    "Indian/Mayotte": "heure de Mayotte",
}
LINK_VALIDITY_AFTER_MEETING = dt.timedelta(days=30)
MIN_LINK_VALIDITY = dt.timedelta(days=1)

# -- data ---------------------------------------------------------------------------------------


async def meeting_data(meeting_id: int) -> dict[str, Any]:
    meeting = await Meeting.select().where(Meeting.id == meeting_id).first()
    if meeting is None:
        raise LookupError(f"meeting {meeting_id} not found")
    department = await department_of(meeting)
    committee = await Committee.select(Committee.name).where(Committee.id == meeting["committee"]).first()
    agenda = (
        await AgendaItem.select(AgendaItem.title, AgendaItem.presenter, AgendaItem.duration_minutes)
        .where(AgendaItem.meeting == meeting_id)
        .order_by(AgendaItem.position)
        .order_by(AgendaItem.id)
    )
    invitations = (
        await Invitation.select(
            Invitation.id,
            Invitation.role,
            Invitation.answer,
            Invitation.answer_sequence,
            Invitation.sent_sequence,
            Invitation.delegated_from,
            Invitation.removed_at,
            Invitation.contact,
            Invitation.delegate,
            Invitation.contact.first_name.as_alias("first_name"),
            Invitation.contact.last_name.as_alias("last_name"),
            Invitation.contact.email.as_alias("email"),
            Invitation.contact.active.as_alias("contact_active"),
        )
        .where(Invitation.meeting == meeting_id)
        .order_by(Invitation.id)
    )
    for invitation in invitations:
        invitation["name"] = f"{invitation['first_name']} {invitation['last_name']}".strip()
    members = await CommitteeMember.select(CommitteeMember.contact, CommitteeMember.role).where(
        CommitteeMember.committee == meeting["committee"]
    )
    member_roles = {row["contact"]: row["role"] for row in members}
    by_id = {invitation["id"]: invitation for invitation in invitations}
    for invitation in invitations:
        invitation["quality"] = quality(invitation, member_roles, by_id)
    return {
        "open_actions": await carried_forward_items(meeting),
        "meeting": meeting,
        "department": department,
        "committee": committee["name"] if committee else "",
        "agenda": agenda,
        "invitations": invitations,
    }


def _active(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Invitees still invited whose contact is active: a deactivated or erased contact (whose links
    no longer open) gets no more mail and is no longer listed to the others."""
    return [i for i in data["invitations"] if i["removed_at"] is None and i.get("contact_active", True)]


def current_answer(invitation: Mapping[str, Any], answers_sequence: int) -> str:
    """The invitee's answer to the current version of the meeting, the one rule the page, the API,
    reminders and the .ics all follow: an answer given before the last change of time or place
    (`Meeting.answers_sequence`) no longer holds, the invitee is asked again. A delegation holds:
    the delegate is the one asked."""
    answer = invitation["answer"]
    answered = invitation.get("answer_sequence")
    if answer != "delegated" and answered is not None and answered < answers_sequence:
        return "needs_action"
    return answer


def outdated_answer(invitation: Mapping[str, Any], answers_sequence: int) -> str | None:
    """The answer given to an earlier time or place, shown as such (« avait accepté »), or None."""
    current = current_answer(invitation, answers_sequence)
    if current == "needs_action" and invitation["answer"] != "needs_action":
        return str(invitation["answer"])
    return None


def agenda_text(committee: str, agenda: list[dict[str, Any]]) -> str:
    lines = [f"Ordre du jour – {committee}" if committee else "Ordre du jour"]
    for number, item in enumerate(agenda, start=1):
        extra = ", ".join(
            p for p in (item["presenter"], f"{item['duration_minutes']} min" if item["duration_minutes"] else "") if p
        )
        lines.append(f"{number}. {item['title']}" + (f" ({extra})" if extra else ""))
    return "\n".join(lines)


def calendar_event(data: dict[str, Any], *, sequence: int | None = None) -> CalendarEvent:
    meeting, department = data["meeting"], data["department"]
    tz = ZoneInfo(department["timezone"])
    settings = current_settings()
    return CalendarEvent(
        uid=meeting["uid"],
        sequence=meeting["sequence"] if sequence is None else sequence,
        summary=meeting["title"],
        description=agenda_text(data["committee"], data["agenda"]),
        start=meeting["starts_at"].astimezone(tz),
        end=meeting["ends_at"].astimezone(tz),
        tzid=department["timezone"],
        # ORGANIZER is the mailbox Coord reads and sends from (From must equal it, see
        # calendar-interop.md); the meeting's own organiser signs the mail body.
        organizer=Person(email=settings.organiser_email, name=settings.organiser_name),
        location=" ".join(meeting["place"].split()),
        video_url=meeting["video_url"],
        url=f"{settings.base_url}/d/{department['code']}/reunions/{meeting['id']}",
        status="CANCELLED" if meeting["status"] == "cancelled" else "CONFIRMED",
    )


def _attendee(data: dict[str, Any], invitation: dict[str, Any]) -> CalendarAttendee:
    by_id = {i["id"]: i for i in _active(data)}
    delegated_to = ""
    if invitation["answer"] == "delegated":
        delegate = next((i for i in by_id.values() if i["delegated_from"] == invitation["id"]), None)
        delegated_to = delegate["email"] if delegate else ""
    origin = by_id.get(invitation["delegated_from"] or 0)
    return CalendarAttendee(
        email=invitation["email"],
        name=invitation["name"],
        role=ROLE_TO_ICAL.get(invitation["role"], "REQ-PARTICIPANT"),
        partstat=ANSWER_TO_PARTSTAT.get(
            current_answer(invitation, data["meeting"]["answers_sequence"]), "NEEDS-ACTION"
        ),
        delegated_to=delegated_to,
        delegated_from=origin["email"] if origin else "",
    )


async def raise_sequence(meeting_id: int, invitation_ids: list[int] | None = None) -> int:
    """Raise the meeting's SEQUENCE before mailing a change: above its own and above what the given
    invitees hold (a removed invitee's CANCEL went out above the meeting's). Returns it."""
    meeting = await Meeting.select(Meeting.sequence).where(Meeting.id == meeting_id).first()
    held = 0
    if invitation_ids:
        rows = await Invitation.select(Invitation.sent_sequence).where(Invitation.id.is_in(invitation_ids))
        held = max((r["sent_sequence"] or 0 for r in rows), default=0)
    sequence = max(meeting["sequence"] if meeting else 0, held) + 1
    await Meeting.update({Meeting.sequence: sequence}).where((Meeting.id == meeting_id) & (Meeting.sequence < sequence))
    return sequence


def _holds(invitation: Mapping[str, Any], sequence: int) -> bool:
    """The invitee already received this SEQUENCE (or a later one): sending it again would be a
    duplicate, and a client would take it for a stale copy."""
    return invitation.get("sent_sequence") is not None and invitation["sent_sequence"] >= sequence


async def _mark_sent(invitation: dict[str, Any], sequence: int) -> None:
    if invitation.get("sent_sequence") is None or invitation["sent_sequence"] < sequence:
        await Invitation.update({Invitation.sent_sequence: sequence}).where(Invitation.id == invitation["id"])
        invitation["sent_sequence"] = sequence


def _time(value: dt.datetime) -> str:
    return f"{value.hour:02d} h {value.minute:02d}"


def when_fr(starts: dt.datetime, ends: dt.datetime, tz: str) -> str:
    """« le mardi 14 octobre 2026, de 09 h 30 à 11 h 30 », or « du ... au ... » over several days."""
    zone = ZoneInfo(tz)
    start, end = starts.astimezone(zone), ends.astimezone(zone)
    if start.date() == end.date():
        day = f"{DAYS[start.weekday()]} {start.day} {MONTHS[start.month - 1]} {start.year}"
        return f"{day}, de {_time(start)} à {_time(end)}"
    return f"du {date_fr(start, tz, True)} au {date_fr(end, tz, True)}"


def zone_label(tz: str, at: dt.datetime) -> str:
    """« heure de la Guyane, UTC−3 »: named for every zone but Paris, where it goes without saying."""
    offset = at.astimezone(ZoneInfo(tz)).utcoffset() or dt.timedelta()
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "−"
    hours, rest = divmod(abs(minutes), 60)
    utc = f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")
    return f"{ZONE_NAMES.get(tz, tz)}, {utc}"


def _context(data: dict[str, Any], invitation: dict[str, Any], link: str | None, **extra: Any) -> dict[str, Any]:
    meeting, department = data["meeting"], data["department"]
    tz = department["timezone"]
    settings = current_settings()
    total = sum(int(i["duration_minutes"] or 0) for i in data["agenda"])
    return {
        "meeting": meeting,
        "department": department,
        "committee": data["committee"],
        "agenda": data["agenda"],
        "agenda_minutes": total,
        "open_actions": data.get("open_actions", []),
        "invitation": invitation,
        "recipient": invitation["name"],
        "role": invitation.get("quality") or ROLE_LABELS.get(invitation["role"], ""),
        "link": link,
        "answer_links": [(label, f"{link}?reponse={code}") for code, label in ANSWER_LINKS] if link else [],
        "tz": tz,
        "overseas": tz != "Europe/Paris",
        "zone": zone_label(tz, meeting["starts_at"]),
        "when": when_fr(meeting["starts_at"], meeting["ends_at"], tz),
        "starts": date_fr(meeting["starts_at"], tz, True),
        "meeting_url": f"{settings.base_url}/d/{department['code']}/reunions/{meeting['id']}",
        "organiser_name": meeting["organiser_name"] or settings.organiser_name,
        "organiser_email": meeting["organiser_email"] or settings.organiser_email,
        "reminder": False,
        "update": False,
        "changes": [],
        "answers_reset": False,
        "whole_meeting": True,
        "annexes": [],  # the convocation's annexes, signed links for this invitee (coord.meetings.annexes)
    } | extra


async def _answer_link(data: dict[str, Any], invitation: dict[str, Any]) -> str:
    meeting = data["meeting"]
    now = clock.now()
    valid_for = max(MIN_LINK_VALIDITY, meeting["ends_at"] + LINK_VALIDITY_AFTER_MEETING - now)
    token = await links.issue(
        "invitation",
        invitation["id"],
        department_id=meeting["department"],
        contact_id=invitation["contact"],
        valid_for=valid_for,
        now=now,
    )
    return f"{current_settings().base_url}/r/invitation/{token}"


async def _annex_links(data: dict[str, Any], invitation: dict[str, Any]) -> list[dict[str, Any]]:
    """Links to the convocation's annexes (never attachments: links only), valid as long as the answer link."""
    meeting = data["meeting"]
    valid_for = max(MIN_LINK_VALIDITY, meeting["ends_at"] + LINK_VALIDITY_AFTER_MEETING - clock.now())
    return await annex_links.mail_links(meeting, invitation["contact"], valid_for)


# -- requests -----------------------------------------------------------------------------------


async def _queue_request(
    data: dict[str, Any],
    targets: list[dict[str, Any]],
    *,
    kind: str,
    key: str | None = None,
    changes: list[str] | None = None,
    answers_reset: bool = False,
) -> int:
    """REQUESTs to `targets` at the meeting's SEQUENCE. A convocation or update goes only to those
    who do not hold it yet (the caller raised it for a change: `raise_sequence`); a reminder or a
    refresh repeats it (same SEQUENCE, newer DTSTAMP)."""
    meeting = data["meeting"]
    sequence = meeting["sequence"]
    if kind == "convocation":
        targets = [t for t in targets if not _holds(t, sequence)]
    if meeting["status"] == "cancelled" or not targets:
        return 0
    event = calendar_event(data, sequence=sequence)
    attendees = [_attendee(data, i) for i in _active(data)]
    now = clock.now()
    calendar = b""  # the same invitation for everyone (it lists every attendee): built once, if needed
    count = 0
    for invitation in targets:
        dedupe = f"{kind}:{meeting['id']}:{invitation['id']}:{key or sequence}"
        if await outbox.already_queued(dedupe):
            continue  # a retry: no second mail, no second link
        link = await _answer_link(data, invitation)
        context = _context(
            data,
            invitation,
            link,
            annexes=await _annex_links(data, invitation),
            reminder=kind == "reminder",
            update=bool(changes),
            changes=changes or [],
            answers_reset=answers_reset,
        )
        # Meeting mails are strict: a variable missing from the context is an error.
        mail = mails.render("reminder" if kind == "reminder" else "convocation", context, strict=True)
        calendar = calendar or build_request(event, attendees, now)
        queued = await outbox.queue(
            dedupe_key=dedupe,
            kind=kind,
            to_email=invitation["email"],
            to_name=invitation["name"],
            subject=mail.subject,
            text=mail.text,
            html=mail.html,
            calendar=calendar,
            calendar_method="REQUEST",
            department_id=meeting["department"],
            entity="meeting",
            entity_id=meeting["id"],
        )
        if queued:
            await _mark_sent(invitation, sequence)
        count += int(queued)
    return count


async def queue_convocation(
    meeting_id: int,
    invitation_ids: list[int] | None = None,
    *,
    changes: list[str] | None = None,
    answers_reset: bool = False,
) -> int:
    """METHOD:REQUEST to every active invitee, or to the given ones; returns how many mails were queued.

    The convocation, or an update after a change: `changes` lists what changed, in French, for the
    mail (« Horaire modifié : … → … »); `answers_reset` says that the invitees are asked again."""
    data = await meeting_data(meeting_id)
    wanted = None if invitation_ids is None else set(invitation_ids)
    targets = [i for i in _active(data) if wanted is None or i["id"] in wanted]
    return await _queue_request(data, targets, kind="convocation", changes=changes, answers_reset=answers_reset)


async def queue_refresh(invitation_id: int, *, now: dt.datetime | None = None) -> int:
    """The current invitation again to one invitee whose calendar asked for it (iMIP REFRESH),
    at most once a day; always to the address Coord knows, never to whoever asked."""
    row = await Invitation.select(Invitation.meeting).where(Invitation.id == invitation_id).first()
    if row is None:
        return 0
    data = await meeting_data(row["meeting"])
    targets = [i for i in _active(data) if i["id"] == invitation_id and i["sent_sequence"] is not None]
    if not targets:
        return 0
    day = (now or clock.now()).astimezone(dt.UTC).date().isoformat()
    sequence = max(data["meeting"]["sequence"], targets[0]["sent_sequence"])
    return await _queue_request(data, targets, kind="refresh", key=f"{sequence}:{day}")


async def queue_reminder(
    meeting_id: int, *, only_unanswered: bool = True, now: dt.datetime | None = None, key: str | None = None
) -> int:
    """The invitation again with a « Rappel » mail, at most once a day per invitee.

    Never to those who declined or delegated; with `only_unanswered`, only to those who have not
    answered the current version of the meeting. `now` is the caller's clock (the day of the dedupe
    key); the scheduler passes `key` (e.g. "agenda") to make a reminder once per meeting and kind."""
    data = await meeting_data(meeting_id)
    answers_sequence = data["meeting"]["answers_sequence"]
    targets = [
        i
        for i in _active(data)
        if current_answer(i, answers_sequence) not in {"declined", "delegated"}
        and (not only_unanswered or current_answer(i, answers_sequence) == "needs_action")
    ]
    day = (now or clock.now()).astimezone(dt.UTC).date().isoformat()
    return await _queue_request(data, targets, kind="reminder", key=key or day)


# -- cancellations ------------------------------------------------------------------------------


async def _queue_cancel(data: dict[str, Any], targets: list[dict[str, Any]], *, kind: str, sequence: int) -> int:
    """METHOD:CANCEL: of the whole meeting ("cancellation", STATUS:CANCELLED, every attendee listed)
    or of one invitee ("removal": RFC 5546 §3.2.5 forbids STATUS there, and lists only them)."""
    meeting = data["meeting"]
    # Never sent: nothing to take back. Already holding this SEQUENCE: already cancelled.
    targets = [t for t in targets if t["sent_sequence"] is not None and not _holds(t, sequence)]
    if not targets:
        return 0
    whole = kind == "cancellation"
    event = replace(calendar_event(data, sequence=sequence), status="CANCELLED")
    listed = [_attendee(data, i) for i in (_active(data) if whole else targets)]
    now = clock.now()
    calendar = build_cancel(event, listed, now, whole_meeting=whole)  # the same for everyone
    count = 0
    for invitation in targets:
        context = _context(data, invitation, None, whole_meeting=whole)
        mail = mails.render(kind, context, strict=True)  # "cancellation" or "removal"
        queued = await outbox.queue(
            dedupe_key=f"{kind}:{meeting['id']}:{invitation['id']}:{sequence}",
            kind=kind,
            to_email=invitation["email"],
            to_name=invitation["name"],
            subject=mail.subject,
            text=mail.text,
            html=mail.html,
            calendar=calendar,
            calendar_method="CANCEL",
            department_id=meeting["department"],
            entity="meeting",
            entity_id=meeting["id"],
        )
        if queued:
            await _mark_sent(invitation, sequence)
        count += int(queued)
    return count


async def queue_cancellation(meeting_id: int) -> int:
    """METHOD:CANCEL with STATUS:CANCELLED to every active invitee who received the convocation."""
    data = await meeting_data(meeting_id)
    return await _queue_cancel(data, _active(data), kind="cancellation", sequence=data["meeting"]["sequence"])


async def queue_removal(invitation_id: int) -> int:
    """METHOD:CANCEL to one invitee removed from the meeting (or a delegate withdrawn); their answer
    links stop working. Its SEQUENCE is above everything they received; the meeting's own stays, as
    the others' copies do not change (a re-invitation raises it above this one)."""
    row = await Invitation.select(Invitation.meeting).where(Invitation.id == invitation_id).first()
    if row is None:
        return 0
    data = await meeting_data(row["meeting"])
    targets = [i for i in data["invitations"] if i["id"] == invitation_id]
    await links.revoke("invitation", invitation_id)
    if data["meeting"]["status"] == "cancelled" or not targets or targets[0]["sent_sequence"] is None:
        return 0
    held = targets[0]["sent_sequence"]
    if await outbox.already_queued(f"removal:{data['meeting']['id']}:{invitation_id}:{held}"):
        return 0  # this removal was mailed already
    sequence = max(data["meeting"]["sequence"], held) + 1
    return await _queue_cancel(data, targets, kind="removal", sequence=sequence)
