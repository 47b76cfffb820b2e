"""Reading the audit log, the page (`/journal`): the national coordinator sees everything, others
their département."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.response import Template

from coord.access import Scope
from coord.audit.log import entries
from coord.core.pagination import PageRequest
from coord.web.forms import page


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


ROUTES: list[Any] = [AuditPages]
