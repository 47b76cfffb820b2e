"""Calendar pages: the subscription links of a département (`/d/{code}/calendriers`: list, create,
revoke)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Template

from coord.access import DepartmentRow, Scope
from coord.calendar import feeds
from coord.committees.tables import Committee
from coord.core.errors import ValidationFailed
from coord.partners.tables import Contact
from coord.web.forms import department_context, form_data, page, redirect


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


ROUTES: list[Any] = [feeds_page, feeds_create, feeds_revoke]
