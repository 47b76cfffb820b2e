"""Working days and public holidays of a département.

A working day is a Monday-Friday that is not a public holiday *of that département* and not a date
the prefecture marked as unavailable. Public holidays come from `holidays.France(subdiv=...)`:
"57" (Moselle) and "6AE" (Bas-Rhin, Haut-Rhin) add Good Friday and 26 December; "971".."974" and
"976" add their abolition-of-slavery day (and more). `None` (or "") means the general calendar.

Every domain that proposes or sends something on a date (the yearly cycle, meetings, reminders)
reads its calendar here.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from datetime import date, datetime, timedelta
from functools import lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo

import holidays

from coord.core.errors import CoordError
from coord.core.french import MONTHS

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


def holiday_name(day: date, subdivision: str | None) -> str | None:
    """The French name of the public holiday on `day` in the subdivision, or None."""
    return _holidays_for(_as_day(day).year, _normalize_subdivision(subdivision)).get(_as_day(day))
