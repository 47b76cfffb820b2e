"""The encrypted session cookie, written only when the session changed.

Litestar's cookie backend encrypts the session and sends a new `Set-Cookie` on every response of a
signed-in browser, although the session of a page view (the token of its `user_session` row) does
not change. This backend remembers what the request's cookie held and skips the write when the
session is the same at the end of the request; any change (sign-in, sign-out, a flash message, its
display) is written as before. The cookie's expiry then stays the one set at sign-in, which is also
when the server-side session expires (`user_session.expires_at`, `session_hours`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar.middleware.session.client_side import ClientSideSessionBackend, CookieBackendConfig
from litestar.serialization import encode_json
from litestar.types import Empty

if TYPE_CHECKING:
    from litestar.connection import ASGIConnection
    from litestar.types import Message, ScopeSession

# Where the request's session, as the cookie held it, is kept until the response starts.
_LOADED = "coord.session_loaded"


class WriteOnChangeCookieBackend(ClientSideSessionBackend):
    async def load_from_connection(self, connection: ASGIConnection) -> dict[str, Any]:
        data = await super().load_from_connection(connection)
        if data:
            connection.scope[_LOADED] = encode_json(data)  # type: ignore[literal-required]
        return data

    async def store_in_message(self, scope_session: ScopeSession, message: Message, connection: ASGIConnection) -> None:
        loaded = connection.scope.get(_LOADED)
        if loaded is not None and scope_session and scope_session is not Empty and encode_json(scope_session) == loaded:
            return  # the browser's cookie already holds this very session
        await super().store_in_message(scope_session, message, connection)


class WriteOnChangeCookieConfig(CookieBackendConfig):
    """`CookieBackendConfig` (same options) with the backend above."""

    _backend_class = WriteOnChangeCookieBackend
