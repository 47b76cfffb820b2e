"""Response bodies of the national plans' JSON API (msgspec)."""

from __future__ import annotations

import msgspec


class MeasureOut(msgspec.Struct):
    number: int
    title: str
    priority: int | None
    priority_title: str
    axis: str
    summary: str


class PlanSummary(msgspec.Struct):
    code: str
    title: str
    start_year: int
    end_year: int
    measure_count: int


class PlanOut(msgspec.Struct):
    code: str
    title: str
    start_year: int
    end_year: int
    measures: list[MeasureOut]
