"""Reading back the .ics the builders produce."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import icalendar

FIXTURES = Path(__file__).parent / "fixtures"


def parse(data: bytes) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(data)


def only_event(data: bytes) -> icalendar.Event:
    events = parse(data).events
    assert len(events) == 1
    return events[0]


def utc_via_vtimezone(data: bytes, prop: str = "DTSTART") -> datetime:
    """The instant as computed from the VTIMEZONE we ship, not from the local tz database,
    which is what Outlook does."""
    calendar = parse(data)
    event = calendar.events[0]
    value = event[prop]
    tzid = value.params["TZID"]
    (zone,) = [tz for tz in calendar.timezones if tz["TZID"] == tzid]
    wall = value.dt.replace(tzinfo=None)
    return wall.replace(tzinfo=zone.to_tz(lookup_tzid=False)).astimezone(UTC)


def unfolded_lines(data: bytes) -> list[str]:
    return data.decode().replace("\r\n ", "").split("\r\n")
