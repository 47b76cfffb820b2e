"""The notifications of the calling account, JSON API (`/api/notifications`)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, get, post, put
from litestar.params import Parameter

from coord.access import Scope
from coord.core.pagination import PageRequest, Paginated, paginated
from coord.notifications import service
from coord.notifications.kinds import CHANNELS, KIND_LABELS
from coord.notifications.schemas import MarkAllIn, MarkedOut, NotificationOut, PreferencesIn, PreferencesOut, UnreadOut

FIELDS = NotificationOut.__struct_fields__


def _out(row: dict[str, Any]) -> NotificationOut:
    return NotificationOut(**{k: row[k] for k in FIELDS})


class NotificationsApi(Controller):
    path = "/api/notifications"
    tags = ["Notifications"]

    @get("/", summary="Mes notifications (les non lues d'abord)")
    async def list(
        self,
        access: Scope,
        unread_only: bool = False,
        page: Annotated[int | None, Parameter(ge=1, le=100_000)] = None,
        per_page: Annotated[int | None, Parameter(ge=1, le=200)] = None,
    ) -> Paginated:
        request_page = PageRequest.parse(page, per_page)
        rows, total = await service.listing(access, request_page, unread_only=unread_only)
        return paginated([_out(r) for r in rows], total, request_page)

    @get("/unread-count", summary="Nombre de notifications non lues")
    async def unread(self, access: Scope) -> UnreadOut:
        return UnreadOut(unread=await service.unread_count(service.account_id(access)))

    @get("/{notification_id:int}", summary="Une notification")
    async def read(self, access: Scope, notification_id: int) -> NotificationOut:
        return _out(await service.get(access, notification_id))

    @post("/{notification_id:int}/read", summary="Marquer une notification comme lue", status_code=200)
    async def mark_read(self, access: Scope, notification_id: int) -> NotificationOut:
        return _out(await service.mark_read(access, notification_id))

    @post(
        "/read-all",
        summary="Tout marquer comme lu",
        description="`up_to` : l'identifiant de la plus récente notification vue ; "
        "celles arrivées depuis restent non lues.",
        status_code=200,
    )
    async def mark_all(self, access: Scope, data: MarkAllIn) -> MarkedOut:
        return MarkedOut(marked=await service.mark_all_read(access, data.up_to))

    @get("/preferences", summary="Mes choix : dans Coord seulement (app) ou aussi dans le courriel quotidien (digest)")
    async def preferences(self, access: Scope) -> PreferencesOut:
        return PreferencesOut(choices=await service.preferences(access), kinds=KIND_LABELS, channels=CHANNELS)

    @put("/preferences", summary="Changer mes choix, pour chaque type de notification")
    async def save_preferences(self, access: Scope, data: PreferencesIn) -> PreferencesOut:
        choices = await service.save_preferences(access, dict(data.choices))
        return PreferencesOut(choices=choices, kinds=KIND_LABELS, channels=CHANNELS)


ROUTES: list[Any] = [NotificationsApi]
