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
    _signatory_row,
    signatory_out,
)
from coord.conventions.service.rounds import (
    amendment_out,
    amendments_of,
    conventions_out,
    open_amendment,
    signatories_by_round,
)
from coord.conventions.tables import Convention, ConventionSignatory
from coord.core.errors import NotFound, ValidationFailed
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
    return await conventions_out(rows, models()), await count


async def get_convention(scope: Scope, convention_id: int, *, with_signatories: bool = True) -> dict[str, Any]:
    """The convention with its text in force and its signatories, and its open amendment (if any)
    with the amendment's own signatories and progress."""
    row = await _convention_row(scope, convention_id)
    return (await conventions_out([row], models(), with_signatories=with_signatories))[0]


async def signatory_history(scope: Scope, convention_id: int) -> list[dict[str, Any]]:
    """Signatories of the other rounds (earlier texts, abandoned or lapsed amendments): neither the
    text in force nor the open amendment; newest round first."""
    row = await _convention_row(scope, convention_id)
    opened = await open_amendment(convention_id)
    live = [row["amendment"], *([opened["number"]] if opened else [])]
    rows = (
        await scope.select(ConventionSignatory, *SIGNATORY_COLUMNS)
        .where((ConventionSignatory.convention == convention_id) & ConventionSignatory.amendment.not_in(live))
        .order_by(ConventionSignatory.amendment, ascending=False)
        .order_by(ConventionSignatory.id)
    )
    return [signatory_out(r) for r in rows]


async def list_signatories(scope: Scope, convention_id: int) -> list[dict[str, Any]]:
    """The signatories of the text in force, then those of the open amendment (`amendment` tells
    which round each one signs)."""
    convention = await get_convention(scope, convention_id)
    opened = convention["open_amendment"]
    return convention["signatories"] + (opened["signatories"] if opened else [])


async def list_amendments(scope: Scope, convention_id: int) -> list[dict[str, Any]]:
    """Every amendment of the convention, newest first, each with its signatories and progress."""
    row = await _convention_row(scope, convention_id)
    model = models().get(row["model_code"])
    rounds = (await signatories_by_round([convention_id]))[convention_id]
    amendments = (await amendments_of([convention_id]))[convention_id]
    return [amendment_out(a, rounds.get(a["number"], []), model) for a in reversed(amendments)]


async def get_open_amendment(scope: Scope, convention_id: int) -> dict[str, Any]:
    convention = await get_convention(scope, convention_id)
    if convention["open_amendment"] is None:
        raise NotFound("Aucun avenant n'est en cours de signature sur cette convention.")
    return convention["open_amendment"]


async def get_signatory(scope: Scope, convention_id: int, signatory_id: int) -> dict[str, Any]:
    return signatory_out(await _signatory_row(scope, convention_id, signatory_id))
