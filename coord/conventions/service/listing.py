"""Reading conventions and their signatories through the `Scope`."""

from __future__ import annotations

from typing import Any

from coord.access import Scope
from coord.conventions.lifecycle import STATUSES
from coord.conventions.service.catalogue import models
from coord.conventions.service.records import (
    COLUMNS,
    SIGNATORY_COLUMNS,
    _convention_row,
    _current_signatories,
    _signatory_row,
    convention_out,
    signatory_out,
)
from coord.conventions.tables import Convention, ConventionSignatory
from coord.core.errors import ValidationFailed
from coord.core.pagination import PageRequest
from coord.core.search import like


async def list_conventions(
    scope: Scope,
    page: PageRequest,
    *,
    department: str | None = None,
    status: str | None = None,
    model: str | None = None,
    pilot_site: int | None = None,
    q: str | None = None,
) -> tuple[list[dict[str, Any]], int]:
    if status and status not in STATUSES:
        raise ValidationFailed({"status": f"État inconnu « {status[:40]} »."})
    scope = await scope.within_code(department)
    conditions = []
    if status:
        conditions.append(Convention.status == status)
    if model:
        conditions.append(Convention.model_code == model[:60])
    if pilot_site:
        conditions.append(Convention.pilot_site == pilot_site)
    if q:
        conditions.append(Convention.title.ilike(like(q)))
    query, count = scope.select(Convention, *COLUMNS), scope.count(Convention)
    for condition in conditions:
        query, count = query.where(condition), count.where(condition)
    rows = await query.order_by(Convention.department).order_by(Convention.id).limit(page.per_page).offset(page.offset)
    current = await _current_signatories(rows)
    catalogue = models()
    return [convention_out(r, current[r["id"]], catalogue) for r in rows], await count


async def get_convention(scope: Scope, convention_id: int, *, with_signatories: bool = True) -> dict[str, Any]:
    row = await _convention_row(scope, convention_id)
    current = (await _current_signatories([row]))[row["id"]]
    result = convention_out(row, current, models())
    if with_signatories:
        result["signatories"] = [signatory_out(s) for s in current]
    return result


async def signatory_history(scope: Scope, convention_id: int) -> list[dict[str, Any]]:
    """Signatories of the earlier rounds (before the current amendment), newest round first."""
    row = await _convention_row(scope, convention_id)
    rows = (
        await scope.select(ConventionSignatory, *SIGNATORY_COLUMNS)
        .where((ConventionSignatory.convention == convention_id) & (ConventionSignatory.amendment < row["amendment"]))
        .order_by(ConventionSignatory.amendment, ascending=False)
        .order_by(ConventionSignatory.id)
    )
    return [signatory_out(r) for r in rows]


async def list_signatories(scope: Scope, convention_id: int) -> list[dict[str, Any]]:
    return (await get_convention(scope, convention_id))["signatories"]


async def get_signatory(scope: Scope, convention_id: int, signatory_id: int) -> dict[str, Any]:
    return signatory_out(await _signatory_row(scope, convention_id, signatory_id))
