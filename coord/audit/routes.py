"""Reading the audit log: the national coordinator sees everything, others their département."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get
from litestar.params import Parameter
from litestar.response import Template

from coord.access import Scope
from coord.audit.tables import AuditEntry
from coord.core.pagination import PageRequest, Paginated, paginated
from coord.web.forms import page

COLUMNS = (
    AuditEntry.id,
    AuditEntry.at,
    AuditEntry.actor,
    AuditEntry.action,
    AuditEntry.entity,
    AuditEntry.entity_id,
    AuditEntry.summary,
    AuditEntry.before,
    AuditEntry.after,
    AuditEntry.department.code.as_alias("department"),
)


class AuditEntryOut(msgspec.Struct):
    id: int
    at: dt.datetime
    actor: str
    action: str
    entity: str
    entity_id: int | None
    summary: str
    before: Any
    after: Any
    department: str | None


async def entries(
    access: Scope,
    request_page: PageRequest,
    *,
    department: str | None = None,
    entity: str | None = None,
    entity_id: int | None = None,
) -> tuple[list[dict[str, Any]], int]:
    access = await access.within_code(department)
    query = access.select(AuditEntry, *COLUMNS)
    count = access.count(AuditEntry)
    conditions = []
    if entity:
        conditions.append(AuditEntry.entity == entity)
    if entity_id is not None:
        conditions.append(AuditEntry.entity_id == entity_id)
    for condition in conditions:
        query, count = query.where(condition), count.where(condition)
    rows = (
        await query.output(load_json=True)
        .order_by(AuditEntry.id, ascending=False)
        .limit(request_page.per_page)
        .offset(request_page.offset)
    )
    return rows, await count


class AuditApi(Controller):
    path = "/api/audit"
    tags = ["Journal"]

    @get("/", summary="Journal des modifications (le plus récent d'abord)")
    async def list(
        self,
        access: Scope,
        department: str | None = None,
        entity: str | None = None,
        entity_id: Annotated[int | None, Parameter(ge=1, le=2_147_483_647)] = None,
        page: Annotated[int | None, Parameter(ge=1, le=100_000)] = None,
        per_page: Annotated[int | None, Parameter(ge=1, le=200)] = None,
    ) -> Paginated:
        request_page = PageRequest.parse(page, per_page)
        rows, total = await entries(access, request_page, department=department, entity=entity, entity_id=entity_id)
        return paginated([AuditEntryOut(**r) for r in rows], total, request_page)


class AuditPages(Controller):
    @get("/journal")
    async def list(self, access: Scope, request: Request, entity: str | None = None) -> Template:
        request_page = PageRequest.parse(request.query_params.get("page"), None, default_per_page=50)
        rows, total = await entries(access, request_page, entity=entity or None)
        return page(
            "audit/list.html",
            section="audit",
            entries=rows,
            total=total,
            pager=request_page,
            filters={"entity": entity or ""},
        )


API_ROUTES: list[Any] = [AuditApi]
PAGE_ROUTES: list[Any] = [AuditPages]
