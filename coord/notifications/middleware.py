"""The unread count of the header: `request.scope["unread_notifications"]` (an int) on every page of
a signed-in agent, read by `templates/base.html`. One indexed COUNT per page; never on the API,
static files, downloads or partner links (placed after the authentication middleware, which sets the user)."""

from __future__ import annotations

from litestar.enums import ScopeType
from litestar.middleware import AbstractMiddleware
from litestar.types import Receive, Scope, Scopes, Send

from coord.access import Principal
from coord.notifications.service import unread_count

SCOPE_KEY = "unread_notifications"
SKIPPED = ["^/api/", "^/static/", "^/r/", "^/schema", "^/health", "^/ready"]
# Downloads have no header to show the count in (exports, printable PDFs, calendar feeds).
DOWNLOADS = [r"\.(?:csv|xlsx|pdf|ics|json|png|svg)$"]


class UnreadCountMiddleware(AbstractMiddleware):
    scopes: Scopes = {ScopeType.HTTP}
    exclude = SKIPPED + DOWNLOADS

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        user = scope.get("user")
        if isinstance(user, Principal) and user.user_id is not None:
            scope[SCOPE_KEY] = await unread_count(user.user_id)  # type: ignore[literal-required]
        await self.app(scope, receive, send)
