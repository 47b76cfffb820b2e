"""JSON API of partner organisations and contacts."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import Parameter

from coord.access import Scope
from coord.core.pagination import PageRequest, Paginated, paginated
from coord.partners import csv_io, service
from coord.partners.schemas import (
    ContactIn,
    ContactOut,
    ContactPatch,
    ImportReport,
    OrganisationIn,
    OrganisationOut,
    OrganisationPatch,
    to_dict,
)
from coord.web.params import IdQuery

Page = Annotated[int | None, Parameter(ge=1, le=100_000)]
PerPage = Annotated[int | None, Parameter(ge=1, le=200)]


class OrganisationApi(Controller):
    path = "/api/organisations"
    tags = ["Partenaires"]

    @get("/", summary="Liste des organisations partenaires (paginée, filtrable)")
    async def list(
        self,
        access: Scope,
        department: str | None = None,
        kind: str | None = None,
        q: str | None = None,
        page: Page = None,
        per_page: PerPage = None,
    ) -> Paginated:
        request = PageRequest.parse(page, per_page)
        items, total = await service.list_organisations(access, request, department=department, kind=kind, q=q)
        return paginated(items, total, request)

    @post("/", summary="Créer une organisation")
    async def create(self, access: Scope, data: OrganisationIn) -> OrganisationOut:
        return OrganisationOut(**await service.create_organisation(access, to_dict(data)))

    @get("/{organisation_id:int}", summary="Une organisation")
    async def read(self, access: Scope, organisation_id: int) -> OrganisationOut:
        return OrganisationOut(**await service.get_organisation(access, organisation_id))

    @patch("/{organisation_id:int}", summary="Modifier une organisation")
    async def update(self, access: Scope, organisation_id: int, data: OrganisationPatch) -> OrganisationOut:
        return OrganisationOut(**await service.update_organisation(access, organisation_id, to_dict(data)))

    @delete("/{organisation_id:int}", summary="Supprimer une organisation sans contacts")
    async def remove(self, access: Scope, organisation_id: int) -> None:
        await service.delete_organisation(access, organisation_id)

    @get("/export", summary="Export CSV des organisations et contacts d'un département", media_type="text/csv")
    async def export(self, access: Scope, department: str) -> Response[str]:
        dept = await access.department(department)
        text = await csv_io.export_partners(access, dept["id"])
        return Response(
            text,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="partenaires-{dept["code"]}.csv"'},
        )

    @post("/import", summary="Import CSV des organisations et contacts (corps text/csv)", status_code=200)
    async def import_csv(self, access: Scope, request: Request, department: str, dry_run: bool = False) -> ImportReport:
        """The request body is the CSV file itself (`Content-Type: text/csv`)."""
        dept = await access.department(department)
        body = await request.body()
        result = await csv_io.import_partners(access, dept["id"], csv_io.decode(body), dry_run=dry_run)
        return ImportReport(
            organisations_created=result.organisations_created,
            contacts_created=result.contacts_created,
            rejected=[{"line": r["line"], "reason": r["reason"]} for r in result.rejected],  # type: ignore[misc]
            dry_run=result.dry_run,
        )


class ContactApi(Controller):
    path = "/api/contacts"
    tags = ["Partenaires"]

    @get("/", summary="Liste des contacts (paginée, filtrable)")
    async def list(
        self,
        access: Scope,
        department: str | None = None,
        organisation: IdQuery = None,
        q: str | None = None,
        active: bool | None = None,
        page: Page = None,
        per_page: PerPage = None,
    ) -> Paginated:
        request = PageRequest.parse(page, per_page)
        items, total = await service.list_contacts(
            access, request, department=department, organisation=organisation, q=q, active=active
        )
        return paginated(items, total, request)

    @post("/", summary="Créer un contact")
    async def create(self, access: Scope, data: ContactIn) -> ContactOut:
        return ContactOut(**await service.create_contact(access, to_dict(data)))

    @get("/{contact_id:int}", summary="Un contact")
    async def read(self, access: Scope, contact_id: int) -> ContactOut:
        return ContactOut(**await service.get_contact(access, contact_id))

    @patch("/{contact_id:int}", summary="Modifier un contact")
    async def update(self, access: Scope, contact_id: int, data: ContactPatch) -> ContactOut:
        return ContactOut(**await service.update_contact(access, contact_id, to_dict(data)))

    @delete("/{contact_id:int}", summary="Supprimer un contact")
    async def remove(self, access: Scope, contact_id: int) -> None:
        await service.delete_contact(access, contact_id)


ROUTES: list[Any] = [OrganisationApi, ContactApi]
