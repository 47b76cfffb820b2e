"""Refuse, before anything else runs, requests that no legitimate client sends.

- A NUL character cannot be stored in PostgreSQL text and has no meaning in a URL: a request carrying
  one in its path or query string gets a 400 instead of reaching the database (`reject_nul_bytes`,
  first of the middleware).
- `bound_request_input`, once the route is known (after authentication):
  - an integer of the path (`{meeting_id:int}`...) beyond the database's ids (32 bits, from 1) names
    nothing: 404, on every route, page or API, without reaching a query (SQLite raises OverflowError
    beyond 64 bits, asyncpg beyond 32);
  - a JSON body nested deeper than `MAX_JSON_DEPTH` is refused with a 400 while it is received, before
    the parser recurses into it (msgspec raises RecursionError around a thousand levels). No body of
    Coord goes beyond four levels.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from coord.access import MAX_ID
from coord.core.errors import CoordError, NotFound

BAD_MARKERS = (b"%00", b"\x00")

MAX_JSON_DEPTH = 32
JSON_TOO_DEEP = (
    f"Le document JSON envoyé est imbriqué trop profondément ({MAX_JSON_DEPTH} niveaux au plus) : "
    "rien n'a été enregistré."
)
# Bodies read as forms or files, never parsed as JSON.
_NOT_JSON = ("multipart/form-data", "application/x-www-form-urlencoded")


def reject_nul_bytes(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raw = scope.get("raw_path") or scope.get("path", "").encode()
            query = scope.get("query_string", b"")
            if any(marker in raw or marker in query for marker in BAD_MARKERS) or "\x00" in scope.get("path", ""):
                body = b'{"status_code":400,"detail":"Caract\\u00e8re nul interdit dans l\'adresse."}'
                await send(
                    {
                        "type": "http.response.start",
                        "status": 400,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await app(scope, receive, send)

    return middleware


def bound_request_input(app: ASGIApp) -> ASGIApp:
    """Out-of-range path ids and over-nested JSON bodies; raises the errors `coord.web.errors` turns
    into a French page or JSON answer."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            check_path_ids(scope.get("path_params") or {})
            if _body_is_json(scope):
                receive = _depth_limited(receive)
        await app(scope, receive, send)

    return middleware


def check_path_ids(path_params: dict[str, Any]) -> None:
    """Every integer of a Coord path is an id or a number counted from 1, stored in 32 bits."""
    for value in path_params.values():
        if isinstance(value, int) and not isinstance(value, bool) and not 1 <= value <= MAX_ID:
            raise NotFound()


def _content_type(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            return value.decode("latin-1").split(";", 1)[0].strip().lower()
    return ""


def _body_is_json(scope: Scope) -> bool:
    """JSON by its content type, or a body the route decodes as JSON whatever its content type says
    (Litestar reads the `data` of a handler as JSON unless it is declared a form)."""
    if scope.get("method") in ("GET", "HEAD", "OPTIONS", "DELETE"):
        return False
    content_type = _content_type(scope)
    if content_type == "application/json" or content_type.endswith("+json"):
        return True
    if content_type in _NOT_JSON:
        return False
    handler = scope.get("route_handler")
    try:
        return "data" in handler.parsed_fn_signature.parameters  # type: ignore[union-attr]
    except AttributeError:
        return False


def _depth_limited(receive: Receive) -> Callable[[], Awaitable[Message]]:
    scanner = JsonDepthScanner()

    async def checked() -> Message:
        message = await receive()
        if message["type"] == "http.request" and scanner.feed(message.get("body", b"")):
            raise CoordError(JSON_TOO_DEEP)
        return message

    return checked


_ANYWHERE = re.compile(rb'["\[\]{}]')  # outside strings: a quote opens one, brackets nest
_IN_STRING = re.compile(rb'["\\]')  # inside: an escape or the closing quote


class JsonDepthScanner:
    """The nesting depth of a JSON text received in chunks, without parsing it.

    While fewer than `limit` brackets have been received the depth cannot exceed it: counting them is
    all a normal body costs. Past that count, the text is walked from its start, string by string
    (brackets inside strings do not nest), jumping from one significant character to the next. Not a
    validator: malformed JSON is left to the parser, which reports it.
    """

    def __init__(self, limit: int = MAX_JSON_DEPTH) -> None:
        self.limit = limit
        self.opened = 0  # brackets received so far, inside strings or not
        self.held: list[bytes] | None = []  # chunks kept until the exact walk starts
        self.depth = 0
        self.in_string = False
        self.escaped = False  # a chunk ended on the backslash of an escape

    def feed(self, chunk: bytes) -> bool:
        """Take the next chunk; True once the depth went beyond the limit."""
        if self.held is not None:
            self.opened += chunk.count(b"[") + chunk.count(b"{")
            self.held.append(chunk)
            if self.opened <= self.limit:
                return False
            held, self.held = self.held, None
            return any(self._walk(part) for part in held)
        return self._walk(chunk)

    def _walk(self, chunk: bytes) -> bool:
        position = 0
        if self.escaped and chunk:
            position, self.escaped = 1, False
        end = len(chunk)
        while position < end:
            found = (_IN_STRING if self.in_string else _ANYWHERE).search(chunk, position)
            if found is None:
                return False
            char = chunk[found.start()]
            position = found.end()
            if self.in_string:
                if char == 0x5C:  # backslash: the next character is escaped, even in the next chunk
                    if position < end:
                        position += 1
                    else:
                        self.escaped = True
                else:
                    self.in_string = False
            elif char == 0x22:
                self.in_string = True
            elif char in (0x5B, 0x7B):
                self.depth += 1
                if self.depth > self.limit:
                    return True
            elif char in (0x5D, 0x7D):
                self.depth = max(0, self.depth - 1)
        return False
