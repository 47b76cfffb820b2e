"""Départements: JSON API (`/api/departments`)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get

from coord.access import Scope
from coord.overview import service
from coord.overview.schemas import DepartmentOut


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


ROUTES: list[Any] = [DepartmentApi]
