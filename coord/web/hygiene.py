"""Refuse, before anything else runs, requests that no legitimate client sends.

A NUL character cannot be stored in PostgreSQL text and has no meaning in a URL: a request carrying
one in its path or query string gets a 400 instead of reaching the database."""

from __future__ import annotations

from litestar.types import ASGIApp, Receive, Scope, Send

BAD_MARKERS = (b"%00", b"\x00")


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
