"""The one clock: `now()` reads a process-wide `Clock` that tests may freeze with `use_clock`.

Code that needs "now" calls `now()` (or takes an explicit `Clock`, passed to `now(clock)`);
`local_today(timezone)` is the calendar date of that instant in a département's zone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol, runtime_checkable
from zoneinfo import ZoneInfo

__all__ = ["DEFAULT_TIMEZONE", "Clock", "FrozenClock", "SystemClock", "local_today", "now", "use_clock"]

DEFAULT_TIMEZONE = "Europe/Paris"


@runtime_checkable
class Clock(Protocol):
    """Source of the current instant."""

    def now(self) -> datetime:
        """Return the current instant as an aware datetime in UTC."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def __repr__(self) -> str:
        return "SystemClock()"


def _to_utc(at: datetime) -> datetime:
    if not isinstance(at, datetime):
        raise TypeError(f"expected a datetime, got {type(at).__name__}")
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("FrozenClock needs an aware datetime (naive datetimes are ambiguous)")
    return at.astimezone(UTC)


class FrozenClock:
    """A clock that only moves when told to (tests, replays).

    Any aware datetime is accepted and stored converted to UTC; naive datetimes are refused.
    """

    def __init__(self, at: datetime) -> None:
        self._now = _to_utc(at)

    def now(self) -> datetime:
        return self._now

    def set(self, at: datetime) -> None:
        self._now = _to_utc(at)

    def advance(self, **kwargs: float) -> datetime:
        """Move forward (or backward, with negative values) by `timedelta(**kwargs)`.

        Returns the new current instant. Arithmetic is done in UTC, so it is exact elapsed time.
        """
        self._now = self._now + timedelta(**kwargs)
        return self._now

    def __repr__(self) -> str:
        return f"FrozenClock({self._now.isoformat()})"


_clock: Clock = SystemClock()


def use_clock(clock: Clock | None) -> Clock:
    """Set the process-wide clock (None: the system clock); returns the previous one.

    Tests freeze time with `use_clock(FrozenClock(...))` and restore it with `use_clock(None)`."""
    global _clock
    previous, _clock = _clock, clock or SystemClock()
    return previous


def now(clock: Clock | None = None) -> datetime:
    """The current instant, aware and in UTC: from `clock` if given, else from the process-wide clock."""
    return (clock or _clock).now().astimezone(UTC)


def local_today(timezone: str | None, at: datetime | None = None) -> date:
    """The date in `timezone` (Europe/Paris when empty) at the instant `at` (default: `now()`)."""
    return (at or now()).astimezone(ZoneInfo(timezone or DEFAULT_TIMEZONE)).date()
