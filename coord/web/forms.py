"""Helpers for server-rendered forms: read the submitted form, re-render with errors, flash."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from coord.access import Scope
from coord.access.roles import Permission


async def form_data(request: Request) -> dict[str, Any]:
    form = await request.form()
    return {k: v for k, v in form.items() if k != "_csrf_token"}


def redirect(request: Request, path: str, message: str | None = None, category: str = "success") -> Redirect:
    if message:
        flash(request, message, category=category)
    return Redirect(path=path, status_code=303)


def page(template: str, status: int = 200, **context: Any) -> Template:
    return Template(template_name=template, context=context, status_code=status)


def department_context(scope: Scope, department: dict[str, Any], section: str) -> dict[str, Any]:
    """What every page of a département shows: its name, the navigation, what the user may do."""
    return {
        "department": department,
        "section": section,
        "can_manage": scope.may(Permission.MANAGE, department["id"]),
        "can_track": scope.may(Permission.TRACK_ACTIONS, department["id"]),
    }
