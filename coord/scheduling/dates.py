"""Working days, public holidays and the date proposed for each département's yearly meeting.

Measure 22 of the first national plan asks every département to devote one CDPD meeting a year to
trafficking. Coord proposes a date for it: by default a working day in a window around 18 October
(European anti-trafficking day), at 09:30 local time.

A working day is a Monday-Friday that is not a public holiday *of that département* and not a date
the prefecture marked as unavailable. Public holidays come from `holidays.France(subdiv=...)`:
"57" (Moselle) and "6AE" (Bas-Rhin, Haut-Rhin) add Good Friday and 26 December; "971".."974" and
"976" add their abolition-of-slavery day (and more). `None` (or "") means the general calendar.

Choice of the proposed date (documented rule, see `propose_meeting_date`):
1. only free working days inside the window [anchor - before, anchor + after] are candidates;
2. the closest to the anchor wins;
3. between two equally close days (one before, one after the anchor), a Tuesday, Wednesday or
   Thursday is preferred to a Monday or a Friday (long weekends and travel make those days
   poorly attended);
4. if still tied, the earlier day wins (more lead time for the convocation).
The Tuesday-Thursday preference only breaks ties: it never moves the meeting further from the
anchor.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from coord.core.errors import CoordError
from coord.core.french import MONTHS

__all__ = [
    "NoDateAvailable",
    "YearlyMeetingRule",
    "add_working_days",
    "holiday_subdivision_for",
    "is_working_day",
    "meeting_window",
    "next_working_day",
    "previous_working_day",
    "propose_meeting_date",
    "public_holidays",
]

_MONDAY, _FRIDAY = 0, 4
_SATURDAY = 5
# Upper bound for day-by-day searches: `unavailable` is finite but may cover years.
_MAX_SEARCH_DAYS = 3 * 366

# Département codes whose public-holiday calendar differs from the general one.
_DEPARTEMENT_SUBDIVISIONS: dict[str, str] = {
    "57": "57",
    "67": "6AE",
    "68": "6AE",
    "971": "971",
    "972": "972",
    "973": "973",
    "974": "974",
    "976": "976",
}
_DEPARTEMENT_CODE = re.compile(r"^(0[1-9]|1[0-9]|2[1-9AB]|[3-8][0-9]|9[0-5]|97[1-46])$")


class NoDateAvailable(CoordError):
    """No free working day in the window: the prefecture must pick a date by hand or widen it."""

    status_code = 409

    def __init__(self, window_start: date, window_end: date, message: str | None = None) -> None:
        self.window_start = window_start
        self.window_end = window_end
        super().__init__(
            message
            or (
                "Aucun jour ouvré disponible entre le "
                f"{format_date_fr(window_start)} et le {format_date_fr(window_end)} "
                "(week-ends, jours fériés, dates indisponibles ou déjà prises). "
                "Choisissez une date manuellement ou élargissez la période."
            )
        )


def format_date_fr(day: date) -> str:
    """`date(2025, 10, 1)` -> "1er octobre 2025" (independent of the process locale)."""
    number = "1er" if day.day == 1 else str(day.day)
    return f"{number} {MONTHS[day.month - 1]} {day.year}"


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


def holiday_subdivision_for(departement_code: str) -> str | None:
    """The `holidays.France` subdivision of a département code ("67" -> "6AE", "75" -> None)."""
    code = departement_code.strip().upper()
    if not _DEPARTEMENT_CODE.match(code):
        raise ValueError(f"unknown département code: {departement_code!r}")
    return _DEPARTEMENT_SUBDIVISIONS.get(code)


def _normalize_subdivision(subdivision: str | None) -> str | None:
    """Accept a `holidays.France` subdivision, a département code, None or ""."""
    if subdivision is None:
        return None
    code = subdivision.strip()
    if not code:
        return None
    if code.upper() == "6AE":
        return "6AE"
    if code in _DEPARTEMENT_SUBDIVISIONS.values():
        return code
    if _DEPARTEMENT_CODE.match(code.upper()):
        return holiday_subdivision_for(code)
    if code in holidays.France.subdivisions:  # overseas collectivities (BL, MF, PM, ...)
        return code
    raise ValueError(f"unknown public-holiday subdivision: {subdivision!r}")


@lru_cache(maxsize=512)
def _holidays_for(year: int, subdivision: str | None) -> MappingProxyType[date, str]:
    calendar = holidays.France(years=year, subdiv=subdivision, language="fr")
    return MappingProxyType({day: name for day, name in sorted(calendar.items())})


def public_holidays(year: int, subdivision: str | None) -> dict[date, str]:
    """Public holidays of `year` in a subdivision, as {date: French name}.

    `subdivision` is a `holidays.France` code ("57", "6AE", "971".."976"), or a département code
    ("67", "75", "2A"), or None/"" for the general calendar. Results are cached per
    (year, subdivision); the returned dict is a fresh copy the caller may modify.
    """
    return dict(_holidays_for(year, _normalize_subdivision(subdivision)))


def _as_day(value: date) -> date:
    """Dates pass through; a datetime is reduced to its (wall-clock) date."""
    return value.date() if isinstance(value, datetime) else value


def _as_day_set(values: Iterable[date], tz: ZoneInfo | None = None) -> frozenset[date]:
    """Normalise a collection of dates; aware datetimes are read in `tz` when given."""
    days: set[date] = set()
    for value in values:
        if isinstance(value, datetime):
            if tz is not None and value.tzinfo is not None:
                value = value.astimezone(tz)
            days.add(value.date())
        else:
            days.add(value)
    return frozenset(days)


def _is_working_day(day: date, subdivision: str | None, blocked: Collection[date]) -> bool:
    return day.weekday() < _SATURDAY and day not in _holidays_for(day.year, subdivision) and day not in blocked


def is_working_day(day: date, subdivision: str | None, unavailable: Collection[date] = ()) -> bool:
    """Monday-Friday, not a public holiday of the subdivision, not in `unavailable`."""
    return _is_working_day(_as_day(day), _normalize_subdivision(subdivision), _as_day_set(unavailable))


def _step_working_day(day: date, step: int, subdivision: str | None, blocked: Collection[date]) -> date:
    current = day
    for _ in range(_MAX_SEARCH_DAYS):
        current += timedelta(days=step)
        if _is_working_day(current, subdivision, blocked):
            return current
    raise NoDateAvailable(
        min(day, current),
        max(day, current),
        message=f"Aucun jour ouvré trouvé à partir du {format_date_fr(day)}.",
    )


def next_working_day(day: date, subdivision: str | None, unavailable: Collection[date] = ()) -> date:
    """The first working day strictly after `day`."""
    return _step_working_day(_as_day(day), 1, _normalize_subdivision(subdivision), _as_day_set(unavailable))


def previous_working_day(day: date, subdivision: str | None, unavailable: Collection[date] = ()) -> date:
    """The last working day strictly before `day`."""
    return _step_working_day(_as_day(day), -1, _normalize_subdivision(subdivision), _as_day_set(unavailable))


def add_working_days(day: date, count: int, subdivision: str | None, unavailable: Collection[date] = ()) -> date:
    """Move `count` working days from `day` (backwards if negative; `day` itself is not counted).

    `count == 0` returns `day` unchanged, working day or not.
    """
    current = _as_day(day)
    sub = _normalize_subdivision(subdivision)
    blocked = _as_day_set(unavailable)
    step = 1 if count > 0 else -1
    for _ in range(abs(count)):
        current = _step_working_day(current, step, sub, blocked)
    return current


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
