"""JSON API of pilot sites: départements designated by a national plan to pilot a scheme."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, delete, get, patch, post
from litestar.params import Parameter

from coord.access import Scope
from coord.core.pagination import PageRequest, Paginated, paginated
from coord.partners.schemas import to_dict
from coord.pilot_sites import service
from coord.pilot_sites.schemas import PilotSiteIn, PilotSiteOut, PilotSitePatch

Page = Annotated[int | None, Parameter(ge=1, le=100_000)]
PerPage = Annotated[int | None, Parameter(ge=1, le=200)]


class PilotSiteApi(Controller):
    path = "/api/pilot-sites"
    tags = ["Territoires"]

    @get("/", summary="Sites pilotes (paginés, filtrables par département, plan, dispositif, état)")
    async def list(
        self,
        access: Scope,
        department: str | None = None,
        plan: str | None = None,
        scheme: str | None = None,
        status: str | None = None,
        page: Page = None,
        per_page: PerPage = None,
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


ROUTES: list[Any] = [PilotSiteApi]
