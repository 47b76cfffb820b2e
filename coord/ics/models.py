"""Plain data handed to the iCalendar builders; no database, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

ROLES = frozenset({"CHAIR", "REQ-PARTICIPANT", "OPT-PARTICIPANT", "NON-PARTICIPANT"})
PARTSTATS = frozenset({"NEEDS-ACTION", "ACCEPTED", "DECLINED", "TENTATIVE", "DELEGATED"})
EVENT_STATUSES = frozenset({"CONFIRMED", "TENTATIVE", "CANCELLED"})
TODO_STATUSES = frozenset({"NEEDS-ACTION", "COMPLETED", "IN-PROCESS", "CANCELLED"})


@dataclass(frozen=True)
class Person:
    email: str
    name: str


@dataclass(frozen=True)
class CalendarAttendee:
    email: str
    name: str
    role: str  # CHAIR | REQ-PARTICIPANT | OPT-PARTICIPANT | NON-PARTICIPANT
    partstat: str = "NEEDS-ACTION"
    rsvp: bool = True
    delegated_to: str = ""  # the delegate's address, on the attendee who delegated
    delegated_from: str = ""  # the delegating attendee's address, on the delegate


@dataclass(frozen=True)
class CalendarEvent:
    uid: str
    sequence: int
    summary: str
    description: str
    start: datetime  # timezone-aware, in the département's zone
    end: datetime
    tzid: str  # IANA name, e.g. "Europe/Paris", "America/Cayenne", "Indian/Reunion"
    organizer: Person
    location: str = ""
    url: str = ""  # the meeting's page in Coord
    video_url: str = ""
    status: str = "CONFIRMED"  # CONFIRMED | TENTATIVE | CANCELLED
    alarm_minutes: int | None = 1440  # reminder before start; never sent in a CANCEL
    created: datetime | None = None
    last_modified: datetime | None = None


@dataclass(frozen=True)
class CalendarTodo:
    """An action item's due date, published in feeds as a VTODO."""

    uid: str
    summary: str
    description: str
    due: date
    url: str = ""
    status: str = "NEEDS-ACTION"  # NEEDS-ACTION | COMPLETED | IN-PROCESS | CANCELLED
    start: date | None = None  # DTSTART (creation); written only when before `due`, as RFC 5545 asks
    organizer: Person | None = None  # iTIP PUBLISH wants one (libical checks it)
    priority: int = 0  # 1 (highest) to 9 (lowest); 0: undefined
