"""Agent pages of a meeting's date poll (/d/{code}/reunions/{id}/sondage…) and the invitee's answer
page behind a signed link (/r/sondage/{token})."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, Response, get, post
from litestar.response import Template

from coord.access import DepartmentRow, Scope
from coord.core import clock
from coord.core.errors import Conflict, CoordError, Forbidden, NotFound, ValidationFailed
from coord.links import service as links
from coord.links.pages import invalid_page
from coord.meetings import service as meetings
from coord.meetings.seams import Panel
from coord.polls import service
from coord.polls.suggestions import suggest
from coord.web.forms import department_context, form_data, page, redirect

SECTION = "meetings"
BLANK_ROWS = 5


def _url(department: dict[str, Any], meeting_id: int, suffix: str = "") -> str:
    return f"/d/{department['code']}/reunions/{meeting_id}{suffix}"


async def _meeting_in(access: Scope, department: dict[str, Any], meeting_id: int) -> dict[str, Any]:
    meeting = await meetings.get_meeting(access, meeting_id)
    access.require_in(meeting, department)
    return meeting


async def _form(
    access: Scope,
    department: dict[str, Any],
    meeting: dict[str, Any],
    values: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
) -> Template:
    tz = department["timezone"]
    now = clock.now()
    default_deadline = now + dt.timedelta(days=7)
    deadline_local = default_deadline.astimezone(ZoneInfo(tz))
    values = {
        "deadline_date": deadline_local.date().isoformat(),
        "deadline_time": "18:00",
        "reminder_days": "2",
        **values,
    }
    try:
        typed = dt.datetime.combine(dt.date.fromisoformat(str(values["deadline_date"])), dt.time(18, 0), ZoneInfo(tz))
    except ValueError:
        typed = default_deadline
    local_start = meeting["local_start"]
    proposed = await suggest(
        committee_id=meeting["committee"],
        exclude_meeting=meeting["id"],
        deadline=max(typed, now),
        tz=tz,
        subdivision=department.get("holiday_subdivision"),
        at=local_start.time() if local_start else dt.time(14, 0),
    )
    invitees = await service.invitee_choices(meeting["id"], department["id"])
    return page(
        "polls/new.html",
        status=status,
        **department_context(access, department, SECTION),
        meeting=meeting,
        values=values,
        errors=errors,
        suggestions=proposed,
        invitees=invitees,
        rows=range(BLANK_ROWS),
        duration=meeting["duration_minutes"] or 120,
        tz=tz,
    )


class PollPages(Controller):
    path = "/d/{code:str}/reunions/{meeting_id:int}/sondage"

    @get("/nouveau")
    async def new(self, access: Scope, department: DepartmentRow, meeting_id: int) -> Template | Response:
        meeting = await _meeting_in(access, department, meeting_id)
        return await _form(access, department, meeting, {}, {})

    @post("/nouveau")
    async def create(self, access: Scope, department: DepartmentRow, meeting_id: int, request: Request) -> Any:
        meeting = await _meeting_in(access, department, meeting_id)
        data = await form_data(request)
        try:
            poll = await service.create_poll(access, meeting_id, data)
        except ValidationFailed as exc:
            return await _form(access, department, meeting, data, exc.errors, status=422)
        except Forbidden:
            raise
        except Conflict as exc:
            return redirect(request, _url(department, meeting_id), exc.message, category="error")
        return redirect(
            request,
            _url(department, meeting_id, f"/sondage/{poll['id']}"),
            "Sondage lancé : chaque invité reçoit un courriel avec son lien de réponse.",
        )

    @get("/{poll_id:int}")
    async def table(self, access: Scope, department: DepartmentRow, meeting_id: int, poll_id: int) -> Template:
        meeting = await _meeting_in(access, department, meeting_id)
        view = await service.board(access, poll_id)
        if view["poll"]["meeting"] != meeting["id"]:
            raise NotFound()
        return page(
            "polls/table.html",
            **department_context(access, department, SECTION),
            tz=department["timezone"],
            answers=service.ANSWERS,
            **view,
        )

    @post("/{poll_id:int}/retenir")
    async def choose(
        self, access: Scope, department: DepartmentRow, meeting_id: int, poll_id: int, request: Request
    ) -> Response:
        await _meeting_in(access, department, meeting_id)
        data = await form_data(request)
        announce = data.get("mode") == "annoncer"
        try:
            await service.choose(access, meeting_id, poll_id, data.get("slot"), announce=announce)
        except Forbidden:
            raise
        except CoordError as exc:
            message = exc.message
            if isinstance(exc, ValidationFailed):
                message = " ".join([exc.message, *exc.errors.values()])
            return redirect(request, _url(department, meeting_id, f"/sondage/{poll_id}"), message, category="error")
        done = (
            "Date retenue : la réunion est datée et chaque participant en est prévenu par courriel."
            if announce
            else "Date retenue : la réunion est datée. Envoyez maintenant la convocation aux invités."
        )
        return redirect(request, _url(department, meeting_id, f"/sondage/{poll_id}"), done)

    @post("/{poll_id:int}/annuler")
    async def cancel(
        self, access: Scope, department: DepartmentRow, meeting_id: int, poll_id: int, request: Request
    ) -> Response:
        await _meeting_in(access, department, meeting_id)
        try:
            await service.cancel(access, meeting_id, poll_id)
        except Forbidden:
            raise
        except CoordError as exc:
            return redirect(request, _url(department, meeting_id, f"/sondage/{poll_id}"), exc.message, category="error")
        return redirect(
            request, _url(department, meeting_id), "Sondage annulé : les liens de réponse ne marchent plus."
        )


# -- the invitee's page -------------------------------------------------------------------------
def _answer_page(view: dict[str, Any], *, status: int = 200, **extra: Any) -> Template:
    context = {"answers": service.ANSWERS, "values": {}, "errors": {}, "done": False, "tz": view["meeting"]["timezone"]}
    return page("polls/answer.html", status=status, **{**context, **view, **extra})


@get("/r/sondage/{token:str}", opt={"exclude_from_auth": True}, include_in_schema=False)
async def answer_page(token: str) -> Template:
    """Shows the slots and the person's answers; never changes anything (mail scanners open links)."""
    try:
        person = await service.participant_of(token)
    except links.LinkInvalid as exc:
        return await invalid_page(exc)
    return _answer_page(await service.answer_view(person))


@post("/r/sondage/{token:str}", opt={"exclude_from_auth": True}, include_in_schema=False)
async def answer_post(token: str, request: Request) -> Template:
    try:
        person = await service.participant_of(token)
    except links.LinkInvalid as exc:
        return await invalid_page(exc)
    data = await form_data(request)
    try:
        await service.answer(person, data)
    except ValidationFailed as exc:
        return _answer_page(await service.answer_view(person), status=422, values=data, errors=exc.errors)
    except Conflict as exc:
        return _answer_page(await service.answer_view(person), status=409, closed_message=exc.message)
    fresh = await service.participant_of(token)
    return _answer_page(await service.answer_view(fresh), done=True)


# -- the panel of the meeting page --------------------------------------------------------------
async def meeting_panel(access: Scope, department: dict[str, Any], meeting: dict[str, Any]) -> Panel | None:
    poll = await service.latest_poll_of(access.within(department["id"]), meeting["id"])
    if poll is None and meeting["status"] != "draft":
        return None
    return Panel(
        "polls/_panel.html",
        {
            "poll": poll,
            "meeting": meeting,
            "department": department,
            "status_label": service.STATUSES.get(poll["status"]) if poll else "",
        },
    )


ROUTES: list[Any] = [PollPages]
LINK_ROUTES: list[Any] = [answer_page, answer_post]
