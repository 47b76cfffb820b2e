"""Pages of a département's meetings: list, planning, agenda, invitees, attendance, minutes, printing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.response import Template

from coord.access import DepartmentRow, Scope
from coord.core import clock
from coord.core.errors import Conflict, CoordError, Forbidden, ValidationFailed
from coord.core.pagination import PageRequest
from coord.meetings import agenda, attendance, exports, inbox, invitees, minutes, printing, rules, seams, service
from coord.meetings.seams import carried_forward_items
from coord.web.forms import department_context, form_data, page, redirect
from coord.web.params import IdQuery

SECTION = "meetings"


async def _meeting_in(access: Scope, department: dict[str, Any], meeting_id: int) -> dict[str, Any]:
    meeting = await service.get_meeting(access, meeting_id)
    access.require_in(meeting, department)
    return meeting


def _url(department: dict[str, Any], meeting_id: int | None = None, suffix: str = "") -> str:
    url = f"/d/{department['code']}/reunions"
    return f"{url}/{meeting_id}{suffix}" if meeting_id else url


def _flash_error(
    request: Request, department: dict[str, Any], meeting_id: int, exc: CoordError, suffix: str = ""
) -> Response:
    message = exc.message
    if isinstance(exc, ValidationFailed):
        message = " ".join([exc.message, *exc.errors.values()])
    return redirect(request, _url(department, meeting_id, suffix), message, category="error")


def _list_filters(periode: str | None, statut: str | None) -> dict[str, Any]:
    """The list's filters as `service.list_meetings` takes them: upcoming (from 12 hours ago) or past
    meetings, and a status (an unknown one shows every status rather than an error page)."""
    past = periode == "passees"
    now = clock.now()
    return {
        "status": statut if statut in service.STATUSES else None,
        "start_from": None if past else now - dt.timedelta(hours=12),
        "start_to": now if past else None,
        "descending": past,
    }


class MeetingPages(Controller):
    path = "/d/{code:str}/reunions"

    # -- list and creation ---------------------------------------------------------------------
    @get("/", name="meetings.list")
    async def list(
        self,
        access: Scope,
        department: DepartmentRow,
        code: str,
        request: Request,
        periode: str | None = None,
        statut: str | None = None,
    ) -> Template:
        pager = PageRequest.parse(request.query_params.get("page"), None, default_per_page=25)
        past = periode == "passees"
        items, total = await service.list_meetings(access, pager, department=code, **_list_filters(periode, statut))
        return page(
            "meetings/list.html",
            **department_context(access, department, SECTION),
            meetings=items,
            total=total,
            pager=pager,
            past=past,
            statuses=service.STATUSES,
            filters={"periode": periode or "", "statut": statut or ""},
        )

    @get("/export.csv")
    async def export_csv(
        self,
        access: Scope,
        department: DepartmentRow,
        code: str,
        periode: str | None = None,
        statut: str | None = None,
    ) -> Response:
        """The meetings the list shows with the same filters, every page of them."""
        items, _ = await service.list_meetings(access, None, department=code, **_list_filters(periode, statut))
        name = f"reunions-{department['code']}{'-passees' if periode == 'passees' else ''}.csv"
        return Response(
            await exports.to_csv(items),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    async def _form(
        self,
        access: Scope,
        department: dict[str, Any],
        values: dict[str, Any],
        errors: dict[str, str],
        meeting: dict[str, Any] | None = None,
        status: int = 200,
        conflict: str = "",
    ) -> Template:
        return page(
            "meetings/form.html",
            status=status,
            **department_context(access, department, SECTION),
            values=values,
            errors=errors,
            meeting=meeting,
            kinds=service.KINDS,
            conflict=conflict,
            committees=await service.committee_choices(access, department["id"]),
        )

    @get("/nouvelle")
    async def new(self, access: Scope, department: DepartmentRow, instance: IdQuery = None) -> Template:
        values = {"committee": str(instance or ""), "kind": "ordinaire", "start_time": "09:30", "end_time": "12:00"}
        return await self._form(access, department, values, {})

    @post("/nouvelle")
    async def create(self, access: Scope, department: DepartmentRow, code: str, request: Request) -> Response:
        data = await form_data(request)
        try:
            meeting = await service.create_meeting(access, {**data, "department": department["code"]})
        except ValidationFailed as exc:
            return await self._form(access, department, data, exc.errors, status=422)
        return redirect(
            request,
            _url(department, meeting["id"]),
            f"Réunion « {meeting['title']} » créée avec l'ordre du jour type et les membres de l'instance.",
        )

    # -- detail and edition --------------------------------------------------------------------
    async def _detail(
        self,
        access: Scope,
        department: dict[str, Any],
        meeting: dict[str, Any],
        values: dict[str, Any],
        errors: dict[str, str],
        status: int = 200,
    ) -> Template:
        state = await attendance.attendance(access, meeting["id"])
        return page(
            "meetings/detail.html",
            status=status,
            **department_context(access, department, SECTION),
            meeting=meeting,
            agenda=await agenda.agenda(access, meeting["id"]),
            invitations=state["invitations"],
            counts=invitees.answer_counts(state["invitations"]),
            answers=invitees.ANSWERS,
            roles=invitees.ROLES,
            quorum=state["quorum"],
            contacts=await service.contact_choices(access, department["id"]),
            measures=await agenda.measure_choices(),
            values=values,
            errors=errors,
            lead_days=rules.CONVOCATION_LEAD.days,
            convene_urgent=meeting["starts_at"] - clock.now() < rules.CONVOCATION_LEAD,
            inbox_items=await inbox.items_for(access, meeting["id"]),
            open_actions=await carried_forward_items(meeting),
            panels=await seams.detail_panels(access, department, meeting),
        )

    @get("/{meeting_id:int}", name="meetings.detail")
    async def detail(self, access: Scope, department: DepartmentRow, meeting_id: int) -> Template:
        return await self._detail(access, department, await _meeting_in(access, department, meeting_id), {}, {})

    @get("/{meeting_id:int}/modifier")
    async def edit(self, access: Scope, department: DepartmentRow, meeting_id: int) -> Template:
        meeting = await _meeting_in(access, department, meeting_id)
        return await self._form(access, department, meeting, {}, meeting=meeting)

    @post("/{meeting_id:int}/modifier")
    async def update(self, access: Scope, department: DepartmentRow, meeting_id: int, request: Request) -> Response:
        meeting = await _meeting_in(access, department, meeting_id)
        data = await form_data(request)
        data.setdefault("urgent", "")
        try:
            await service.update_meeting(access, meeting_id, data)
        except ValidationFailed as exc:
            return await self._form(access, department, {**meeting, **data}, exc.errors, meeting=meeting, status=422)
        except Conflict as exc:
            fresh = await service.get_meeting(access, meeting_id)
            # Show the other person's values; keep the typed ones visible in the message.
            return await self._form(access, department, fresh, {}, meeting=fresh, status=409, conflict=exc.message)
        return redirect(request, _url(department, meeting_id), "Réunion modifiée.")

    @post("/{meeting_id:int}/supprimer")
    async def remove(self, access: Scope, department: DepartmentRow, meeting_id: int, request: Request) -> Response:
        meeting = await _meeting_in(access, department, meeting_id)
        try:
            await service.delete_meeting(access, meeting_id)
        except Conflict as exc:
            return _flash_error(request, department, meeting_id, exc)
        return redirect(request, _url(department), f"Réunion « {meeting['title']} » supprimée.")

    # -- lifecycle -----------------------------------------------------------------------------
    async def _action(
        self, access: Scope, department: DepartmentRow, meeting_id: int, request: Request, action: str
    ) -> Response:
        await _meeting_in(access, department, meeting_id)
        data = await form_data(request)
        messages = {
            "convene": "Convocation envoyée à chaque invité.",
            "cancel": "Réunion annulée : chaque invité en est prévenu.",
            "held": "Réunion déclarée tenue.",
        }
        try:
            if action == "remind":
                queued = await service.remind(access, meeting_id)
                message = f"Rappel envoyé à {queued} invité(s) sans réponse."
            elif action == "reconvene":
                new = await attendance.reconvene(access, meeting_id, {})
                return redirect(
                    request,
                    _url(department, new["id"]),
                    "Nouvelle réunion convoquée sur le même ordre du jour, sans condition de quorum : "
                    "la convocation est partie à chaque invité.",
                )
            else:
                handler = {"convene": service.convene, "cancel": service.cancel, "held": service.mark_held}[action]
                await handler(access, meeting_id, data)
                message = messages[action]
        except Forbidden:
            raise  # the role may not do this: a 403 page, not a flashed message on a 200
        except CoordError as exc:
            return _flash_error(request, department, meeting_id, exc)
        return redirect(request, _url(department, meeting_id), message)

    @post("/{meeting_id:int}/convoquer")
    async def convene(
        self, access: Scope, department: DepartmentRow, code: str, meeting_id: int, request: Request
    ) -> Response:
        return await self._action(access, department, meeting_id, request, "convene")

    @post("/{meeting_id:int}/annuler")
    async def cancel(
        self, access: Scope, department: DepartmentRow, code: str, meeting_id: int, request: Request
    ) -> Response:
        return await self._action(access, department, meeting_id, request, "cancel")

    @post("/{meeting_id:int}/relancer")
    async def remind(
        self, access: Scope, department: DepartmentRow, code: str, meeting_id: int, request: Request
    ) -> Response:
        return await self._action(access, department, meeting_id, request, "remind")

    @post("/{meeting_id:int}/tenue")
    async def held(
        self, access: Scope, department: DepartmentRow, code: str, meeting_id: int, request: Request
    ) -> Response:
        return await self._action(access, department, meeting_id, request, "held")

    @post("/{meeting_id:int}/nouvelle-convocation")
    async def reconvene(
        self, access: Scope, department: DepartmentRow, code: str, meeting_id: int, request: Request
    ) -> Response:
        return await self._action(access, department, meeting_id, request, "reconvene")

    # -- agenda --------------------------------------------------------------------------------
    @post("/{meeting_id:int}/ordre-du-jour")
    async def add_item(self, access: Scope, department: DepartmentRow, meeting_id: int, request: Request) -> Response:
        meeting = await _meeting_in(access, department, meeting_id)
        data = await form_data(request)
        try:
            await agenda.add_item(access, meeting_id, data)
        except ValidationFailed as exc:
            return await self._detail(access, department, meeting, data, exc.errors, status=422)
        except Conflict as exc:
            return _flash_error(request, department, meeting_id, exc)
        return redirect(request, _url(department, meeting_id, "#ordre-du-jour"), "Point ajouté à l'ordre du jour.")

    @get("/{meeting_id:int}/ordre-du-jour/{item_id:int}/modifier")
    async def edit_item(self, access: Scope, department: DepartmentRow, meeting_id: int, item_id: int) -> Template:
        meeting = await _meeting_in(access, department, meeting_id)
        item = await agenda.get_item(access, meeting_id, item_id)
        return page(
            "meetings/item_form.html",
            **department_context(access, department, SECTION),
            meeting=meeting,
            item=item,
            values=item,
            errors={},
            measures=await agenda.measure_choices(),
        )

    @post("/{meeting_id:int}/ordre-du-jour/{item_id:int}/modifier")
    async def update_item(
        self, access: Scope, department: DepartmentRow, meeting_id: int, item_id: int, request: Request
    ) -> Response:
        meeting = await _meeting_in(access, department, meeting_id)
        item = await agenda.get_item(access, meeting_id, item_id)
        data = await form_data(request)
        try:
            await agenda.update_item(access, meeting_id, item_id, data)
        except ValidationFailed as exc:
            return page(
                "meetings/item_form.html",
                status=422,
                **department_context(access, department, SECTION),
                meeting=meeting,
                item=item,
                values={**item, **data},
                errors=exc.errors,
                measures=await agenda.measure_choices(),
            )
        except Conflict as exc:
            return _flash_error(request, department, meeting_id, exc)
        return redirect(request, _url(department, meeting_id, "#ordre-du-jour"), "Point modifié.")

    @post("/{meeting_id:int}/ordre-du-jour/{item_id:int}/supprimer")
    async def remove_item(
        self, access: Scope, department: DepartmentRow, meeting_id: int, item_id: int, request: Request
    ) -> Response:
        await _meeting_in(access, department, meeting_id)
        try:
            await agenda.delete_item(access, meeting_id, item_id)
        except Conflict as exc:
            return _flash_error(request, department, meeting_id, exc)
        return redirect(request, _url(department, meeting_id, "#ordre-du-jour"), "Point retiré de l'ordre du jour.")

    @post("/{meeting_id:int}/ordre-du-jour/{item_id:int}/deplacer")
    async def move_item(
        self, access: Scope, department: DepartmentRow, meeting_id: int, item_id: int, request: Request
    ) -> Response:
        await _meeting_in(access, department, meeting_id)
        data = await form_data(request)
        try:
            await agenda.move_item(access, meeting_id, item_id, data.get("direction"))
        except (Conflict, ValidationFailed) as exc:
            return _flash_error(request, department, meeting_id, exc)
        return redirect(request, _url(department, meeting_id, "#ordre-du-jour"), "Ordre du jour réorganisé.")

    # -- invitees ------------------------------------------------------------------------------
    @post("/{meeting_id:int}/invites")
    async def invite(self, access: Scope, department: DepartmentRow, meeting_id: int, request: Request) -> Response:
        meeting = await _meeting_in(access, department, meeting_id)
        data = await form_data(request)
        try:
            added = await invitees.add_invitations(access, meeting_id, data)
        except ValidationFailed as exc:
            return await self._detail(access, department, meeting, data, exc.errors, status=422)
        except Conflict as exc:
            return _flash_error(request, department, meeting_id, exc)
        message = f"{len(added)} invité(s) ajouté(s)." if added else "Tous les membres de l'instance sont déjà invités."
        if added and meeting["status"] == "convened":
            message += " La convocation leur est envoyée."
        return redirect(request, _url(department, meeting_id, "#invites"), message)

    @post("/{meeting_id:int}/invites/{invitation_id:int}/role")
    async def change_role(
        self, access: Scope, department: DepartmentRow, meeting_id: int, invitation_id: int, request: Request
    ) -> Response:
        await _meeting_in(access, department, meeting_id)
        data = await form_data(request)
        try:
            await invitees.update_role(access, meeting_id, invitation_id, data.get("role"))
        except (Conflict, ValidationFailed) as exc:
            return _flash_error(request, department, meeting_id, exc)
        return redirect(request, _url(department, meeting_id, "#invites"), "Rôle modifié.")

    @post("/{meeting_id:int}/invites/{invitation_id:int}/retirer")
    async def uninvite(
        self, access: Scope, department: DepartmentRow, meeting_id: int, invitation_id: int, request: Request
    ) -> Response:
        meeting = await _meeting_in(access, department, meeting_id)
        try:
            await invitees.remove_invitation(access, meeting_id, invitation_id)
        except Conflict as exc:
            return _flash_error(request, department, meeting_id, exc)
        message = "Invité retiré." + (" Une annulation lui est envoyée." if meeting["status"] == "convened" else "")
        return redirect(request, _url(department, meeting_id, "#invites"), message)

    # -- attendance ----------------------------------------------------------------------------
    async def _attendance_page(
        self,
        access: Scope,
        department: dict[str, Any],
        meeting: dict[str, Any],
        values: dict[str, Any],
        errors: dict[str, str],
        status: int = 200,
    ) -> Template:
        state = await attendance.attendance(access, meeting["id"])
        return page(
            "meetings/attendance.html",
            status=status,
            **department_context(access, department, SECTION),
            meeting=meeting,
            invitations=state["invitations"],
            quorum=state["quorum"],
            choices=invitees.ATTENDANCE,
            values=values,
            errors=errors,
            started=attendance.attendance_open(meeting),
        )

    @get("/{meeting_id:int}/presences")
    async def attendance_form(self, access: Scope, department: DepartmentRow, meeting_id: int) -> Template:
        return await self._attendance_page(
            access, department, await _meeting_in(access, department, meeting_id), {}, {}
        )

    @post("/{meeting_id:int}/presences")
    async def record_attendance(
        self, access: Scope, department: DepartmentRow, meeting_id: int, request: Request
    ) -> Response:
        meeting = await _meeting_in(access, department, meeting_id)
        data = await form_data(request)
        entries: dict[int, dict[str, Any]] = {}
        for key, value in data.items():
            kind, _, raw_id = key.partition("_")
            if kind in {"attendance", "mandate"} and raw_id.isdigit():
                entry = entries.setdefault(int(raw_id), {})
                if kind == "attendance":
                    entry["attendance"] = value
                else:
                    entry["represented_by"] = value or None
        try:
            await attendance.record_attendance(access, meeting_id, entries)
        except ValidationFailed as exc:
            return await self._attendance_page(access, department, meeting, data, exc.errors, status=422)
        except Conflict as exc:
            return _flash_error(request, department, meeting_id, exc, "/presences")
        return redirect(request, _url(department, meeting_id, "/presences"), "Présences enregistrées.")

    # -- minutes and decisions -----------------------------------------------------------------
    async def _minutes_page(
        self,
        access: Scope,
        department: dict[str, Any],
        meeting: dict[str, Any],
        values: dict[str, Any],
        errors: dict[str, str],
        status: int = 200,
        conflict: str = "",
    ) -> Template:
        state = await attendance.attendance(access, meeting["id"])
        return page(
            "meetings/minutes.html",
            status=status,
            **department_context(access, department, SECTION),
            meeting=meeting,
            decisions=await minutes.list_decisions(access, meeting["id"]),
            invitations=state["invitations"],
            quorum=state["quorum"],
            values=values,
            errors=errors,
            conflict=conflict,
            notice=minutes.NO_VICTIM_DATA,
            started=meeting["starts_at"] <= clock.now(),
        )

    @get("/{meeting_id:int}/compte-rendu")
    async def minutes_form(self, access: Scope, department: DepartmentRow, meeting_id: int) -> Template:
        meeting = await _meeting_in(access, department, meeting_id)
        return await self._minutes_page(access, department, meeting, meeting, {})

    @post("/{meeting_id:int}/compte-rendu")
    async def save_minutes(
        self, access: Scope, department: DepartmentRow, meeting_id: int, request: Request
    ) -> Response:
        meeting = await _meeting_in(access, department, meeting_id)
        data = await form_data(request)
        try:
            await minutes.update_minutes(access, meeting_id, data)
        except ValidationFailed as exc:
            return await self._minutes_page(access, department, meeting, {**meeting, **data}, exc.errors, status=422)
        except Conflict as exc:
            fresh = await service.get_meeting(access, meeting_id)
            return await self._minutes_page(
                access,
                department,
                fresh,
                {**fresh, "typed": data.get("minutes", "")},
                {},
                status=409,
                conflict=exc.message,
            )
        return redirect(request, _url(department, meeting_id, "/compte-rendu"), "Compte rendu enregistré.")

    @post("/{meeting_id:int}/compte-rendu/publier")
    async def publish(self, access: Scope, department: DepartmentRow, meeting_id: int, request: Request) -> Response:
        await _meeting_in(access, department, meeting_id)
        data = await form_data(request)
        try:
            await minutes.publish(access, meeting_id, data)
        except Forbidden:
            raise
        except CoordError as exc:
            return _flash_error(request, department, meeting_id, exc, "/compte-rendu")
        return redirect(request, _url(department, meeting_id, "/compte-rendu"), "Compte rendu publié.")

    @post("/{meeting_id:int}/decisions")
    async def add_decision(
        self, access: Scope, department: DepartmentRow, meeting_id: int, request: Request
    ) -> Response:
        meeting = await _meeting_in(access, department, meeting_id)
        data = await form_data(request)
        try:
            await minutes.add_decision(access, meeting_id, data)
        except ValidationFailed as exc:
            return await self._minutes_page(access, department, meeting, {**meeting, **data}, exc.errors, status=422)
        except Conflict as exc:
            return _flash_error(request, department, meeting_id, exc, "/compte-rendu")
        return redirect(request, _url(department, meeting_id, "/compte-rendu#decisions"), "Décision ajoutée.")

    @post("/{meeting_id:int}/decisions/{decision_id:int}/modifier")
    async def update_decision(
        self, access: Scope, department: DepartmentRow, meeting_id: int, decision_id: int, request: Request
    ) -> Response:
        await _meeting_in(access, department, meeting_id)
        data = await form_data(request)
        try:
            await minutes.update_decision(access, meeting_id, decision_id, data)
        except (Conflict, ValidationFailed) as exc:
            return _flash_error(request, department, meeting_id, exc, "/compte-rendu")
        return redirect(request, _url(department, meeting_id, "/compte-rendu#decisions"), "Décision modifiée.")

    @post("/{meeting_id:int}/decisions/{decision_id:int}/supprimer")
    async def remove_decision(
        self, access: Scope, department: DepartmentRow, meeting_id: int, decision_id: int, request: Request
    ) -> Response:
        await _meeting_in(access, department, meeting_id)
        try:
            await minutes.delete_decision(access, meeting_id, decision_id)
        except Conflict as exc:
            return _flash_error(request, department, meeting_id, exc, "/compte-rendu")
        return redirect(request, _url(department, meeting_id, "/compte-rendu#decisions"), "Décision supprimée.")


class PrintPages(Controller):
    """Printable HTML (with print CSS) and PDF versions of the three documents."""

    path = "/d/{code:str}/reunions/{meeting_id:int}/imprimer"

    async def _html(self, access: Scope, department: DepartmentRow, meeting_id: int, document: str) -> Template:
        await _meeting_in(access, department, meeting_id)
        data = await printing.document_data(access, meeting_id)
        return page(
            f"meetings/print_{document.replace('-', '_')}.html",
            **data,
            document=document,
            document_title=printing.DOCUMENTS[document],
        )

    async def _pdf(
        self, access: Scope, department: DepartmentRow, code: str, meeting_id: int, document: str
    ) -> Response[bytes]:
        await _meeting_in(access, department, meeting_id)
        data = await printing.document_data(access, meeting_id)
        content = printing.RENDERERS[document](data)
        filename = f"{document}-{department['code']}-{meeting_id}.pdf"
        return Response(
            content, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{filename}"'}
        )

    @get("/convocation")
    async def convocation(self, access: Scope, department: DepartmentRow, code: str, meeting_id: int) -> Template:
        return await self._html(access, department, meeting_id, "convocation")

    @get("/ordre-du-jour")
    async def agenda(self, access: Scope, department: DepartmentRow, code: str, meeting_id: int) -> Template:
        return await self._html(access, department, meeting_id, "ordre-du-jour")

    @get("/emargement")
    async def attendance_sheet(self, access: Scope, department: DepartmentRow, code: str, meeting_id: int) -> Template:
        return await self._html(access, department, meeting_id, "emargement")

    @get("/convocation.pdf")
    async def convocation_pdf(
        self, access: Scope, department: DepartmentRow, code: str, meeting_id: int
    ) -> Response[bytes]:
        return await self._pdf(access, department, code, meeting_id, "convocation")

    @get("/ordre-du-jour.pdf")
    async def agenda_pdf(self, access: Scope, department: DepartmentRow, code: str, meeting_id: int) -> Response[bytes]:
        return await self._pdf(access, department, code, meeting_id, "ordre-du-jour")

    @get("/emargement.pdf")
    async def attendance_sheet_pdf(
        self, access: Scope, department: DepartmentRow, code: str, meeting_id: int
    ) -> Response[bytes]:
        return await self._pdf(access, department, code, meeting_id, "emargement")


ROUTES: list[Any] = [MeetingPages, PrintPages]
