"""The framework's ceiling: a bare Litestar app with one tiny route and no middleware.

`coord bench` serves it with `uvicorn coord.bench.bare:app --workers N` (the worker count of the
server under test) and reports every Coord route as a ratio of its requests per second.
"""

from __future__ import annotations

from litestar import Litestar, get

ROUTE = "/bare"


@get(ROUTE)
async def bare() -> dict[str, str]:
    return {"status": "ok"}


app = Litestar(route_handlers=[bare], openapi_config=None)
