"""Security headers on every response: pages, API, static files, errors, 404s, partners' links.

One pure ASGI wrapper around the whole application (`install`), outside Litestar's router, so that
responses no route handler produced (unknown paths, 405s, exceptions) get the headers too. It only
appends precomputed header pairs to `http.response.start`: no request parsing, no allocation beyond
the header list.

- `Content-Security-Policy`: scripts, styles, images, fonts and fetches from Coord itself only; no
  inline script, event handler or style attribute (the templates declare behaviours with data-
  attributes handled by `static/coord.js`); no plugin, no `<base>`, forms post to Coord only, and no
  other site may frame a page (`frame-ancestors 'none'`).
- `X-Content-Type-Options: nosniff` everywhere.
- `Referrer-Policy`: `no-referrer` on partners' pages (`/r/...`: the token is in the URL and must not
  leak to a video-conference link or any other site), `same-origin` elsewhere.
- `Cache-Control: no-store` on everything but `/static/` (pages behind a login, partners' pages, the
  JSON API, errors: none may be kept by a browser or a proxy). A handler that sets its own
  Cache-Control keeps it (the calendar feeds' `private, max-age=900` lets calendar apps revalidate
  with their ETag).
- `Strict-Transport-Security` only when the configured base URL is https (a browser reaching a dev
  instance over http must not be told to insist on https for the host).

A handler may set its own Content-Security-Policy (the demo's captured mail, which must keep its
inline styles inside a sandboxed frame); every other header here is only added when absent, except
the Referrer-Policy of partners' pages, which is always `no-referrer`.
"""

from __future__ import annotations

from litestar import Litestar
from litestar.types import ASGIApp, Message, Receive, Scope, Send


def content_security_policy(form_targets: tuple[str, ...] = ()) -> str:
    """The policy; `form_targets` are other origins a form may lead to (ProConnect's logout, which
    the logout form's redirect reaches: `form-action` covers redirects after a submission too)."""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "frame-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            " ".join(["form-action 'self'", *form_targets]),
            "frame-ancestors 'none'",
        ]
    )


CONTENT_SECURITY_POLICY = content_security_policy()
HSTS = "max-age=63072000; includeSubDomains"
PARTNER_PREFIX = "/r/"
STATIC_PREFIX = "/static/"

Headers = tuple[tuple[bytes, bytes], ...]


def _encode(pairs: list[tuple[str, str]]) -> Headers:
    return tuple((name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in pairs)


class SecurityHeaders:
    """ASGI middleware adding the security headers above to every HTTP response."""

    def __init__(self, app: ASGIApp, *, https: bool, form_targets: tuple[str, ...] = ()) -> None:
        self.app = app
        policy = content_security_policy(form_targets)
        common = [("Content-Security-Policy", policy), ("X-Content-Type-Options", "nosniff")]
        if https:
            common.append(("Strict-Transport-Security", HSTS))
        self.default = _encode([*common, ("Referrer-Policy", "same-origin"), ("Cache-Control", "no-store")])
        self.static = _encode([*common, ("Referrer-Policy", "same-origin")])
        self.partner = _encode([*common, ("Cache-Control", "no-store"), ("X-Robots-Tag", "noindex, nofollow")])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        partner = path.startswith(PARTNER_PREFIX)
        added = self.partner if partner else self.static if path.startswith(STATIC_PREFIX) else self.default

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (name, value)
                    for name, value in message.get("headers", ())
                    # Partners' pages: whatever a handler said, never a Referer with the token.
                    if not (partner and name.lower() == b"referrer-policy")
                ]
                present = {name.lower() for name, _ in headers}
                headers.extend(pair for pair in added if pair[0] not in present)
                if partner:
                    headers.append((b"referrer-policy", b"no-referrer"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install(app: Litestar, *, https: bool, form_targets: tuple[str, ...] = ()) -> Litestar:
    """Wrap the whole ASGI handler of `app` (after Litestar built it) with `SecurityHeaders`."""
    app.asgi_handler = SecurityHeaders(app.asgi_handler, https=https, form_targets=form_targets)
    return app
