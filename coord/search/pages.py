"""The search page of a département: `/d/{code}/recherche?q=…`, the target of the header's box."""

from __future__ import annotations

from typing import Any

from litestar import get
from litestar.response import Template

from coord.access import DepartmentRow, Scope
from coord.core.errors import ValidationFailed
from coord.search import service
from coord.web.forms import department_context, page


@get("/d/{code:str}/recherche")
async def search_page(access: Scope, department: DepartmentRow, q: str | None = None) -> Template:
    context = {**department_context(access, department, "search"), "query": q or "", "kinds": service.KINDS}
    if q is None:  # the page opened without a query: the form alone
        return page("search/results.html", **context, outcome=None, error="")
    try:
        outcome = await service.search(access, department, q)
    except ValidationFailed as exc:
        return page("search/results.html", status=422, **context, outcome=None, error=exc.message)
    return page("search/results.html", **context, outcome=outcome, error="")


ROUTES: list[Any] = [search_page]
