"""Reading the audit log, the page (`/journal`) and its CSV export: the national coordinator sees
everything, others their département. Filters by person, kind of object and period combine; a bad
filter is reported in French next to its field (status 422), the other filters still apply."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.response import Template

from coord.access import Scope
from coord.audit import exports, filters, journal
from coord.audit.labels import ENTITIES, entity_label
from coord.audit.presenting import present
from coord.core.errors import NotFound, ValidationFailed
from coord.core.pagination import PageRequest
from coord.territory.tables import Department
from coord.web.forms import page

PER_PAGE = 50


def _page_request(request: Request, errors: dict[str, str]) -> PageRequest:
    try:
        return PageRequest.parse(request.query_params.get("page"), None, default_per_page=PER_PAGE)
    except ValidationFailed as exc:
        errors["page"] = exc.errors.get("page", "Numéro de page invalide.")
        return PageRequest(page=1, per_page=PER_PAGE)


async def _narrowed(access: Scope, chosen: filters.JournalFilters, errors: dict[str, str]) -> Scope:
    """The reader's scope, narrowed to the chosen département (never widened: another département
    than one's own is « inconnu ou non accessible »)."""
    if not chosen.department:
        return access
    try:
        return await access.within_code(chosen.department)
    except NotFound:
        errors["departement"] = filters.UNKNOWN_DEPARTMENT
        return access


def _pages(total: int, per_page: int) -> int:
    return max(1, -(-total // per_page))


class AuditPages(Controller):
    @get("/journal")
    async def list(self, access: Scope, request: Request) -> Template:
        chosen = filters.parse(request.query_params)
        errors = dict(chosen.errors)
        request_page = _page_request(request, errors)
        reader = access
        access = await _narrowed(access, chosen, errors)
        rows, total = await journal.matching(access, chosen, request_page)
        present_kinds = await journal.kinds(access)
        kinds = {k: entity_label(k) for k in ENTITIES if k in present_kinds or k == chosen.kind}
        return page(
            "audit/list.html",
            status=422 if errors else 200,
            section="audit",
            entries=await present(access, rows),
            total=total,
            pager=request_page,
            pages=_pages(total, request_page.per_page),
            filters=chosen.query(),
            values=chosen.raw,
            errors=errors,
            people=await journal.people(access),
            kinds=dict(sorted(kinds.items(), key=lambda item: item[1])),
            national=access.principal.is_national,
            departments=await reader.departments().columns(Department.code, Department.name)
            if reader.principal.is_national
            else [],
            filtered=chosen.active,
        )

    @get("/journal/export.csv")
    async def export_csv(self, access: Scope, request: Request) -> Response[Any]:
        chosen = filters.parse(request.query_params)
        errors = dict(chosen.errors)
        access = await _narrowed(access, chosen, errors)
        if errors:
            raise ValidationFailed(errors, "Les filtres du journal sont invalides.")
        rows, _ = await journal.matching(access, chosen, None)
        return Response(
            exports.to_csv(await present(access, rows)),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="journal.csv"'},
        )


ROUTES: list[Any] = [AuditPages]
