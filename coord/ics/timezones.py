"""VTIMEZONE components that Outlook/Exchange read correctly.

icalendar's `add_missing_timezones()` emits long RDATE lists with several STANDARD blocks and
Exchange reads only one; the `ical` package builds one STANDARD + one DAYLIGHT block with a
yearly RRULE (or a single STANDARD block for zones without daylight saving).
"""

from __future__ import annotations

import re
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
from ical.calendar import Calendar as IcalCalendar
from ical.calendar_stream import IcsCalendarStream
from ical.timezone import Timezone as IcalTimezone

# tzdata writes numeric abbreviations as "<+04>" (POSIX TZ syntax); clients show TZNAME as is.
_ANGLE_NAME = re.compile(r"^TZNAME:<([^>]*)>(\r?)$", re.MULTILINE)


def check_tzid(tzid: str) -> ZoneInfo:
    """The zone for an IANA name; raises ValueError for unknown names."""
    try:
        return ZoneInfo(tzid)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone: {tzid!r}") from exc


@lru_cache(maxsize=64)
def _vtimezone_ics(tzid: str) -> str:
    check_tzid(tzid)
    calendar = IcalCalendar()
    calendar.timezones.append(IcalTimezone.from_tzif(tzid))
    return _ANGLE_NAME.sub(r"TZNAME:\1\2", IcsCalendarStream.calendar_to_ics(calendar))


def vtimezone(tzid: str) -> icalendar.Timezone:
    """A fresh VTIMEZONE for `tzid` (components are mutable, so never share one)."""
    parsed = icalendar.Calendar.from_ical(_vtimezone_ics(tzid))
    zones = [c for c in parsed.subcomponents if isinstance(c, icalendar.Timezone)]
    return zones[0]
