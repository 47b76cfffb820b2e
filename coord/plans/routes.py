"""National plans: JSON API and pages."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, get
from litestar.response import Template

from coord.access import Scope
from coord.plans import service
from coord.web.forms import page


class MeasureOut(msgspec.Struct):
    number: int
    title: str
    priority: int | None
    priority_title: str
    axis: str
    summary: str


class PlanSummary(msgspec.Struct):
    code: str
    title: str
    start_year: int
    end_year: int
    measure_count: int


class PlanOut(msgspec.Struct):
    code: str
    title: str
    start_year: int
    end_year: int
    measures: list[MeasureOut]


class PlanApi(Controller):
    path = "/api/plans"
    tags = ["Plans nationaux"]

    @get("/", summary="Les plans nationaux d'action contre la traite")
    async def list(self, access: Scope) -> list[PlanSummary]:
        return [PlanSummary(**p) for p in await service.list_plans(access)]

    @get("/{code:str}", summary="Un plan et ses mesures")
    async def read(self, access: Scope, code: str) -> PlanOut:
        plan = await service.get_plan(access, code)
        return PlanOut(**{**plan, "measures": [MeasureOut(**m) for m in plan["measures"]]})


class PlanPages(Controller):
    path = "/plans"

    @get("/")
    async def list(self, access: Scope) -> Template:
        return page("plans/list.html", section="plans", plans=await service.list_plans(access))

    @get("/{code:str}")
    async def detail(self, access: Scope, code: str) -> Template:
        return page("plans/detail.html", section="plans", plan=await service.get_plan(access, code))


API_ROUTES: list[Any] = [PlanApi]
PAGE_ROUTES: list[Any] = [PlanPages]
