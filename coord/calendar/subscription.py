"""The public subscription feed: `GET` and `HEAD /r/calendrier/{token}.ics` (no login: the token is
the credential), with ETag / Last-Modified and 304 answers.

Calendar apps probe a URL with HEAD before subscribing and some revalidate with it: HEAD gets the
status and headers GET would get (Content-Length included) and no body. Refusals are short French
text, which a calendar app may show as is: 404 for a token Coord did not issue as a feed's, 410 for
a feed link revoked or expired (the app should stop polling it)."""

from __future__ import annotations

import hashlib
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from litestar import HttpMethod, Request, Response, route

from coord.calendar import feeds
from coord.core.errors import NotFound

CACHE_CONTROL = "private, max-age=900"
CALENDAR = "text/calendar"
TEXT = "text/plain"
NOT_FOUND = "Calendrier introuvable : vérifiez l'adresse d'abonnement, ou demandez-en une à la préfecture."


def _etag_matches(header: str, etag: str) -> bool:
    """If-None-Match uses the weak comparison (RFC 9110 §13.1.2)."""
    if header.strip() == "*":
        return True
    opaque = etag.removeprefix("W/")
    return any(candidate.strip().removeprefix("W/") == opaque for candidate in header.split(","))


def _not_modified_since(header: str, document: feeds.FeedDocument) -> bool:
    try:
        since = parsedate_to_datetime(header)
    except (TypeError, ValueError, IndexError):
        return False
    if since is None or since.tzinfo is None:
        return False
    return document.last_modified <= since


def _not_modified(request: Request, document: feeds.FeedDocument) -> bool:
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:  # it wins over If-Modified-Since (RFC 9110 §13.2.2)
        return _etag_matches(if_none_match, document.etag)
    if_modified_since = request.headers.get("if-modified-since")
    return bool(if_modified_since) and _not_modified_since(if_modified_since, document)


def _answer(request: Request, status: int, body: bytes, headers: dict[str, str], media_type: str) -> Response[bytes]:
    """`body` for GET; for HEAD the same status and headers, the length of that body, and no body."""
    if request.method == HttpMethod.HEAD and status != 304:
        return Response(
            b"", status_code=status, headers={**headers, "Content-Length": str(len(body))}, media_type=media_type
        )
    return Response(body, status_code=status, headers=headers, media_type=media_type)


def _refusal(request: Request, status: int, message: str) -> Response[bytes]:
    return _answer(request, status, (message + "\n").encode(), {"X-Content-Type-Options": "nosniff"}, TEXT)


@route(
    "/r/calendrier/{token:str}",
    http_method=[HttpMethod.GET, HttpMethod.HEAD],
    opt={"exclude_from_auth": True},
    include_in_schema=False,
    media_type=CALENDAR,
)
async def feed_ics(token: str, request: Request) -> Response[bytes]:
    """The subscription feed; 404 for an unknown or forged token, 410 for a revoked or expired one."""
    try:
        if not token.endswith(".ics"):
            raise NotFound()
        document = await feeds.feed_for_token(token)
    except feeds.FeedGone as exc:
        return _refusal(request, 410, exc.message)
    except NotFound:
        return _refusal(request, 404, NOT_FOUND)
    headers = {
        "ETag": document.etag,
        "Last-Modified": format_datetime(document.last_modified, usegmt=True),
        "Cache-Control": CACHE_CONTROL,
        "X-Content-Type-Options": "nosniff",
    }
    if _not_modified(request, document):
        return _answer(request, 304, b"", headers, CALENDAR)
    filename = "coord-" + hashlib.sha256(document.name.encode()).hexdigest()[:8] + ".ics"
    headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return _answer(request, 200, document.body, headers, CALENDAR)


ROUTES: list[Any] = [feed_ics]
