"""Pages of meeting series: the committee page's section (list, create with a preview, end) and the
meeting page's panel (the series, the holiday move, « cette réunion et les suivantes »)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.response import Template

from coord.access import DepartmentRow, Scope
from coord.committees.seams import Section
from coord.core.clock import now
from coord.core.errors import Conflict, ValidationFailed
from coord.meetings import service as meetings
from coord.meetings.seams import Panel
from coord.series import rules, service
from coord.web.forms import department_context, form_data, page, redirect

CHOICES = {
    "freqs": rules.FREQS,
    "modes": rules.MODES,
    "nths": rules.NTHS,
    "weekdays": {str(i): d for i, d in enumerate(rules.DAYS)},
    "ends": {
        "horizon": "Sans fin (12 mois créés à l'avance)",
        "until": "Jusqu'à une date",
        "count": "Nombre de réunions",
    },
}


def _committee_url(department: dict[str, Any], committee_id: int) -> str:
    return f"/d/{department['code']}/instances/{committee_id}#series"


async def committee_section(access: Scope, department: dict[str, Any], committee: dict[str, Any]) -> Section:
    return Section(
        "series/_committee_section.html",
        {
            "series": await service.committee_series(access, committee["id"], department["timezone"]),
            "values": {"start_time": "14:00", "duration_minutes": "120", "freq": "quarterly", "nth": "2"},
            "errors": {},
            **CHOICES,
        },
    )


async def meeting_panel(access: Scope, department: dict[str, Any], meeting: dict[str, Any]) -> Panel | None:
    occ = await service.occurrence_of_meeting(access, meeting["id"])
    if occ is None:
        return None
    series = await service.get_series(access, occ["series"])
    return Panel(
        "series/_meeting_panel.html",
        {"series": series, "occurrence": occ, "exception": service.is_exception(occ, meeting)},
    )


class SeriesPages(Controller):
    path = "/d/{code:str}"

    async def _committee(self, access: Scope, department: dict[str, Any], committee_id: int) -> dict[str, Any]:
        from coord.committees import service as committees

        committee = await committees.get_committee(access, committee_id)
        access.require_in(committee, department)
        return committee

    @post("/instances/{committee_id:int}/series/apercu")
    async def preview(self, access: Scope, department: DepartmentRow, committee_id: int, request: Request) -> Template:
        committee = await self._committee(access, department, committee_id)
        data = await form_data(request)
        try:
            result, errors = service.preview(department, data), {}
        except ValidationFailed as exc:
            result, errors = None, exc.errors
        return page(
            "series/preview.html",
            status=422 if errors else 200,
            **department_context(access, department, "committees"),
            committee=committee,
            result=result,
            values=data,
            errors=errors,
            **CHOICES,
        )

    @post("/instances/{committee_id:int}/series")
    async def create(self, access: Scope, department: DepartmentRow, committee_id: int, request: Request) -> Response:
        committee = await self._committee(access, department, committee_id)
        data = await form_data(request)
        try:
            series = await service.create_series(access, department, committee["id"], data, now())
        except ValidationFailed as exc:
            return page(
                "series/preview.html",
                status=422,
                **department_context(access, department, "committees"),
                committee=committee,
                result=None,
                values=data,
                errors=exc.errors,
                **CHOICES,
            )
        return redirect(request, _committee_url(department, committee_id), f"Série « {series['title']} » créée.")

    @post("/series/{series_id:int}/terminer")
    async def end(self, access: Scope, department: DepartmentRow, series_id: int, request: Request) -> Response:
        series = await service.get_series(access, series_id)
        access.require_in(series, department)
        data = await form_data(request)
        url = _committee_url(department, series["committee"])
        try:
            cancelled = await service.end_series(access, series_id, data, now())
        except Conflict as exc:
            return redirect(request, url, exc.message, "error")
        except ValidationFailed as exc:
            return redirect(request, url, " ".join(exc.errors.values()) or exc.message, "error")
        return redirect(request, url, f"Série terminée : {cancelled} réunion(s) annulée(s).")

    async def _following(
        self, access: Scope, department: dict[str, Any], meeting_id: int, values: dict[str, Any], errors: dict[str, str]
    ) -> Template:
        meeting = await meetings.get_meeting(access, meeting_id)
        access.require_in(meeting, department)
        occ = await service.occurrence_of_meeting(access, meeting_id)
        if occ is None:
            from coord.core.errors import NotFound

            raise NotFound()
        series = await service.get_series(access, occ["series"])
        base = {
            "title": series["title"],
            "place": series["place"],
            "freq": series["freq"],
            "interval": series["interval"],
            "weekday": "" if series["weekday"] is None else str(series["weekday"]),
            "nth": "" if series["nth"] is None else str(series["nth"]),
            "mode": "month_day" if series["month_day"] else "weekday",
            "month_day": series["month_day"] or "",
            "start_date": occ["nominal_date"].isoformat(),
            "start_time": series["start_time"],
            "duration_minutes": series["duration_minutes"],
            "end": "until" if series["until"] else ("count" if series["max_count"] else "horizon"),
            "until": series["until"].isoformat() if series["until"] else "",
            "count": series["max_count"] or "",
        }
        return page(
            "series/following.html",
            status=422 if errors else 200,
            **department_context(access, department, "meetings"),
            meeting=meeting,
            series=series,
            values={**base, **values},
            errors=errors,
            **CHOICES,
        )

    @get("/reunions/{meeting_id:int}/serie")
    async def following_form(self, access: Scope, department: DepartmentRow, meeting_id: int) -> Template:
        return await self._following(access, department, meeting_id, {}, {})

    @post("/reunions/{meeting_id:int}/serie")
    async def following(self, access: Scope, department: DepartmentRow, meeting_id: int, request: Request) -> Response:
        data = await form_data(request)
        meeting = await meetings.get_meeting(access, meeting_id)
        access.require_in(meeting, department)
        try:
            await service.edit_following(access, meeting_id, data, now())
        except ValidationFailed as exc:
            return await self._following(access, department, meeting_id, data, exc.errors)
        except Conflict as exc:
            return redirect(request, f"/d/{department['code']}/reunions/{meeting_id}", exc.message, "error")
        return redirect(
            request,
            f"/d/{department['code']}/reunions/{meeting_id}",
            "Cette réunion et les suivantes ont été modifiées.",
        )


ROUTES = [SeriesPages]
