"""Who is calling: a bearer token on /api/, the session cookie on pages; and the scope each handler
gets from it (narrowed to the département of the URL under `/d/{code}/` and `/api/departments/{code}/`).

How a token or a session's user becomes a principal is the accounts domain's business: the
composition root hands its loaders in through `app.state.principals` (see `PrincipalLoaders`)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from coord.access import Principal, Scope

# The key of the session token inside the encrypted cookie session (the row is `user_session`).
SESSION_TOKEN_KEY = "sid"  # noqa: S105 (a dictionary key, not a secret)
CSRF_COOKIE = "coord_csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


# URLs whose `{code}` names a département (elsewhere it may name a plan).
DEPARTMENT_PATHS = ("/d/", "/api/departments/")


@dataclass(frozen=True)
class SessionAuth:
    """`request.auth` of a page request: which server-side session it came with."""

    session_id: int
    csrf_hash: str


class SignedInSession(Protocol):
    """What a session loader returns (structural: the accounts domain's `SessionPrincipal`)."""

    principal: Principal
    session_id: int
    csrf_hash: str


@dataclass(frozen=True)
class PrincipalLoaders:
    for_token: Callable[[str], Awaitable[Principal | None]]
    for_session: Callable[[str], Awaitable[SignedInSession | None]]


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
            token = session.get(SESSION_TOKEN_KEY)
            signed_in = await loaders.for_session(token) if isinstance(token, str) and token else None
            if signed_in is None:
                raise NotAuthorizedException("Veuillez vous connecter.")
            if connection.scope.get("method", "GET") not in SAFE_METHODS:
                _require_session_csrf(connection, signed_in.csrf_hash)
            return AuthenticationResult(
                user=signed_in.principal, auth=SessionAuth(signed_in.session_id, signed_in.csrf_hash)
            )
        return AuthenticationResult(user=principal, auth=None)


def _require_session_csrf(connection: ASGIConnection, csrf_hash: str) -> None:
    """The CSRF middleware checks that the form's token matches the cookie's; this checks that the
    cookie's is the one issued to this session at sign-in, so a token of another session (an earlier
    visitor of the same browser, a copied cookie) is refused."""
    cookie = connection.cookies.get(CSRF_COOKIE, "")
    if not hmac.compare_digest(hashlib.sha256(cookie.encode()).hexdigest(), csrf_hash):
        raise PermissionDeniedException("Jeton de sécurité périmé : rechargez la page et recommencez.")


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
