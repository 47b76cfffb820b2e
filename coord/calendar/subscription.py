"""The public subscription feed: `GET /r/calendrier/{token}.ics` (no login: the token is the
credential), with ETag / Last-Modified and 304 answers."""

from __future__ import annotations

import hashlib
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from litestar import Request, Response, get

from coord.calendar import feeds
from coord.core.errors import NotFound

CACHE_CONTROL = "private, max-age=900"


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


@get(
    "/r/calendrier/{token:str}",
    opt={"exclude_from_auth": True},
    include_in_schema=False,
    media_type="text/calendar",
)
async def feed_ics(token: str, request: Request) -> Response[bytes]:
    """The subscription feed. Unknown, malformed and revoked tokens all answer 404."""
    if not token.endswith(".ics"):
        raise NotFound()
    document = await feeds.feed_for_token(token)
    headers = {
        "ETag": document.etag,
        "Last-Modified": format_datetime(document.last_modified, usegmt=True),
        "Cache-Control": CACHE_CONTROL,
        "X-Content-Type-Options": "nosniff",
    }
    if_none_match = request.headers.get("if-none-match")
    if_modified_since = request.headers.get("if-modified-since")
    # If-None-Match wins when both are sent (RFC 9110 §13.2.2).
    if (if_none_match is not None and _etag_matches(if_none_match, document.etag)) or (
        if_none_match is None and if_modified_since and _not_modified_since(if_modified_since, document)
    ):
        return Response(b"", status_code=304, headers=headers, media_type="text/calendar")
    filename = "coord-" + hashlib.sha256(document.name.encode()).hexdigest()[:8] + ".ics"
    headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return Response(document.body, headers=headers, media_type="text/calendar")


ROUTES: list[Any] = [feed_ics]
