"""`GET /metrics` for Prometheus, behind a bearer token, and the request metrics of every route.

The endpoint answers 404 while `metrics_token` is empty (metrics off) and 401 without detail for a
missing or wrong token (compared in constant time). It sits outside sessions, CSRF, login and the
OpenAPI schema, and is not counted in the request metrics.

`RequestMetrics` wraps the whole ASGI handler (like `coord.web.security.SecurityHeaders`): after
Litestar's router has run, the scope holds the route's path template (`/d/{code}/meetings/{meeting_id}`),
never the raw path (ids, partners' tokens); a request no route matched is labelled "other". The
label children are looked up once per (template, method, status class) and kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

from litestar import Litestar, Request, Response, get
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client.core import Metric

from coord.ops import metrics

PATH = "/metrics"
OTHER = "other"
POOL_SAMPLE_SECONDS = 5.0
_PARAM_TYPE = re.compile(r"{(\w+):[^}]*}")
_STATUS_CLASSES = {n: f"{n}xx" for n in range(1, 6)}

# What a scrape reads from the database: async callables returning metric families, given by the
# composition root (the outbox is a table of a layer above this one).
MetricSource = Callable[[], Awaitable[Sequence[Metric]]]


def _template(raw: str) -> str:
    return _PARAM_TYPE.sub(r"{\1}", raw) or "/"


class RequestMetrics:
    """Pure ASGI wrapper counting and timing each HTTP request by route template, method and status class."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._children: dict[tuple[Any, str, int], tuple[Any, Any] | None] = {}

    def _labels(self, raw_template: Any, method: str, status: int) -> tuple[Any, Any] | None:
        method = method if method in metrics.HTTP_METHODS else OTHER  # any token is a method in HTTP
        key = (raw_template, method, status // 100)
        if key in self._children:
            return self._children[key]
        template = _template(raw_template) if isinstance(raw_template, str) else OTHER
        if template == PATH:
            children = None  # the scrapes themselves are not requests of the service
        else:
            labels = (template, method, _STATUS_CLASSES.get(status // 100, OTHER))
            children = (metrics.HTTP_REQUESTS.labels(*labels), metrics.HTTP_DURATION.labels(*labels))
        self._children[key] = children
        return children

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            children = self._labels(scope.get("path_template"), scope["method"], status)
            if children is not None:
                children[0].inc()
                children[1].observe(time.perf_counter() - started)


def install(app: Litestar) -> Litestar:
    """Wrap the whole ASGI handler of `app` with `RequestMetrics` (outermost: every request counts)."""
    app.asgi_handler = RequestMetrics(app.asgi_handler)
    return app


def _token_matches(request: Request[Any, Any, Any], expected: str) -> bool:
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer":
        given = ""
    return hmac.compare_digest(given.strip().encode("utf-8"), expected.encode("utf-8"))


@get(PATH, opt={"exclude_from_auth": True}, include_in_schema=False)
async def metrics_endpoint(request: Request[Any, Any, Any]) -> Response[bytes]:
    expected: str = request.app.state.settings.metrics_token
    if not expected:
        return Response(b"", status_code=404, media_type="text/plain")
    if not _token_matches(request, expected):
        return Response(b"", status_code=401, media_type="text/plain", headers={"WWW-Authenticate": "Bearer"})
    metrics.record_pool(request.app.state.metrics_engine)
    families: list[Metric] = []
    for source in request.app.state.metrics_sources:
        families.extend(await source())
    return Response(metrics.exposition(families), media_type=metrics.CONTENT_TYPE)


@contextlib.asynccontextmanager
async def pool_sampler(app: Litestar) -> AsyncIterator[None]:
    """While metrics are on, this process's pool use is written every few seconds, so a scrape
    answered by any process of `coord serve --workers N` sums them all."""
    task = None
    if app.state.settings.metrics_token:

        async def sample() -> None:
            while True:
                metrics.record_pool(app.state.metrics_engine)
                await asyncio.sleep(POOL_SAMPLE_SECONDS)

        task = asyncio.create_task(sample(), name="coord-metrics-pool")
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        metrics.process_ended()
