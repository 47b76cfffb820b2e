"""Pages of a département's pilot-site designations: list, designate, edit, change status, delete."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.response import Template

from coord.access import DepartmentRow, Scope
from coord.core.errors import ValidationFailed
from coord.core.pagination import PageRequest
from coord.pilot_sites import service
from coord.web.forms import department_context, form_data, page, redirect

FORM_FIELDS = ("plan", "scheme", "designated_on", "status", "notes")


async def _site_in(access: Scope, department: dict[str, Any], pilot_site_id: int) -> dict[str, Any]:
    site = await service.get_pilot_site(access, pilot_site_id)
    access.require_in(site, department)
    return site


class PilotSitePages(Controller):
    path = "/d/{code:str}/sites-pilotes"

    async def _list(
        self,
        access: Scope,
        department: dict[str, Any],
        status_errors: dict[int, str] | None = None,
        status: int = 200,
    ) -> Template:
        items, total = await service.list_pilot_sites(access, PageRequest(1, 200), department=department["code"])
        return page(
            "pilot_sites/list.html",
            status=status,
            **department_context(access, department, "pilot_sites"),
            pilot_sites=items,
            total=total,
            statuses=service.STATUSES,
            status_errors=status_errors or {},
        )

    async def _form(
        self,
        access: Scope,
        department: dict[str, Any],
        values: dict[str, Any],
        errors: dict[str, str],
        site: dict[str, Any] | None = None,
        status: int = 200,
    ) -> Template:
        return page(
            "pilot_sites/form.html",
            status=status,
            **department_context(access, department, "pilot_sites"),
            values=values,
            errors=errors,
            site=site,
            plans=await service.plan_choices(),
            schemes=service.SCHEMES,
            statuses=service.STATUSES,
        )

    @get("/")
    async def list(self, access: Scope, department: DepartmentRow) -> Template:
        return await self._list(access, department)

    @get("/nouveau")
    async def new(self, access: Scope, department: DepartmentRow) -> Template:
        return await self._form(access, department, {"status": "actif"}, {})

    @post("/nouveau")
    async def create(self, access: Scope, department: DepartmentRow, code: str, request: Request) -> Response:
        data = await form_data(request)
        values = {k: data.get(k, "") for k in FORM_FIELDS}
        try:
            site = await service.create_pilot_site(access, {**values, "department": department["code"]})
        except ValidationFailed as exc:
            return await self._form(access, department, values, exc.errors, status=422)
        return redirect(
            request,
            f"/d/{department['code']}/sites-pilotes",
            f"Désignation enregistrée : {site['scheme_label']} (plan {site['plan']}).",
        )

    @get("/{pilot_site_id:int}/modifier")
    async def edit(self, access: Scope, department: DepartmentRow, pilot_site_id: int) -> Template:
        site = await _site_in(access, department, pilot_site_id)
        return await self._form(access, department, site, {}, site)

    @post("/{pilot_site_id:int}/modifier")
    async def update(
        self, access: Scope, department: DepartmentRow, code: str, pilot_site_id: int, request: Request
    ) -> Response:
        site = await _site_in(access, department, pilot_site_id)
        data = await form_data(request)
        values = {k: data.get(k, "") for k in FORM_FIELDS}
        try:
            await service.update_pilot_site(access, pilot_site_id, values)
        except ValidationFailed as exc:
            return await self._form(access, department, values, exc.errors, site, status=422)
        return redirect(request, f"/d/{department['code']}/sites-pilotes", "Désignation modifiée.")

    @post("/{pilot_site_id:int}/etat")
    async def set_status(
        self, access: Scope, department: DepartmentRow, code: str, pilot_site_id: int, request: Request
    ) -> Response:
        await _site_in(access, department, pilot_site_id)
        data = await form_data(request)
        try:
            await service.update_pilot_site(access, pilot_site_id, {"status": data.get("status", "")})
        except ValidationFailed as exc:
            errors = {pilot_site_id: exc.errors.get("status", exc.message)}
            return await self._list(access, department, status_errors=errors, status=422)
        return redirect(request, f"/d/{department['code']}/sites-pilotes", "État du site pilote modifié.")

    @post("/{pilot_site_id:int}/supprimer")
    async def remove(
        self, access: Scope, department: DepartmentRow, code: str, pilot_site_id: int, request: Request
    ) -> Response:
        site = await _site_in(access, department, pilot_site_id)
        await service.delete_pilot_site(access, pilot_site_id)
        return redirect(
            request,
            f"/d/{department['code']}/sites-pilotes",
            f"Désignation supprimée : {site['scheme_label']} (plan {site['plan']}).",
        )


ROUTES: list[Any] = [PilotSitePages]
