"""Injectable clock: code that needs "now" receives a `Clock` so tests can freeze time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "FrozenClock", "SystemClock"]


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
