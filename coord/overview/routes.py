"""Départements: JSON API, the national list and each département's overview page."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, get
from litestar.response import Redirect, Template

from coord.access import Scope
from coord.committees.kinds import COMMITTEE_KINDS
from coord.overview import service
from coord.web.forms import department_context, page


class DepartmentOut(msgspec.Struct):
    code: str
    name: str
    region: str
    region_code: str
    prefecture: str
    timezone: str
    holiday_subdivision: str | None


class DepartmentApi(Controller):
    path = "/api/departments"
    tags = ["Territoires"]

    @get("/", summary="Les départements visibles par l'utilisateur")
    async def list(self, access: Scope, region: str | None = None, q: str | None = None) -> list[DepartmentOut]:
        return [
            DepartmentOut(**service.department_out(d))
            for d in await service.list_departments(access, region=region, q=q)
        ]

    @get("/{code:str}", summary="Un département")
    async def read(self, access: Scope, code: str) -> DepartmentOut:
        return DepartmentOut(**service.department_out(await access.department(code)))


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
        )


API_ROUTES: list[Any] = [DepartmentApi]
PAGE_ROUTES: list[Any] = [DepartmentPages]
