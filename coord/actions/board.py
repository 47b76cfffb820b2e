"""Reading action items: filtered lists, the board by status, counts per département and measure."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from piccolo.columns.combination import WhereRaw
from piccolo.query.functions.aggregate import Count

from coord.access import Scope
from coord.actions import tally, transitions
from coord.actions.service import ITEM_COLUMNS, item_out
from coord.actions.tables import ActionItem
from coord.core.clock import local_today
from coord.core.errors import ValidationFailed
from coord.core.pagination import PageRequest
from coord.core.validation import is_one_line, parse_id
from coord.plans.tables import Measure, Plan
from coord.territory.tables import Department

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
    tag: str | None = None
    sort: str = "echeance"

    @classmethod
    def parse(cls, params: Any) -> Filters:
        """From query parameters; a malformed value is a 422 naming the parameter."""
        errors: dict[str, str] = {}

        def integer(name: str) -> int | None:
            raw = params.get(name)
            if raw in (None, ""):
                return None
            value = parse_id(raw)  # beyond 32 bits it names nothing: refused, not ignored
            if value is None:
                errors[name] = "Identifiant invalide."
            return value

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
        tag = str(params.get("tag") or "").strip().lower() or None
        if tag and (len(tag) > 40 or "," in tag or not is_one_line(tag)):
            errors["tag"] = "Étiquette invalide (40 caractères au plus, sans virgule)."
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
            tag=tag,
            sort=sort,
        )
        if errors:
            raise ValidationFailed(errors)
        return filters

    def narrows(self) -> bool:
        """Whether anything beyond the département is filtered (the sort order does not count)."""
        return any(k not in ("department", "sort") and v not in (None, False) for k, v in vars(self).items())

    def query_params(self) -> dict[str, Any]:
        values = {
            "status": self.status,
            "owner_organisation": self.owner_organisation,
            "committee": self.committee,
            "measure": self.measure,
            "due_from": self.due_from,
            "due_to": self.due_to,
            "overdue": "1" if self.overdue else None,
            "tag": self.tag,
            "sort": self.sort if self.sort != "echeance" else None,
        }
        return {k: str(v) for k, v in values.items() if v not in (None, "")}


async def _days_by_zone(scope: Scope, now: dt.datetime | None) -> dict[dt.date, list[int]]:
    """The départements `scope` reads, by their own date today (one date most of the day)."""
    by_day: dict[dt.date, list[int]] = {}
    for row in await scope.select(Department, Department.id, Department.timezone):
        by_day.setdefault(local_today(row["timezone"], now), []).append(row["id"])
    return by_day


async def overdue_condition(scope: Scope, department_id: int | None = None, now: dt.datetime | None = None) -> Any:
    """Open items past their due date, "today" being each département's own date: overseas ones are
    a day ahead of or behind Paris for a few hours every day. Most of the day every zone has the
    same date, and the condition is one date comparison."""
    if department_id is not None:
        scope = scope.within(department_id)
    by_day = await _days_by_zone(scope, now)
    still_open = ActionItem.status.is_in(list(transitions.OPEN))
    if len(by_day) <= 1:
        day = next(iter(by_day), local_today("Europe/Paris", now))
        return still_open & (ActionItem.due_on < day)
    late: Any = None
    for day, ids in by_day.items():
        condition = scope.across(ids).condition(ActionItem) & (ActionItem.due_on < day)
        late = condition if late is None else late | condition
    return still_open & late


async def _conditions(scope: Scope, filters: Filters) -> list[Any]:
    """The conditions of `filters` but the département's: `scope` is already narrowed to it (`within_code`)."""
    conditions: list[Any] = []
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
        conditions.append(await overdue_condition(scope))
    if filters.tag:
        conditions.append(has_tag(filters.tag))
    return conditions


def has_tag(tag: str) -> WhereRaw:
    """Items carrying `tag` exactly: tags are stored lower case, comma separated, with no comma inside."""
    pattern = "%," + tag.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + ",%"
    return WhereRaw("(',' || \"action_item\".\"tags\" || ',') LIKE {} ESCAPE '\\'", pattern)


async def list_items(
    scope: Scope, page: PageRequest | None, filters: Filters, *, with_count: bool = True
) -> tuple[list[dict[str, Any]], int]:
    """Items matching `filters`, sorted; every item when `page` is None (exports). The total is
    counted only `with_count` (else it is the number of rows returned)."""
    scope = await scope.within_code(filters.department)
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
    return [item_out(r) for r in rows], (await count if with_count else len(rows))


CARD_COLUMNS = (
    ActionItem.id,
    ActionItem.title,
    ActionItem.status,
    ActionItem.due_on,
    ActionItem.department.timezone.as_alias("timezone"),
    ActionItem.owner_organisation.name.as_alias("owner_organisation_name"),
)


def card_out(row: dict[str, Any]) -> dict[str, Any]:
    """What a board card shows of an item."""
    due_on = row["due_on"]
    overdue = bool(due_on and row["status"] in transitions.OPEN and due_on < local_today(row["timezone"]))
    return {
        "id": row["id"],
        "title": row["title"],
        "status": row["status"],
        "due_on": due_on,
        "overdue": overdue,
        "owner_organisation_name": row["owner_organisation_name"] or "",
    }


BOARD_COLUMN_SIZE = 30  # cards per column; the column's link opens the full list


async def board(
    scope: Scope, filters: Filters, per_column: int | None = None, counted: dict[str, int] | None = None
) -> dict[str, dict[str, Any]]:
    """Columns of the board, one per status: its first `per_column` cards (default `BOARD_COLUMN_SIZE`,
    the most urgent first) and how many match in all. A status filter is ignored: the board shows every status.

    The columns' totals come from one grouped count; each non-empty column's first ids from a query of
    ids alone (closed columns hold years of history, so the ids of every item would cost more); the
    cards from one query for all of them. `counted` (items by status) spares the count when the caller
    has it already, for the same filters."""
    per_column = per_column or BOARD_COLUMN_SIZE
    base = Filters(**{**vars(filters), "status": None})
    scope = await scope.within_code(base.department)
    conditions = await _conditions(scope, base)
    if counted is None:
        totals = scope.select(ActionItem, ActionItem.status, Count(ActionItem.id, alias="n"))
        for condition in conditions:
            totals = totals.where(condition)
        counted = {row["status"]: row["n"] for row in await totals.group_by(ActionItem.status)}
    column, ascending = SORTS[base.sort]
    shown: dict[str, list[int]] = {}
    for status in transitions.STATUSES:
        if not counted.get(status):
            continue
        ids = scope.select(ActionItem, ActionItem.id).where(ActionItem.status == status, *conditions)
        ids = ids.order_by(column, ascending=ascending).order_by(ActionItem.id).limit(per_column)
        shown[status] = [row["id"] for row in await ids]
    wanted = [item_id for ids in shown.values() for item_id in ids]
    rows = await scope.select(ActionItem, *CARD_COLUMNS).where(ActionItem.id.is_in(wanted)) if wanted else []
    cards = {row["id"]: card_out(row) for row in rows}
    return {
        status: {"items": [cards[i] for i in shown.get(status, []) if i in cards], "total": counted.get(status, 0)}
        for status in transitions.STATUSES
    }


@dataclass(frozen=True)
class Overdue:
    """Open items past due, counted by département and by plan measure."""

    by_department: dict[int, int]
    by_measure: dict[int, int]


async def overdue_counts(
    scope: Scope, since_year: int | None = None, now: dt.datetime | None = None, *, by_measure: bool = True
) -> Overdue:
    """Open items past due by département and by measure: counts of items ("today" moves with the
    clock, no tally can follow it), but over the open ones only, on covering indexes, however long
    the history of closed ones. Two small groupings per local date rather than one by (département,
    measure), whose cross product is thousands of rows at national scale, and rather than one
    condition OR-ing the dates, which no index serves."""
    still_open = ActionItem.status.is_in(list(transitions.OPEN))
    period = [ActionItem.created_on >= dt.date(since_year, 1, 1)] if since_year is not None else []
    by_day = await _days_by_zone(scope, now)
    overdue = Overdue(by_department={}, by_measure={})
    for day, ids in by_day.items():
        here = scope if len(by_day) == 1 else scope.across(ids)
        late = [still_open, ActionItem.due_on < day, *period]
        rows = await (
            here.select(ActionItem, ActionItem.department, Count(ActionItem.id, alias="n"))
            .where(*late)
            .group_by(ActionItem.department)
        )
        _add(overdue.by_department, rows, "department")
        if by_measure:
            rows = await (
                here.select(ActionItem, ActionItem.measure, Count(ActionItem.id, alias="n"))
                .where(ActionItem.measure.is_not_null(), *late)
                .group_by(ActionItem.measure)
            )
            _add(overdue.by_measure, rows, "measure")
    return overdue


def _add(totals: dict[int, int], rows: list[dict[str, Any]], key: str) -> None:
    for row in rows:
        totals[row[key]] = totals.get(row[key], 0) + row["n"]


async def counts_by_department(
    scope: Scope,
    department_id: int | None = None,
    since_year: int | None = None,
    now: dt.datetime | None = None,
    late: Overdue | None = None,
) -> dict[int, dict[str, int]]:
    """{department id: {status: n, "overdue": n, "total": n}} for every visible département, or one;
    only the items created in `since_year` or after when given. The statuses come from the tally
    the database keeps (`coord.actions.tally`), exact at every moment; `late` spares the overdue
    count when the caller has it already (`overdue_counts`, same scope and period)."""
    if department_id is not None:
        scope = scope.within(department_id)
    if late is None:
        late = await overdue_counts(scope, since_year, now, by_measure=False)
    overdue = late.by_department
    result: dict[int, dict[str, int]] = {}
    for department, by_status in (await tally.by_department(scope, since_year)).items():
        result[department] = {**by_status, "total": sum(by_status.values()), "overdue": overdue.get(department, 0)}
    return result


async def counts_by_measure(
    scope: Scope, since_year: int | None = None, now: dt.datetime | None = None, late: Overdue | None = None
) -> list[dict[str, Any]]:
    """Per plan measure: items by status, open, done and overdue (the statuses from the tallies,
    `late` as for `counts_by_department`); the measures' labels come in one small query after."""
    counted = await tally.by_measure(scope, since_year)
    if not counted:
        return []
    overdue = (late if late is not None else await overdue_counts(scope, since_year, now)).by_measure
    labels = {
        row["id"]: row
        for row in await Measure.select(
            Measure.id, Measure.number, Measure.title, Measure.plan.code.as_alias("plan")
        ).where(Measure.id.is_in(list(counted)))
    }
    measures = []
    for measure, by_status in counted.items():
        label = labels.get(measure)
        if label is None:  # deleted since: its items lose their measure in the same transaction
            continue
        measures.append(
            {
                "measure": measure,
                "label": f"{label['plan']} – mesure {label['number']}",
                "title": label["title"],
                "plan": label["plan"],
                "number": label["number"],
                "total": sum(by_status.values()),
                "done": by_status.get("fait", 0),
                "open": sum(by_status.get(s, 0) for s in transitions.OPEN),
                "overdue": overdue.get(measure, 0),
                "by_status": {status: by_status.get(status, 0) for status in transitions.STATUSES},
            }
        )
    return sorted(measures, key=lambda m: (m["plan"], m["number"]))


def progress(entry: dict[str, int]) -> int:
    """Share of the items that are done, among those not abandoned (percent)."""
    relevant = entry.get("total", 0) - entry.get("abandonne", 0)
    return round(100 * entry.get("fait", 0) / relevant) if relevant > 0 else 0


ALL_HISTORY = "tout"


async def plan_periods() -> list[dict[str, Any]]:
    """The national plans, the latest first: the periods the national view can show."""
    return await Plan.select(Plan.code, Plan.title, Plan.start_year, Plan.end_year).order_by(
        Plan.start_year, ascending=False
    )


def read_since(raw: Any, periods: list[dict[str, Any]], today: dt.date) -> int | None:
    """The first year counted: `raw` (a year, or « tout » for the whole history); by default the start
    of the plan in force, else the last three years (progress over ten years of closed items would
    say little about today's work). None means the whole history."""
    if raw == ALL_HISTORY:
        return None
    if raw not in (None, ""):
        try:
            year = int(raw)
        except (TypeError, ValueError):
            raise ValidationFailed({"since": "Année invalide (ou « tout »)."}) from None
        if not 2000 <= year <= today.year + 1:
            raise ValidationFailed({"since": f"Année hors limites (2000 à {today.year + 1}, ou « tout »)."})
        return year
    in_force = [p for p in periods if p["start_year"] <= today.year <= p["end_year"]]
    return in_force[0]["start_year"] if in_force else today.year - 2


def period_choices(periods: list[dict[str, Any]], today: dt.date) -> list[tuple[str, str]]:
    """(value, label) of the periods the national view offers."""
    recent = today.year - 2
    choices = [(str(recent), f"Les trois dernières années (depuis {recent})")]
    choices += [
        (str(p["start_year"]), f"Depuis {p['start_year']} · {p['title']}") for p in periods if p["start_year"] != recent
    ]
    return [*choices, (ALL_HISTORY, "Tout l'historique")]


async def national(scope: Scope, since_year: int | None = None, now: dt.datetime | None = None) -> dict[str, Any]:
    """Progress of every visible département and of every plan measure, over the items created from
    `since_year` on (all of them when None): read from the tallies, exact at every moment."""
    late = await overdue_counts(scope, since_year, now)
    counts = await counts_by_department(scope, since_year=since_year, late=late)
    departments = await scope.departments()
    rows = []
    for department in departments:
        entry = counts.get(department["id"], {"total": 0, "overdue": 0})
        rows.append(
            {
                "code": department["code"],
                "name": department["name"],
                "total": entry["total"],
                "open": sum(entry.get(s, 0) for s in transitions.OPEN),
                "done": entry.get("fait", 0),
                "overdue": entry["overdue"],
                "progress": progress(entry),
                "by_status": {status: entry.get(status, 0) for status in transitions.STATUSES},
            }
        )
    measures = await counts_by_measure(scope, since_year, late=late)
    for measure in measures:
        measure["progress"] = progress({"total": measure["total"], **measure["by_status"]})
    return {"since": since_year, "departments": rows, "measures": measures}
