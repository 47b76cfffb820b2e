"""Ingestion of iMIP REPLY messages: the .ics a partner's Outlook or Thunderbird sends back when they
click Accept / Decline / Tentative / Delegate on a convocation.

`ingest_reply` takes either the bare .ics or a whole RFC 822 mail, finds the meeting by UID and the
invitation by the answering address, and hands the answer to `coord.meetings.answers.record_answer`
(which ignores a reply older than the answer already taken).

Outcomes, never an exception for anything that comes from the message itself:
- "applied": the invitation's answer changed (audited, entity "imip_reply");
- "ignored": a stale reply (older SEQUENCE than the meeting or than the last answer, or an older
  DTSTAMP at the same SEQUENCE);
- "rejected": not iCalendar, not a REPLY, unknown UID, address not invited, meeting cancelled...
  with a French reason, logged through `logging` (logger "coord.calendar.ingest").

Infrastructure failures (database down) do propagate: the HTTP endpoint answers 503/500 and the
LMTP listener answers a temporary 451 so the sending server retries later.
"""

from __future__ import annotations

import email
import logging
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage, Message
from typing import Any, Literal

from coord.access import Principal, Scope, belongs_to, system_principal, system_scope
from coord.access.roles import Permission
from coord.audit import log as audit
from coord.core.db import transaction
from coord.core.errors import Forbidden, ValidationFailed
from coord.ics.parse import ParsedReply, ReplyError, parse_reply
from coord.ics.sanitize import clean_text
from coord.meetings.answers import record_answer  # written in parallel; imported late
from coord.meetings.tables import Invitation, Meeting
from coord.partners.tables import Contact

logger = logging.getLogger("coord.calendar.ingest")

MAX_MESSAGE_BYTES = 1_000_000  # a reply mail is a few kB; the endpoint answers 413 above this
MAX_BYTES = MAX_MESSAGE_BYTES  # older name, kept for callers written against it
CALENDAR_TYPES = frozenset({"text/calendar", "application/ics", "text/x-vcalendar"})

UNKNOWN_UID = "Aucune réunion de Coord ne correspond à cette réponse (identifiant UID inconnu)."

IngestStatus = Literal["applied", "ignored", "rejected"]


@dataclass(frozen=True)
class IngestResult:
    status: IngestStatus
    reason_fr: str
    invitation_id: int | None = None
    meeting_id: int | None = None

    @property
    def reason(self) -> str:
        return self.reason_fr


class _Rejected(Exception):
    def __init__(self, reason: str, meeting_id: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.meeting_id = meeting_id


# -- extracting the calendar from what was received -------------------------------------------


def _looks_like_ics(data: bytes) -> bool:
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:64].upper()
    return head.startswith(b"BEGIN:VCALENDAR")


def _part_payload(part: Message) -> str | bytes | None:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes) or not payload:
        return None
    charset = part.get_content_charset()
    if charset:
        try:
            return payload.decode(charset)
        except (LookupError, UnicodeDecodeError):
            return payload  # parse_reply falls back to UTF-8 then cp1252
    return payload


def _is_ics_attachment(part: Message) -> bool:
    filename = (part.get_filename() or "").lower()
    return filename.endswith((".ics", ".vcs"))


def extract_calendar(data: bytes) -> str | bytes:
    """The iCalendar text of a reply: `data` itself, or the calendar part of a mail.

    Preference: a text/calendar part with method=REPLY, then any calendar part, then an .ics
    attachment whatever its declared type (some clients send application/octet-stream)."""
    if len(data) > MAX_MESSAGE_BYTES:
        raise _Rejected("Le message est trop volumineux (1 Mo au plus).")
    if _looks_like_ics(data):
        return data
    try:
        message = email.message_from_bytes(data, policy=policy.default)
    except Exception as exc:  # the email package rarely raises, but input is untrusted
        raise _Rejected("Le message n'est ni un calendrier iCalendar ni un courriel lisible.") from exc
    if not isinstance(message, EmailMessage) or not message.keys():
        raise _Rejected("Le message n'est pas un calendrier iCalendar (BEGIN:VCALENDAR absent).")
    parts = list(message.walk())
    calendars = [p for p in parts if p.get_content_type() in CALENDAR_TYPES]
    replies = [p for p in calendars if str(p.get_param("method", "") or "").upper() == "REPLY"]
    attachments = [p for p in parts if p not in calendars and _is_ics_attachment(p)]
    for part in [*replies, *calendars, *attachments]:
        payload = _part_payload(part)
        if payload is not None:
            return payload
    raise _Rejected("Le courriel ne contient aucune réponse de calendrier (partie text/calendar ou pièce .ics).")


# -- matching ---------------------------------------------------------------------------------


async def _meeting(uid: str) -> dict[str, Any]:
    meeting = (
        await Meeting.select(Meeting.id, Meeting.department, Meeting.status, Meeting.sequence, Meeting.uid)
        .where(Meeting.uid == uid)
        .first()
    )
    if meeting is None:
        raise _Rejected(UNKNOWN_UID)
    return meeting


def _check_scope(scope: Scope | None, meeting: dict[str, Any]) -> None:
    """An API caller may only post replies for meetings of their département. Another département's
    meeting is reported exactly like an unknown one, so the answer does not reveal that it exists."""
    if scope is None:
        return
    if not scope.principal.can(Permission.MANAGE):
        raise Forbidden()
    if not scope.sees(meeting):
        raise _Rejected(UNKNOWN_UID)


async def _invitation(meeting: dict[str, Any], address: str) -> dict[str, Any]:
    """The invitation of `address` (case-insensitive) to the meeting; a delegate answering is found
    through the invitation created for them, or through the delegating invitation's delegate."""
    rows = (
        await Invitation.select(
            Invitation.id,
            Invitation.contact,
            Invitation.removed_at,
            Invitation.delegate,
            Invitation.contact.email.as_alias("email"),
            Invitation.delegate.email.as_alias("delegate_email"),
        )
        .where(Invitation.meeting == meeting["id"])
        .order_by(Invitation.id)
    )
    address = address.strip().lower()

    def same(value: object) -> bool:
        return isinstance(value, str) and value.strip().lower() == address

    own = [r for r in rows if same(r["email"])]
    active = [r for r in own if r["removed_at"] is None]
    if active:
        return active[0]
    if own:
        raise _Rejected(f"L'adresse {address} ne fait plus partie des invités de cette réunion.", meeting["id"])
    # The delegate answers but their invitation is linked through the delegating one only.
    delegating = [r for r in rows if same(r["delegate_email"]) and r["removed_at"] is None]
    for row in delegating:
        for candidate in rows:
            if candidate["contact"] == row["delegate"] and candidate["removed_at"] is None:
                return candidate
    raise _Rejected(f"L'adresse {address} n'est pas invitée à cette réunion.", meeting["id"])


async def _delegate_name(email_address: str, department_id: int) -> str:
    contact = (
        await system_scope(department_id)
        .select(Contact, Contact.first_name, Contact.last_name)
        .where(Contact.email.ilike(email_address))
        .first()
    )
    if contact is not None:
        return f"{contact['first_name']} {contact['last_name']}".strip()
    local = email_address.split("@", 1)[0]
    words = [w for w in local.replace("_", ".").replace("-", ".").split(".") if w]
    return " ".join(w.capitalize() for w in words) or email_address


def _actor(scope: Scope | None, source: str, department_id: int) -> Principal:
    if scope is not None:
        return scope.principal
    label = f"réception iMIP ({source})"
    return system_principal(label, department_id)


# -- processing -------------------------------------------------------------------------------


async def ingest_reply(
    data: bytes, *, source: str, scope: Scope | None = None, department_id: int | None = None
) -> IngestResult:
    """Apply one iMIP REPLY (a raw .ics or a whole mail). See the module docstring for outcomes.

    `scope` is given by the HTTP endpoint: a meeting outside the caller's département raises
    `NotFound` (404) and a caller without the MANAGE permission `Forbidden`. `department_id`, if
    given, restricts matching to that département (another's meeting reads as an unknown UID).
    Without either (mail listener) every Coord meeting can be matched."""
    parsed: ParsedReply | None = None
    try:
        calendar = extract_calendar(data)
        try:
            parsed = parse_reply(calendar)
        except ReplyError as exc:
            raise _Rejected(exc.reason) from exc
        return await _apply(parsed, source=source, scope=scope, department_id=department_id)
    except _Rejected as exc:
        logger.warning(
            "iMIP reply rejected (source=%s, uid=%s, attendee=%s): %s",
            source,
            parsed.uid if parsed else "-",
            parsed.attendee_email if parsed else "-",
            exc.reason,
        )
        return IngestResult("rejected", exc.reason, None, exc.meeting_id)


async def _apply(parsed: ParsedReply, *, source: str, scope: Scope | None, department_id: int | None) -> IngestResult:
    meeting = await _meeting(parsed.uid)
    if department_id is not None and not belongs_to(meeting, department_id):
        raise _Rejected(UNKNOWN_UID)
    _check_scope(scope, meeting)
    if meeting["status"] == "cancelled":
        raise _Rejected("Cette réunion a été annulée : la réponse n'est pas prise en compte.", meeting["id"])
    invitation = await _invitation(meeting, parsed.attendee_email)
    if parsed.sequence < meeting["sequence"]:
        # The meeting changed (date, time...) since the invitation this reply answers: accepting
        # the old version says nothing about the new one. The invitee answers the update instead.
        reason = (
            f"Réponse à une version antérieure de la réunion (version {parsed.sequence}, "
            f"version actuelle {meeting['sequence']}) : elle n'est pas prise en compte."
        )
        logger.info("iMIP reply ignored (source=%s, uid=%s): %s", source, parsed.uid, reason)
        return IngestResult("ignored", reason, invitation["id"], meeting["id"])

    delegate_email = parsed.delegated_to
    delegate_name = None
    if parsed.partstat == "DELEGATED":
        if not delegate_email:
            raise _Rejected("La réponse indique une délégation sans préciser à qui (DELEGATED-TO absent).")
        delegate_name = await _delegate_name(delegate_email, meeting["department"])
    try:
        async with transaction():
            result = await record_answer(
                invitation["id"],
                parsed.partstat,
                source="imip",
                sequence=parsed.sequence,
                dtstamp=parsed.dtstamp,
                delegate_email=delegate_email,
                delegate_name=delegate_name,
                comment=parsed.comment,
            )
            if result.status == "applied":
                await audit.record(
                    _actor(scope, source, meeting["department"]),
                    "ingest",
                    "imip_reply",
                    invitation["id"],
                    department_id=meeting["department"],
                    summary=f"Réponse de calendrier reçue ({source}) : {parsed.partstat} de {parsed.attendee_email}",
                    after={
                        "uid": parsed.uid,
                        "sequence": parsed.sequence,
                        "dtstamp": parsed.dtstamp,
                        "attendee": parsed.attendee_email,
                        "partstat": parsed.partstat,
                        "delegated_to": delegate_email,
                        "source": source,
                    },
                )
    except ValidationFailed as exc:
        detail = " ".join(exc.errors.values()) or exc.message
        raise _Rejected(clean_text(detail, multiline=False), meeting["id"]) from exc
    if result.status == "ignored":
        logger.info("iMIP reply ignored (source=%s, uid=%s): %s", source, parsed.uid, result.reason)
        return IngestResult("ignored", result.reason, invitation["id"], meeting["id"])
    return IngestResult("applied", f"Réponse enregistrée : {result.reason}.", invitation["id"], meeting["id"])
