"""Signing a browser in and out: the server-side session, the cookie, the CSRF token, the audit.

Every way in (password, ProConnect, an invitation or a reset link) ends with `sign_in`, so each gets
the same fresh session: the cookie session is cleared (no data of an earlier visitor survives, no
fixation), a new CSRF token is issued and bound to the session, and the sign-in is audited with the
client's address.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.datastructures import Cookie
from litestar.exceptions import NotAuthorizedException
from litestar.middleware.csrf import generate_csrf_token

from coord.access import Principal
from coord.accounts import sessions
from coord.accounts.tables import User
from coord.audit import log as audit
from coord.core import clock
from coord.core.keys import csrf_key
from coord.web.auth import CSRF_COOKIE, SESSION_TOKEN_KEY, SessionAuth
from coord.web.client_ip import client_ip
from coord.web.forms import redirect


def csrf_cookie(request: Request, token: str) -> Cookie:
    settings = request.app.state.settings
    return Cookie(key=CSRF_COOKIE, value=token, path="/", secure=settings.cookie_secure, httponly=True, samesite="lax")


async def sign_in(
    request: Request[Any, Any, Any],
    user_id: int,
    *,
    method: str,
    target: str = "/",
    message: str | None = None,
    id_token: str = "",
) -> Response[Any]:
    """Open a session for `user_id` in this browser and redirect (303) to `target`."""
    settings = request.app.state.settings
    ip = client_ip(request)
    csrf_token = generate_csrf_token(secret=csrf_key(settings.secret_key))
    opened = await sessions.open_session(
        user_id,
        method=method,
        ip=ip,
        user_agent=request.headers.get("user-agent", ""),
        csrf_token=csrf_token,
        id_token=id_token,
    )
    signed_in = await sessions.principal_for_session(opened.token)
    if signed_in is None:  # deactivated between the check of the caller and now
        raise NotAuthorizedException("Ce compte est désactivé.")
    principal = signed_in.principal
    await User.update({User.last_login_at: clock.now()}).where(User.id == user_id)
    await audit.record(
        principal,
        "sign_in",
        "user",
        user_id,
        department_id=principal.department_id,
        summary=f"Connexion ({sessions.METHOD_LABELS.get(method, method)})",
        ip=ip,
    )
    request.clear_session()
    request.set_session({SESSION_TOKEN_KEY: opened.token})
    welcome = message or f"Bienvenue, {principal.full_name or principal.email}."
    response = redirect(request, target, welcome)
    response.cookies.append(csrf_cookie(request, csrf_token))
    return response


def current_session_id(request: Request[Any, Any, Any]) -> int | None:
    """The `user_session` id of this request's session (to mark « cette session » in lists)."""
    auth = request.scope.get("auth")
    return auth.session_id if isinstance(auth, SessionAuth) else None


async def sign_out(request: Request[Any, Any, Any]) -> str:
    """End this browser's session (server side and cookie); the ProConnect ID token it held, or ""."""
    token = (request.session or {}).get(SESSION_TOKEN_KEY)
    ended = await sessions.end_session(token) if isinstance(token, str) else None
    request.clear_session()
    if ended is None:
        return ""
    principal = request.scope.get("user")
    if isinstance(principal, Principal):
        await audit.record(
            principal,
            "sign_out",
            "user",
            principal.user_id,
            department_id=principal.department_id,
            summary="Déconnexion",
            ip=client_ip(request),
        )
    return str(ended["id_token"] or "")
