"""Départements: the national list (`/departements`) and each département's overview (`/d/{code}`)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.response import Redirect, Template

from coord.access import Scope
from coord.committees.kinds import COMMITTEE_KINDS
from coord.core import clock
from coord.overview import dashboard, service
from coord.web.forms import department_context, page


class DepartmentPages(Controller):
    @get("/departements")
    async def list(self, access: Scope, request: Request, q: str | None = None) -> Template | Redirect:
        if not access.principal.is_national:
            return Redirect(path=f"/d/{access.principal.department_code}")
        rows = await service.list_departments(access, q=q or None, with_counts=True)
        return page("overview/departments.html", section="departments", departments=rows, filters={"q": q or ""})

    @get("/d/{code:str}")
    async def overview(self, access: Scope, code: str) -> Template:
        data = await service.overview(access, code)
        return page(
            "overview/department.html",
            **department_context(access, data["department"], "overview"),
            **{k: v for k, v in data.items() if k != "department"},
            committee_kinds=COMMITTEE_KINDS,
            dashboard=await dashboard.dashboard(access, code, clock.now()),
        )


ROUTES: list[Any] = [DepartmentPages]
