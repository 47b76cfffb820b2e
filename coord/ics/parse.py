"""Parsing of iTIP REPLY messages (an invitee's answer) from Outlook/Exchange, Thunderbird, etc.

Input is untrusted mail content: every failure becomes a `ReplyError` with a French reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import icalendar

from coord.ics.sanitize import clean_text

MAX_REPLY_BYTES = 1_000_000  # a reply is a few kB; refuse to parse attachments of any size
REPLY_PARTSTATS = frozenset({"ACCEPTED", "DECLINED", "TENTATIVE", "DELEGATED"})


class ReplyError(ValueError):
    """`reason` is French and can be shown to a user as is."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ParsedReply:
    uid: str
    sequence: int
    attendee_email: str  # lower-case, without "mailto:"
    partstat: str  # ACCEPTED | DECLINED | TENTATIVE | DELEGATED
    dtstamp: datetime | None  # UTC; used to ignore a late, out-of-order reply
    delegated_to: str | None
    comment: str


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # Some Windows clients still send cp1252 without saying so.
        return data.decode("cp1252", errors="replace")


def _mailbox(value: object) -> str:
    """`MAILTO:Jean@Example.fr` (Outlook writes it upper-case) → `jean@example.fr`."""
    text = clean_text(str(value), multiline=False)
    if text.lower().startswith("mailto:"):
        text = text[len("mailto:") :]
    return text.strip().lower()


def _parse_calendar(text: str) -> icalendar.Calendar:
    if len(text) > MAX_REPLY_BYTES:
        raise ReplyError("Le fichier de réponse est trop volumineux.")
    if "BEGIN:VCALENDAR" not in text.upper():
        raise ReplyError("Le fichier n'est pas un calendrier iCalendar valide.")
    try:
        calendars = icalendar.Calendar.from_ical(text, multiple=True)
    except Exception as exc:  # icalendar raises assorted errors on malformed input
        raise ReplyError("Le fichier n'est pas un calendrier iCalendar valide.") from exc
    if len(calendars) != 1 or calendars[0].name != "VCALENDAR":
        raise ReplyError("Le fichier doit contenir exactement un calendrier iCalendar.")
    return calendars[0]


def _dtstamp(event: icalendar.Event) -> datetime | None:
    prop = event.get("DTSTAMP")
    if prop is None:
        return None
    value = getattr(prop, "dt", None)
    if isinstance(value, datetime):
        # DTSTAMP is UTC by definition; a floating value is read as UTC too.
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return None


def _sequence(event: icalendar.Event) -> int:
    raw = event.get("SEQUENCE")
    if raw is None:
        return 0
    try:
        sequence = int(str(raw).strip())
    except ValueError as exc:
        raise ReplyError("Le numéro de version (SEQUENCE) de la réponse est invalide.") from exc
    if sequence < 0:
        raise ReplyError("Le numéro de version (SEQUENCE) de la réponse est invalide.")
    return sequence


def _comment(event: icalendar.Event) -> str:
    raw = event.get("COMMENT")
    if raw is None:
        return ""
    values = raw if isinstance(raw, list) else [raw]
    return "\n".join(c for c in (clean_text(str(v)) for v in values) if c)


def _attendee(event: icalendar.Event) -> tuple[str, str, str | None]:
    raw = event.get("ATTENDEE")
    attendees = [] if raw is None else raw if isinstance(raw, list) else [raw]
    if not attendees:
        raise ReplyError("La réponse n'indique pas quel participant répond (aucun ATTENDEE).")
    if len(attendees) > 1:
        raise ReplyError("La réponse contient plusieurs participants ; un seul est attendu.")
    attendee = attendees[0]
    email = _mailbox(attendee)
    if "@" not in email:
        raise ReplyError("L'adresse du participant dans la réponse est invalide.")
    params = getattr(attendee, "params", {})
    partstat = str(params.get("PARTSTAT", "NEEDS-ACTION")).strip().upper()
    if partstat not in REPLY_PARTSTATS:
        raise ReplyError(
            f"La réponse du participant est inconnue ({clean_text(partstat, multiline=False)}) ;"
            " attendu : acceptée, refusée, provisoire ou déléguée."
        )
    delegated_to = None
    if delegated := params.get("DELEGATED-TO"):
        first = delegated[0] if isinstance(delegated, list) else str(delegated).split(",")[0]
        delegated_to = _mailbox(str(first).strip().strip('"')) or None
    return email, partstat, delegated_to


def parse_reply(data: bytes | str) -> ParsedReply:
    """Read an iTIP REPLY; raises only `ReplyError`."""
    try:
        return _parse_reply(_decode(data))
    except ReplyError:
        raise
    except Exception as exc:  # never let a parser quirk escape as a 500
        raise ReplyError("La réponse au calendrier n'a pas pu être lue.") from exc


def _parse_reply(text: str) -> ParsedReply:
    calendar = _parse_calendar(text)
    method = str(calendar.get("METHOD", "")).strip().upper()
    if method != "REPLY":
        shown = clean_text(method, multiline=False) or "absente"
        raise ReplyError(f"Le calendrier n'est pas une réponse à une invitation (méthode {shown}, REPLY attendue).")
    events = [c for c in calendar.subcomponents if c.name == "VEVENT"]
    if not events:
        raise ReplyError("La réponse ne contient aucun événement (VEVENT).")
    if len(events) > 1:
        raise ReplyError("La réponse contient plusieurs événements ; un seul est attendu.")
    event = events[0]
    uid = clean_text(str(event.get("UID", "")), multiline=False)
    if not uid:
        raise ReplyError("La réponse n'indique pas à quelle réunion elle se rapporte (UID absent).")
    email, partstat, delegated_to = _attendee(event)
    return ParsedReply(
        uid=uid,
        sequence=_sequence(event),
        attendee_email=email,
        partstat=partstat,
        dtstamp=_dtstamp(event),
        delegated_to=delegated_to,
        comment=_comment(event),
    )
