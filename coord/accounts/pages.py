"""Login and logout pages."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlparse

from litestar import Request, Response, get, post
from litestar.response import Redirect, Template

from coord.accounts.service import LoginThrottled, authenticate
from coord.web.auth import SESSION_STARTED_KEY, SESSION_USER_KEY
from coord.web.forms import form_data, page, redirect


def _safe_next(target: str | None) -> str:
    """Only local paths: an open redirect after login would help phishing."""
    if not target:
        return "/"
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@get("/connexion", opt={"exclude_from_auth": True}, include_in_schema=False)
async def login_form(request: Request, suivant: str | None = None) -> Template:
    return page("accounts/login.html", next=_safe_next(suivant), values={}, errors={})


@post("/connexion", opt={"exclude_from_auth": True}, include_in_schema=False)
async def login(request: Request) -> Response:
    data = await form_data(request)
    settings = request.app.state.settings
    email = str(data.get("email", ""))
    target = _safe_next(str(data.get("suivant", "")))
    ip = request.client.host if request.client else ""
    try:
        principal = await authenticate(
            email,
            str(data.get("password", "")),
            ip,
            max_failures=settings.login_max_failures,
            window_minutes=settings.login_window_minutes,
        )
    except LoginThrottled:
        return page(
            "accounts/login.html",
            status=429,
            next=target,
            values={"email": email},
            errors={
                "form": f"Trop de tentatives infructueuses. Réessayez dans {settings.login_window_minutes} minutes."
            },
        )
    if principal is None:
        return page(
            "accounts/login.html",
            status=401,
            next=target,
            values={"email": email},
            errors={"form": "Adresse électronique ou mot de passe incorrect."},
        )
    request.clear_session()
    request.set_session({SESSION_USER_KEY: principal.user_id, SESSION_STARTED_KEY: int(time.time())})
    return redirect(request, target, f"Bienvenue, {principal.full_name or principal.email}.")


@post("/deconnexion", include_in_schema=False)
async def logout(request: Request) -> Redirect:
    request.clear_session()
    return Redirect(path="/connexion", status_code=303)


ROUTES: list[Any] = [login_form, login, logout]
