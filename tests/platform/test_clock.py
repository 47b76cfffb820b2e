"""The one process clock: `now()`, `use_clock` and `local_today`."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from coord.core import clock
from coord.core.clock import FrozenClock, SystemClock, local_today, now, use_clock


def test_now_is_aware_utc_and_can_be_frozen_then_restored() -> None:
    assert now().tzinfo is dt.UTC
    frozen = FrozenClock(dt.datetime(2026, 10, 25, 1, 30, tzinfo=ZoneInfo("Europe/Paris")))
    previous = use_clock(frozen)
    try:
        assert now() == dt.datetime(2026, 10, 24, 23, 30, tzinfo=dt.UTC)
        frozen.advance(hours=1)
        assert now() == dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC)
        explicit = FrozenClock(dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
        assert now(explicit) == dt.datetime(2030, 1, 1, tzinfo=dt.UTC)  # an explicit clock wins
    finally:
        use_clock(previous)
    assert isinstance(clock._clock, SystemClock)


def test_local_today_is_the_date_in_the_zone() -> None:
    late = dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.UTC)
    assert local_today("Europe/Paris", late) == dt.date(2026, 3, 2)
    assert local_today("America/Cayenne", late) == dt.date(2026, 3, 1)
    assert local_today(None, late) == local_today("", late) == dt.date(2026, 3, 2)  # Paris by default
    use_clock(FrozenClock(late))
    try:
        assert local_today("Indian/Reunion") == dt.date(2026, 3, 2)
    finally:
        use_clock(None)
