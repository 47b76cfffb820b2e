"""JSON API of action items."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import Parameter

from coord.access import Scope
from coord.actions import board, exports, partner, service
from coord.actions import feed as _feed  # noqa: F401 (registers the due dates in the calendar feeds)
from coord.actions.schemas import (
    ActionIn,
    ActionOut,
    ActionPatch,
    CommentIn,
    EventOut,
    FromDecisionsIn,
    LinkOut,
    TransitionIn,
)
from coord.core import clock
from coord.core.pagination import PageRequest, Paginated, paginated
from coord.partners.schemas import to_dict

Page = Annotated[int | None, Parameter(ge=1, le=100_000)]
PerPage = Annotated[int | None, Parameter(ge=1, le=200)]
FILTERS_DOC = (
    "Filtres : department, status (ou « ouvertes », « fermees »), owner_organisation, committee, measure, "
    "due_from, due_to (AAAA-MM-JJ), overdue=1, tag (une étiquette) ; "
    "tri : sort (echeance, -echeance, creation, -creation, titre, statut)"
)


class ActionApi(Controller):
    path = "/api/actions"
    tags = ["Actions"]

    @get("/", summary="Actions (paginées, filtrables)", description=FILTERS_DOC)
    async def list(self, access: Scope, request: Request, page: Page = None, per_page: PerPage = None) -> Paginated:
        pager = PageRequest.parse(page, per_page)
        items, total = await board.list_items(access, pager, board.Filters.parse(request.query_params))
        return paginated([ActionOut(**i) for i in items], total, pager)

    @get("/export.csv", summary="Export CSV de la liste filtrée", description=FILTERS_DOC)
    async def export_csv(self, access: Scope, request: Request) -> Response:
        items, _ = await board.list_items(access, None, board.Filters.parse(request.query_params))
        return Response(
            exports.to_csv(items),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="actions.csv"'},
        )

    @get("/export.xlsx", summary="Export XLSX de la liste filtrée", description=FILTERS_DOC)
    async def export_xlsx(self, access: Scope, request: Request) -> Response:
        items, _ = await board.list_items(access, None, board.Filters.parse(request.query_params))
        return Response(
            exports.to_xlsx(items),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": 'attachment; filename="actions.xlsx"'},
        )

    @get(
        "/national",
        summary="Avancement par département et par mesure du plan",
        description="`since`: première année comptée (actions créées depuis le 1er janvier), ou `tout` ; "
        "par défaut, le début du plan national en vigueur.",
    )
    async def national(self, access: Scope, since: str | None = None) -> dict[str, Any]:
        year = board.read_since(since, await board.plan_periods(), clock.local_today("Europe/Paris"))
        return await board.national(access, year)

    @post("/", summary="Créer une action")
    async def create(self, access: Scope, data: ActionIn) -> ActionOut:
        return ActionOut(**await service.create_item(access, to_dict(data)))

    @post("/from-decisions/{meeting_id:int}", summary="Créer une action par décision d'une réunion")
    async def from_decisions(self, access: Scope, meeting_id: int, data: FromDecisionsIn) -> list[ActionOut]:
        return [ActionOut(**i) for i in await service.create_from_decisions(access, meeting_id, data.service_data())]

    @get("/{action_id:int}", summary="Une action")
    async def read(self, access: Scope, action_id: int) -> ActionOut:
        return ActionOut(**await service.get_item(access, action_id))

    @patch("/{action_id:int}", summary="Modifier une action (le statut change par une transition)")
    async def update(self, access: Scope, action_id: int, data: ActionPatch) -> ActionOut:
        return ActionOut(**await service.update_item(access, action_id, to_dict(data)))

    @post("/{action_id:int}/transition", summary="Changer le statut (reopen=true pour rouvrir)", status_code=200)
    async def transition(self, access: Scope, action_id: int, data: TransitionIn) -> ActionOut:
        return ActionOut(**await service.transition(access, action_id, to_dict(data)))

    @get("/{action_id:int}/history", summary="Historique : modifications et commentaires")
    async def history(self, access: Scope, action_id: int) -> list[EventOut]:
        return [EventOut(**e) for e in await service.history(access, action_id)]

    @post("/{action_id:int}/comments", summary="Ajouter un commentaire")
    async def comment(self, access: Scope, action_id: int, data: CommentIn) -> list[EventOut]:
        return [EventOut(**e) for e in await service.comment(access, action_id, to_dict(data))]

    @post("/{action_id:int}/link", summary="Lien signé pour le contact responsable (30 jours)")
    async def link(self, access: Scope, action_id: int) -> LinkOut:
        return LinkOut(**await partner.issue_link(access, action_id))

    @delete("/{action_id:int}/link", summary="Révoquer les liens de l'action", status_code=200)
    async def revoke(self, access: Scope, action_id: int) -> dict[str, int]:
        return {"revoked": await partner.revoke_links(access, action_id)}


ROUTES: list[Any] = [ActionApi]
