"""National plans and their measures: national reference data, readable by every user."""

from __future__ import annotations

from typing import Any

from piccolo.query.functions.aggregate import Count

from coord.access import Scope
from coord.access.roles import Permission
from coord.audit import log as audit
from coord.core.db import transaction
from coord.core.errors import NotFound
from coord.plans.importer import PlanData
from coord.plans.tables import Measure, Plan


async def list_plans(scope: Scope) -> list[dict[str, Any]]:
    plans = await scope.select(Plan).order_by(Plan.start_year)
    counts = {
        r["plan"]: r["n"]
        for r in await Measure.select(Measure.plan, Count(Measure.id, alias="n")).group_by(Measure.plan)
    }
    return [
        {
            "code": p["code"],
            "title": p["title"],
            "start_year": p["start_year"],
            "end_year": p["end_year"],
            "measure_count": counts.get(p["id"], 0),
        }
        for p in plans
    ]


async def get_plan(scope: Scope, code: str) -> dict[str, Any]:
    plan = await scope.select(Plan).where(Plan.code == code).first()
    if plan is None:
        raise NotFound(f"Plan « {code} » inconnu.")
    measures = await Measure.select().where(Measure.plan == plan["id"]).order_by(Measure.number)
    return {
        "code": plan["code"],
        "title": plan["title"],
        "start_year": plan["start_year"],
        "end_year": plan["end_year"],
        "measures": [
            {
                "number": m["number"],
                "title": m["title"],
                "priority": m["priority"],
                "priority_title": m["priority_title"],
                "axis": m["axis"],
                "summary": m["summary"],
            }
            for m in measures
        ],
    }


async def save_plan(scope: Scope, data: PlanData) -> tuple[bool, int]:
    """Create or update a plan and its measures from a parsed file. Returns (created, measure count).

    Measures are matched by number, so re-importing a corrected file updates titles in place and
    keeps the links that action items hold to measures."""
    scope.require(Permission.ADMINISTER)
    async with transaction():
        existing = await Plan.select(Plan.id).where(Plan.code == data.code).first()
        values = {Plan.title: data.title, Plan.start_year: data.start_year, Plan.end_year: data.end_year}
        if existing:
            plan_id = existing["id"]
            await Plan.update(values).where(Plan.id == plan_id)
        else:
            plan_id = (
                await Plan.insert(
                    Plan(code=data.code, title=data.title, start_year=data.start_year, end_year=data.end_year)
                ).returning(Plan.id)
            )[0]["id"]
        current = {
            m["number"]: m["id"]
            for m in await Measure.select(Measure.id, Measure.number).where(Measure.plan == plan_id)
        }
        new_rows = []
        for m in data.measures:
            fields = {
                "title": m.title,
                "priority": m.priority,
                "priority_title": m.priority_title,
                "axis": m.axis,
                "summary": m.summary,
            }
            if m.number in current:
                await Measure.update({getattr(Measure, k): v for k, v in fields.items()}).where(
                    Measure.id == current[m.number]
                )
            else:
                new_rows.append(Measure(plan=plan_id, number=m.number, **fields))
        if new_rows:
            await Measure.insert(*new_rows)
        await audit.record(
            scope.principal,
            "import" if not existing else "update",
            "plan",
            plan_id,
            department_id=None,
            summary=f"Plan {data.code} : {len(data.measures)} mesures",
        )
    return existing is None, len(data.measures)
