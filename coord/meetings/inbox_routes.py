"""Pages and JSON API of the mails received about a meeting (`coord.meetings.inbox`): replies to
check, proposals of another time, messages.

Pages (CSRF-protected forms) under `/d/{code}/reunions/{meeting_id}/courriers`; the meeting page
shows the same list through the partial `templates/meetings/_inbox.html`, whose forms say with
`retour=reunion` that the agent goes back to the meeting page. API under
`/api/meetings/{meeting_id}/inbox`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.response import Template

from coord.access import DepartmentRow, Scope
from coord.core.errors import CoordError, Forbidden, ValidationFailed
from coord.core.validation import DbInt
from coord.meetings import inbox, service
from coord.web.forms import department_context, form_data, page, redirect

SECTION = "meetings"
Unset = msgspec.UnsetType
UNSET = msgspec.UNSET

# -- API bodies -----------------------------------------------------------------------------------


class InboxItemOut(msgspec.Struct):
    id: int
    meeting: int
    invitation: int | None
    kind: str  # reply | counter | message
    kind_label: str
    status: str  # pending | new | accepted | ignored | rejected | declined | archived
    status_label: str
    verified: bool
    automatic: bool
    sender: str
    sender_name: str
    envelope_sender: str
    subject: str
    sent_at: dt.datetime | None
    received_at: dt.datetime
    body: str
    note: str
    attendee_name: str
    attendee_email: str
    partstat: str
    sequence: int | None
    comment: str
    proposed_start: dt.datetime | None
    proposed_end: dt.datetime | None
    proposed_location: str
    proposal_day_off: str  # "week-end" or a public holiday: accepting needs `confirm_day`
    decided_at: dt.datetime | None
    decided_by: str
    decision_note: str


class InboxItemsOut(msgspec.Struct):
    items: list[InboxItemOut]


class InboxDecisionIn(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """`version`: the meeting's version the agent saw (accepting a proposal moves the meeting), with
    `confirm_day` for a weekend or a public holiday; `comment`: a word for the attendee (declining a
    proposal) or a note (rejecting a reply)."""

    version: DbInt | Unset = UNSET
    confirm_day: bool | Unset = UNSET
    comment: str | Unset = UNSET


def _out(item: Mapping[str, Any]) -> InboxItemOut:
    return InboxItemOut(**{f: item[f] for f in InboxItemOut.__struct_fields__})


def _data(body: InboxDecisionIn | None) -> dict[str, Any]:
    if body is None:
        return {}
    return {k: v for k, v in msgspec.structs.asdict(body).items() if v is not UNSET}


class InboxApi(Controller):
    path = "/api/meetings/{meeting_id:int}/inbox"
    tags = ["Réunions"]

    @get("/", summary="Courriers reçus : réponses à vérifier, propositions d'horaire, messages")
    async def list(self, access: Scope, meeting_id: int) -> InboxItemsOut:
        return InboxItemsOut(items=[_out(i) for i in await inbox.list_items(access, meeting_id)])

    @post("/{item_id:int}/accept", status_code=200, summary="Accepter une réponse à vérifier ou une proposition")
    async def accept(
        self, access: Scope, meeting_id: int, item_id: int, data: InboxDecisionIn | None = None
    ) -> InboxItemOut:
        return _out(await inbox.accept(access, meeting_id, item_id, _data(data)))

    @post("/{item_id:int}/reject", status_code=200, summary="Rejeter une réponse à vérifier")
    async def reject(
        self, access: Scope, meeting_id: int, item_id: int, data: InboxDecisionIn | None = None
    ) -> InboxItemOut:
        return _out(await inbox.reject(access, meeting_id, item_id, _data(data)))

    @post("/{item_id:int}/decline", status_code=200, summary="Décliner une proposition (DECLINECOUNTER envoyé)")
    async def decline(
        self, access: Scope, meeting_id: int, item_id: int, data: InboxDecisionIn | None = None
    ) -> InboxItemOut:
        return _out(await inbox.decline(access, meeting_id, item_id, _data(data)))

    @post("/{item_id:int}/archive", status_code=200, summary="Classer un message traité")
    async def archive(self, access: Scope, meeting_id: int, item_id: int) -> InboxItemOut:
        return _out(await inbox.archive(access, meeting_id, item_id))


# -- pages ----------------------------------------------------------------------------------------

PAGE = "/d/{code:str}/reunions/{meeting_id:int}/courriers"


async def _meeting_in(access: Scope, department: DepartmentRow, meeting_id: int) -> dict[str, Any]:
    meeting = await service.get_meeting(access, meeting_id)
    access.require_in(meeting, department)
    return meeting


def _back(department: DepartmentRow, meeting_id: int, data: Mapping[str, Any]) -> str:
    """Back to the meeting page when the form was on it, else to the list of received mails."""
    meeting_page = f"/d/{department['code']}/reunions/{meeting_id}"
    return f"{meeting_page}#courriers" if data.get("retour") == "reunion" else f"{meeting_page}/courriers"


@get(PAGE, name="meetings.inbox")
async def inbox_page(access: Scope, department: DepartmentRow, meeting_id: int) -> Template:
    meeting = await _meeting_in(access, department, meeting_id)
    context = department_context(access, department, SECTION)
    if not context["can_manage"]:
        raise Forbidden()
    return page(
        "meetings/inbox.html",
        **context,
        meeting=meeting,
        inbox_items=await inbox.items_for(access, meeting_id),
        inbox_page=True,
    )


Decision = Callable[[Scope, int, int, dict[str, Any]], Awaitable[dict[str, Any]]]
DONE = {
    "accept": "Élément accepté.",
    "reject": "Réponse rejetée : la réponse de l'invité n'a pas changé.",
    "decline": "Proposition déclinée : l'invité en est informé.",
    "archive": "Message classé.",
}


async def _archive(scope: Scope, meeting_id: int, item_id: int, data: dict[str, Any]) -> dict[str, Any]:
    return await inbox.archive(scope, meeting_id, item_id)


DECISIONS: dict[str, Decision] = {
    "accept": inbox.accept,
    "reject": inbox.reject,
    "decline": inbox.decline,
    "archive": _archive,
}


def _accepted_message(item: Mapping[str, Any]) -> str:
    if item["kind"] == "counter":
        return "Proposition acceptée : la réunion est déplacée et chaque invité en est prévenu."
    if item["status"] == "ignored":
        return f"Réponse acceptée mais non prise en compte : {item['decision_note']}"
    return "Réponse acceptée : la réponse de l'invité est enregistrée."


async def _decide(
    access: Scope, department: DepartmentRow, meeting_id: int, item_id: int, request: Request, action: str
) -> Response:
    await _meeting_in(access, department, meeting_id)
    data = await form_data(request)
    back = _back(department, meeting_id, data)
    try:
        item = await DECISIONS[action](access, meeting_id, item_id, data)
    except Forbidden:
        raise  # the role may not do this: a 403 page
    except CoordError as exc:
        message = exc.message
        if isinstance(exc, ValidationFailed):
            message = " ".join([exc.message, *exc.errors.values()])
        return redirect(request, back, message, category="error")
    return redirect(request, back, _accepted_message(item) if action == "accept" else DONE[action])


@post(f"{PAGE}/{{item_id:int}}/accepter")
async def accept_item(
    access: Scope, department: DepartmentRow, meeting_id: int, item_id: int, request: Request
) -> Response:
    return await _decide(access, department, meeting_id, item_id, request, "accept")


@post(f"{PAGE}/{{item_id:int}}/rejeter")
async def reject_item(
    access: Scope, department: DepartmentRow, meeting_id: int, item_id: int, request: Request
) -> Response:
    return await _decide(access, department, meeting_id, item_id, request, "reject")


@post(f"{PAGE}/{{item_id:int}}/decliner")
async def decline_item(
    access: Scope, department: DepartmentRow, meeting_id: int, item_id: int, request: Request
) -> Response:
    return await _decide(access, department, meeting_id, item_id, request, "decline")


@post(f"{PAGE}/{{item_id:int}}/classer")
async def archive_item(
    access: Scope, department: DepartmentRow, meeting_id: int, item_id: int, request: Request
) -> Response:
    return await _decide(access, department, meeting_id, item_id, request, "archive")


PAGE_ROUTES: list[Any] = [inbox_page, accept_item, reject_item, decline_item, archive_item]
API_ROUTES: list[Any] = [InboxApi]
ROUTES: list[Any] = [*PAGE_ROUTES, *API_ROUTES]
