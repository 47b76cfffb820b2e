"""National plans: JSON API (`/api/plans`)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get

from coord.access import Scope
from coord.plans import service
from coord.plans.schemas import MeasureOut, PlanOut, PlanSummary


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


ROUTES: list[Any] = [PlanApi]
