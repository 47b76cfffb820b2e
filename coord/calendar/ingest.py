"""What partners' calendars and mailboxes send back to the organiser mailbox: iMIP REPLY (Accept,
Decline, Tentative, Delegate), REFRESH (send me the invitation again), COUNTER (another time?), and
plain mails (an answer to the convocation, an out-of-office, a question).

Two entry points, both ending, for a reply, in `coord.meetings.answers.record_answer`:
- `ingest_reply(data, source=..., scope=...)`: one REPLY, a bare .ics or a whole mail. Posted
  through the API (`scope` given) by an agent of the meeting's département, it is trusted. Without a
  scope it came by mail and is applied only if its sender is authenticated (below); otherwise it is
  filed « à vérifier » on the meeting (`coord.meetings.inbox`) for an agent to accept or reject.
- `ingest_mail(data, source=..., envelope_sender=...)`: every mail the SMTP/LMTP listener
  receives (`coord.calendar.lmtp`). A REPLY as above; a REFRESH gets the current invitation
  (`notify.queue_refresh`: to the address Coord knows, at most once a day); a COUNTER is filed as a
  proposal (flagged « expéditeur non vérifié » unless authenticated); any other mail, or a calendar
  mail that cannot be used, is filed as a message on the meeting it concerns (found by the
  Message-ID of the Coord mail it answers, In-Reply-To/References, or by the UID of a calendar it
  carries). A mail about no meeting is forwarded to `imip_forward_to`; an automatic one (an
  out-of-office) is dropped; without a forward mailbox the listener refuses it.

Sender authentication of a REPLY or COUNTER received by mail (`coord.calendar.inbound_mail`): the
From header and, over SMTP/LMTP, the envelope sender are the attendee named (or that attendee's
delegate), or the trusted receiving server (`imip_trusted_authserv_id`) reports a DKIM pass for the
attendee's domain in its own, topmost Authentication-Results. A bare .ics has no sender: pending.

Outcomes (`IngestResult.status`), never an exception for anything that comes from the message:
- "applied": the invitation's answer changed (audited, entity "imip_reply");
- "ignored": a stale reply (older than the answer already taken);
- "pending": filed « à vérifier » (audited, entity "inbox_item");
- "rejected": a REPLY that cannot be used (not iCalendar, unknown UID, address not invited, meeting
  cancelled...) with a French reason; by mail, such a reply is filed as a message when its meeting
  is known ("message");
- "refreshed", "proposed", "message", "forwarded", "discarded" (an automatic mail about no meeting),
  "unmatched" (about no meeting, and no forward mailbox).

Infrastructure failures (database down) do propagate: the HTTP endpoint answers 503/500 and the
listener a temporary 451 so the sending server retries later.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from zoneinfo import ZoneInfo

from coord.access import Principal, Scope, belongs_to, department_of, system_principal, system_scope
from coord.access.roles import Permission
from coord.audit import log as audit
from coord.calendar.inbound_mail import ReceivedMail, dkim_vouches, read_mail, sender_is
from coord.core import clock
from coord.core.db import transaction
from coord.core.errors import Forbidden, ValidationFailed
from coord.core.french import date_fr
from coord.core.settings import current_settings
from coord.ics.parse import (
    ParsedCounter,
    ParsedRefresh,
    ParsedReply,
    ReplyError,
    calendar_method,
    calendar_uids,
    parse_counter,
    parse_refresh,
    parse_reply,
)
from coord.ics.sanitize import clean_text
from coord.mail import outbox
from coord.mail import render as mails
from coord.mail.tables import OutboxMessage
from coord.meetings import inbox, notify
from coord.meetings.answers import record_answer
from coord.meetings.inbox_tables import MAX_BODY
from coord.meetings.tables import Invitation, Meeting
from coord.ops.metrics import count_imip_reply
from coord.partners.tables import Contact

logger = logging.getLogger("coord.calendar.ingest")

MAX_MESSAGE_BYTES = 1_000_000  # a reply mail is a few kB; the endpoint answers 413 above this
MAX_BYTES = MAX_MESSAGE_BYTES  # older name, kept for callers written against it

UNKNOWN_UID = "Aucune réunion de Coord ne correspond à cette réponse (identifiant UID inconnu)."
NO_MEETING = "Ce message ne concerne aucune réunion de Coord."
EDITABLE_STATUSES = frozenset({"draft", "convened"})

IngestStatus = Literal[
    "applied",
    "ignored",
    "pending",
    "rejected",
    "refreshed",
    "proposed",
    "message",
    "forwarded",
    "discarded",
    "unmatched",
]


@dataclass(frozen=True)
class IngestResult:
    status: IngestStatus
    reason_fr: str
    invitation_id: int | None = None
    meeting_id: int | None = None
    item_id: int | None = None  # the inbox item filed, if any

    @property
    def reason(self) -> str:
        return self.reason_fr


class _Rejected(Exception):
    def __init__(self, reason: str, meeting_id: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.meeting_id = meeting_id


@dataclass(frozen=True)
class _Origin:
    """How a calendar message arrived: the mail around it, the envelope sender over SMTP/LMTP
    (None otherwise), and whether an agent posted it through the API (trusted)."""

    mail: ReceivedMail
    envelope_sender: str | None
    source: str
    scope: Scope | None = None
    only_in: int | None = None  # the département matching is restricted to, if any

    @property
    def trusted(self) -> bool:
        return self.scope is not None


# -- matching ---------------------------------------------------------------------------------


MEETING_COLUMNS = (Meeting.id, Meeting.department, Meeting.status, Meeting.sequence, Meeting.uid)


async def _meeting(uid: str) -> dict[str, Any]:
    meeting = await Meeting.select(*MEETING_COLUMNS).where(Meeting.uid == uid).first()
    if meeting is None:
        raise _Rejected(UNKNOWN_UID)
    return meeting


async def _meeting_by_id(meeting_id: int) -> dict[str, Any] | None:
    return await Meeting.select(*MEETING_COLUMNS).where(Meeting.id == meeting_id).first()


def _check_scope(origin: _Origin, meeting: dict[str, Any]) -> None:
    """An API caller may only post replies for meetings of their département. Another département's
    meeting is reported exactly like an unknown one, so the answer does not reveal that it exists."""
    only_in = origin.only_in
    if only_in is not None and not belongs_to(meeting, only_in):
        raise _Rejected(UNKNOWN_UID)
    scope = origin.scope
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


def _actor(origin: _Origin, department_id: int) -> Principal:
    if origin.scope is not None:
        return origin.scope.principal
    return system_principal(f"réception iMIP ({origin.source})", department_id)


# -- sender authentication ------------------------------------------------------------------------


def _allowed_senders(attendee_email: str, invitation: Mapping[str, Any]) -> set[str]:
    """The attendee named, the invitee found for them, and that invitation's delegate."""
    found = {attendee_email, invitation.get("email") or "", invitation.get("delegate_email") or ""}
    return {a.strip().lower() for a in found if a and "@" in a}


def _authenticated(origin: _Origin, attendee_email: str, invitation: Mapping[str, Any]) -> bool:
    if origin.trusted:
        return True
    allowed = _allowed_senders(attendee_email, invitation)
    if sender_is(origin.mail, origin.envelope_sender, allowed):
        return True
    return dkim_vouches(origin.mail, current_settings().imip_trusted_authserv_id, allowed)


def _why_unverified(origin: _Origin, attendee_email: str) -> str:
    mail = origin.mail
    if not mail.has_headers:
        return "Calendrier reçu sans en-têtes de courriel : son expéditeur ne peut pas être vérifié."
    sender = mail.from_address or "inconnu"
    envelope = origin.envelope_sender
    if envelope is not None and envelope.strip().lower() != mail.from_address:
        return (
            f"Expéditeur {sender} (enveloppe : {envelope.strip() or 'vide'}) différent de l'invité {attendee_email} "
            "ou de sa personne déléguée."
        )
    return f"Expéditeur {sender} différent de l'invité {attendee_email} ou de sa personne déléguée."


def _mail_fields(origin: _Origin) -> dict[str, Any]:
    """What an inbox item keeps of the mail around it."""
    mail = origin.mail
    return {
        "sender": mail.from_address,
        "sender_name": mail.from_name,
        "envelope_sender": (origin.envelope_sender or "").strip().lower(),
        "subject": mail.subject,
        "sent_at": mail.sent_at,
        "message_id": mail.message_id,
    }


# -- REPLY ------------------------------------------------------------------------------------


async def ingest_reply(
    data: bytes,
    *,
    source: str,
    scope: Scope | None = None,
    department_id: int | None = None,
    envelope_sender: str | None = None,
) -> IngestResult:
    """Apply one iMIP REPLY (a raw .ics or a whole mail). See the module docstring for outcomes.

    `scope` is given by the HTTP endpoint: a meeting outside the caller's département is reported
    as an unknown UID and a caller without the MANAGE permission gets `Forbidden`. `department_id`,
    if given, restricts matching to that département. Without a scope the reply came by mail and is
    applied only when its sender is authenticated; `envelope_sender` is the SMTP MAIL FROM."""
    if len(data) > MAX_MESSAGE_BYTES:
        count_imip_reply("rejected")
        return IngestResult("rejected", "Le message est trop volumineux (1 Mo au plus).")
    mail = read_mail(data, max_text=MAX_BODY)
    origin = _Origin(mail, envelope_sender, source, scope, department_id)
    try:
        if not mail.calendars:
            raise _Rejected(
                "Le courriel ne contient aucune réponse de calendrier (partie text/calendar ou pièce .ics)."
                if mail.has_headers
                else "Le message n'est pas un calendrier iCalendar (BEGIN:VCALENDAR absent)."
            )
        result = await _reply(_parsed_reply(mail.calendars[0]), origin)
    except _Rejected as exc:
        logger.warning("iMIP reply rejected (source=%s): %s", source, exc.reason)
        result = IngestResult("rejected", exc.reason, None, exc.meeting_id)
    count_imip_reply(result.status)
    return result


def _parsed_reply(calendar: bytes | str) -> ParsedReply:
    try:
        return parse_reply(calendar)
    except ReplyError as exc:
        raise _Rejected(exc.reason) from exc


async def _reply(parsed: ParsedReply, origin: _Origin) -> IngestResult:
    meeting = await _meeting(parsed.uid)
    _check_scope(origin, meeting)
    if meeting["status"] == "cancelled":
        raise _Rejected("Cette réunion a été annulée : la réponse n'est pas prise en compte.", meeting["id"])
    invitation = await _invitation(meeting, parsed.attendee_email)
    delegate_email = parsed.delegated_to
    delegate_name = None
    if parsed.partstat == "DELEGATED":
        if not delegate_email:
            raise _Rejected(
                "La réponse indique une délégation sans préciser à qui (DELEGATED-TO absent).", meeting["id"]
            )
        delegate_name = await _delegate_name(delegate_email, meeting["department"])
    if not _authenticated(origin, parsed.attendee_email, invitation):
        return await _file_pending_reply(parsed, origin, meeting, invitation, delegate_name)
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
                await _audit_applied(parsed, origin, meeting, invitation["id"], delegate_email)
    except ValidationFailed as exc:
        detail = " ".join(exc.errors.values()) or exc.message
        raise _Rejected(clean_text(detail, multiline=False), meeting["id"]) from exc
    if result.status == "ignored":
        logger.info("iMIP reply ignored (source=%s, uid=%s): %s", origin.source, parsed.uid, result.reason)
        return IngestResult("ignored", result.reason, invitation["id"], meeting["id"])
    return IngestResult("applied", f"Réponse enregistrée : {result.reason}.", invitation["id"], meeting["id"])


async def _audit_applied(
    parsed: ParsedReply, origin: _Origin, meeting: dict[str, Any], invitation_id: int, delegate_email: str | None
) -> None:
    source = origin.source
    await audit.record(
        _actor(origin, meeting["department"]),
        "ingest",
        "imip_reply",
        invitation_id,
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
            "sender": origin.mail.from_address,
            "envelope_sender": origin.envelope_sender,
            "trusted": origin.trusted,
        },
    )


async def _file_pending_reply(
    parsed: ParsedReply,
    origin: _Origin,
    meeting: dict[str, Any],
    invitation: dict[str, Any],
    delegate_name: str | None,
) -> IngestResult:
    note = _why_unverified(origin, parsed.attendee_email)
    item = inbox.Received(
        kind="reply",
        **_mail_fields(origin),
        note=note,
        invitation_id=invitation["id"],
        attendee_email=parsed.attendee_email,
        partstat=parsed.partstat,
        sequence=parsed.sequence,
        dtstamp=parsed.dtstamp,
        delegated_to=parsed.delegated_to or "",
        delegate_name=delegate_name or "",
        comment=parsed.comment,
    )
    async with transaction():
        item_id, _ = await inbox.receive(meeting, item, actor=_actor(origin, meeting["department"]))
    logger.warning("iMIP reply kept for an agent to check (source=%s, uid=%s): %s", origin.source, parsed.uid, note)
    reason = f"Réponse à vérifier par un agent : {note}"
    return IngestResult("pending", reason, invitation["id"], meeting["id"], item_id)


# -- every mail the listener receives ------------------------------------------------------------


async def ingest_mail(data: bytes, *, source: str, envelope_sender: str | None) -> IngestResult:
    """One mail received by the SMTP/LMTP listener (`envelope_sender`: its MAIL FROM, "" for the
    null sender of bounces and auto-replies). See the module docstring for outcomes."""
    if len(data) > MAX_MESSAGE_BYTES:
        return IngestResult("rejected", "Le message est trop volumineux (1 Mo au plus).")
    mail = read_mail(data, max_text=MAX_BODY)
    origin = _Origin(mail, envelope_sender, source)
    note, meeting_id = "", None
    for calendar in mail.calendars:
        method = calendar_method(calendar)
        if method not in HANDLERS:
            continue
        try:
            return await HANDLERS[method](calendar, origin)
        except _Rejected as exc:
            logger.warning("iMIP %s not used (source=%s): %s", method, source, exc.reason)
            note = f"{METHOD_LABELS[method]} non prise en compte : {exc.reason}"
            meeting_id = exc.meeting_id
        break
    return await _file_message(origin, note=note, meeting_id=meeting_id)


async def _mail_reply(calendar: bytes | str, origin: _Origin) -> IngestResult:
    try:
        result = await _reply(_parsed_reply(calendar), origin)
    except _Rejected:
        count_imip_reply("rejected")  # then filed as a message on its meeting (ingest_mail)
        raise
    count_imip_reply(result.status)
    return result


# -- REFRESH ------------------------------------------------------------------------------------


async def _mail_refresh(calendar: bytes | str, origin: _Origin) -> IngestResult:
    try:
        parsed: ParsedRefresh = parse_refresh(calendar)
    except ReplyError as exc:
        raise _Rejected(exc.reason) from exc
    meeting = await _meeting(parsed.uid)
    if meeting["status"] == "cancelled":
        raise _Rejected("Cette réunion a été annulée : il n'y a pas d'invitation à renvoyer.", meeting["id"])
    invitation = await _invitation(meeting, parsed.attendee_email)
    async with transaction():
        # To the address Coord knows for this invitation, whoever asked, at most once a day.
        queued = await notify.queue_refresh(invitation["id"])
        await audit.record(
            _actor(origin, meeting["department"]),
            "refresh",
            "invitation",
            invitation["id"],
            department_id=meeting["department"],
            summary=f"Demande d'actualisation du calendrier de {parsed.attendee_email} : "
            + ("invitation renvoyée" if queued else "rien envoyé (déjà renvoyée aujourd'hui, ou jamais envoyée)"),
            after={"uid": parsed.uid, "sender": origin.mail.from_address, "queued": queued, "source": origin.source},
        )
    reason = "Invitation renvoyée à l'invité." if queued else "Rien à renvoyer (déjà renvoyée aujourd'hui)."
    return IngestResult("refreshed", reason, invitation["id"], meeting["id"])


# -- COUNTER ------------------------------------------------------------------------------------


def _aware(value: dt.datetime, tz: str) -> dt.datetime:
    """A floating proposed time (or one in a zone Coord cannot read) is the meeting's local time."""
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=ZoneInfo(tz))
    return value.astimezone(dt.UTC)


async def _mail_counter(calendar: bytes | str, origin: _Origin) -> IngestResult:
    try:
        parsed: ParsedCounter = parse_counter(calendar, sender=origin.mail.from_address or None)
    except ReplyError as exc:
        raise _Rejected(exc.reason) from exc
    meeting = await _meeting(parsed.uid)
    if meeting["status"] not in EDITABLE_STATUSES:
        state = "annulée" if meeting["status"] == "cancelled" else "déjà tenue"
        raise _Rejected(f"La réunion est {state} : son horaire ne peut plus changer.", meeting["id"])
    invitation = await _invitation(meeting, parsed.attendee_email)
    tz = await _timezone(meeting)
    start, end = _aware(parsed.start, tz), _aware(parsed.end, tz)
    verified = _authenticated(origin, parsed.attendee_email, invitation)
    notes = [] if verified else [_why_unverified(origin, parsed.attendee_email)]
    if parsed.sequence < meeting["sequence"]:
        notes.append("La proposition porte sur une version antérieure de la réunion.")
    item = inbox.Received(
        kind="counter",
        **_mail_fields(origin),
        note=" ".join(notes),
        verified=verified,
        invitation_id=invitation["id"],
        attendee_email=parsed.attendee_email,
        sequence=parsed.sequence,
        dtstamp=parsed.dtstamp,
        comment=parsed.comment,
        proposed_start=start,
        proposed_end=end,
        proposed_location=parsed.location,
    )
    async with transaction():
        item_id, _ = await inbox.receive(meeting, item, actor=_actor(origin, meeting["department"]))
    reason = f"Proposition d'horaire transmise aux agents : {date_fr(start, tz, True)}."
    return IngestResult("proposed", reason, invitation["id"], meeting["id"], item_id)


async def _timezone(meeting: Mapping[str, Any]) -> str:
    row = await department_of(meeting)
    return str(row["timezone"]) if row else "Europe/Paris"


HANDLERS = {"REPLY": _mail_reply, "REFRESH": _mail_refresh, "COUNTER": _mail_counter}
METHOD_LABELS = {
    "REPLY": "Réponse de calendrier",
    "REFRESH": "Demande d'actualisation",
    "COUNTER": "Proposition d'horaire",
}


# -- other mails ----------------------------------------------------------------------------------


async def _meeting_of_references(references: tuple[str, ...]) -> dict[str, Any] | None:
    """The meeting of the Coord mail this one answers (In-Reply-To first, then References)."""
    if not references:
        return None
    rows = await OutboxMessage.select(OutboxMessage.message_id, OutboxMessage.entity_id).where(
        OutboxMessage.message_id.is_in(list(references)) & (OutboxMessage.entity == "meeting")
    )
    meetings = {r["message_id"]: r["entity_id"] for r in rows if r["entity_id"] is not None}
    for reference in references:
        if reference in meetings and (meeting := await _meeting_by_id(meetings[reference])) is not None:
            return meeting
    return None


async def _meeting_of_calendars(mail: ReceivedMail) -> dict[str, Any] | None:
    for calendar in mail.calendars:
        for uid in calendar_uids(calendar):
            meeting = await Meeting.select(*MEETING_COLUMNS).where(Meeting.uid == uid).first()
            if meeting is not None:
                return meeting
    return None


async def _sender_invitation(meeting: Mapping[str, Any], address: str) -> int | None:
    if not address:
        return None
    rows = await Invitation.select(Invitation.id, Invitation.contact.email.as_alias("email")).where(
        Invitation.meeting == meeting["id"]
    )
    return next((r["id"] for r in rows if (r["email"] or "").strip().lower() == address), None)


async def _file_message(origin: _Origin, *, note: str, meeting_id: int | None) -> IngestResult:
    mail = origin.mail
    meeting = await _meeting_by_id(meeting_id) if meeting_id is not None else None
    meeting = meeting or await _meeting_of_references(mail.references) or await _meeting_of_calendars(mail)
    automatic = mail.automatic or origin.envelope_sender == ""
    if meeting is None:
        return await _unmatched(origin, automatic=automatic, note=note)
    item = inbox.Received(
        kind="message",
        **_mail_fields(origin),
        body=mail.text,
        note=note,
        automatic=automatic,
        invitation_id=await _sender_invitation(meeting, mail.from_address),
    )
    async with transaction():
        item_id, _ = await inbox.receive(meeting, item, actor=_actor(origin, meeting["department"]))
    return IngestResult(
        "message", "Message transmis aux agents de la réunion.", item.invitation_id, meeting["id"], item_id
    )


async def _unmatched(origin: _Origin, *, automatic: bool, note: str) -> IngestResult:
    mail = origin.mail
    if automatic:
        # An out-of-office or a report about no meeting: nobody to tell, and answering it would loop.
        logger.info("automatic mail about no meeting dropped (source=%s, from=%s)", origin.source, mail.from_address)
        return IngestResult("discarded", "Réponse automatique sans rapport avec une réunion : ignorée.")
    forward_to = current_settings().imip_forward_to.strip()
    if not forward_to:
        logger.info("mail about no meeting refused (source=%s, from=%s)", origin.source, mail.from_address)
        return IngestResult("unmatched", NO_MEETING)
    async with transaction():
        await _queue_forward(origin, forward_to, note)
    return IngestResult("forwarded", f"Message sans rapport avec une réunion, transmis à {forward_to}.")


async def _queue_forward(origin: _Origin, forward_to: str, note: str) -> bool:
    """The mail's sender, date, subject and text to the forward mailbox (no attachment), once."""
    mail = origin.mail
    identity = (
        mail.message_id
        or hashlib.sha256(f"{mail.from_address}|{mail.subject}|{mail.sent_at}|{mail.text}".encode()).hexdigest()
    )
    context = {
        "sender": mail.from_address or "inconnu",
        "sender_name": mail.from_name,
        "envelope_sender": origin.envelope_sender or "",
        "subject": mail.subject,
        "sent_at": date_fr(mail.sent_at, "Europe/Paris", True) if mail.sent_at else "",
        "received_at": date_fr(clock.now(), "Europe/Paris", True),
        "text": mail.text,
        "note": note,
        "has_headers": mail.has_headers,
    }
    rendered = mails.render("inbound_forward", context)
    return await outbox.queue(
        dedupe_key=f"inbound-forward:{identity}",
        kind="inbound_forward",
        to_email=forward_to,
        to_name="",
        subject=rendered.subject,
        text=rendered.text,
        entity="inbound_mail",
    )
