"""The home page sends each user to where they work."""

from __future__ import annotations

from typing import Any

from litestar import get
from litestar.response import Redirect

from coord.access import Scope


@get("/", include_in_schema=False)
async def home(access: Scope) -> Redirect:
    if access.principal.is_national:
        return Redirect(path="/national")
    if not access.principal.department_code:
        return Redirect(path="/departements")
    return Redirect(path=f"/d/{access.principal.department_code}")


ROUTES: list[Any] = [home]
