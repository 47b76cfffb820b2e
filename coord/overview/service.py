"""Départements: the list a user may see, with counts, and one département's overview."""

from __future__ import annotations

from typing import Any

from piccolo.query.functions.aggregate import Count
from piccolo.table import Table

from coord.access import Scope
from coord.committees.tables import Committee
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


async def _counts_by_department(scope: Scope, table: type[Table]) -> dict[int, int]:
    """One grouped query per table, whatever the number of départements."""
    rows = await scope.select(table, table.department, Count(table.id, alias="n")).group_by(table.department)  # type: ignore[attr-defined]
    return {r["department"]: r["n"] for r in rows}


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
        committees = await _counts_by_department(scope, Committee)
        organisations = await _counts_by_department(scope, Organisation)
        contacts = await _counts_by_department(scope, Contact)
        pilots = await _counts_by_department(scope, PilotSite)
        for item in items:
            item["committees"] = committees.get(item["id"], 0)
            item["organisations"] = organisations.get(item["id"], 0)
            item["contacts"] = contacts.get(item["id"], 0)
            item["pilot_sites"] = pilots.get(item["id"], 0)
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
