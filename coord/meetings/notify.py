"""Mails about a meeting, queued in the outbox inside the caller's transaction.

One message per invitee, each with the agenda in the body, answer links that work without an
account, and a calendar invitation (REQUEST) or cancellation (CANCEL) whose UID and SEQUENCE come
from the meeting, so every client updates the event it already has.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape

from coord.calendar import CalendarAttendee, CalendarEvent, Person, build_cancel, build_request
from coord.committees.tables import Committee
from coord.core.settings import current_settings
from coord.links import service as links
from coord.mail import outbox
from coord.meetings.tables import AgendaItem, Invitation, Meeting
from coord.territory.tables import Department
from coord.web.templating import TEMPLATES_DIR, configure, date_fr

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
LINK_VALIDITY_AFTER_MEETING = dt.timedelta(days=30)

_mail_env = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR), autoescape=select_autoescape(["html"]), keep_trailing_newline=True
)
configure(_mail_env)


def render(template: str, **context: Any) -> str:
    return _mail_env.get_template(template).render(**context)


async def _load(meeting_id: int) -> dict[str, Any]:
    meeting = await Meeting.select().where(Meeting.id == meeting_id).first()
    if meeting is None:
        raise LookupError(meeting_id)
    department = await Department.select().where(Department.id == meeting["department"]).first()
    committee = await Committee.select(Committee.name).where(Committee.id == meeting["committee"]).first()
    agenda = (
        await AgendaItem.select(AgendaItem.title, AgendaItem.presenter, AgendaItem.duration_minutes)
        .where(AgendaItem.meeting == meeting_id)
        .order_by(AgendaItem.position)
    )
    invitations = (
        await Invitation.select(
            Invitation.id,
            Invitation.role,
            Invitation.answer,
            Invitation.removed_at,
            Invitation.contact,
            Invitation.contact.first_name.as_alias("first_name"),
            Invitation.contact.last_name.as_alias("last_name"),
            Invitation.contact.email.as_alias("email"),
        )
        .where(Invitation.meeting == meeting_id)
        .order_by(Invitation.id)
    )
    return {
        "meeting": meeting,
        "department": department,
        "committee": committee["name"] if committee else "",
        "agenda": agenda,
        "invitations": invitations,
    }


def _event(data: dict[str, Any]) -> CalendarEvent:
    meeting, department = data["meeting"], data["department"]
    tz = ZoneInfo(department["timezone"])
    settings = current_settings()
    lines = [f"Ordre du jour – {data['committee']}"]
    for number, item in enumerate(data["agenda"], start=1):
        extra = ", ".join(
            p for p in (item["presenter"], f"{item['duration_minutes']} min" if item["duration_minutes"] else "") if p
        )
        lines.append(f"{number}. {item['title']}" + (f" ({extra})" if extra else ""))
    return CalendarEvent(
        uid=meeting["uid"],
        sequence=meeting["sequence"],
        summary=meeting["title"],
        description="\n".join(lines),
        start=meeting["starts_at"].astimezone(tz),
        end=meeting["ends_at"].astimezone(tz),
        tzid=department["timezone"],
        organizer=Person(
            email=meeting["organiser_email"] or settings.organiser_email,
            name=meeting["organiser_name"] or settings.organiser_name,
        ),
        location=" ".join(meeting["place"].split()),
        video_url=meeting["video_url"],
        url=f"{settings.base_url}/d/{department['code']}/reunions/{meeting['id']}",
        status="CANCELLED" if meeting["status"] == "cancelled" else "CONFIRMED",
    )


def _attendee(invitation: dict[str, Any]) -> CalendarAttendee:
    return CalendarAttendee(
        email=invitation["email"],
        name=f"{invitation['first_name']} {invitation['last_name']}",
        role=ROLE_TO_ICAL.get(invitation["role"], "REQ-PARTICIPANT"),
        partstat=ANSWER_TO_PARTSTAT.get(invitation["answer"], "NEEDS-ACTION"),
    )


def _context(data: dict[str, Any], invitation: dict[str, Any], link: str | None) -> dict[str, Any]:
    meeting, department = data["meeting"], data["department"]
    tz = department["timezone"]
    overseas = tz != "Europe/Paris"
    return {
        "meeting": meeting,
        "department": department,
        "committee": data["committee"],
        "agenda": data["agenda"],
        "invitation": invitation,
        "link": link,
        "tz": tz,
        "overseas": overseas,
        "starts": date_fr(meeting["starts_at"], tz, True),
        "ends": date_fr(meeting["ends_at"], tz, True),
        "base_url": current_settings().base_url,
    }


async def _answer_link(data: dict[str, Any], invitation: dict[str, Any]) -> str:
    meeting = data["meeting"]
    token = await links.issue(
        "invitation",
        invitation["id"],
        department_id=meeting["department"],
        contact_id=invitation["contact"],
        valid_for=(meeting["ends_at"] + LINK_VALIDITY_AFTER_MEETING) - dt.datetime.now(dt.UTC),
    )
    return f"{current_settings().base_url}/r/invitation/{token}"


async def _already_convened(meeting_id: int) -> set[str]:
    """Addresses that already received a convocation for this meeting: later ones are updates."""
    from coord.mail.tables import OutboxMessage

    rows = await OutboxMessage.select(OutboxMessage.to_email).where(
        (OutboxMessage.entity == "meeting")
        & (OutboxMessage.entity_id == meeting_id)
        & (OutboxMessage.kind == "convocation")
    )
    return {r["to_email"] for r in rows}


async def _queue_request(
    data: dict[str, Any], targets: list[dict[str, Any]], *, kind: str, key: str, subject_prefix: str
) -> int:
    meeting = data["meeting"]
    earlier = await _already_convened(meeting["id"]) if kind == "convocation" else set()
    active = [i for i in data["invitations"] if i["removed_at"] is None]
    event = _event(data)
    attendees = [_attendee(i) for i in active]
    now = dt.datetime.now(dt.UTC)
    count = 0
    for invitation in targets:
        dedupe = f"{key}:{meeting['id']}:{invitation['id']}"
        link = await _answer_link(data, invitation)
        update = invitation["email"] in earlier
        context = _context(data, invitation, link) | {"reminder": kind == "reminder", "update": update}
        prefix = "Mise à jour : " if update else subject_prefix
        queued = await outbox.queue(
            dedupe_key=dedupe,
            kind=kind,
            to_email=invitation["email"],
            to_name=f"{invitation['first_name']} {invitation['last_name']}",
            subject=f"{prefix}{meeting['title']} – {context['starts']}",
            text=render("mails/convocation.txt", **context),
            html=render("mails/convocation.html", **context),
            calendar=build_request(event, attendees, now),
            calendar_method="REQUEST",
            department_id=meeting["department"],
            entity="meeting",
            entity_id=meeting["id"],
        )
        count += int(queued)
    return count


async def queue_convocation(meeting_id: int, invitation_ids: list[int] | None = None) -> int:
    """The convocation, or an update after a change (a new SEQUENCE or version makes it a new mail)."""
    data = await _load(meeting_id)
    meeting = data["meeting"]
    targets = [
        i
        for i in data["invitations"]
        if i["removed_at"] is None and (invitation_ids is None or i["id"] in invitation_ids)
    ]
    return await _queue_request(
        data,
        targets,
        kind="convocation",
        key=f"convocation:{meeting['sequence']}:{meeting['version']}",
        subject_prefix="Convocation : ",
    )


async def queue_reminder(meeting_id: int, *, only_unanswered: bool = True) -> int:
    data = await _load(meeting_id)
    targets = [
        i
        for i in data["invitations"]
        if i["removed_at"] is None
        and i["answer"] != "declined"
        and (not only_unanswered or i["answer"] == "needs_action")
    ]
    day = dt.datetime.now(dt.UTC).date().isoformat()
    return await _queue_request(
        data, targets, kind="reminder", key=f"reminder:{day}:{int(only_unanswered)}", subject_prefix="Rappel : "
    )


async def _queue_cancel(data: dict[str, Any], targets: list[dict[str, Any]], *, whole_meeting: bool) -> int:
    meeting = data["meeting"]
    event = _event(data)
    if whole_meeting:
        from dataclasses import replace

        event = replace(event, status="CANCELLED")
    now = dt.datetime.now(dt.UTC)
    count = 0
    for invitation in targets:
        context = _context(data, invitation, None) | {"whole_meeting": whole_meeting}
        queued = await outbox.queue(
            dedupe_key=f"cancel:{meeting['id']}:{invitation['id']}:{meeting['sequence']}",
            kind="cancellation",
            to_email=invitation["email"],
            to_name=f"{invitation['first_name']} {invitation['last_name']}",
            subject=("Annulation : " if whole_meeting else "Vous n'êtes plus invité(e) : ")
            + f"{meeting['title']} – {context['starts']}",
            text=render("mails/cancellation.txt", **context),
            html=render("mails/cancellation.html", **context),
            calendar=build_cancel(event, [_attendee(invitation)], now),
            calendar_method="CANCEL",
            department_id=meeting["department"],
            entity="meeting",
            entity_id=meeting["id"],
        )
        count += int(queued)
    return count


async def queue_cancellation(meeting_id: int) -> int:
    data = await _load(meeting_id)
    return await _queue_cancel(data, [i for i in data["invitations"] if i["removed_at"] is None], whole_meeting=True)


async def queue_removal(invitation_id: int) -> int:
    row = await Invitation.select(Invitation.meeting).where(Invitation.id == invitation_id).first()
    if row is None:
        return 0
    data = await _load(row["meeting"])
    return await _queue_cancel(data, [i for i in data["invitations"] if i["id"] == invitation_id], whole_meeting=False)
