"""Pages of the yearly cycle: a département's year (with the prefecture's actions) and the national table."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.response import Template

from coord.access import Scope
from coord.committees.kinds import COMMITTEE_KINDS
from coord.core.clock import now
from coord.core.errors import Conflict, ValidationFailed
from coord.scheduling import ranking, service
from coord.scheduling.config import cycle_config
from coord.scheduling.cycle import STATES
from coord.web.forms import department_context, form_data, page, redirect


def _year(raw: Any, at: dt.datetime) -> int:
    try:
        return service.read_year(raw, at)
    except ValidationFailed:
        return at.year


class CyclePages(Controller):
    path = "/d/{code:str}/cycle"

    async def _page(
        self,
        access: Scope,
        code: str,
        year: int,
        *,
        errors: dict[str, str] | None = None,
        values: dict[str, Any] | None = None,
        status: int = 200,
    ) -> Template:
        at = now()
        data = await service.department_cycle(access, code, year, at)
        department = data["department"]
        return page(
            "scheduling/department.html",
            status=status,
            **department_context(access, department, "cycle"),
            cycle=data,
            year=year,
            years=list(range(at.year - 3, at.year + 2)),
            states=STATES,
            now=at,
            errors=errors or {},
            values=values or {"place": f"Préfecture – {department['prefecture']}"},
            config=cycle_config(),
            kinds=COMMITTEE_KINDS,
        )

    @get("/")
    async def show(self, access: Scope, code: str, annee: str | None = None) -> Template:
        return await self._page(access, code, _year(annee, now()))

    @post("/accepter")
    async def accept(self, access: Scope, code: str, request: Request) -> Response:
        data = await form_data(request)
        year = _year(data.get("year"), now())
        try:
            meeting = await service.accept_proposal(access, code, data, now())
        except (ValidationFailed, Conflict) as exc:
            errors = exc.errors if isinstance(exc, ValidationFailed) else {"form": exc.message}
            return await self._page(access, code, year, errors=errors, values=data, status=422)
        return redirect(
            request,
            f"/d/{meeting['department']}/reunions/{meeting['id']}",
            "Date retenue : la réunion est créée en préparation. Complétez l'ordre du jour puis convoquez.",
        )

    @post("/indisponibilites")
    async def mark(self, access: Scope, code: str, request: Request) -> Response:
        data = await form_data(request)
        try:
            result = await service.mark_unavailable(access, code, data, now())
        except ValidationFailed as exc:
            return await self._page(access, code, _year(None, now()), errors=exc.errors, values=data, status=422)
        year = result["date"][:4]
        return redirect(
            request,
            f"/d/{code.upper()}/cycle?annee={year}",
            f"Le {result['date']} est noté indisponible : il ne sera plus proposé.",
        )

    @post("/indisponibilites/retirer")
    async def unmark(self, access: Scope, code: str, request: Request) -> Response:
        data = await form_data(request)
        try:
            await service.unmark_unavailable(access, code, data)
        except ValidationFailed as exc:
            return await self._page(access, code, _year(None, now()), errors=exc.errors, values=data, status=422)
        return redirect(
            request,
            f"/d/{code.upper()}/cycle?annee={str(data.get('date', ''))[:4]}",
            "La date est de nouveau disponible.",
        )


@get("/cycle")
async def national(
    access: Scope, annee: str | None = None, etat: str | None = None, region: str | None = None
) -> Template:
    service.require_national(access)
    at = now()
    year = _year(annee, at)
    state = etat if etat in STATES else None
    rows = await service.national_cycle(access, year, at, state=state, region=region or None)
    # Latest first, with the days late: 101 equal « En retard » rows told nothing (issue 16).
    rows = ranking.ranked(rows, {d["code"]: d["timezone"] for d in await access.departments()}, at)
    everything = await service.national_cycle(access, year, at) if state or region else rows
    regions = sorted({(r["region_code"], r["region"]) for r in everything}, key=lambda r: r[1])
    counts = {code: sum(1 for r in everything if r["state"] == code) for code in STATES}
    return page(
        "scheduling/national.html",
        section="cycle",
        rows=rows,
        year=year,
        years=list(range(at.year - 3, at.year + 2)),
        states=STATES,
        regions=regions,
        counts=counts,
        kinds=COMMITTEE_KINDS,
        filters={"annee": year, "etat": state or "", "region": region or ""},
    )


ROUTES: list[Any] = [CyclePages, national]
