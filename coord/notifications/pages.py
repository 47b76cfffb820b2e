"""The notification centre: `/notifications` (unread first, « Tout marquer comme lu »), following one
(`/notifications/{id}`: marked read, then on to the page where to act), and the choice per kind
(`/notifications/preferences`)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.response import Redirect, Template

from coord.access import Scope
from coord.core.errors import ValidationFailed
from coord.core.pagination import PageRequest
from coord.notifications import service
from coord.notifications.kinds import CHANNELS, KIND_LABELS
from coord.web.forms import form_data, page, redirect


def _safe_target(link: str) -> str:
    """Only a path of Coord (a stored link is ours, but a redirect must never leave the site)."""
    return link if link.startswith("/") and not link.startswith("//") else "/notifications"


async def _listing_page(
    access: Scope, request: Request, *, errors: dict[str, str] | None = None, status: int = 200
) -> Template:
    unread_only = request.query_params.get("non_lues") == "1"
    try:
        pager = PageRequest.parse(request.query_params.get("page"), None, default_per_page=30)
    except ValidationFailed:
        pager = PageRequest(per_page=30)
    rows, total = await service.listing(access, pager, unread_only=unread_only)
    return page(
        "notifications/list.html",
        status=status,
        section="notifications",
        notifications=rows,
        total=total,
        unread=await service.unread_count(service.account_id(access)),
        newest_unread=await service.newest_unread(access),
        unread_only=unread_only,
        pager=pager,
        filters={"non_lues": "1"} if unread_only else {},
        errors=errors or {},
    )


class NotificationPages(Controller):
    path = "/notifications"

    @get("/")
    async def list(self, access: Scope, request: Request) -> Template:
        return await _listing_page(access, request)

    @post("/tout-lu")
    async def mark_all(self, access: Scope, request: Request) -> Response:
        try:
            count = await service.mark_all_read(access, (await form_data(request)).get("jusqu_a"))
        except ValidationFailed as exc:
            return await _listing_page(access, request, errors={"form": exc.errors["jusqu_a"]}, status=422)
        plural = "s" if count > 1 else ""
        message = (
            f"{count} notification{plural} marquée{plural} comme lue{plural}."
            if count
            else "Aucune notification non lue."
        )
        return redirect(request, "/notifications", message)

    @get("/{notification_id:int}")
    async def follow(self, access: Scope, notification_id: int) -> Redirect:
        """Opening a notification (from the list or the digest) marks it read and leads to the page."""
        row = await service.mark_read(access, notification_id)
        return Redirect(path=_safe_target(row["link"]), status_code=303)

    @post("/{notification_id:int}/lu")
    async def mark_one(self, access: Scope, request: Request, notification_id: int) -> Response:
        await service.mark_read(access, notification_id)
        return redirect(request, "/notifications", "Notification marquée comme lue.")

    @get("/preferences")
    async def preferences(self, access: Scope) -> Template:
        return self._form(await service.preferences(access))

    @post("/preferences")
    async def save_preferences(self, access: Scope, request: Request) -> Response:
        data = await form_data(request)
        try:
            await service.save_preferences(access, data)
        except ValidationFailed as exc:
            return self._form({k: str(data.get(k) or "") for k in KIND_LABELS}, errors=exc.errors, status=422)
        return redirect(request, "/notifications/preferences", "Vos choix sont enregistrés.")

    def _form(self, values: dict[str, str], *, errors: dict[str, str] | None = None, status: int = 200) -> Template:
        return page(
            "notifications/preferences.html",
            status=status,
            section="notifications",
            kinds=KIND_LABELS,
            channels=CHANNELS,
            values=values,
            errors=errors or {},
        )


ROUTES: list[Any] = [NotificationPages]
