"""Pages of partner organisations and contacts within a département."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Template

from coord.access import DepartmentRow, Scope
from coord.core.errors import ValidationFailed
from coord.core.pagination import PageRequest
from coord.partners import csv_io, service
from coord.partners.schemas import NO_VICTIM_DATA
from coord.web.forms import department_context, form_data, page, redirect
from coord.web.params import PageQuery

MAX_UPLOAD_BYTES = 2_000_000


async def _organisation_in(access: Scope, department: dict[str, Any], organisation_id: int) -> dict[str, Any]:
    org = await service.get_organisation(access, organisation_id)
    access.require_in(org, department)
    return org


class PartnerPages(Controller):
    path = "/d/{code:str}/partenaires"

    @get("/", name="partners.list")
    async def list(
        self,
        access: Scope,
        department: DepartmentRow,
        code: str,
        request: Request,
        kind: str | None = None,
        q: str | None = None,
        page_number: PageQuery = None,
    ) -> Template:
        request_page = PageRequest.parse(request.query_params.get("page"), None, default_per_page=25)
        items, total = await service.list_organisations(
            access, request_page, department=code, kind=kind or None, q=q or None
        )
        return page(
            "partners/list.html",
            **department_context(access, department, "partners"),
            organisations=items,
            total=total,
            pager=request_page,
            kinds=await service.kind_labels(),
            filters={"kind": kind or "", "q": q or ""},
        )

    @get("/nouvelle", name="partners.new")
    async def new(self, access: Scope, department: DepartmentRow) -> Template:
        return self._form(access, department, {}, {}, await service.kind_labels())

    def _form(
        self,
        access: Scope,
        department: dict[str, Any],
        values: dict[str, Any],
        errors: dict[str, str],
        kinds: dict[str, str],
        organisation: dict[str, Any] | None = None,
        status: int = 200,
    ) -> Template:
        return page(
            "partners/form.html",
            status=status,
            **department_context(access, department, "partners"),
            values=values,
            errors=errors,
            kinds=kinds,
            organisation=organisation,
            notice=NO_VICTIM_DATA,
        )

    @post("/nouvelle")
    async def create(self, access: Scope, department: DepartmentRow, code: str, request: Request) -> Response:
        data = await form_data(request)
        try:
            org = await service.create_organisation(access, {**data, "department": department["code"]})
        except ValidationFailed as exc:
            return self._form(access, department, data, exc.errors, await service.kind_labels(), status=422)
        return redirect(
            request, f"/d/{department['code']}/partenaires/{org['id']}", f"Organisation « {org['name']} » créée."
        )

    @get("/{organisation_id:int}", name="partners.detail")
    async def detail(self, access: Scope, department: DepartmentRow, organisation_id: int) -> Template:
        org = await _organisation_in(access, department, organisation_id)
        contacts, _ = await service.list_contacts(access, PageRequest(1, 200), organisation=organisation_id)
        return page(
            "partners/detail.html",
            **department_context(access, department, "partners"),
            organisation=org,
            contacts=contacts,
            values={},
            errors={},
        )

    @get("/{organisation_id:int}/modifier")
    async def edit(self, access: Scope, department: DepartmentRow, organisation_id: int) -> Template:
        org = await _organisation_in(access, department, organisation_id)
        return self._form(access, department, org, {}, await service.kind_labels(), organisation=org)

    @post("/{organisation_id:int}/modifier")
    async def update(
        self, access: Scope, department: DepartmentRow, code: str, organisation_id: int, request: Request
    ) -> Response:
        org = await _organisation_in(access, department, organisation_id)
        data = await form_data(request)
        try:
            await service.update_organisation(access, organisation_id, data)
        except ValidationFailed as exc:
            return self._form(
                access,
                department,
                {**org, **data},
                exc.errors,
                await service.kind_labels(),
                organisation=org,
                status=422,
            )
        return redirect(request, f"/d/{department['code']}/partenaires/{organisation_id}", "Organisation modifiée.")

    @post("/{organisation_id:int}/supprimer")
    async def remove(
        self, access: Scope, department: DepartmentRow, code: str, organisation_id: int, request: Request
    ) -> Response:
        org = await _organisation_in(access, department, organisation_id)
        await service.delete_organisation(access, organisation_id)
        return redirect(request, f"/d/{department['code']}/partenaires", f"Organisation « {org['name']} » supprimée.")

    @post("/{organisation_id:int}/contacts")
    async def add_contact(
        self, access: Scope, department: DepartmentRow, code: str, organisation_id: int, request: Request
    ) -> Response:
        org = await _organisation_in(access, department, organisation_id)
        data = await form_data(request)
        try:
            contact = await service.create_contact(access, {**data, "organisation": organisation_id})
        except ValidationFailed as exc:
            contacts, _ = await service.list_contacts(access, PageRequest(1, 200), organisation=organisation_id)
            return page(
                "partners/detail.html",
                status=422,
                **department_context(access, department, "partners"),
                organisation=org,
                contacts=contacts,
                values=data,
                errors=exc.errors,
            )
        return redirect(
            request,
            f"/d/{department['code']}/partenaires/{organisation_id}",
            f"Contact {contact['first_name']} {contact['last_name']} ajouté.",
        )

    @get("/export.csv")
    async def export(self, access: Scope, department: DepartmentRow, code: str) -> Response[str]:
        text = await csv_io.export_partners(access, department["id"])
        return Response(
            text,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="partenaires-{department["code"]}.csv"'},
        )

    @get("/import")
    async def import_form(self, access: Scope, department: DepartmentRow) -> Template:
        return page(
            "partners/import.html",
            **department_context(access, department, "partners"),
            columns=csv_io.COLUMNS,
            result=None,
            errors={},
        )

    @post("/import")
    async def import_upload(
        self,
        access: Scope,
        department: DepartmentRow,
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> Template:
        upload = data.get("fichier")
        context = {**department_context(access, department, "partners"), "columns": csv_io.COLUMNS}
        if not isinstance(upload, UploadFile):
            return page(
                "partners/import.html",
                status=422,
                **context,
                result=None,
                errors={"fichier": "Choisissez un fichier CSV à importer."},
            )
        content = await upload.read(MAX_UPLOAD_BYTES + 1)
        if len(content) > MAX_UPLOAD_BYTES:
            return page(
                "partners/import.html",
                status=413,
                **context,
                result=None,
                errors={"fichier": "Fichier trop volumineux (2 Mo au plus)."},
            )
        dry_run = str(data.get("simulation", "")).lower() in {"1", "on", "true"}
        result = await csv_io.import_partners(access, department["id"], csv_io.decode(content), dry_run=dry_run)
        return page("partners/import.html", **context, result=result, errors={})


class ContactPages(Controller):
    path = "/d/{code:str}/contacts"

    @get("/", name="contacts.list")
    async def list(
        self, access: Scope, department: DepartmentRow, code: str, request: Request, q: str | None = None
    ) -> Template:
        request_page = PageRequest.parse(request.query_params.get("page"), None, default_per_page=50)
        items, total = await service.list_contacts(access, request_page, department=code, q=q or None)
        return page(
            "partners/contacts.html",
            **department_context(access, department, "contacts"),
            contacts=items,
            total=total,
            pager=request_page,
            filters={"q": q or ""},
        )

    @get("/export.csv")
    async def export_csv(self, access: Scope, department: DepartmentRow, code: str, q: str | None = None) -> Response:
        """The contacts the list shows with the same search, every page of them."""
        items, _ = await service.list_contacts(access, None, department=code, q=q or None)
        return Response(
            csv_io.contacts_csv(items),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="contacts-{department["code"]}.csv"'},
        )

    @get("/{contact_id:int}/modifier")
    async def edit(self, access: Scope, department: DepartmentRow, code: str, contact_id: int) -> Template:
        contact = await service.get_contact(access, contact_id)
        access.require_in(contact, department)
        return page(
            "partners/contact_form.html",
            **department_context(access, department, "contacts"),
            contact=contact,
            values=contact,
            errors={},
        )

    @post("/{contact_id:int}/modifier")
    async def update(
        self, access: Scope, department: DepartmentRow, code: str, contact_id: int, request: Request
    ) -> Response:
        contact = await service.get_contact(access, contact_id)
        access.require_in(contact, department)
        data = await form_data(request)
        data.setdefault("active", "")  # an unticked checkbox is not sent
        try:
            await service.update_contact(access, contact_id, data)
        except ValidationFailed as exc:
            return page(
                "partners/contact_form.html",
                status=422,
                **department_context(access, department, "contacts"),
                contact=contact,
                values={**contact, **data},
                errors=exc.errors,
            )
        return redirect(request, f"/d/{department['code']}/partenaires/{contact['organisation']}", "Contact modifié.")


ROUTES: list[Any] = [PartnerPages, ContactPages]
