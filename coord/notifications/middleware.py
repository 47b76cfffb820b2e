"""The unread count of the header: `request.scope["unread_notifications"]` (an int) on every page of
a signed-in agent, read by `templates/base.html`. One indexed COUNT per page; never on the API,
static files, downloads or partner links (placed after the authentication middleware, which sets the user)."""

from __future__ import annotations

from litestar.enums import ScopeType
from litestar.middleware import AbstractMiddleware
from litestar.types import Receive, Scope, Scopes, Send

from coord.access import Principal
from coord.notifications.tables import Notification

SCOPE_KEY = "unread_notifications"
SKIPPED = ["^/api/", "^/static/", "^/r/", "^/schema", "^/health", "^/ready"]
# Downloads have no header to show the count in (exports, printable PDFs, calendar feeds).
DOWNLOADS = [r"\.(?:csv|xlsx|pdf|ics|json|png|svg)$"]

# `coord.notifications.service.unread_count`, written once: on every page, building the ORM query
# cost more than running it on the (recipient, read_at) index.
_UNREAD_SQL = "SELECT COUNT(*) AS n FROM notification WHERE recipient = {} AND read_at IS NULL"


async def header_unread_count(user_id: int) -> int:
    rows = await Notification.raw(_UNREAD_SQL, user_id)
    return int(rows[0]["n"])


class UnreadCountMiddleware(AbstractMiddleware):
    scopes: Scopes = {ScopeType.HTTP}
    exclude = SKIPPED + DOWNLOADS

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        user = scope.get("user")
        if isinstance(user, Principal) and user.user_id is not None:
            scope[SCOPE_KEY] = await header_unread_count(user.user_id)  # type: ignore[literal-required]
        await self.app(scope, receive, send)
