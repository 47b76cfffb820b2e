"""National plans: the pages (`/plans`, `/plans/{code}`)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get
from litestar.response import Template

from coord.access import Scope
from coord.plans import service
from coord.web.forms import page


class PlanPages(Controller):
    path = "/plans"

    @get("/")
    async def list(self, access: Scope) -> Template:
        return page("plans/list.html", section="plans", plans=await service.list_plans(access))

    @get("/{code:str}")
    async def detail(self, access: Scope, code: str) -> Template:
        return page("plans/detail.html", section="plans", plan=await service.get_plan(access, code))


ROUTES: list[Any] = [PlanPages]
