"""Calendar JSON API: iMIP REPLY upload (`POST /api/imip/replies`) and the management of subscription
feeds (`GET|POST /api/feeds`, `DELETE /api/feeds/{feed_id}`)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, delete, get, post

from coord.access import Scope
from coord.access.roles import Permission
from coord.calendar import feeds
from coord.calendar.ingest import MAX_MESSAGE_BYTES, ingest_reply
from coord.calendar.schemas import FeedCreated, FeedIn, FeedOut, ReplyOut
from coord.core.errors import Forbidden

# -- iMIP replies ----------------------------------------------------------------------------


@post(
    "/api/imip/replies",
    tags=["Calendrier"],
    summary="Déposer une réponse de calendrier (iMIP REPLY : .ics ou courriel complet)",
    description=(
        "Corps `text/calendar` (le fichier .ics) ou `message/rfc822` (le courriel entier). "
        "200 si la réponse est appliquée ou ignorée (réponse périmée), 422 si elle est refusée, "
        "413 au-delà d'1 Mo, 404 si la réunion n'est pas de votre département."
    ),
    status_code=200,
    request_max_body_size=MAX_MESSAGE_BYTES,
)
async def upload_reply(access: Scope, request: Request) -> Response[ReplyOut]:
    if not access.principal.can(Permission.MANAGE):
        raise Forbidden()
    body = await request.body()
    if len(body) > MAX_MESSAGE_BYTES:
        return Response(ReplyOut("rejected", "Message trop volumineux (1 Mo au plus).", None), status_code=413)
    result = await ingest_reply(body, source="api", scope=access)
    status = 422 if result.status == "rejected" else 200
    return Response(ReplyOut(result.status, result.reason_fr, result.invitation_id), status_code=status)


# -- feeds: management API -------------------------------------------------------------------


def _feed_out(link: feeds.FeedLinkInfo) -> FeedOut:
    return FeedOut(
        id=link.id,
        kind=link.kind,
        target_id=link.target_id,
        label=link.label,
        url=link.url,
        webcal_url=link.webcal_url,
        created_at=link.created_at.isoformat(),
        last_used_at=link.last_used_at.isoformat() if link.last_used_at else None,
    )


@get("/api/feeds", tags=["Calendrier"], summary="Liens d'abonnement aux calendriers d'un département")
async def list_feeds(access: Scope, department: str) -> list[FeedOut]:
    dept = await access.department(department)
    return [_feed_out(link) for link in await feeds.list_feed_links(access, dept["id"])]


@post("/api/feeds", tags=["Calendrier"], summary="Créer un lien d'abonnement (département, instance ou contact)")
async def create_feed(access: Scope, data: FeedIn) -> FeedCreated:
    link = await feeds.create_feed_link(access, data.kind, data.target_id)
    return FeedCreated(id=link.id, url=link.url, webcal_url=link.webcal_url)


@delete(
    "/api/feeds/{feed_id:int}",
    tags=["Calendrier"],
    summary="Révoquer un lien d'abonnement",
    description="L'adresse du calendrier répond ensuite 410 (Gone) : les applications cessent de l'interroger.",
)
async def revoke_feed(access: Scope, feed_id: int) -> None:
    await feeds.revoke_feed_link(access, feed_id)


ROUTES: list[Any] = [upload_reply, list_feeds, create_feed, revoke_feed]
