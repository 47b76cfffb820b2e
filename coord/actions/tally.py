"""Items counted by status, read from the tallies the database keeps (`ActionTally`, `ActionMeasureTally`).

Triggers on `action_item` move the tallies inside every writing transaction (migration
`actions_2026_12_03t08_17_00`), so these reads are exact at every moment, on every process, and cost
a few hundred rows however long the history: nothing to cache, nothing to expire. Overdue is the
exception: it moves with the clock, so it stays a count of the open items (a partial index holds
them), in `coord.actions.board`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from piccolo.query.functions.aggregate import Count, Sum

from coord.access import Scope
from coord.actions.tables import ActionItem, ActionMeasureTally, ActionTally

Counts = dict[int, dict[str, int]]  # {department or measure id: {status: n}}


def _grouped(rows: list[dict[str, Any]], key: str) -> Counts:
    counts: Counts = {}
    for row in rows:
        if row["n"]:
            counts.setdefault(row[key], {})[row["status"]] = int(row["n"])
    return counts


async def by_department(scope: Scope, since_year: int | None = None) -> Counts:
    """Items of every visible département by status, created in `since_year` or after (all when None)."""
    query = scope.select(ActionTally, ActionTally.department, ActionTally.status, Sum(ActionTally.n, alias="n"))
    if since_year is not None:
        query = query.where(ActionTally.year >= since_year)
    return _grouped(await query.group_by(ActionTally.department, ActionTally.status), "department")


def sees_every_department(scope: Scope) -> bool:
    """Whether `scope` reads every département, so that national totals tell it nothing it may not see."""
    return scope.principal.is_national and scope.narrowed_to is None


async def by_measure(scope: Scope, since_year: int | None = None) -> Counts:
    """Items carrying out each plan measure by status, created in `since_year` or after. The national
    tally has no département: a scope that does not see them all counts its own items instead (a
    département's history is a few thousand items at most, on a covering index)."""
    if sees_every_department(scope):
        query = ActionMeasureTally.select(
            ActionMeasureTally.measure, ActionMeasureTally.status, Sum(ActionMeasureTally.n, alias="n")
        ).where(ActionMeasureTally.measure > 0)
        if since_year is not None:
            query = query.where(ActionMeasureTally.year >= since_year)
        return _grouped(await query.group_by(ActionMeasureTally.measure, ActionMeasureTally.status), "measure")
    query = scope.select(ActionItem, ActionItem.measure, ActionItem.status, Count(ActionItem.id, alias="n")).where(
        ActionItem.measure.is_not_null()
    )
    if since_year is not None:
        query = query.where(ActionItem.created_on >= dt.date(since_year, 1, 1))
    return _grouped(await query.group_by(ActionItem.measure, ActionItem.status), "measure")
