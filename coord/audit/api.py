"""Reading the audit log, JSON API (`/api/audit`): the national coordinator sees everything, others
their département."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, get
from litestar.params import Parameter

from coord.access import Scope
from coord.audit.log import entries
from coord.audit.schemas import AuditEntryOut
from coord.core.pagination import PageRequest, Paginated, paginated


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


ROUTES: list[Any] = [AuditApi]
