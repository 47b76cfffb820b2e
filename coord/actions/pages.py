"""Pages of action items: the list and board of a département, an item and its timeline, creation
(standalone or from a meeting's decisions), exports, and the national view."""

from __future__ import annotations

import secrets
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.response import Template

from coord.access import DepartmentRow, Scope
from coord.access.roles import Permission
from coord.actions import board, deliverables, exports, link_mail, partner, service, transitions
from coord.actions.tables import ActionItem
from coord.committees.tables import Committee
from coord.core import clock
from coord.core.errors import Conflict, Forbidden, ValidationFailed
from coord.core.pagination import PageRequest
from coord.meetings.tables import Decision, Meeting
from coord.partners.tables import Contact, Organisation
from coord.plans.tables import Measure
from coord.web.forms import department_context, form_data, page, redirect

SORT_LABELS = {
    "echeance": "Échéance la plus proche",
    "-echeance": "Échéance la plus lointaine",
    "-creation": "Les plus récentes",
    "creation": "Les plus anciennes",
    "titre": "Intitulé",
    "statut": "Statut",
}


async def _choices(scope: Scope, *, contacts: bool = True) -> dict[str, dict[str, str]]:
    """Options of the form's and the filters' lists (the filters need no contacts), of the one
    département `scope` is narrowed to."""
    organisations = await scope.select(Organisation, Organisation.id, Organisation.name).order_by(Organisation.name)
    people = (
        []
        if not contacts
        else await scope.select(
            Contact,
            Contact.id,
            Contact.first_name,
            Contact.last_name,
            Contact.organisation,
            Contact.organisation.name.as_alias("org"),
        )
        .where(Contact.active.eq(True))
        .order_by(Contact.last_name)
    )
    committees = await scope.select(Committee, Committee.id, Committee.name).order_by(Committee.name)
    measures = (
        await Measure.select(Measure.id, Measure.number, Measure.plan.code.as_alias("plan"))
        .order_by(Measure.plan.code)
        .order_by(Measure.number)
    )
    return {
        "organisations": {str(o["id"]): o["name"] for o in organisations},
        "contacts": {str(c["id"]): f"{c['first_name']} {c['last_name']} ({c['org']})" for c in people},
        # Which organisation each contact is of: the contact list follows the chosen organisation.
        "contact_organisations": {str(c["id"]): str(c["organisation"]) for c in people},
        "committees": {str(c["id"]): c["name"] for c in committees},
        "measures": {str(m["id"]): f"{m['plan']} – mesure {m['number']}" for m in measures},
    }


async def _item_in(access: Scope, department: dict[str, Any], item_id: int) -> dict[str, Any]:
    item = await service.get_item(access, item_id)
    access.require_in(item, department)
    return item


def _form_values(item: dict[str, Any]) -> dict[str, str]:
    """An item as the edit form shows it (every value a string, none for an empty choice)."""
    values = {
        k: "" if item[k] is None else str(item[k])
        for k in (
            "title",
            "description",
            "owner_organisation",
            "owner_contact",
            "due_on",
            "committee",
            "measure",
            "priority",
            "progress",
            "version",
        )
    }
    return {**values, "tags": ", ".join(item["tags"])}


def _filters(request: Request, department: dict[str, Any]) -> board.Filters:
    params = {k: v for k, v in request.query_params.items() if k != "department"}
    try:
        return board.Filters.parse({**params, "department": department["code"]})
    except ValidationFailed:  # a stale or forged filter shows everything rather than an error page
        return board.Filters(department=department["code"])


class ActionPages(Controller):
    path = "/d/{code:str}/actions"

    @get("/")
    async def list(self, access: Scope, department: DepartmentRow, request: Request) -> Template:
        filters = _filters(request, department)
        view = "tableau" if request.query_params.get("vue") == "tableau" else "liste"
        pager = PageRequest.parse(request.query_params.get("page"), None, default_per_page=50)
        by_department = await board.counts_by_department(access, department["id"])
        counts = by_department.get(department["id"], {"total": 0, "overdue": 0})
        items, total, columns = [], 0, {}
        if view == "tableau":  # unfiltered, the board's columns count what the header counts
            columns = await board.board(access, filters, counted=None if filters.narrows() else counts)
        else:  # unfiltered, the list holds every item the counts already counted
            items, total = await board.list_items(access, pager, filters, with_count=filters.narrows())
            total = total if filters.narrows() else counts["total"]
        choices = await _choices(access.within(department), contacts=False)
        return page(
            "actions/list.html",
            **department_context(access, department, "actions"),
            items=items,
            total=total,
            pager=pager,
            view=view,
            columns=columns,
            counts={**counts, "open": sum(counts.get(s, 0) for s in transitions.OPEN)},
            filters={**filters.query_params(), **({"vue": "tableau"} if view == "tableau" else {})},
            statuses=transitions.STATUSES,
            sorts=SORT_LABELS,
            organisations=choices["organisations"],
            committees=choices["committees"],
            measures=choices["measures"],
        )

    @get("/export.csv")
    async def export_csv(self, access: Scope, department: DepartmentRow, code: str, request: Request) -> Response:
        items, _ = await board.list_items(access, None, _filters(request, department))
        return Response(
            exports.to_csv(items),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="actions-{department["code"]}.csv"'},
        )

    @get("/export.xlsx")
    async def export_xlsx(self, access: Scope, department: DepartmentRow, code: str, request: Request) -> Response:
        items, _ = await board.list_items(access, None, _filters(request, department))
        return Response(
            exports.to_xlsx(items),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="actions-{department["code"]}.xlsx"'},
        )

    async def _form(
        self,
        access: Scope,
        department: dict[str, Any],
        values: dict[str, Any],
        errors: dict[str, str],
        status: int = 200,
        item: dict[str, Any] | None = None,
    ) -> Template:
        return page(
            "actions/form.html",
            status=status,
            **department_context(access, department, "actions"),
            values=values,
            errors=errors,
            priorities=transitions.PRIORITIES,
            item=item,
            **await _choices(access.within(department)),
        )

    @get("/nouvelle")
    async def new(self, access: Scope, department: DepartmentRow) -> Template:
        access.require(Permission.TRACK_ACTIONS, department["id"])
        return await self._form(access, department, {"priority": "normale"}, {})

    @post("/nouvelle")
    async def create(self, access: Scope, department: DepartmentRow, code: str, request: Request) -> Response:
        data = await form_data(request)
        try:
            item = await service.create_item(access, {**data, "department": department["code"]})
        except ValidationFailed as exc:
            return await self._form(access, department, data, exc.errors, status=422)
        return redirect(request, f"/d/{department['code']}/actions/{item['id']}", "Action créée.")

    async def _detail(
        self,
        access: Scope,
        department: dict[str, Any],
        item: dict[str, Any],
        *,
        values: dict[str, Any] | None = None,
        errors: dict[str, str] | None = None,
        link: str | None = None,
        status: int = 200,
    ) -> Template:
        recipients = (
            await link_mail.recipients(access, department["id"], item)
            if access.may(Permission.TRACK_ACTIONS, department["id"])
            else {}
        )
        choices = {
            k: v for k, v in transitions.STATUSES.items() if not transitions.refusal(item["status"], k, reopen=False)
        }
        reopen = {k: transitions.STATUSES[k] for k in sorted(transitions.REOPEN_TO)}
        return page(
            "actions/detail.html",
            status=status,
            **department_context(access, department, "actions"),
            item=item,
            documents_box=await deliverables.documents_box(access, department, item["id"]),
            timeline=await service.history(access, item["id"]),
            choices=choices,
            reopen_choices=reopen,
            values=values or {},
            errors=errors or {},
            link=link,
            recipients=recipients,
            send_key=secrets.token_urlsafe(18),  # one mail per form shown (coord.actions.link_mail)
        )

    @get("/{action_id:int}")
    async def detail(self, access: Scope, department: DepartmentRow, action_id: int) -> Template:
        return await self._detail(access, department, await _item_in(access, department, action_id))

    async def _change(
        self, access: Scope, department: DepartmentRow, code: str, action_id: int, request: Request, what: str
    ) -> Response:
        item = await _item_in(access, department, action_id)
        data = await form_data(request)
        try:
            if what == "statut":
                await service.transition(access, action_id, data)
                message = "Statut mis à jour."
            else:
                await service.comment(access, action_id, data)
                message = "Commentaire ajouté."
        except ValidationFailed as exc:
            return await self._detail(access, department, item, values=data, errors=exc.errors, status=422)
        except Conflict as exc:
            fresh = await _item_in(access, department, action_id)
            return await self._detail(access, department, fresh, errors={"form": exc.message}, status=409)
        return redirect(request, f"/d/{department['code']}/actions/{action_id}", message)

    @post("/{action_id:int}/statut")
    async def change_status(
        self, access: Scope, department: DepartmentRow, code: str, action_id: int, request: Request
    ) -> Response:
        return await self._change(access, department, code, action_id, request, "statut")

    @post("/{action_id:int}/commentaire")
    async def add_comment(
        self, access: Scope, department: DepartmentRow, code: str, action_id: int, request: Request
    ) -> Response:
        return await self._change(access, department, code, action_id, request, "commentaire")

    @get("/{action_id:int}/modifier")
    async def edit(self, access: Scope, department: DepartmentRow, action_id: int) -> Template:
        item = await _item_in(access, department, action_id)
        access.require(Permission.TRACK_ACTIONS, department["id"])
        return await self._form(access, department, _form_values(item), {}, item=item)

    @post("/{action_id:int}/modifier")
    async def update(
        self, access: Scope, department: DepartmentRow, code: str, action_id: int, request: Request
    ) -> Response:
        item = await _item_in(access, department, action_id)
        data = await form_data(request)
        try:
            await service.update_item(access, action_id, data)
        except ValidationFailed as exc:
            return await self._form(access, department, data, exc.errors, status=422, item=item)
        except Conflict as exc:
            fresh = await _item_in(access, department, action_id)
            return await self._form(
                access, department, _form_values(fresh), {"form": exc.message}, status=409, item=fresh
            )
        return redirect(request, f"/d/{department['code']}/actions/{action_id}", "Action modifiée.")

    @post("/{action_id:int}/lien")
    async def link(self, access: Scope, department: DepartmentRow, action_id: int) -> Template:
        item = await _item_in(access, department, action_id)
        try:
            issued = await partner.issue_link(access, action_id)
        except ValidationFailed as exc:
            return await self._detail(access, department, item, errors=exc.errors, status=422)
        return await self._detail(access, department, item, link=issued["url"])

    @post("/{action_id:int}/envoyer-lien")
    async def send_link(
        self, access: Scope, department: DepartmentRow, code: str, action_id: int, request: Request
    ) -> Response:
        item = await _item_in(access, department, action_id)
        data = await form_data(request)
        try:
            sent = await link_mail.send_link(access, action_id, data)
        except ValidationFailed as exc:
            return await self._detail(access, department, item, values=data, errors=exc.errors, status=422)
        if sent["queued"]:
            message = (
                f"Le lien de mise à jour a été envoyé par courriel à {sent['to']} "
                f"(valable jusqu'au {clock.local_today(department['timezone'], sent['expires_at']):%d/%m/%Y})."
            )
        else:
            message = f"Ce courriel à {sent['to']} était déjà parti : il n'a pas été envoyé une seconde fois."
        return redirect(request, f"/d/{department['code']}/actions/{action_id}", message)


class DecisionActionPages(Controller):
    """From the minutes: one action per chosen decision, in one step."""

    path = "/d/{code:str}/reunions/{meeting_id:int}/actions"

    async def _form(
        self,
        access: Scope,
        department: dict[str, Any],
        meeting: dict[str, Any],
        values: dict[str, Any],
        errors: dict[str, str],
        status: int = 200,
    ) -> Template:
        decisions = await Decision.select().where(Decision.meeting == meeting["id"]).order_by(Decision.position)
        taken = await ActionItem.select(ActionItem.decision).where(
            ActionItem.decision.is_in([d["id"] for d in decisions] or [0])
        )
        return page(
            "actions/from_decisions.html",
            status=status,
            **department_context(access, department, "actions"),
            meeting=meeting,
            decisions=decisions,
            taken={t["decision"] for t in taken},
            chosen={str(d) for d in values.get("decisions", [])},
            values=values,
            errors=errors,
            **await _choices(access.within(department)),
        )

    async def _meeting(
        self, access: Scope, department: DepartmentRow, meeting_id: int
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        meeting = await access.get(Meeting, meeting_id)
        access.require_in(meeting, department)
        if not access.may(Permission.TRACK_ACTIONS, department["id"]):
            raise Forbidden()
        return department, meeting

    @get("/")
    async def form(self, access: Scope, department: DepartmentRow, code: str, meeting_id: int) -> Template:
        department, meeting = await self._meeting(access, department, meeting_id)
        return await self._form(access, department, meeting, {}, {})

    @post("/")
    async def create(
        self, access: Scope, department: DepartmentRow, code: str, meeting_id: int, request: Request
    ) -> Response:
        department, meeting = await self._meeting(access, department, meeting_id)
        form = await request.form()
        data = {k: v for k, v in form.items() if k not in {"_csrf_token", "decisions"}}
        data["decisions"] = form.getall("decisions") if "decisions" in form else []
        # Each checked decision has its own owner and due date (the form's row of that decision).
        data["per_decision"] = {
            str(decision): {
                field: (form.get(service.row_field(field, decision)) or "").strip()
                for field in service.OWN_PER_DECISION
            }
            for decision in data["decisions"]
        }
        try:
            created = await service.create_from_decisions(access, meeting_id, data)
        except ValidationFailed as exc:
            return await self._form(access, department, meeting, data, exc.errors, status=422)
        return redirect(
            request,
            f"/d/{department['code']}/actions?committee={meeting['committee']}",
            f"{len(created)} action(s) créée(s) à partir des décisions.",
        )


@get("/actions")
async def national_view(access: Scope, depuis: str | None = None) -> Template:
    periods = await board.plan_periods()
    today = clock.local_today("Europe/Paris")
    try:
        since = board.read_since(depuis, periods, today)
    except ValidationFailed:  # a forged period shows the default one rather than an error page
        since = board.read_since(None, periods, today)
    return page(
        "actions/national.html",
        data=await board.national(access, since),
        section="actions",
        statuses=transitions.STATUSES,
        periods=board.period_choices(periods, today),
        since=board.ALL_HISTORY if since is None else str(since),
    )


ROUTES: list[Any] = [ActionPages, DecisionActionPages, national_view]
