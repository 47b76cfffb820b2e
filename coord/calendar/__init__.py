"""iCalendar (.ics) for Coord: iTIP invitations and cancellations, feeds, and reply parsing.

Pure functions, no database: callers pass plain dataclasses and get bytes back.
"""

from coord.calendar.ics import PRODID, build_cancel, build_feed, build_request
from coord.calendar.models import CalendarAttendee, CalendarEvent, CalendarTodo, Person
from coord.calendar.replies import ParsedReply, ReplyError, parse_reply
from coord.calendar.timezones import vtimezone

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
