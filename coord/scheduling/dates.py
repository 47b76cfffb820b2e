"""Working days, public holidays and the date proposed for each département's yearly meeting.

Measure 22 of the first national plan asks every département to devote one CDPD meeting a year to
trafficking. Coord proposes a date for it: by default a working day in a window around 18 October
(European anti-trafficking day), at 09:30 local time.

Working days and public holidays of a département come from `coord.territory.working_days`.

Choice of the proposed date (documented rule, see `propose_meeting_date`):
1. only free working days inside the window [anchor - before, anchor + after] are candidates;
2. the closest to the anchor wins;
3. between two equally close days (one before, one after the anchor), a Tuesday, Wednesday or
   Thursday is preferred to a Monday or a Friday (long weekends and travel make those days
   poorly attended);
4. if still tied, the earlier day wins (more lead time for the convocation).
The Tuesday-Thursday preference only breaks ties: it never moves the meeting further from the
anchor.

When a reminder is sent (documented rule, see `reminder_send_at`): every reminder has a nominal
instant (ten days before the meeting at the meeting's time, the day a proposal period opens, ...).
1. it goes out on that day if it is a working day of the département, else on the previous working
   day (weekends and the département's own public holidays: Good Friday and 26 December in
   Alsace-Moselle, the abolition-of-slavery day overseas; dates marked unavailable for meetings do
   not count, the prefecture's office is open on them);
2. at the nominal wall-clock time in the département's zone, brought within office hours
   (09:00-17:00), so a move across a change of summer time keeps the local hour;
3. never before what it follows up (`not_before`: the convocation a nudge is about, the end of the
   meeting whose minutes are due): if the previous working day is already behind it, the reminder
   goes at the first working moment after it;
4. never at or after the event it announces: when no working moment is left before the event, it
   goes at `not_before` itself (as soon as possible) rather than never.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from coord.territory.working_days import (
    _FRIDAY,
    _MONDAY,
    NoDateAvailable,
    _as_day_set,
    _is_working_day,
    _normalize_subdivision,
    add_working_days,
    holiday_subdivision_for,
    is_working_day,
    next_working_day,
    previous_working_day,
    public_holidays,
)

__all__ = [
    "LONGEST_ADVANCE",
    "OFFICE_CLOSES",
    "OFFICE_OPENS",
    "NoDateAvailable",
    "YearlyMeetingRule",
    "add_working_days",
    "first_working_moment",
    "holiday_subdivision_for",
    "is_working_day",
    "meeting_window",
    "next_working_day",
    "office_opening",
    "previous_working_day",
    "propose_meeting_date",
    "public_holidays",
    "reminder_send_at",
    "shift_days",
    "working_day_on_or_before",
]

# Office hours of a prefecture, local wall-clock time: reminders go out within them.
OFFICE_OPENS = time(9, 0)
OFFICE_CLOSES = time(17, 0)
# How much earlier than its nominal instant a reminder may go out. The longest run of days off in
# any département is four (Good Friday to Easter Monday in Alsace-Moselle and Guadeloupe, Christmas
# on a Friday with 26 December in Alsace-Moselle): a week bounds how far ahead the queries look.
LONGEST_ADVANCE = timedelta(days=7)


@dataclass(frozen=True)
class YearlyMeetingRule:
    """Where in the year the yearly meeting is proposed, and how long it lasts.

    A 29 February anchor falls back to 28 February in non-leap years.
    """

    anchor_month: int = 10  # European anti-trafficking day: 18 October
    anchor_day: int = 18
    window_days_before: int = 21
    window_days_after: int = 21
    start_time: time = time(9, 30)  # local wall-clock time of the département
    duration_minutes: int = 150

    def __post_init__(self) -> None:
        try:
            date(2024, self.anchor_month, self.anchor_day)  # leap year: accepts 29 February
        except (TypeError, ValueError) as exc:
            raise ValueError(f"invalid anchor day/month: {self.anchor_day}/{self.anchor_month}") from exc
        if self.window_days_before < 0 or self.window_days_after < 0:
            raise ValueError("window_days_before and window_days_after must be >= 0")
        if self.window_days_before + self.window_days_after > 365:
            raise ValueError("the window must not exceed one year")
        if self.duration_minutes <= 0:
            raise ValueError("duration_minutes must be > 0")
        if self.start_time.tzinfo is not None:
            raise ValueError("start_time is a local wall-clock time and must be naive")

    def anchor(self, year: int) -> date:
        day = self.anchor_day
        if self.anchor_month == 2 and day == 29 and not _is_leap(year):
            day = 28
        return date(year, self.anchor_month, day)

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def meeting_window(year: int, rule: YearlyMeetingRule = YearlyMeetingRule()) -> tuple[date, date]:
    """First and last day (inclusive) in which the yearly meeting of `year` may be proposed."""
    anchor = rule.anchor(year)
    return (
        anchor - timedelta(days=rule.window_days_before),
        anchor + timedelta(days=rule.window_days_after),
    )


def _local_start(day: date, at: time, zone: ZoneInfo) -> datetime:
    """`day` at wall-clock `at` in `zone`; a time skipped by a DST change is moved past the gap."""
    naive = datetime.combine(day, at)
    local = naive.replace(tzinfo=zone)
    # A non-existent wall time does not survive a round trip through UTC: take the instant
    # it would denote with the pre-transition offset, which lands just after the gap.
    return local.astimezone(UTC).astimezone(zone)


def _load_zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone: {tz!r}") from exc


def _preference(day: date, anchor: date) -> tuple[int, bool, date]:
    return (abs((day - anchor).days), day.weekday() in (_MONDAY, _FRIDAY), day)


def propose_meeting_date(
    year: int,
    tz: str,
    subdivision: str | None,
    rule: YearlyMeetingRule = YearlyMeetingRule(),
    unavailable: Collection[date] = (),
    taken: Collection[date] = (),
) -> tuple[datetime, datetime]:
    """Propose (start, end) of the yearly meeting, aware datetimes in `ZoneInfo(tz)`.

    Candidates are the working days of the window (see `meeting_window`) that are neither in
    `unavailable` (dates the prefecture cannot do) nor in `taken` (dates already used, e.g. by
    another meeting; datetimes are accepted and read in `tz`). Among them: the closest to the
    anchor; on equal distance a Tuesday-Thursday beats a Monday/Friday; then the earlier day.

    `start` is `rule.start_time` local wall-clock time, so its UTC offset follows DST (Paris:
    +02:00 before the last Sunday of October, +01:00 after). `end` is `start` plus the duration
    in elapsed time. Raises `NoDateAvailable` (French message) when no candidate is left.
    """
    zone = _load_zone(tz)
    sub = _normalize_subdivision(subdivision)
    blocked = _as_day_set(unavailable, zone) | _as_day_set(taken, zone)
    first, last = meeting_window(year, rule)
    anchor = rule.anchor(year)
    candidates = [
        first + timedelta(days=offset)
        for offset in range((last - first).days + 1)
        if _is_working_day(first + timedelta(days=offset), sub, blocked)
    ]
    if not candidates:
        raise NoDateAvailable(first, last)
    chosen = min(candidates, key=lambda day: _preference(day, anchor))
    start = _local_start(chosen, rule.start_time, zone)
    end = (start.astimezone(UTC) + rule.duration).astimezone(zone)
    return start, end


# -- when a reminder is sent ----------------------------------------------------------------------


def shift_days(instant: datetime, days: int, tz: str) -> datetime:
    """`instant` moved by `days` calendar days at the same wall-clock time in `tz`: ten days before
    a 09:30 meeting is 09:30, even across a change of summer time (UTC arithmetic would say 08:30)."""
    zone = _load_zone(tz)
    local = instant.astimezone(zone)
    return _local_start(local.date() + timedelta(days=days), local.time(), zone)


def working_day_on_or_before(day: date, subdivision: str | None) -> date:
    """`day` if it is a working day of the subdivision, else the last working day before it."""
    return day if is_working_day(day, subdivision) else previous_working_day(day, subdivision)


def office_opening(day: date, tz: str) -> datetime:
    """The opening of the prefecture's office on `day`, in `tz` (the nominal instant of a reminder
    due on a day rather than at an instant)."""
    return _local_start(day, OFFICE_OPENS, _load_zone(tz))


def _office_time(at: time) -> time:
    return min(max(at.replace(tzinfo=None, fold=0), OFFICE_OPENS), OFFICE_CLOSES)


def first_working_moment(instant: datetime, tz: str, subdivision: str | None) -> datetime:
    """The first instant at or after `instant` that falls in office hours on a working day."""
    zone = _load_zone(tz)
    local = instant.astimezone(zone)
    day = local.date()
    if is_working_day(day, subdivision) and local.time().replace(fold=0) < OFFICE_CLOSES:
        return max(local, _local_start(day, OFFICE_OPENS, zone))
    return _local_start(next_working_day(day, subdivision), OFFICE_OPENS, zone)


def reminder_send_at(
    nominal: datetime,
    tz: str,
    subdivision: str | None,
    *,
    not_before: datetime | None = None,
    event: datetime | None = None,
) -> datetime:
    """The instant a reminder nominally due at `nominal` goes out (the rule in this module's
    docstring), aware in `ZoneInfo(tz)`. Pure: a reminder's instant does not depend on when the
    scheduler looks, so a reminder moved earlier is not due a second time on its nominal day."""
    zone = _load_zone(tz)
    local = nominal.astimezone(zone)
    day = working_day_on_or_before(local.date(), subdivision)
    send_at = _local_start(day, _office_time(local.time()), zone)
    if not_before is not None and send_at < not_before:
        send_at = first_working_moment(not_before, tz, subdivision)
    if event is not None and send_at >= event:
        # No working moment left before the event: as soon as possible rather than never (a
        # nominal instant at or after the event itself stays there: nothing is left to announce).
        send_at = (not_before if not_before is not None else nominal).astimezone(zone)
    return send_at
