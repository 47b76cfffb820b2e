"""Calendar routes: iMIP REPLY upload (API), subscription feeds (public .ics, management API and page).

- `API_ROUTES`: `POST /api/imip/replies`, `GET|POST /api/feeds`, `DELETE /api/feeds/{feed_id}`.
- `PAGE_ROUTES`: `/d/{code}/calendriers` (list, create, revoke).
- `PUBLIC_ROUTES`: `GET /r/calendrier/{token}.ics` (no login: the token is the credential).
"""

from __future__ import annotations

import hashlib
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

import msgspec
from litestar import Request, Response, delete, get, post
from litestar.response import Template

from coord.access import DepartmentRow, Scope
from coord.access.roles import Permission
from coord.calendar import feeds
from coord.calendar.ingest import MAX_MESSAGE_BYTES, ingest_reply
from coord.committees.tables import Committee
from coord.core.errors import Forbidden, NotFound, ValidationFailed
from coord.core.validation import Id
from coord.partners.tables import Contact
from coord.web.forms import department_context, form_data, page, redirect

# -- iMIP replies ----------------------------------------------------------------------------


class ReplyOut(msgspec.Struct):
    status: str  # applied | ignored | rejected
    reason: str
    invitation_id: int | None


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


class FeedIn(msgspec.Struct):
    kind: str  # department | committee | contact
    target_id: Id


class FeedCreated(msgspec.Struct):
    id: int
    url: str
    webcal_url: str


class FeedOut(msgspec.Struct):
    id: int
    kind: str
    target_id: int
    label: str
    url: str
    webcal_url: str
    created_at: str
    last_used_at: str | None


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


@delete("/api/feeds/{feed_id:int}", tags=["Calendrier"], summary="Révoquer un lien d'abonnement")
async def revoke_feed(access: Scope, feed_id: int) -> None:
    await feeds.revoke_feed_link(access, feed_id)


# -- feeds: public .ics ----------------------------------------------------------------------

CACHE_CONTROL = "private, max-age=900"


def _etag_matches(header: str, etag: str) -> bool:
    """If-None-Match uses the weak comparison (RFC 9110 §13.1.2)."""
    if header.strip() == "*":
        return True
    opaque = etag.removeprefix("W/")
    return any(candidate.strip().removeprefix("W/") == opaque for candidate in header.split(","))


def _not_modified_since(header: str, document: feeds.FeedDocument) -> bool:
    try:
        since = parsedate_to_datetime(header)
    except (TypeError, ValueError, IndexError):
        return False
    if since is None or since.tzinfo is None:
        return False
    return document.last_modified <= since


@get(
    "/r/calendrier/{token:str}",
    opt={"exclude_from_auth": True},
    include_in_schema=False,
    media_type="text/calendar",
)
async def feed_ics(token: str, request: Request) -> Response[bytes]:
    """The subscription feed. Unknown, malformed and revoked tokens all answer 404."""
    if not token.endswith(".ics"):
        raise NotFound()
    document = await feeds.feed_for_token(token)
    headers = {
        "ETag": document.etag,
        "Last-Modified": format_datetime(document.last_modified, usegmt=True),
        "Cache-Control": CACHE_CONTROL,
        "X-Content-Type-Options": "nosniff",
    }
    if_none_match = request.headers.get("if-none-match")
    if_modified_since = request.headers.get("if-modified-since")
    # If-None-Match wins when both are sent (RFC 9110 §13.2.2).
    if (if_none_match is not None and _etag_matches(if_none_match, document.etag)) or (
        if_none_match is None and if_modified_since and _not_modified_since(if_modified_since, document)
    ):
        return Response(b"", status_code=304, headers=headers, media_type="text/calendar")
    filename = "coord-" + hashlib.sha256(document.name.encode()).hexdigest()[:8] + ".ics"
    headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return Response(document.body, headers=headers, media_type="text/calendar")


# -- feeds: page -----------------------------------------------------------------------------


async def _page_context(access: Scope, department: dict[str, Any]) -> dict[str, Any]:
    context = department_context(access, department, "calendars")
    links_ = await feeds.list_feed_links(access, department["id"]) if context["can_manage"] else []
    scope = access.within(department)
    committees = await scope.select(Committee, Committee.id, Committee.name).order_by(Committee.name)
    contacts = (
        await scope.select(Contact, Contact.id, Contact.first_name, Contact.last_name)
        .where(Contact.active.eq(True))
        .order_by(Contact.last_name)
        .order_by(Contact.first_name)
        .limit(1000)
        if context["can_manage"]
        else []
    )
    by_kind: dict[str, list[feeds.FeedLinkInfo]] = {"department": [], "committee": [], "contact": []}
    for link in links_:
        by_kind[link.kind].append(link)
    committee_links: dict[int, list[feeds.FeedLinkInfo]] = {}
    for link in by_kind["committee"]:
        committee_links.setdefault(link.target_id, []).append(link)
    return {
        **context,
        "department_links": by_kind["department"],
        "committee_links": committee_links,
        "contact_links": by_kind["contact"],
        "committees": committees,
        "contacts": contacts,
    }


@get("/d/{code:str}/calendriers", name="calendars.list")
async def feeds_page(access: Scope, department: DepartmentRow) -> Template:
    return page("calendar/feeds.html", **await _page_context(access, department), errors={})


@post("/d/{code:str}/calendriers")
async def feeds_create(access: Scope, department: DepartmentRow, code: str, request: Request) -> Response:
    data = await form_data(request)
    kind = str(data.get("kind", ""))
    raw_target = str(data.get("target_id", "")).strip()
    target_id: int | None = department["id"] if kind == "department" else None
    if kind != "department":
        target_id = int(raw_target) if raw_target.isdigit() and len(raw_target) <= 10 else None
    try:
        if target_id is None:
            raise ValidationFailed({"target_id": "Choisissez une instance ou un contact."})
        # Read within this page's département: a record of another one is not found (404), so the
        # form never creates a link to it.
        await feeds.feed_target(access.within(department), kind, target_id)
        link = await feeds.create_feed_link(access, kind, target_id)
    except ValidationFailed as exc:
        return page("calendar/feeds.html", status=422, **await _page_context(access, department), errors=exc.errors)
    return redirect(
        request,
        f"/d/{department['code']}/calendriers#lien-{link.id}",
        f"Lien d'abonnement créé pour « {link.label} ».",
    )


@post("/d/{code:str}/calendriers/{feed_id:int}/revoquer")
async def feeds_revoke(access: Scope, department: DepartmentRow, code: str, feed_id: int, request: Request) -> Response:
    access.require_in(await access.get(feeds.PartnerLink, feed_id), department)
    await feeds.revoke_feed_link(access, feed_id)
    return redirect(request, f"/d/{department['code']}/calendriers", "Lien d'abonnement révoqué.")


API_ROUTES: list[Any] = [upload_reply, list_feeds, create_feed, revoke_feed]
PAGE_ROUTES: list[Any] = [feeds_page, feeds_create, feeds_revoke]
PUBLIC_ROUTES: list[Any] = [feed_ics]
