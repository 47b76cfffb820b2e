"""Mails received about a meeting that an agent looks at (« courriers reçus »): calendar answers to
check, proposals of another time, and messages (`coord.meetings.inbox_tables.InboxItem`).

The calendar listener (`coord.calendar.ingest`, a layer above) files them with `receive`; agents of
the meeting's département with the MANAGE permission list them and decide:
- a reply « à vérifier » is accepted (applied through `record_answer`, as if received now, with its
  own SEQUENCE and DTSTAMP) or rejected;
- a proposal of another time is accepted (the meeting moves through `service.update_meeting`, with
  its usual rules, optimistic locking and update mails) or declined (METHOD:DECLINECOUNTER to the
  attendee, at the address Coord knows);
- a message is archived once dealt with.
Every filing and every decision is audited (entity "inbox_item").

Messages are free text written by partners: they may hold personal data, and the page says that
Coord never stores data about victims.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any
from zoneinfo import ZoneInfo

from coord.access import Principal, Scope
from coord.access.roles import Permission
from coord.audit import log as audit
from coord.core import clock
from coord.core.db import transaction
from coord.core.errors import Conflict, NotFound
from coord.core.french import date_fr
from coord.core.settings import current_settings
from coord.core.validation import Fields
from coord.ics import CalendarAttendee
from coord.ics.build import build_decline_counter
from coord.mail import outbox
from coord.mail import render as mails
from coord.meetings import notify, service
from coord.meetings.answers import record_answer
from coord.meetings.inbox_tables import MAX_BODY, InboxItem
from coord.territory.working_days import holiday_name, is_working_day

KIND_LABELS = {
    "reply": "Réponse de calendrier à vérifier",
    "counter": "Proposition d'un autre horaire",
    "message": "Message",
}
STATUS_LABELS = {
    "pending": "À traiter",
    "new": "Nouveau",
    "accepted": "Acceptée",
    "ignored": "Acceptée, mais périmée : non prise en compte",
    "rejected": "Rejetée",
    "declined": "Déclinée",
    "archived": "Classé",
}
PARTSTAT_LABELS = {
    "ACCEPTED": "accepte",
    "DECLINED": "décline",
    "TENTATIVE": "peut-être",
    "DELEGATED": "délègue",
}
UNVERIFIED = "expéditeur non vérifié"
# The audit action of each decision, by the status it leads to.
ACTIONS = {
    "accepted": "accept",
    "ignored": "accept",
    "rejected": "reject",
    "declined": "decline",
    "archived": "archive",
}
ENTITY = "inbox_item"

COLUMNS = (
    *InboxItem._meta.columns,
    InboxItem.invitation.contact.first_name.as_alias("attendee_first_name"),
    InboxItem.invitation.contact.last_name.as_alias("attendee_last_name"),
    InboxItem.invitation.contact.email.as_alias("attendee_stored_email"),
    InboxItem.invitation.contact.active.as_alias("attendee_active"),
    InboxItem.invitation.removed_at.as_alias("invitation_removed_at"),
)


# -- filing (the calendar listener) ---------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    """One item to file. `kind` is "reply", "counter" or "message"; the rest what it has."""

    kind: str
    sender: str = ""
    sender_name: str = ""
    envelope_sender: str = ""
    subject: str = ""
    sent_at: dt.datetime | None = None
    message_id: str = ""
    body: str = ""
    note: str = ""
    verified: bool = False
    automatic: bool = False
    invitation_id: int | None = None
    attendee_email: str = ""
    partstat: str = ""
    sequence: int | None = None
    dtstamp: dt.datetime | None = None
    delegated_to: str = ""
    delegate_name: str = ""
    comment: str = ""
    proposed_start: dt.datetime | None = None
    proposed_end: dt.datetime | None = None
    proposed_location: str = ""


def _cut(value: str, length: int) -> str:
    return (value or "")[:length]


def _what(item: Received) -> str:
    who = item.sender or item.attendee_email or "expéditeur inconnu"
    if item.kind == "reply":
        return f"Réponse de calendrier à vérifier ({item.partstat}) pour {item.attendee_email}, envoyée par {who}"
    if item.kind == "counter":
        flag = "" if item.verified else f" ({UNVERIFIED})"
        return f"Proposition d'un autre horaire de {item.attendee_email}{flag}"
    auto = " (réponse automatique)" if item.automatic else ""
    return f"Message reçu de {who}{auto}"


async def receive(meeting: Mapping[str, Any], item: Received, *, actor: Principal) -> tuple[int, bool]:
    """File `item` on `meeting` (read by the caller, who found it by UID or by the mail it answers),
    inside the caller's transaction. Returns (item id, created): a mail delivered twice (the same
    Message-ID) is filed once."""
    if item.kind not in KIND_LABELS:
        raise ValueError(f"unknown inbox item kind {item.kind!r}")
    if item.message_id:
        existing = (
            await InboxItem.select(InboxItem.id)
            .where(
                (InboxItem.meeting == meeting["id"])
                & (InboxItem.message_id == _cut(item.message_id, 200))
                & (InboxItem.kind == item.kind)
            )
            .first()
        )
        if existing is not None:
            return int(existing["id"]), False
    values = {k: v for k, v in asdict(item).items() if k != "invitation_id"}
    limits = {"sender": 254, "sender_name": 200, "envelope_sender": 254, "subject": 300, "message_id": 200}
    limits |= {"note": 500, "attendee_email": 254, "delegated_to": 254, "delegate_name": 200, "comment": 500}
    limits |= {"proposed_location": 500, "body": MAX_BODY, "partstat": 20}
    for name, length in limits.items():
        values[name] = _cut(values[name], length)
    row = (
        await InboxItem.insert(
            InboxItem(
                **values,
                department=meeting["department"],
                meeting=meeting["id"],
                invitation=item.invitation_id,
                status="new" if item.kind == "message" else "pending",
                received_at=clock.now(),
            )
        ).returning(InboxItem.id)
    )[0]
    await audit.record(
        actor,
        "receive",
        ENTITY,
        row["id"],
        department_id=meeting["department"],
        summary=_what(item),
        after={
            "meeting": meeting["id"],
            "kind": item.kind,
            "sender": item.sender,
            "envelope_sender": item.envelope_sender,
            "verified": item.verified,
            "invitation": item.invitation_id,
            "subject": item.subject,
            "partstat": item.partstat,
            "sequence": item.sequence,
            "note": item.note,
        },
    )
    return int(row["id"]), True


# -- reading ------------------------------------------------------------------------------------


def _may_manage(scope: Scope, meeting: Mapping[str, Any]) -> bool:
    return scope.may(Permission.MANAGE, meeting["department"])


def _day_off(start: dt.datetime | None, meeting: Mapping[str, Any]) -> str:
    """Why the proposed day needs the agent's confirmation (« week-end », a public holiday), or ""."""
    if start is None:
        return ""
    day = start.astimezone(ZoneInfo(meeting["timezone"])).date()
    subdivision = meeting.get("holiday_subdivision") or meeting.get("department_code")
    if is_working_day(day, subdivision):
        return ""
    return holiday_name(day, subdivision) or "week-end"


def item_out(row: Mapping[str, Any], meeting: Mapping[str, Any]) -> dict[str, Any]:
    """What the meeting page and the API show of one item."""
    kind, status = row["kind"], row["status"]
    attendee = " ".join(p for p in (row.get("attendee_first_name"), row.get("attendee_last_name")) if p)
    editable = meeting["status"] in service.EDITABLE_STATUSES
    pending = status == "pending"
    return {
        "id": row["id"],
        "meeting": row["meeting"],
        "invitation": row["invitation"],
        "kind": kind,
        "kind_label": KIND_LABELS.get(kind, kind),
        "status": status,
        "status_label": STATUS_LABELS.get(status, status),
        "verified": row["verified"],
        "automatic": row["automatic"],
        "sender": row["sender"],
        "sender_name": row["sender_name"],
        "envelope_sender": row["envelope_sender"],
        "subject": row["subject"],
        "sent_at": row["sent_at"],
        "received_at": row["received_at"],
        "body": row["body"],
        "note": row["note"],
        "attendee_name": attendee,
        "attendee_email": row["attendee_email"],
        "partstat": row["partstat"],
        "partstat_label": PARTSTAT_LABELS.get(row["partstat"], row["partstat"].lower()),
        "sequence": row["sequence"],
        "dtstamp": row["dtstamp"],
        "delegated_to": row["delegated_to"],
        "delegate_name": row["delegate_name"],
        "comment": row["comment"],
        "proposed_start": row["proposed_start"],
        "proposed_end": row["proposed_end"],
        "proposed_location": row["proposed_location"],
        "proposal_day_off": _day_off(row["proposed_start"], meeting) if kind == "counter" else "",
        "decided_at": row["decided_at"],
        "decided_by": row["decided_by"],
        "decision_note": row["decision_note"],
        "can_accept": pending and kind in ("reply", "counter") and (kind == "reply" or editable),
        "can_reject": pending and kind == "reply",
        "can_decline": pending and kind == "counter",
        "can_archive": status == "new" and kind == "message",
    }


async def _meeting(scope: Scope, meeting_id: int) -> dict[str, Any]:
    return await service.load(scope, meeting_id)


async def items_for(scope: Scope, meeting_id: int) -> list[dict[str, Any]]:
    """The items of a meeting, newest first, for whoever may manage it ([] for the others: a
    message's free text is not shown to read-only roles). 404 outside the scope."""
    meeting = await _meeting(scope, meeting_id)
    if not _may_manage(scope, meeting):
        return []
    rows = (
        await scope.select(InboxItem, *COLUMNS)
        .where(InboxItem.meeting == meeting_id)
        .order_by(InboxItem.received_at, ascending=False)
        .order_by(InboxItem.id, ascending=False)
    )
    return [item_out(r, meeting) for r in rows]


async def list_items(scope: Scope, meeting_id: int) -> list[dict[str, Any]]:
    """`items_for`, for the API: 403 for a role that may not manage the meeting."""
    meeting = await _meeting(scope, meeting_id)
    service.require_manage(scope, meeting)
    return await items_for(scope, meeting_id)


async def _item(scope: Scope, meeting_id: int, item_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    meeting = await _meeting(scope, meeting_id)
    service.require_manage(scope, meeting)
    row = await scope.get(InboxItem, item_id, *COLUMNS)
    if row["meeting"] != meeting_id:
        raise NotFound()
    return meeting, row


async def get_item(scope: Scope, meeting_id: int, item_id: int) -> dict[str, Any]:
    meeting, row = await _item(scope, meeting_id, item_id)
    return item_out(row, meeting)


# -- decisions ----------------------------------------------------------------------------------


def _require(row: Mapping[str, Any], kinds: tuple[str, ...], status: str, verb: str) -> None:
    if row["kind"] not in kinds:
        raise Conflict(f"Cet élément ({KIND_LABELS.get(row['kind'], row['kind']).lower()}) ne peut pas être {verb}.")
    if row["status"] != status:
        raise Conflict(f"Cet élément a déjà été traité ({STATUS_LABELS.get(row['status'], row['status']).lower()}).")


async def _decide(
    scope: Scope, meeting: Mapping[str, Any], row: Mapping[str, Any], status: str, note: str, *, summary: str
) -> None:
    """Record the decision on a row still in its state (a concurrent decision makes it a 409)."""
    done = (
        await InboxItem.update(
            {
                InboxItem.status: status,
                InboxItem.decided_at: clock.now(),
                InboxItem.decided_by: _cut(scope.principal.label, 254),
                InboxItem.decision_note: _cut(note, 500),
            }
        )
        .where((InboxItem.id == row["id"]) & (InboxItem.status == row["status"]))
        .returning(InboxItem.id)
    )
    if not done:
        raise Conflict("Cet élément vient d'être traité par quelqu'un d'autre : rechargez la page.")
    await audit.record(
        scope.principal,
        ACTIONS[status],
        ENTITY,
        row["id"],
        department_id=meeting["department"],
        summary=summary,
        before={"status": row["status"]},
        after={"status": status, "note": note, "meeting": meeting["id"], "kind": row["kind"]},
    )


async def accept(scope: Scope, meeting_id: int, item_id: int, data: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Accept a reply to check (it is applied) or a proposal (the meeting moves; `data["version"]`
    is the version of the meeting the agent saw)."""
    meeting, row = await _item(scope, meeting_id, item_id)
    _require(row, ("reply", "counter"), "pending", "accepté")
    if row["kind"] == "reply":
        await _accept_reply(scope, meeting, row)
    else:
        await _accept_counter(scope, meeting, row, data or {})
    return await get_item(scope, meeting_id, item_id)


async def _accept_reply(scope: Scope, meeting: Mapping[str, Any], row: Mapping[str, Any]) -> None:
    if row["invitation"] is None:
        raise Conflict("L'invitation de cette réponse n'existe plus : rejetez-la.")
    async with transaction():
        result = await record_answer(
            row["invitation"],
            row["partstat"],
            source="imip",
            sequence=row["sequence"],
            dtstamp=row["dtstamp"],
            delegate_email=row["delegated_to"] or None,
            delegate_name=row["delegate_name"] or None,
            comment=row["comment"],
        )
        applied = result.status == "applied"
        who = row["attendee_email"]
        await _decide(
            scope,
            meeting,
            row,
            "accepted" if applied else "ignored",
            "" if applied else result.reason,
            summary=f"Réponse de calendrier de {who} acceptée"
            + ("" if applied else f" mais non prise en compte : {result.reason}"),
        )


async def _accept_counter(
    scope: Scope, meeting: Mapping[str, Any], row: Mapping[str, Any], data: Mapping[str, Any]
) -> None:
    if row["proposed_start"] is None or row["proposed_end"] is None:
        raise Conflict("Cette proposition n'indique pas d'horaire.")
    changes = {"starts_at": row["proposed_start"], "ends_at": row["proposed_end"]}
    # The meeting's version the agent saw, and their confirmation of a weekend or public holiday.
    changes |= {k: data[k] for k in ("version", "confirm_day") if k in data}
    tz = meeting["timezone"]
    when = date_fr(row["proposed_start"], tz, True)
    async with transaction():
        # The usual rules: editable statuses, optimistic locking (409), update mails to every invitee.
        await service.update_meeting(scope, meeting["id"], changes)
        await _decide(
            scope,
            meeting,
            row,
            "accepted",
            "",
            summary=f"Proposition de {row['attendee_email']} acceptée : réunion déplacée au {when}",
        )


async def reject(scope: Scope, meeting_id: int, item_id: int, data: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Reject a reply to check: the invitee's answer does not change."""
    meeting, row = await _item(scope, meeting_id, item_id)
    _require(row, ("reply",), "pending", "rejeté")
    note = _note(data)
    sender = row["sender"] or "expéditeur inconnu"
    async with transaction():
        summary = f"Réponse de calendrier pour {row['attendee_email']} (envoyée par {sender}) rejetée"
        await _decide(scope, meeting, row, "rejected", note, summary=summary)
    return await get_item(scope, meeting_id, item_id)


def _note(data: Mapping[str, Any] | None) -> str:
    fields = Fields(data or {})
    note = fields.text("comment", max_length=500, multiline=True) or ""
    fields.check()
    return note


async def decline(scope: Scope, meeting_id: int, item_id: int, data: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Decline a proposal: METHOD:DECLINECOUNTER to the attendee's stored address (with the agent's
    comment, if any); the meeting does not change."""
    meeting, row = await _item(scope, meeting_id, item_id)
    _require(row, ("counter",), "pending", "décliné")
    comment = _note(data)
    async with transaction():
        queued = await _queue_decline_counter(meeting, row, comment)
        await _decide(
            scope,
            meeting,
            row,
            "declined",
            comment,
            summary=f"Proposition de {row['attendee_email']} déclinée"
            + ("" if queued else " (aucun courriel : le contact n'est plus joignable)"),
        )
    return await get_item(scope, meeting_id, item_id)


async def _queue_decline_counter(meeting: Mapping[str, Any], row: Mapping[str, Any], comment: str) -> bool:
    """The DECLINECOUNTER mail, to the address Coord has for the invitation (never the sender's)."""
    if row["invitation"] is None or not row.get("attendee_active", False):
        return False
    data = await notify.meeting_data(meeting["id"])
    sequence = row["sequence"] if row["sequence"] is not None else data["meeting"]["sequence"]
    event = notify.calendar_event(data, sequence=sequence)
    name = " ".join(p for p in (row["attendee_first_name"], row["attendee_last_name"]) if p)
    attendee = CalendarAttendee(email=row["attendee_stored_email"], name=name, role="REQ-PARTICIPANT")
    calendar = build_decline_counter(event, attendee, clock.now(), comment=comment)
    tz = data["department"]["timezone"]
    settings = current_settings()
    context = {
        "meeting": data["meeting"],
        "department": data["department"],
        "committee": data["committee"],
        "recipient": name,
        "starts": date_fr(data["meeting"]["starts_at"], tz, True),
        "proposed": date_fr(row["proposed_start"], tz, True) if row["proposed_start"] else "",
        "comment": comment,
        "organiser_name": data["meeting"]["organiser_name"] or settings.organiser_name,
        "organiser_email": data["meeting"]["organiser_email"] or settings.organiser_email,
    }
    mail = mails.render("counter_declined", context, strict=True)
    return await outbox.queue(
        dedupe_key=f"declinecounter:{meeting['id']}:{row['id']}",
        kind="declinecounter",
        to_email=row["attendee_stored_email"],
        to_name=name,
        subject=mail.subject,
        text=mail.text,
        html=mail.html,
        calendar=calendar,
        calendar_method="DECLINECOUNTER",
        department_id=meeting["department"],
        entity="meeting",
        entity_id=meeting["id"],
    )


async def archive(scope: Scope, meeting_id: int, item_id: int) -> dict[str, Any]:
    """File a message away once dealt with (it stays listed, as « classé »)."""
    meeting, row = await _item(scope, meeting_id, item_id)
    _require(row, ("message",), "new", "classé")
    async with transaction():
        await _decide(scope, meeting, row, "archived", "", summary=f"Message de {row['sender'] or 'inconnu'} classé")
    return await get_item(scope, meeting_id, item_id)
