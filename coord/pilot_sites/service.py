"""Pilot sites: départements designated by a national plan to pilot a scheme."""

from __future__ import annotations

from typing import Any

from coord.access import Scope, resolve_department, system_scope
from coord.access.roles import Permission
from coord.audit import records
from coord.core.errors import ValidationFailed
from coord.core.pagination import PageRequest
from coord.core.validation import Fields
from coord.pilot_sites.tables import PilotSite
from coord.plans.tables import Plan

SCHEMES = {
    "coordination": "Instance départementale de coordination",
    "protection_mineurs": "Protection des mineurs victimes",
}
STATUSES = {"pressenti": "Pressenti", "actif": "Actif", "clos": "Clos"}
COLUMNS = (
    PilotSite.id,
    PilotSite.department,
    PilotSite.scheme,
    PilotSite.designated_on,
    PilotSite.status,
    PilotSite.notes,
    PilotSite.plan,
    PilotSite.department.code.as_alias("department_code"),
    PilotSite.department.name.as_alias("department_name"),
    PilotSite.plan.code.as_alias("plan_code"),
)


def pilot_site_out(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "department": row["department_code"],
        "department_name": row["department_name"],
        "plan": row["plan_code"],
        "scheme": row["scheme"],
        "scheme_label": SCHEMES.get(row["scheme"], row["scheme"]),
        "designated_on": row["designated_on"],
        "status": row["status"],
        "status_label": STATUSES.get(row["status"], row["status"]),
        "notes": row["notes"],
    }


async def list_pilot_sites(
    scope: Scope,
    page: PageRequest,
    *,
    department: str | None = None,
    plan: str | None = None,
    scheme: str | None = None,
    status: str | None = None,
) -> tuple[list[dict[str, Any]], int]:
    bad: dict[str, str] = {}
    if scheme and scheme not in SCHEMES:
        bad["scheme"] = f"Dispositif inconnu « {scheme[:40]} »."
    if status and status not in STATUSES:
        bad["status"] = f"État inconnu « {status[:40]} »."
    if plan and not await Plan.exists().where(Plan.code == plan):
        bad["plan"] = f"Plan « {plan[:40]} » inconnu."
    if bad:
        raise ValidationFailed(bad)
    scope = await scope.within_code(department)
    conditions = []
    if plan:
        conditions.append(PilotSite.plan.code == plan)
    if scheme:
        conditions.append(PilotSite.scheme == scheme)
    if status:
        conditions.append(PilotSite.status == status)
    query, count = scope.select(PilotSite, *COLUMNS), scope.count(PilotSite)
    for condition in conditions:
        query, count = query.where(condition), count.where(condition)
    rows = (
        await query.order_by(PilotSite.department.code, PilotSite.plan.code, PilotSite.scheme, PilotSite.id)
        .limit(page.per_page)
        .offset(page.offset)
    )
    return [pilot_site_out(r) for r in rows], await count


async def get_pilot_site(scope: Scope, pilot_site_id: int) -> dict[str, Any]:
    return pilot_site_out(await scope.get(PilotSite, pilot_site_id, *COLUMNS))


async def _fields(
    scope: Scope,
    data: dict[str, Any],
    *,
    partial: bool,
    department_id: int | None,
    current: dict[str, Any] | None = None,
) -> dict[str, Any]:
    fields = Fields(data, partial=partial)
    plan_code = fields.text("plan", required=True, max_length=20)
    fields.choice("scheme", SCHEMES)
    fields.date("designated_on")
    if not partial and not data.get("status"):
        fields.values["status"] = "actif"
    else:
        fields.choice("status", STATUSES)
    fields.text("notes", max_length=2000, multiline=True)
    if not partial:
        department_id = await resolve_department(scope, data.get("department"), fields)
    plan_id = current["plan"] if current else None
    if plan_code:
        plan = await Plan.select(Plan.id).where(Plan.code == plan_code).first()
        if plan is None:
            fields.error("plan", f"Plan « {plan_code} » inconnu.")
        else:
            plan_id = plan["id"]
            fields.values["plan"] = plan_id
    scheme = fields.values.get("scheme") or (current or {}).get("scheme")
    if department_id and plan_id and scheme and not fields.errors:
        clash = (
            system_scope(department_id)
            .exists(PilotSite)
            .where((PilotSite.plan == plan_id) & (PilotSite.scheme == scheme))
        )
        if current:
            clash = clash.where(PilotSite.id != current["id"])
        if await clash:
            fields.error("scheme", "Ce département est déjà site pilote de ce plan pour ce dispositif.")
    values = fields.check()
    if not partial:
        values["department"] = department_id
    return values


async def create_pilot_site(scope: Scope, data: dict[str, Any]) -> dict[str, Any]:
    values = await _fields(scope, data, partial=False, department_id=None)
    row = await records.create(
        scope, PilotSite, values, entity="pilot_site", summary=f"Site pilote ({SCHEMES[values['scheme']]})"
    )
    return await get_pilot_site(scope, row["id"])


async def update_pilot_site(scope: Scope, pilot_site_id: int, data: dict[str, Any]) -> dict[str, Any]:
    current = await scope.get(PilotSite, pilot_site_id)
    scope.require(Permission.MANAGE, current["department"])
    values = await _fields(scope, data, partial=True, department_id=current["department"], current=current)
    await records.update(scope, PilotSite, pilot_site_id, values, entity="pilot_site", summary="Site pilote modifié")
    return await get_pilot_site(scope, pilot_site_id)


async def delete_pilot_site(scope: Scope, pilot_site_id: int) -> None:
    current = await scope.get(PilotSite, pilot_site_id)
    scope.require(Permission.MANAGE, current["department"])
    await records.delete(
        scope,
        PilotSite,
        pilot_site_id,
        entity="pilot_site",
        summary=f"Site pilote supprimé ({SCHEMES.get(current['scheme'], current['scheme'])})",
    )


async def plan_choices() -> dict[str, str]:
    """National plans for select boxes, code → « code – title », oldest first."""
    rows = await Plan.select(Plan.code, Plan.title).order_by(Plan.start_year)
    return {r["code"]: f"{r['code']} – {r['title']}" for r in rows}
