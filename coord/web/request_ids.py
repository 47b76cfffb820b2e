"""A request id for every HTTP request, sent back in `X-Request-ID` on every response.

The reverse proxy sends its own (nginx: `proxy_set_header X-Request-ID $request_id;`, 32 hex digits),
so its access log and Coord's lines share one id; a missing or malformed value (see
`coord.ops.request_context.well_formed`) is replaced by a uuid4 of Coord's own, never echoed. One pure
ASGI wrapper around the whole application (`install`), outside Litestar's router like
`coord.web.security`, so pages, API, static files, errors and unknown paths all get it, and so every log
line of the request, uvicorn's access line included (uvicorn writes it when the response starts, in
the `send` the application calls), carries the id.
"""

from __future__ import annotations

from litestar import Litestar
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from coord.ops.request_context import end_request, start_request

_HEADER = b"x-request-id"


class RequestIds:
    """ASGI middleware: sets the current request id for the request, adds it to the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = next((value for name, value in scope["headers"] if name == _HEADER), None)
        request_id, token = start_request(incoming.decode("latin-1") if incoming is not None else None)
        encoded = request_id.encode("ascii")

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(n, v) for n, v in message.get("headers", ()) if n.lower() != _HEADER]
                headers.append((_HEADER, encoded))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            end_request(token)


def install(app: Litestar) -> Litestar:
    """Wrap the whole ASGI handler of `app` with `RequestIds` (outermost: install it last)."""
    app.asgi_handler = RequestIds(app.asgi_handler)
    return app
