"""The id of the HTTP request being served, readable from anywhere below the web layer.

`coord.web.request_ids` sets it for each request (the reverse proxy's `X-Request-ID` when it is well
formed, a fresh uuid4 otherwise) and sends it back in the response. Log records carry it
(`coord.ops.logs`) and audit entries store it (`coord.audit.log`), so one id leads from a user's
report to the log lines and the journal entries of that request. Outside a request (the worker, the
CLI) there is none.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar, Token

# nginx's `$request_id` is 32 hex digits; other proxies use uuids or dotted ids. Anything else (line
# breaks, quotes, markup, overlong values) is replaced by an id of Coord's own.
_WELL_FORMED = re.compile(r"[A-Za-z0-9._:-]{1,128}")

_current: ContextVar[str | None] = ContextVar("coord_request_id", default=None)


def well_formed(value: str | None) -> bool:
    return value is not None and _WELL_FORMED.fullmatch(value) is not None


def new_request_id() -> str:
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    """The id of the request being served, None outside a request."""
    return _current.get()


def start_request(incoming: str | None) -> tuple[str, Token[str | None]]:
    """Make `incoming` (if well formed, else a new id) the current request id; returns it and the
    token that `end_request` takes."""
    request_id = incoming if well_formed(incoming) else new_request_id()
    return request_id, _current.set(request_id)


def end_request(token: Token[str | None]) -> None:
    _current.reset(token)
