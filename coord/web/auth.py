"""Who is calling: a bearer token on /api/, the session cookie on pages; and the scope each handler
gets from it (narrowed to the département of the URL under `/d/{code}/` and `/api/departments/{code}/`).

How a token or a session's user becomes a principal is the accounts domain's business: the
composition root hands its loaders in through `app.state.principals` (see `PrincipalLoaders`)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from coord.access import Principal, Scope

SESSION_USER_KEY = "uid"
SESSION_STARTED_KEY = "since"


# URLs whose `{code}` names a département (elsewhere it may name a plan).
DEPARTMENT_PATHS = ("/d/", "/api/departments/")


@dataclass(frozen=True)
class PrincipalLoaders:
    for_token: Callable[[str], Awaitable[Principal | None]]
    for_user: Callable[[int], Awaitable[Principal | None]]


def is_api_path(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


class AuthMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        principal: Principal | None = None
        loaders: PrincipalLoaders = connection.app.state.principals
        if is_api_path(connection.scope["path"]):
            # The API takes bearer tokens only: no cookie, hence no CSRF exposure.
            header = connection.headers.get("authorization", "")
            scheme, _, token = header.partition(" ")
            if scheme.lower() == "bearer" and token:
                principal = await loaders.for_token(token.strip())
            if principal is None:
                raise NotAuthorizedException("Jeton d'API manquant, invalide, expiré ou révoqué.")
        else:
            session = connection.scope.get("session") or {}
            user_id = session.get(SESSION_USER_KEY)
            max_age = connection.app.state.settings.session_hours * 3600
            started = session.get(SESSION_STARTED_KEY, 0)
            if isinstance(user_id, int) and time.time() - started < max_age:
                principal = await loaders.for_user(user_id)
            if principal is None:
                raise NotAuthorizedException("Veuillez vous connecter.")
        return AuthenticationResult(user=principal, auth=None)


async def provide_scope(request: ASGIConnection) -> Scope:
    """The caller's scope; under a département's URL, narrowed to it (404 if the caller may not see it)."""
    scope = Scope(request.user)
    code = request.path_params.get("code")
    if isinstance(code, str) and request.scope["path"].startswith(DEPARTMENT_PATHS):
        return scope.within(await scope.department(code))
    return scope


async def provide_department(access: Scope, request: ASGIConnection) -> dict[str, Any]:
    """The département of the URL, as a row (the `access` scope is already narrowed to it)."""
    return await access.department(request.path_params["code"])
