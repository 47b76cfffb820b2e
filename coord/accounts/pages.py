"""Login and logout pages."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from litestar import Request, Response, get, post
from litestar.response import Redirect, Template

from coord.accounts.proconnect import logout_redirect
from coord.accounts.signin import SignInDelayed, SignInRefused, authenticate
from coord.accounts.web_sessions import sign_in, sign_out
from coord.web.client_ip import client_ip
from coord.web.forms import form_data, page


def safe_next(target: str | None) -> str:
    """Only local paths: an open redirect after login would help phishing."""
    if not target:
        return "/"
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@get("/connexion", opt={"exclude_from_auth": True}, include_in_schema=False)
async def login_form(request: Request, suivant: str | None = None) -> Template:
    return page("accounts/login.html", next=safe_next(suivant), values={}, errors={})


@post("/connexion", opt={"exclude_from_auth": True}, include_in_schema=False)
async def login(request: Request) -> Response:
    data = await form_data(request)
    settings = request.app.state.settings
    email = str(data.get("email", ""))
    target = safe_next(str(data.get("suivant", "")))
    ip = client_ip(request)
    try:
        principal = await authenticate(email, str(data.get("password", "")), ip, settings=settings)
    except SignInDelayed as delayed:
        response = page(
            "accounts/login.html", status=429, next=target, values={"email": email}, errors={"form": delayed.message}
        )
        response.headers["Retry-After"] = str(delayed.seconds)
        return response
    except SignInRefused as refused:
        return page(
            "accounts/login.html", status=401, next=target, values={"email": email}, errors={"form": refused.message}
        )
    assert principal.user_id is not None
    return await sign_in(request, principal.user_id, method="password", target=target)


@post("/deconnexion", include_in_schema=False)
async def logout(request: Request) -> Redirect:
    id_token = await sign_out(request)
    # Signed in with ProConnect: end the ProConnect session too (it comes back to /connexion).
    target = await logout_redirect(request.app.state.settings, id_token)
    return Redirect(path=target or "/connexion", status_code=303)


ROUTES: list[Any] = [login_form, login, logout]
