"""Loading the shipped reference data: départements, institution kinds, national plans."""

from __future__ import annotations

from pathlib import Path

from coord.access import SYSTEM, Scope
from coord.core.db import transaction
from coord.partners.kinds import ORGANISATION_KINDS
from coord.partners.tables import OrganisationKind
from coord.plans import service as plans
from coord.plans.importer import parse_plan_file, shipped_plan_files
from coord.territory.reference import load_departements_csv
from coord.territory.tables import Department


async def load_departments(path: Path | None = None) -> int:
    rows = load_departements_csv(path)
    existing = {r["code"]: r["id"] for r in await Department.select(Department.id, Department.code)}
    async with transaction():
        for d in rows:
            values = {
                "name": d.name,
                "region_code": d.region_code,
                "region": d.region,
                "prefecture": d.prefecture,
                "timezone": d.timezone,
                "holiday_subdivision": d.holiday_subdivision or None,
                "tncc": d.tncc,
            }
            if d.code in existing:
                await Department.update({getattr(Department, k): v for k, v in values.items()}).where(
                    Department.id == existing[d.code]
                )
            else:
                await Department.insert(Department(code=d.code, **values))
    return len(rows)


async def load_kinds() -> int:
    existing = {r["code"] for r in await OrganisationKind.select(OrganisationKind.code)}
    async with transaction():
        for position, (code, label) in enumerate(ORGANISATION_KINDS):
            if code in existing:
                await OrganisationKind.update(
                    {OrganisationKind.label: label, OrganisationKind.position: position}
                ).where(OrganisationKind.code == code)
            else:
                await OrganisationKind.insert(OrganisationKind(code=code, label=label, position=position))
    return len(ORGANISATION_KINDS)


async def import_plan(path: Path) -> tuple[str, bool, int]:
    data = parse_plan_file(path)
    created, count = await plans.save_plan(Scope(SYSTEM), data)
    return data.code, created, count


async def load_all() -> dict[str, int]:
    result = {"departements": await load_departments(), "types_institution": await load_kinds(), "mesures": 0}
    for path in shipped_plan_files():
        _, _, count = await import_plan(path)
        result["mesures"] += count
    return result
