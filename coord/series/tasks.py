"""The scheduler's due work for series: top up the horizon of the series whose extension is due."""

from __future__ import annotations

import datetime as dt

from coord.series.service import extend_due


async def extend_series(now: dt.datetime) -> int:
    """How many occurrences were created (0 when nothing is due: a second run creates nothing)."""
    return await extend_due(now)
