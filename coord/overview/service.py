"""Départements: the list a user may see, with counts, and one département's overview."""

from __future__ import annotations

from typing import Any

from coord.access import Scope
from coord.committees.tables import Committee
from coord.overview.tables import DepartmentTally
from coord.partners.tables import Contact, Organisation
from coord.pilot_sites.tables import PilotSite
from coord.territory.tables import Department


def department_out(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "code": row["code"],
        "name": row["name"],
        "region": row["region"],
        "region_code": row["region_code"],
        "prefecture": row["prefecture"],
        "timezone": row["timezone"],
        "holiday_subdivision": row["holiday_subdivision"],
    }


COUNTED = {
    "committee": "committees",
    "organisation": "organisations",
    "contact": "contacts",
    "pilot_site": "pilot_sites",
}


async def _counts_by_department(scope: Scope) -> dict[int, dict[str, int]]:
    """{department id: {"committees": n, ...}}: every row of the four tables, active or not, read from
    the tally the database keeps in the writing transaction (`DepartmentTally`), exact at every moment."""
    counts: dict[int, dict[str, int]] = {}
    for row in await scope.select(
        DepartmentTally, DepartmentTally.department, DepartmentTally.subject, DepartmentTally.n
    ):
        counts.setdefault(row["department"], {})[COUNTED[row["subject"]]] = row["n"]
    return counts


async def list_departments(
    scope: Scope, *, region: str | None = None, q: str | None = None, with_counts: bool = False
) -> list[dict[str, Any]]:
    query = scope.departments()
    if region:
        query = query.where(Department.region_code == region)
    if q:
        query = query.where(Department.name.ilike(f"%{q}%") | Department.code.ilike(f"{q}%"))
    rows = await query
    items = [department_out(r) | {"id": r["id"]} for r in rows]
    if with_counts:
        counts = await _counts_by_department(scope)
        for item in items:
            own = counts.get(item["id"], {})
            item.update({name: own.get(name, 0) for name in COUNTED.values()})
    return items


async def overview(scope: Scope, code: str) -> dict[str, Any]:
    department = await scope.department(code)
    here = scope.within(department)
    committees = await here.select(Committee, Committee.id, Committee.name, Committee.kind, Committee.active).order_by(
        Committee.name
    )
    pilot_sites = await here.select(
        PilotSite,
        PilotSite.id,
        PilotSite.scheme,
        PilotSite.status,
        PilotSite.designated_on,
        PilotSite.plan.code.as_alias("plan_code"),
        PilotSite.plan.title.as_alias("plan_title"),
    )
    return {
        "department": department,
        "committees": committees,
        "pilot_sites": pilot_sites,
        "organisation_count": await here.count(Organisation),
        "contact_count": await here.count(Contact),
    }
