"""The national report of a plan over a period: per measure, the départements with action items on
it and their items done, in progress, late and not started; the measure-22 meetings held; and the
count a national evaluation uses (the CNCDH counted the measures of the second plan done, partly
done and never started), built from the ground up, by département.

Which items count: those linked to a measure of the plan that were open at some time in the period
(created by its end, and not done before its start). Their state is today's (the history of the
in-between moves is not what the evaluation asks). « Late » is an open item past its due date, in
its département's own date; it is told apart from « in progress » and « not started », so the four
figures add up (with the abandoned items) to the items counted.

The reader's scope decides the départements: a national user sees all of them, a département's user
only their own (the same table, for their own evaluation). The cost is five queries (grouped counts),
whatever the number of départements, measures and items.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from piccolo.query.functions.aggregate import Count

from coord.access import Scope
from coord.actions.board import overdue_condition
from coord.actions.tables import ActionItem
from coord.core.errors import NotFound, ValidationFailed
from coord.meetings.tables import Meeting
from coord.plans.tables import Measure, Plan
from coord.scheduling.cycle import CYCLE_MEETING_KIND

MIN_YEAR, MAX_YEAR = 2000, 2100
FIGURES = ("done", "in_progress", "late", "not_started", "abandoned")
FIGURE_LABELS = {
    "done": "Faites",
    "in_progress": "En cours",
    "late": "En retard",
    "not_started": "Non commencées",
    "abandoned": "Abandonnées",
}
# A measure's state in the evaluation: every item done, some started or done, none started (or none).
STATES = {"fait": "Réalisée", "partiel": "Partiellement réalisée", "jamais": "Non engagée"}
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_FRENCH = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date

    @property
    def label(self) -> str:
        return f"du {self.start.strftime('%d/%m/%Y')} au {self.end.strftime('%d/%m/%Y')}"


def _date(raw: str, field: str, name: str, errors: dict[str, str]) -> dt.date | None:
    text = raw.strip()
    try:
        if _ISO.match(text):
            day = dt.date.fromisoformat(text)
        elif match := _FRENCH.match(text):
            day = dt.date(int(match[3]), int(match[2]), int(match[1]))
        else:
            raise ValueError(text)
    except ValueError:
        errors[field] = f"Date de {name} invalide : « {text[:20]} » (format AAAA-MM-JJ ou JJ/MM/AAAA)."
        return None
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        errors[field] = f"La date de {name} doit être comprise entre {MIN_YEAR} et {MAX_YEAR}."
        return None
    return day


def read_period(plan: dict[str, Any], du: str | None, au: str | None) -> Period:
    """The period asked (`du`, `au`), by default the plan's years; French errors on `du` and `au`."""
    errors: dict[str, str] = {}
    start = _date(du, "du", "début", errors) if du else dt.date(plan["start_year"], 1, 1)
    end = _date(au, "au", "fin", errors) if au else dt.date(plan["end_year"], 12, 31)
    if start and end and start > end:
        errors["au"] = (
            f"La date de fin ({end.strftime('%d/%m/%Y')}) précède la date de début "
            f"({start.strftime('%d/%m/%Y')}) : choisissez une fin postérieure au début."
        )
    if errors or start is None or end is None:
        raise ValidationFailed(errors, "La période demandée n'est pas valide.")
    return Period(start, end)


async def get_plan(code: str) -> dict[str, Any]:
    plan = (
        await Plan.select(Plan.id, Plan.code, Plan.title, Plan.start_year, Plan.end_year)
        .where(Plan.code == code[:20])
        .first()
    )
    if plan is None:
        raise NotFound(f"Plan « {code[:20]} » inconnu.")
    return plan


def _state(figures: dict[str, int]) -> str:
    relevant = sum(figures[f] for f in FIGURES if f != "abandoned")
    if relevant and figures["done"] == relevant:
        return "fait"
    return "partiel" if figures["started"] else "jamais"


def _figures(counts: dict[str, int], late: dict[str, int]) -> dict[str, int]:
    """The report's figures from items by status and late items by status."""
    figures = {
        "done": counts.get("fait", 0),
        "in_progress": counts.get("en_cours", 0)
        + counts.get("bloque", 0)
        - late.get("en_cours", 0)
        - late.get("bloque", 0),
        "late": sum(late.values()),
        "not_started": counts.get("a_faire", 0) - late.get("a_faire", 0),
        "abandoned": counts.get("abandonne", 0),
        "started": counts.get("fait", 0) + counts.get("en_cours", 0) + counts.get("bloque", 0),
    }
    figures["total"] = sum(figures[f] for f in FIGURES)
    return figures


async def _item_counts(
    scope: Scope, measure_ids: list[int], period: Period, now: dt.datetime
) -> tuple[dict[tuple[int, int], dict[str, int]], dict[tuple[int, int], dict[str, int]]]:
    """{(measure, département): {status: n}} of the items counted, and the same for the late ones."""
    if not measure_ids:
        return {}, {}
    counted = (
        ActionItem.measure.is_in(measure_ids)
        & (ActionItem.created_on <= period.end)
        & (ActionItem.done_on.is_null() | (ActionItem.done_on >= period.start))
    )
    columns = (ActionItem.measure, ActionItem.department, ActionItem.status, Count(ActionItem.id, alias="n"))
    grouping = (ActionItem.measure, ActionItem.department, ActionItem.status)
    counts: dict[tuple[int, int], dict[str, int]] = defaultdict(dict)
    for row in await scope.select(ActionItem, *columns).where(counted).group_by(*grouping):
        counts[(row["measure"], row["department"])][row["status"]] = row["n"]
    late: dict[tuple[int, int], dict[str, int]] = defaultdict(dict)
    overdue = await overdue_condition(scope, now=now)
    for row in await scope.select(ActionItem, *columns).where(counted & overdue).group_by(*grouping):
        late[(row["measure"], row["department"])][row["status"]] = row["n"]
    return counts, late


def _held(meeting: dict[str, Any], now: dt.datetime) -> bool:
    """Held as the cycle counts it: declared held, minutes published, or convened and over."""
    return (
        meeting["status"] == "held"
        or meeting["minutes_published_at"] is not None
        or (meeting["status"] == "convened" and meeting["ends_at"] <= now)
    )


async def _meetings_held(scope: Scope, period: Period, zones: dict[int, str], now: dt.datetime) -> dict[int, int]:
    """Measure-22 meetings held in the period, by département: the period's days are the
    département's own (the UTC range is widened by a day, then each meeting's local date decides)."""
    rows = await scope.select(
        Meeting,
        Meeting.department,
        Meeting.starts_at,
        Meeting.ends_at,
        Meeting.status,
        Meeting.minutes_published_at,
    ).where(
        (Meeting.kind == CYCLE_MEETING_KIND)
        & (Meeting.status != "cancelled")
        & (Meeting.starts_at >= dt.datetime.combine(period.start, dt.time(), dt.UTC) - dt.timedelta(days=1))
        & (Meeting.starts_at < dt.datetime.combine(period.end, dt.time(), dt.UTC) + dt.timedelta(days=2))
    )
    held: dict[int, int] = defaultdict(int)
    for row in rows:
        zone = zones.get(row["department"])
        if zone is None or not _held(row, now):
            continue
        if period.start <= row["starts_at"].astimezone(ZoneInfo(zone)).date() <= period.end:
            held[row["department"]] += 1
    return held


async def plan_report(access: Scope, code: str, du: str | None, au: str | None, now: dt.datetime) -> dict[str, Any]:
    plan = await get_plan(code)
    period = read_period(plan, du, au)
    measures = (
        await Measure.select(Measure.id, Measure.number, Measure.title, Measure.priority, Measure.priority_title)
        .where(Measure.plan == plan["id"])
        .order_by(Measure.number)
    )
    departments = await access.departments()
    by_id = {d["id"]: d for d in departments}
    counts, late = await _item_counts(access, [m["id"] for m in measures], period, now)
    held = await _meetings_held(access, period, {d["id"]: d["timezone"] for d in departments}, now)

    rows: list[dict[str, Any]] = []
    per_department: dict[int, dict[str, int]] = {d["id"]: dict.fromkeys((*STATES, "items"), 0) for d in departments}
    for measure in measures:
        breakdown = []
        total: dict[str, int] = defaultdict(int)
        total_late: dict[str, int] = defaultdict(int)
        for department in departments:
            key = (measure["id"], department["id"])
            if key not in counts:
                per_department[department["id"]]["jamais"] += 1
                continue
            figures = _figures(counts[key], late.get(key, {}))
            state = _state(figures)
            per_department[department["id"]][state] += 1
            per_department[department["id"]]["items"] += figures["total"]
            breakdown.append(
                {
                    "code": department["code"],
                    "name": department["name"],
                    **figures,
                    "state": state,
                    "state_label": STATES[state],
                }
            )
            for status, n in counts[key].items():
                total[status] += n
            for status, n in late.get(key, {}).items():
                total_late[status] += n
        figures = _figures(total, total_late)
        state = _state(figures)
        rows.append(
            {
                "number": measure["number"],
                "title": measure["title"],
                "priority": measure["priority"],
                "priority_title": measure["priority_title"],
                "department_count": len(breakdown),
                **figures,
                "state": state,
                "state_label": STATES[state],
                "departments": breakdown,
            }
        )
    summary = {state: sum(1 for r in rows if r["state"] == state) for state in STATES}
    department_rows = [
        {
            "code": d["code"],
            "name": d["name"],
            "fait": per_department[d["id"]]["fait"],
            "partiel": per_department[d["id"]]["partiel"],
            "jamais": per_department[d["id"]]["jamais"],
            "items": per_department[d["id"]]["items"],
            "meetings_held": held.get(d["id"], 0),
        }
        for d in departments
    ]
    national = access.principal.is_national and access.narrowed_to is None
    return {
        "plan": {k: plan[k] for k in ("code", "title", "start_year", "end_year")},
        "period": period,
        "national": national,
        "scope_label": "Tous les départements"
        if national
        else ", ".join(f"{d['code']} · {d['name']}" for d in by_id.values()),
        "measures": rows,
        "summary": {**summary, "total": len(rows)},
        "departments": department_rows,
        "meetings": {
            "total": sum(held.values()),
            "departments_held": sum(1 for n in held.values() if n),
            "departments": len(departments),
        },
    }
