"""iCalendar (.ics) for Coord: iTIP invitations and cancellations, feeds, and reply parsing.

A library at the bottom of the layers: pure functions, no database and no domain; callers pass plain
dataclasses and get bytes back.
"""

from coord.ics.build import PRODID, build_cancel, build_feed, build_request
from coord.ics.models import CalendarAttendee, CalendarEvent, CalendarTodo, Person
from coord.ics.parse import ParsedReply, ReplyError, parse_reply
from coord.ics.timezones import vtimezone

__all__ = [
    "PRODID",
    "CalendarAttendee",
    "CalendarEvent",
    "CalendarTodo",
    "ParsedReply",
    "Person",
    "ReplyError",
    "build_cancel",
    "build_feed",
    "build_request",
    "parse_reply",
    "vtimezone",
]
