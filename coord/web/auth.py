"""Who is calling: a bearer token on /api/, the session cookie on pages."""

from __future__ import annotations

import time

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from coord.accounts.access import Principal, Scope
from coord.accounts.service import load_principal, principal_for_token

SESSION_USER_KEY = "uid"
SESSION_STARTED_KEY = "since"


def is_api_path(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


class AuthMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        principal: Principal | None = None
        if is_api_path(connection.scope["path"]):
            # The API takes bearer tokens only: no cookie, hence no CSRF exposure.
            header = connection.headers.get("authorization", "")
            scheme, _, token = header.partition(" ")
            if scheme.lower() == "bearer" and token:
                principal = await principal_for_token(token.strip())
            if principal is None:
                raise NotAuthorizedException("Jeton d'API manquant, invalide, expiré ou révoqué.")
        else:
            session = connection.scope.get("session") or {}
            user_id = session.get(SESSION_USER_KEY)
            max_age = connection.app.state.settings.session_hours * 3600
            started = session.get(SESSION_STARTED_KEY, 0)
            if isinstance(user_id, int) and time.time() - started < max_age:
                principal = await load_principal(user_id)
            if principal is None:
                raise NotAuthorizedException("Veuillez vous connecter.")
        return AuthenticationResult(user=principal, auth=None)


def provide_scope(request: ASGIConnection) -> Scope:
    return Scope(request.user)
