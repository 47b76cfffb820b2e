"""Candidate slots the agent may pick from: working days of the département, no public holiday, far
enough after the poll's deadline for the convocation to arrive in time, and no other meeting of the
committee that day."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from coord.meetings.rules import CONVOCATION_LEAD
from coord.meetings.tables import Meeting
from coord.territory.working_days import is_working_day, next_working_day

# The convocation leaves the day after the date is chosen (the outbox and the post need a day).
SENDING_DAY = dt.timedelta(days=1)


def earliest_day(deadline: dt.datetime, tz: str) -> dt.date:
    """The first day a meeting may be held when its date is chosen at the deadline."""
    return (deadline.astimezone(ZoneInfo(tz)) + SENDING_DAY + CONVOCATION_LEAD).date()


async def suggest(
    *,
    committee_id: int,
    exclude_meeting: int,
    deadline: dt.datetime,
    tz: str,
    subdivision: str | None,
    at: dt.time,
    count: int = 5,
    horizon_days: int = 60,
) -> list[dt.datetime]:
    """Up to `count` local start times, one per eligible day, at the time of day `at`."""
    zone = ZoneInfo(tz)
    first = earliest_day(deadline, tz)
    last = first + dt.timedelta(days=horizon_days)
    start = dt.datetime.combine(first, dt.time(0), zone)
    end = dt.datetime.combine(last, dt.time(0), zone)
    busy_rows = await Meeting.select(Meeting.starts_at).where(
        (Meeting.committee == committee_id)
        & (Meeting.id != exclude_meeting)
        & (Meeting.status != "cancelled")
        & (Meeting.starts_at >= start)
        & (Meeting.starts_at < end)
    )
    busy = {r["starts_at"].astimezone(zone).date() for r in busy_rows}
    out: list[dt.datetime] = []
    day = first if is_working_day(first, subdivision, busy) else next_working_day(first, subdivision, busy)
    while day < last and len(out) < count:
        out.append(dt.datetime.combine(day, at, zone))
        day = next_working_day(day, subdivision, busy)
    return out
