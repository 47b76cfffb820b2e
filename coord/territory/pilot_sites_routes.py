"""Pilot sites: JSON API and pages."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import Parameter
from litestar.response import Template

from coord.accounts.access import Scope
from coord.core.errors import NotFound, ValidationFailed
from coord.partners.schemas import to_dict
from coord.plans import service as plans
from coord.territory import pilot_sites as service
from coord.web.forms import department_context, form_data, page, redirect
from coord.web.pagination import PageRequest, Paginated, paginated


class PilotSiteIn(msgspec.Struct, forbid_unknown_fields=True):
    plan: str
    scheme: str
    department: str | None = None
    designated_on: dt.date | None = None
    status: str = "actif"
    notes: str = ""


class PilotSitePatch(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    plan: str | msgspec.UnsetType = msgspec.UNSET
    scheme: str | msgspec.UnsetType = msgspec.UNSET
    designated_on: dt.date | msgspec.UnsetType | None = msgspec.UNSET
    status: str | msgspec.UnsetType = msgspec.UNSET
    notes: str | msgspec.UnsetType = msgspec.UNSET


class PilotSiteOut(msgspec.Struct):
    id: int
    department: str
    department_name: str
    plan: str
    scheme: str
    scheme_label: str
    designated_on: dt.date | None
    status: str
    status_label: str
    notes: str


class PilotSiteApi(Controller):
    path = "/api/pilot-sites"
    tags = ["Territoires"]

    @get("/", summary="Sites pilotes (filtrables par département, plan, dispositif, état)")
    async def list(
        self,
        access: Scope,
        department: str | None = None,
        plan: str | None = None,
        scheme: str | None = None,
        status: str | None = None,
        page: Annotated[int | None, Parameter(ge=1, le=100_000)] = None,
        per_page: Annotated[int | None, Parameter(ge=1, le=200)] = None,
    ) -> Paginated:
        request = PageRequest.parse(page, per_page)
        items, total = await service.list_pilot_sites(
            access, request, department=department, plan=plan, scheme=scheme, status=status
        )
        return paginated(items, total, request)

    @post("/", summary="Désigner un site pilote")
    async def create(self, access: Scope, data: PilotSiteIn) -> PilotSiteOut:
        return PilotSiteOut(**await service.create_pilot_site(access, to_dict(data)))

    @get("/{pilot_site_id:int}", summary="Un site pilote")
    async def read(self, access: Scope, pilot_site_id: int) -> PilotSiteOut:
        return PilotSiteOut(**await service.get_pilot_site(access, pilot_site_id))

    @patch("/{pilot_site_id:int}", summary="Modifier un site pilote")
    async def update(self, access: Scope, pilot_site_id: int, data: PilotSitePatch) -> PilotSiteOut:
        return PilotSiteOut(**await service.update_pilot_site(access, pilot_site_id, to_dict(data)))

    @delete("/{pilot_site_id:int}", summary="Supprimer un site pilote")
    async def remove(self, access: Scope, pilot_site_id: int) -> None:
        await service.delete_pilot_site(access, pilot_site_id)


class PilotSitePages(Controller):
    path = "/d/{code:str}/sites-pilotes"

    async def _render(
        self,
        access: Scope,
        department: dict[str, Any],
        values: dict[str, Any],
        errors: dict[str, str],
        status: int = 200,
    ) -> Template:
        items, _ = await service.list_pilot_sites(access, PageRequest(1, 200), department=department["code"])
        plan_choices = {p["code"]: p["title"] for p in await plans.list_plans(access)}
        return page(
            "territory/pilot_sites.html",
            status=status,
            **department_context(access, department, "pilot_sites"),
            pilot_sites=items,
            values=values,
            errors=errors,
            schemes=service.SCHEMES,
            statuses=service.STATUSES,
            plans=plan_choices,
        )

    @get("/")
    async def list(self, access: Scope, code: str) -> Template:
        return await self._render(access, await access.department(code), {"status": "actif"}, {})

    @post("/")
    async def create(self, access: Scope, code: str, request: Request) -> Response:
        department = await access.department(code)
        data = await form_data(request)
        try:
            await service.create_pilot_site(access, {**data, "department": department["code"]})
        except ValidationFailed as exc:
            return await self._render(access, department, data, exc.errors, status=422)
        return redirect(request, f"/d/{department['code']}/sites-pilotes", "Site pilote enregistré.")

    @post("/{pilot_site_id:int}/etat")
    async def set_status(self, access: Scope, code: str, pilot_site_id: int, request: Request) -> Response:
        department = await access.department(code)
        site = await service.get_pilot_site(access, pilot_site_id)
        if site["department"] != department["code"]:
            raise NotFound()
        data = await form_data(request)
        try:
            await service.update_pilot_site(access, pilot_site_id, {"status": data.get("status", "")})
        except ValidationFailed as exc:
            return await self._render(access, department, {}, exc.errors, status=422)
        return redirect(request, f"/d/{department['code']}/sites-pilotes", "État du site pilote modifié.")


API_ROUTES: list[Any] = [PilotSiteApi]
PAGE_ROUTES: list[Any] = [PilotSitePages]
