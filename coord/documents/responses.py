"""The HTTP answer carrying a document: always an attachment, its checked type, never sniffed."""

from __future__ import annotations

import re
import unicodedata
from typing import Any
from urllib.parse import quote

from litestar import Response


def ascii_fallback(name: str) -> str:
    """A plain-ASCII `filename=` for old clients: accents dropped, quotes and separators replaced."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    plain = re.sub(r"[^A-Za-z0-9._ -]", "_", plain).strip() or "document"
    return plain[:150]


def content_disposition(name: str) -> str:
    """RFC 6266 with the RFC 5987 `filename*` carrying the real (UTF-8) name."""
    return f"attachment; filename=\"{ascii_fallback(name)}\"; filename*=UTF-8''{quote(name, safe='')}"


def document_response(row: dict[str, Any], data: bytes) -> Response[bytes]:
    return Response(
        data,
        media_type=row["content_type"],
        headers={
            "Content-Disposition": content_disposition(row["filename"]),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )
