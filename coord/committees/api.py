"""JSON API of committees and their members."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, delete, get, patch, post
from litestar.params import Parameter

from coord.access import Scope
from coord.committees import service
from coord.committees.schemas import CommitteeIn, CommitteeOut, CommitteePatch, MemberIn, MemberOut, MemberPatch
from coord.core.pagination import PageRequest, Paginated, paginated
from coord.partners.schemas import to_dict

Page = Annotated[int | None, Parameter(ge=1, le=100_000)]
PerPage = Annotated[int | None, Parameter(ge=1, le=200)]


class CommitteeApi(Controller):
    path = "/api/committees"
    tags = ["Instances"]

    @get("/", summary="Instances (paginées, filtrables par département, type, état, nom)")
    async def list(
        self,
        access: Scope,
        department: str | None = None,
        kind: str | None = None,
        active: bool | None = None,
        q: str | None = None,
        page: Page = None,
        per_page: PerPage = None,
    ) -> Paginated:
        request = PageRequest.parse(page, per_page)
        items, total = await service.list_committees(
            access, request, department=department, kind=kind, active=active, q=q
        )
        return paginated(items, total, request)

    @post("/", summary="Créer une instance")
    async def create(self, access: Scope, data: CommitteeIn) -> CommitteeOut:
        return CommitteeOut(**await service.create_committee(access, to_dict(data)))

    @get("/{committee_id:int}", summary="Une instance")
    async def read(self, access: Scope, committee_id: int) -> CommitteeOut:
        return CommitteeOut(**await service.get_committee(access, committee_id))

    @patch("/{committee_id:int}", summary="Modifier une instance")
    async def update(self, access: Scope, committee_id: int, data: CommitteePatch) -> CommitteeOut:
        return CommitteeOut(**await service.update_committee(access, committee_id, to_dict(data)))

    @delete("/{committee_id:int}", summary="Supprimer une instance sans réunions")
    async def remove(self, access: Scope, committee_id: int) -> None:
        await service.delete_committee(access, committee_id)

    @get("/{committee_id:int}/members", summary="Membres d'une instance")
    async def members(self, access: Scope, committee_id: int) -> list[MemberOut]:
        return [MemberOut(**m) for m in await service.list_members(access, committee_id)]

    @post("/{committee_id:int}/members", summary="Ajouter un membre")
    async def add_member(self, access: Scope, committee_id: int, data: MemberIn) -> MemberOut:
        return MemberOut(**await service.add_member(access, committee_id, to_dict(data)))

    @patch("/{committee_id:int}/members/{member_id:int}", summary="Changer le rôle d'un membre")
    async def update_member(self, access: Scope, committee_id: int, member_id: int, data: MemberPatch) -> MemberOut:
        return MemberOut(**await service.update_member(access, committee_id, member_id, to_dict(data)))

    @delete("/{committee_id:int}/members/{member_id:int}", summary="Retirer un membre")
    async def remove_member(self, access: Scope, committee_id: int, member_id: int) -> None:
        await service.remove_member(access, committee_id, member_id)


ROUTES: list[Any] = [CommitteeApi]
