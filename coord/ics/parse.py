"""Parsing of the iTIP messages attendees send back, from Outlook/Exchange, Thunderbird, etc.:
REPLY (an invitee's answer), REFRESH (their calendar asks for the current invitation) and COUNTER
(they propose another time).

Input is untrusted mail content: every failure becomes a `ReplyError` with a French reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

import icalendar

from coord.ics.sanitize import clean_text

MAX_REPLY_BYTES = 1_000_000  # a reply is a few kB; refuse to parse attachments of any size
REPLY_PARTSTATS = frozenset({"ACCEPTED", "DECLINED", "TENTATIVE", "DELEGATED"})
ATTENDEE_METHODS = frozenset({"REPLY", "REFRESH", "COUNTER"})  # what an attendee's calendar sends
MAX_LOCATION = 500

T = TypeVar("T")


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


# -- what any calendar says (matching a mail to a meeting) ------------------------------------


def calendar_method(data: bytes | str) -> str:
    """The METHOD of a calendar ("REPLY", "COUNTER"...), "" when it has none or cannot be read."""
    try:
        calendar = _parse_calendar(_decode(data))
    except Exception:  # untrusted input: unreadable means "no method"
        return ""
    return clean_text(str(calendar.get("METHOD", "")), multiline=False).upper()


def calendar_uids(data: bytes | str) -> list[str]:
    """The UIDs of the events of a calendar, whatever its method; [] when it cannot be read."""
    try:
        calendar = _parse_calendar(_decode(data))
    except Exception:  # untrusted input
        return []
    uids = (clean_text(str(c.get("UID", "")), multiline=False) for c in calendar.subcomponents)
    return list(dict.fromkeys(u for u in uids if u))


def _single_event(calendar: icalendar.Calendar, method: str) -> icalendar.Event:
    found = clean_text(str(calendar.get("METHOD", "")), multiline=False).upper()
    if found != method:
        shown = found or "absente"
        raise ReplyError(f"Le calendrier n'est pas du type attendu (méthode {shown}, {method} attendue).")
    events = [c for c in calendar.subcomponents if c.name == "VEVENT"]
    if not events:
        raise ReplyError("Le calendrier ne contient aucun événement (VEVENT).")
    if len(events) > 1:
        raise ReplyError("Le calendrier contient plusieurs événements ; un seul est attendu.")
    return events[0]


def _uid(event: icalendar.Event) -> str:
    uid = clean_text(str(event.get("UID", "")), multiline=False)
    if not uid:
        raise ReplyError("Le calendrier n'indique pas à quelle réunion il se rapporte (UID absent).")
    return uid


def _attendee_addresses(event: icalendar.Event) -> list[str]:
    raw = event.get("ATTENDEE")
    attendees = [] if raw is None else raw if isinstance(raw, list) else [raw]
    return [a for a in (_mailbox(v) for v in attendees) if "@" in a]


def _safe(parse: Callable[[str], T], data: bytes | str, unreadable: str) -> T:
    """`parse(text)`, any failure but a `ReplyError` becoming one with the reason `unreadable`."""
    try:
        return parse(_decode(data))
    except ReplyError:
        raise
    except Exception as exc:  # never let a parser quirk escape as a 500
        raise ReplyError(unreadable) from exc


# -- REFRESH ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedRefresh:
    """An attendee's calendar asks for the current version of the event (RFC 5546 §3.2.6)."""

    uid: str
    attendee_email: str  # lower-case, without "mailto:"
    dtstamp: datetime | None


def parse_refresh(data: bytes | str) -> ParsedRefresh:
    """Read an iTIP REFRESH; raises only `ReplyError`."""
    return _safe(_parse_refresh, data, "La demande d'actualisation n'a pas pu être lue.")


def _parse_refresh(text: str) -> ParsedRefresh:
    event = _single_event(_parse_calendar(text), "REFRESH")
    addresses = _attendee_addresses(event)
    if len(addresses) != 1:
        raise ReplyError("La demande d'actualisation doit indiquer un et un seul participant (ATTENDEE).")
    return ParsedRefresh(uid=_uid(event), attendee_email=addresses[0], dtstamp=_dtstamp(event))


# -- COUNTER ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedCounter:
    """An attendee proposes another time (and maybe another place) for the event (§3.2.7).

    `start`/`end` are aware when the calendar gives a zone (a TZID with its VTIMEZONE, or UTC), and
    naive for a floating time or an unknown TZID: the caller reads those in the meeting's zone."""

    uid: str
    sequence: int
    attendee_email: str
    dtstamp: datetime | None
    start: datetime
    end: datetime
    location: str
    comment: str


def parse_counter(data: bytes | str, *, sender: str | None = None) -> ParsedCounter:
    """Read an iTIP COUNTER; raises only `ReplyError`. `sender` (the mail's From address) tells
    which attendee proposes when the client lists them all."""
    return _safe(lambda text: _parse_counter(text, sender), data, "La proposition d'horaire n'a pas pu être lue.")


def _proposer(event: icalendar.Event, sender: str | None) -> str:
    addresses = list(dict.fromkeys(_attendee_addresses(event)))
    wanted = (sender or "").strip().lower()
    if len(addresses) == 1:
        return addresses[0]
    if wanted and (not addresses or wanted in addresses):
        return wanted
    raise ReplyError("La proposition ne permet pas de savoir quel participant la fait.")


def _moment(event: icalendar.Event, name: str) -> datetime | None:
    prop = event.get(name)
    value = getattr(prop, "dt", None)
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise ReplyError("La proposition porte sur une journée entière : une heure de début et de fin est attendue.")
    return value


def _counter_end(event: icalendar.Event, start: datetime) -> datetime:
    end = _moment(event, "DTEND")
    if end is None:
        duration = getattr(event.get("DURATION"), "dt", None)
        if not isinstance(duration, timedelta):
            raise ReplyError("La proposition n'indique pas d'heure de fin (DTEND ou DURATION absent).")
        end = start + duration
    return end


def _parse_counter(text: str, sender: str | None) -> ParsedCounter:
    event = _single_event(_parse_calendar(text), "COUNTER")
    start = _moment(event, "DTSTART")
    if start is None:
        raise ReplyError("La proposition n'indique pas d'heure de début (DTSTART absent).")
    end = _counter_end(event, start)
    if (start.tzinfo is None) != (end.tzinfo is None):
        raise ReplyError("Les heures de début et de fin proposées ne sont pas exprimées dans le même fuseau.")
    if end <= start:
        raise ReplyError("L'heure de fin proposée doit suivre l'heure de début.")
    location = clean_text(str(event.get("LOCATION", "")), multiline=False)[:MAX_LOCATION]
    return ParsedCounter(
        uid=_uid(event),
        sequence=_sequence(event),
        attendee_email=_proposer(event, sender),
        dtstamp=_dtstamp(event),
        start=start,
        end=end,
        location=location,
        comment=_comment(event),
    )
