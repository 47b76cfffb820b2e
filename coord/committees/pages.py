"""Pages of a département's committees and their members."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.response import Template

from coord.access import DepartmentRow, Scope
from coord.committees import seams, service
from coord.committees.kinds import COMMITTEE_KINDS, MEMBER_ROLES
from coord.core.errors import Conflict, ValidationFailed
from coord.core.pagination import PageRequest
from coord.web.forms import department_context, form_data, page, redirect


async def _committee_in(access: Scope, department: dict[str, Any], committee_id: int) -> dict[str, Any]:
    committee = await service.get_committee(access, committee_id)
    access.require_in(committee, department)
    return committee


class CommitteePages(Controller):
    path = "/d/{code:str}/instances"

    @get("/")
    async def list(
        self, access: Scope, department: DepartmentRow, code: str, request: Request, kind: str | None = None
    ) -> Template:
        kind = kind if kind in COMMITTEE_KINDS else None  # a stale or forged filter shows everything
        pager = PageRequest.parse(request.query_params.get("page"), None, default_per_page=50)
        items, total = await service.list_committees(access, pager, department=department["code"], kind=kind)
        return page(
            "committees/list.html",
            **department_context(access, department, "committees"),
            committees=items,
            total=total,
            pager=pager,
            kinds=COMMITTEE_KINDS,
            filters={"kind": kind or ""},
        )

    async def _form(
        self,
        access: Scope,
        department: dict[str, Any],
        values: dict[str, Any],
        errors: dict[str, str],
        committee: dict[str, Any] | None = None,
        status: int = 200,
    ) -> Template:
        return page(
            "committees/form.html",
            status=status,
            **department_context(access, department, "committees"),
            values=values,
            errors=errors,
            kinds=COMMITTEE_KINDS,
            committee=committee,
            contacts=await service.contact_choices(
                access, department["id"], keep=committee["chair"] if committee else None
            ),
        )

    @get("/nouvelle")
    async def new(self, access: Scope, department: DepartmentRow) -> Template:
        return await self._form(access, department, {}, {})

    @post("/nouvelle")
    async def create(self, access: Scope, department: DepartmentRow, code: str, request: Request) -> Response:
        data = await form_data(request)
        try:
            committee = await service.create_committee(access, {**data, "department": department["code"]})
        except ValidationFailed as exc:
            return await self._form(access, department, data, exc.errors, status=422)
        return redirect(
            request, f"/d/{department['code']}/instances/{committee['id']}", f"Instance « {committee['name']} » créée."
        )

    @get("/{committee_id:int}")
    async def detail(self, access: Scope, department: DepartmentRow, committee_id: int) -> Template:
        return await self._detail(access, department, await _committee_in(access, department, committee_id), {}, {})

    async def _detail(
        self,
        access: Scope,
        department: dict[str, Any],
        committee: dict[str, Any],
        values: dict[str, Any],
        errors: dict[str, str],
        status: int = 200,
        role_errors: dict[int, str] | None = None,
    ) -> Template:
        return page(
            "committees/detail.html",
            status=status,
            **department_context(access, department, "committees"),
            committee=committee,
            members=await service.list_members(access, committee["id"]),
            contacts=await service.contact_choices(access, department["id"]),
            roles=MEMBER_ROLES,
            values=values,
            errors=errors,
            role_errors=role_errors or {},
            sections=await seams.detail_sections(access, department, committee),
        )

    @get("/{committee_id:int}/modifier")
    async def edit(self, access: Scope, department: DepartmentRow, committee_id: int) -> Template:
        committee = await _committee_in(access, department, committee_id)
        return await self._form(access, department, {**committee, "chair": committee["chair"] or ""}, {}, committee)

    @post("/{committee_id:int}/modifier")
    async def update(
        self, access: Scope, department: DepartmentRow, code: str, committee_id: int, request: Request
    ) -> Response:
        committee = await _committee_in(access, department, committee_id)
        data = await form_data(request)
        data.setdefault("active", "")
        try:
            await service.update_committee(access, committee_id, data)
        except ValidationFailed as exc:
            return await self._form(access, department, {**committee, **data}, exc.errors, committee, status=422)
        return redirect(request, f"/d/{department['code']}/instances/{committee_id}", "Instance modifiée.")

    @post("/{committee_id:int}/supprimer")
    async def remove(
        self, access: Scope, department: DepartmentRow, code: str, committee_id: int, request: Request
    ) -> Response:
        committee = await _committee_in(access, department, committee_id)
        try:
            await service.delete_committee(access, committee_id)
        except Conflict as exc:
            return redirect(request, f"/d/{department['code']}/instances/{committee_id}", exc.message, "error")
        return redirect(request, f"/d/{department['code']}/instances", f"Instance « {committee['name']} » supprimée.")

    @post("/{committee_id:int}/membres")
    async def add_member(
        self, access: Scope, department: DepartmentRow, code: str, committee_id: int, request: Request
    ) -> Response:
        committee = await _committee_in(access, department, committee_id)
        data = await form_data(request)
        try:
            member = await service.add_member(access, committee_id, data)
        except ValidationFailed as exc:
            return await self._detail(access, department, committee, data, exc.errors, status=422)
        return redirect(
            request,
            f"/d/{department['code']}/instances/{committee_id}",
            f"{member['first_name']} {member['last_name']} ajouté(e) comme {member['role_label'].lower()}.",
        )

    @post("/{committee_id:int}/membres/{member_id:int}/role")
    async def change_role(
        self, access: Scope, department: DepartmentRow, code: str, committee_id: int, member_id: int, request: Request
    ) -> Response:
        committee = await _committee_in(access, department, committee_id)
        data = await form_data(request)
        try:
            member = await service.update_member(access, committee_id, member_id, {"role": data.get("role", "")})
        except ValidationFailed as exc:
            role_errors = {member_id: exc.errors.get("role", exc.message)}
            return await self._detail(access, department, committee, {}, {}, status=422, role_errors=role_errors)
        return redirect(
            request,
            f"/d/{department['code']}/instances/{committee_id}",
            f"{member['first_name']} {member['last_name']} : {member['role_label'].lower()}.",
        )

    @post("/{committee_id:int}/membres/{member_id:int}/retirer")
    async def remove_member(
        self, access: Scope, department: DepartmentRow, code: str, committee_id: int, member_id: int, request: Request
    ) -> Response:
        await _committee_in(access, department, committee_id)
        try:
            await service.remove_member(access, committee_id, member_id)
        except ValidationFailed as exc:
            return redirect(request, f"/d/{department['code']}/instances/{committee_id}", exc.message, "error")
        return redirect(request, f"/d/{department['code']}/instances/{committee_id}", "Membre retiré.")


ROUTES: list[Any] = [CommitteePages]
