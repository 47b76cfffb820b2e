"""Reading action items: filtered lists, the board by status, counts per département and measure."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from piccolo.query.functions.aggregate import Count

from coord.accounts.access import Scope
from coord.actions import transitions
from coord.actions.service import ITEM_COLUMNS, item_out, local_today
from coord.actions.tables import ActionItem
from coord.core.errors import ValidationFailed
from coord.web.pagination import PageRequest

SORTS = {
    "echeance": (ActionItem.due_on, True),
    "-echeance": (ActionItem.due_on, False),
    "creation": (ActionItem.id, True),
    "-creation": (ActionItem.id, False),
    "titre": (ActionItem.title, True),
    "statut": (ActionItem.status, True),
}


@dataclass
class Filters:
    department: str | None = None
    status: str | None = None
    owner_organisation: int | None = None
    committee: int | None = None
    measure: int | None = None
    due_from: dt.date | None = None
    due_to: dt.date | None = None
    overdue: bool = False
    sort: str = "echeance"

    @classmethod
    def parse(cls, params: Any) -> Filters:
        """From query parameters; a malformed value is a 422 naming the parameter."""
        errors: dict[str, str] = {}

        def integer(name: str) -> int | None:
            raw = params.get(name)
            if raw in (None, ""):
                return None
            try:
                value = int(raw)
            except (TypeError, ValueError):
                errors[name] = "Identifiant invalide."
                return None
            return value if 0 < value < 2**31 else None

        def day(name: str) -> dt.date | None:
            raw = params.get(name)
            if raw in (None, ""):
                return None
            try:
                return dt.date.fromisoformat(str(raw))
            except ValueError:
                errors[name] = "Date invalide (format attendu : AAAA-MM-JJ)."
                return None

        status = params.get("status") or None
        if status and status not in transitions.STATUSES and status not in ("ouvertes", "fermees"):
            errors["status"] = "Statut inconnu."
        sort = params.get("sort") or "echeance"
        if sort not in SORTS:
            errors["sort"] = "Tri inconnu."
        filters = cls(
            department=params.get("department") or None,
            status=status,
            owner_organisation=integer("owner_organisation"),
            committee=integer("committee"),
            measure=integer("measure"),
            due_from=day("due_from"),
            due_to=day("due_to"),
            overdue=str(params.get("overdue") or "").lower() in {"1", "true", "on", "oui"},
            sort=sort,
        )
        if errors:
            raise ValidationFailed(errors)
        return filters

    def query_params(self) -> dict[str, Any]:
        values = {
            "status": self.status, "owner_organisation": self.owner_organisation, "committee": self.committee,
            "measure": self.measure, "due_from": self.due_from, "due_to": self.due_to,
            "overdue": "1" if self.overdue else None, "sort": self.sort if self.sort != "echeance" else None,
        }
        return {k: str(v) for k, v in values.items() if v not in (None, "")}


async def _conditions(scope: Scope, filters: Filters) -> list[Any]:
    conditions: list[Any] = []
    if filters.department:
        conditions.append(ActionItem.department == (await scope.department(filters.department))["id"])
    if filters.status == "ouvertes":
        conditions.append(ActionItem.status.is_in(list(transitions.OPEN)))
    elif filters.status == "fermees":
        conditions.append(ActionItem.status.is_in(list(transitions.CLOSED)))
    elif filters.status:
        conditions.append(ActionItem.status == filters.status)
    if filters.owner_organisation:
        conditions.append(ActionItem.owner_organisation == filters.owner_organisation)
    if filters.committee:
        conditions.append(ActionItem.committee == filters.committee)
    if filters.measure:
        conditions.append(ActionItem.measure == filters.measure)
    if filters.due_from:
        conditions.append(ActionItem.due_on >= filters.due_from)
    if filters.due_to:
        conditions.append(ActionItem.due_on <= filters.due_to)
    if filters.overdue:
        # "Today" differs by a day at most between zones; the row-level flag uses each one's zone.
        conditions.append(ActionItem.status.is_in(list(transitions.OPEN)))
        conditions.append(ActionItem.due_on < local_today("Europe/Paris"))
    return conditions


async def list_items(
    scope: Scope, page: PageRequest | None, filters: Filters
) -> tuple[list[dict[str, Any]], int]:
    """Items matching `filters`, sorted; every item when `page` is None (exports)."""
    query = scope.select(ActionItem, *ITEM_COLUMNS)
    count = scope.count(ActionItem)
    for condition in await _conditions(scope, filters):
        query = query.where(condition)
        count = count.where(condition)
    column, ascending = SORTS[filters.sort]
    query = query.order_by(column, ascending=ascending).order_by(ActionItem.id)
    if page is not None:
        query = query.limit(page.per_page).offset(page.offset)
    rows = await query
    return [item_out(r) for r in rows], await count


async def board(scope: Scope, filters: Filters, per_column: int = 100) -> dict[str, list[dict[str, Any]]]:
    """Columns of the board, one per status (the most urgent first in each)."""
    items, _ = await list_items(scope, PageRequest(1, 200), Filters(**{**vars(filters), "status": None}))
    columns: dict[str, list[dict[str, Any]]] = {status: [] for status in transitions.STATUSES}
    for item in items:
        if len(columns[item["status"]]) < per_column:
            columns[item["status"]].append(item)
    return columns


async def counts_by_department(scope: Scope, department_id: int | None = None) -> dict[int, dict[str, int]]:
    """{department id: {status: n, "overdue": n, "total": n}} for every visible département, or one."""
    rows = scope.select(ActionItem, ActionItem.department, ActionItem.status, Count(ActionItem.id, alias="n"))
    overdue = scope.select(ActionItem, ActionItem.department, Count(ActionItem.id, alias="n")).where(
        ActionItem.status.is_in(list(transitions.OPEN)) & (ActionItem.due_on < local_today("Europe/Paris"))
    )
    if department_id is not None:
        rows = rows.where(ActionItem.department == department_id)
        overdue = overdue.where(ActionItem.department == department_id)
    rows = await rows.group_by(ActionItem.department, ActionItem.status)
    overdue = await overdue.group_by(ActionItem.department)
    result: dict[int, dict[str, int]] = {}
    for row in rows:
        entry = result.setdefault(row["department"], {"total": 0, "overdue": 0})
        entry[row["status"]] = row["n"]
        entry["total"] += row["n"]
    for row in overdue:
        result.setdefault(row["department"], {"total": 0, "overdue": 0})["overdue"] = row["n"]
    return result


async def counts_by_measure(scope: Scope) -> list[dict[str, Any]]:
    rows = await scope.select(
        ActionItem,
        ActionItem.measure,
        ActionItem.measure.number.as_alias("number"),
        ActionItem.measure.title.as_alias("title"),
        ActionItem.measure.plan.code.as_alias("plan"),
        ActionItem.status,
        Count(ActionItem.id, alias="n"),
    ).where(ActionItem.measure.is_not_null()).group_by(
        ActionItem.measure, ActionItem.measure.number, ActionItem.measure.title, ActionItem.measure.plan.code,
        ActionItem.status,
    )
    overdue = await scope.select(ActionItem, ActionItem.measure, Count(ActionItem.id, alias="n")).where(
        ActionItem.measure.is_not_null() & ActionItem.status.is_in(list(transitions.OPEN))
        & (ActionItem.due_on < local_today("Europe/Paris"))
    ).group_by(ActionItem.measure)
    late = {row["measure"]: row["n"] for row in overdue}
    measures: dict[int, dict[str, Any]] = {}
    for row in rows:
        entry = measures.setdefault(
            row["measure"],
            {"measure": row["measure"], "label": f"{row['plan']} – mesure {row['number']}", "title": row["title"],
             "total": 0, "done": 0, "open": 0, "overdue": late.get(row["measure"], 0),
             "by_status": dict.fromkeys(transitions.STATUSES, 0)},
        )
        entry["total"] += row["n"]
        entry["by_status"][row["status"]] = entry["by_status"].get(row["status"], 0) + row["n"]
        entry["done"] += row["n"] if row["status"] == "fait" else 0
        entry["open"] += row["n"] if row["status"] in transitions.OPEN else 0
    return sorted(measures.values(), key=lambda m: m["label"])


def progress(entry: dict[str, int]) -> int:
    """Share of the items that are done, among those not abandoned (percent)."""
    relevant = entry.get("total", 0) - entry.get("abandonne", 0)
    return round(100 * entry.get("fait", 0) / relevant) if relevant > 0 else 0


async def national(scope: Scope) -> dict[str, Any]:
    counts = await counts_by_department(scope)
    departments = await scope.departments()
    rows = []
    for department in departments:
        entry = counts.get(department["id"], {"total": 0, "overdue": 0})
        rows.append({
            "code": department["code"], "name": department["name"], "total": entry["total"],
            "open": sum(entry.get(s, 0) for s in transitions.OPEN), "done": entry.get("fait", 0),
            "overdue": entry["overdue"], "progress": progress(entry),
            "by_status": {status: entry.get(status, 0) for status in transitions.STATUSES},
        })
    measures = await counts_by_measure(scope)
    for measure in measures:
        measure["progress"] = progress({"total": measure["total"], **measure["by_status"]})
    return {"departments": rows, "measures": measures}
