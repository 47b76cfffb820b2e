"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

from typing import Any

from litestar import Response, get

from coord.core.db import current_engine


@get("/health", opt={"exclude_from_auth": True}, tags=["Exploitation"], summary="Le processus répond")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@get("/ready", opt={"exclude_from_auth": True}, tags=["Exploitation"], summary="La base de données répond")
async def ready() -> Response[dict[str, Any]]:
    try:
        await current_engine().run_ddl("SELECT 1")
    except Exception as exc:  # any failure means "not ready"; the reason helps the operator
        return Response({"status": "unavailable", "database": type(exc).__name__}, status_code=503)
    return Response({"status": "ok", "database": "ok"})


ROUTES: list[Any] = [health, ready]
