"""Builders for the .ics Coord sends (iTIP REQUEST/CANCEL) and publishes (feeds).

See /work/shared/calendar-interop.md for why each property is there.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

import icalendar
from icalendar import vCalAddress, vDuration

from coord.ics.models import (
    EVENT_STATUSES,
    PARTSTATS,
    ROLES,
    TODO_STATUSES,
    CalendarAttendee,
    CalendarEvent,
    CalendarTodo,
    Person,
)
from coord.ics.sanitize import clean_email, clean_param, clean_text, clean_url
from coord.ics.timezones import check_tzid, vtimezone

PRODID = "-//Coord//Coordination TEH//FR"
FEED_REFRESH = timedelta(hours=4)
CANCELLED_PREFIX = "Annulé : "


class _MinutesBefore(vDuration):
    """TRIGGER written as `-PT{n}M`, the form every client reads (icalendar would write -P1D)."""

    def __init__(self, minutes: int) -> None:
        super().__init__(timedelta(minutes=-minutes))
        self.minutes = minutes

    def to_ical(self) -> bytes:
        return f"-PT{self.minutes}M".encode()


def _utc(value: datetime, field: str) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"{field} must be timezone-aware")
    return value.astimezone(UTC)


def _calendar(method: str | None) -> icalendar.Calendar:
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method:
        calendar.add("method", method)
    return calendar


def _add_timezones(calendar: icalendar.Calendar, tzids: Iterable[str]) -> None:
    for tzid in sorted(set(tzids)):
        calendar.add_component(vtimezone(tzid))


def _address(person: Person | CalendarAttendee) -> vCalAddress:
    address = vCalAddress(f"mailto:{clean_email(person.email)}")
    name = clean_param(person.name)
    if name:
        address.params["CN"] = name
    return address


def _attendee(attendee: CalendarAttendee, *, rsvp: bool) -> vCalAddress:
    if attendee.role not in ROLES:
        raise ValueError(f"unknown attendee role: {attendee.role!r}")
    if attendee.partstat not in PARTSTATS:
        raise ValueError(f"unknown participation status: {attendee.partstat!r}")
    address = _address(attendee)
    address.params["CUTYPE"] = "INDIVIDUAL"
    address.params["ROLE"] = attendee.role
    address.params["PARTSTAT"] = attendee.partstat
    address.params["RSVP"] = "TRUE" if rsvp else "FALSE"
    if attendee.delegated_to:
        address.params["DELEGATED-TO"] = f"mailto:{clean_email(attendee.delegated_to)}"
    if attendee.delegated_from:
        address.params["DELEGATED-FROM"] = f"mailto:{clean_email(attendee.delegated_from)}"
    return address


def full_description(event: CalendarEvent) -> str:
    """The description plus place, video link and meeting page, as Outlook shows the body only
    but other clients show the .ics DESCRIPTION."""
    parts = [clean_text(event.description)]
    details = []
    if location := clean_text(event.location, multiline=False):
        details.append(f"Lieu : {location}")
    if video := clean_url(event.video_url):
        details.append(f"Visioconférence : {video}")
    if url := clean_url(event.url):
        details.append(f"Page de la réunion dans Coord : {url}")
    if details:
        parts.append("\n".join(details))
    return "\n\n".join(p for p in parts if p)


def _event(event: CalendarEvent, now: datetime, *, status: str | None) -> icalendar.Event:
    """The VEVENT fields shared by every method (no ORGANIZER/ATTENDEE/VALARM)."""
    zone = check_tzid(event.tzid)
    start = _utc(event.start, "start").astimezone(zone)
    end = _utc(event.end, "end").astimezone(zone)
    if end <= start:
        raise ValueError("end must be after start")
    if event.sequence < 0:
        raise ValueError("sequence must be >= 0")
    uid = clean_text(event.uid, multiline=False)
    if not uid:
        raise ValueError("uid must not be empty")

    vevent = icalendar.Event()
    vevent.add("uid", uid)
    vevent.add("dtstamp", _utc(now, "now"))
    # Always written, even at 0: some clients mis-order updates without it.
    vevent.add("sequence", event.sequence)
    vevent.add("dtstart", start)  # icalendar writes TZID=<zoneinfo key>
    vevent.add("dtend", end)
    if event.created is not None:
        vevent.add("created", _utc(event.created, "created"))
    if event.last_modified is not None:
        vevent.add("last-modified", _utc(event.last_modified, "last_modified"))
    vevent.add("summary", clean_text(event.summary, multiline=False))
    if description := full_description(event):
        vevent.add("description", description)
    if location := clean_text(event.location, multiline=False):
        vevent.add("location", location)
    if url := clean_url(event.url):
        vevent.add("url", url)
    if video := clean_url(event.video_url):
        vevent.add(
            "conference",
            video,
            parameters={"VALUE": "URI", "FEATURE": "VIDEO", "LABEL": "Visioconférence"},
        )
    if status is not None:
        vevent.add("status", status)
    vevent.add("transp", "OPAQUE")
    return vevent


def _alarm(minutes: int, summary: str) -> icalendar.Alarm:
    if minutes < 0:
        raise ValueError("alarm_minutes must be >= 0")
    alarm = icalendar.Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", f"Rappel : {clean_text(summary, multiline=False)}")
    alarm["TRIGGER"] = _MinutesBefore(minutes)
    return alarm


def _itip(
    method: str,
    event: CalendarEvent,
    attendees: Sequence[CalendarAttendee],
    now: datetime,
    *,
    status: str | None,
) -> bytes:
    if not attendees:
        # Outlook offers no Accept/Decline unless the recipient is an ATTENDEE.
        raise ValueError(f"a {method} needs at least one attendee")
    calendar = _calendar(method)
    _add_timezones(calendar, [event.tzid])
    vevent = _event(event, now, status=status)
    # No SENT-BY: Gmail then shows "Unknown Organizer"; replies go to this mailbox.
    vevent.add("organizer", _address(event.organizer))
    for attendee in attendees:
        vevent.add("attendee", _attendee(attendee, rsvp=attendee.rsvp and method == "REQUEST"))
    if method == "REQUEST" and event.alarm_minutes is not None:
        vevent.add_component(_alarm(event.alarm_minutes, event.summary))
    calendar.add_component(vevent)
    return calendar.to_ical()


def build_request(event: CalendarEvent, attendees: Sequence[CalendarAttendee], now: datetime) -> bytes:
    """METHOD:REQUEST for a convocation or any change (the caller bumps SEQUENCE)."""
    if event.status not in ("CONFIRMED", "TENTATIVE"):
        raise ValueError("a REQUEST must be CONFIRMED or TENTATIVE; use build_cancel")
    return _itip("REQUEST", event, attendees, now, status=event.status)


def build_cancel(
    event: CalendarEvent, attendees: Sequence[CalendarAttendee], now: datetime, *, whole_meeting: bool = True
) -> bytes:
    """METHOD:CANCEL; `event.sequence` must be above what the attendees hold. The whole meeting
    (STATUS:CANCELLED), or the listed attendees only (RFC 5546 §3.2.5: no STATUS then)."""
    return _itip("CANCEL", event, attendees, now, status="CANCELLED" if whole_meeting else None)


def _feed_event(event: CalendarEvent, now: datetime) -> icalendar.Event:
    if event.status not in EVENT_STATUSES:
        raise ValueError(f"unknown event status: {event.status!r}")
    vevent = _event(event, now, status=event.status)
    # RFC 5546 §3.2.1: a PUBLISH VEVENT names its organiser (Coord's mailbox); still no ATTENDEE.
    vevent.add("organizer", _address(event.organizer))
    if event.status == "CANCELLED":
        # Kept (subscribers would otherwise keep a stale copy) but visibly cancelled.
        vevent["SUMMARY"] = icalendar.vText(CANCELLED_PREFIX + str(vevent["SUMMARY"]))
        vevent["TRANSP"] = icalendar.vText("TRANSPARENT")
    return vevent


def _feed_todo(todo: CalendarTodo, now: datetime, organizer: Person | None) -> icalendar.Todo:
    """A PUBLISH VTODO (RFC 5546 §3.4.1): DTSTAMP, DTSTART, ORGANIZER, PRIORITY, SUMMARY and UID."""
    if todo.status not in TODO_STATUSES:
        raise ValueError(f"unknown to-do status: {todo.status!r}")
    uid = clean_text(todo.uid, multiline=False)
    if not uid:
        raise ValueError("uid must not be empty")
    vtodo = icalendar.Todo()
    vtodo.add("uid", uid)
    vtodo.add("dtstamp", _utc(now, "now"))
    vtodo.add("summary", clean_text(todo.summary, multiline=False))
    url = clean_url(todo.url)
    description = clean_text(todo.description)
    if url:
        description = "\n\n".join(p for p in (description, f"Page dans Coord : {url}") if p)
        vtodo.add("url", url)
    if description:
        vtodo.add("description", description)
    # PUBLISH requires a DTSTART and RFC 5545 a DUE strictly after it: an item due the day it was
    # created (or with no start) starts the day before its due date.
    start = todo.start if todo.start is not None and todo.start < todo.due else todo.due - timedelta(days=1)
    vtodo.add("dtstart", start)
    organizer = todo.organizer or organizer
    if organizer is None:
        raise ValueError("a published to-do needs an organizer")
    vtodo.add("organizer", _address(organizer))
    vtodo.add("priority", max(0, min(9, todo.priority)))
    vtodo.add("due", todo.due)  # a date: written as DUE;VALUE=DATE
    vtodo.add("status", todo.status)
    return vtodo


def build_feed(
    name: str,
    events: Sequence[CalendarEvent],
    now: datetime,
    *,
    todos: Sequence[CalendarTodo] = (),
    organizer: Person | None = None,
) -> bytes:
    """A subscription feed: METHOD:PUBLISH, cancelled meetings kept with STATUS:CANCELLED, no
    VALARM. Every VEVENT and VTODO has the ORGANIZER RFC 5546 requires (the event's; for a to-do
    without one, `organizer`, else the first event's) and no ATTENDEE, so no client has anyone to
    reply for."""
    todo_organizer = organizer or (events[0].organizer if events else None)
    calendar = _calendar("PUBLISH")
    feed_name = clean_text(name, multiline=False)
    calendar.add("x-wr-calname", feed_name)
    calendar.add("name", feed_name)
    # icalendar omits VALUE=DURATION unless set explicitly; clients need it.
    calendar.add("refresh-interval", FEED_REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(FEED_REFRESH))
    _add_timezones(calendar, [e.tzid for e in events])
    for event in events:
        calendar.add_component(_feed_event(event, now))
    for todo in todos:
        calendar.add_component(_feed_todo(todo, now, todo_organizer))
    return calendar.to_ical()


def build_decline_counter(
    event: CalendarEvent, attendee: CalendarAttendee, now: datetime, *, comment: str = ""
) -> bytes:
    """METHOD:DECLINECOUNTER to the attendee whose COUNTER the organiser refuses (RFC 5546 §3.2.8):
    UID, the SEQUENCE echoed, DTSTAMP, ORGANIZER, that one ATTENDEE and an optional COMMENT.

    No DTSTART or other event property: the event itself does not change. (libical's restriction
    table, written after RFC 2446, wants no ATTENDEE nor SEQUENCE here; RFC 5546 asks for both.)"""
    uid = clean_text(event.uid, multiline=False)
    if not uid:
        raise ValueError("uid must not be empty")
    if event.sequence < 0:
        raise ValueError("sequence must be >= 0")
    calendar = _calendar("DECLINECOUNTER")
    vevent = icalendar.Event()
    vevent.add("uid", uid)
    vevent.add("dtstamp", _utc(now, "now"))
    vevent.add("sequence", event.sequence)
    vevent.add("organizer", _address(event.organizer))
    vevent.add("attendee", _address(attendee))
    if text := clean_text(comment):
        vevent.add("comment", text)
    calendar.add_component(vevent)
    return calendar.to_ical()
