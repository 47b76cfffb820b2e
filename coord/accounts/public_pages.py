"""The pages behind the accounts' mailed links, without a login: accepting an invitation, asking for
a new password, choosing it from the reset link.

Opening a link only shows it (mail scanners open links); only the submitted form acts. The secret is in
the URL, so these pages send no Referer anywhere. A link that cannot be used gets a French page: 404
for an unknown (or tampered, or revoked) one, 410 for an expired or used one.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Template

from coord.accounts.invitations import (
    AccountExists,
    AccountLinkInvalid,
    accept_with_password,
    invitation_for,
)
from coord.accounts.passwords import MIN_PASSWORD_LENGTH
from coord.accounts.resets import request_reset, reset_for, reset_password
from coord.accounts.web_sessions import sign_in
from coord.core.clock import DEFAULT_TIMEZONE
from coord.core.errors import ValidationFailed
from coord.core.french import date_fr
from coord.core.validation import Fields
from coord.web.client_ip import client_ip
from coord.web.forms import form_data, page

PUBLIC = {"exclude_from_auth": True}
PASSWORD_POLICY = (
    f"Au moins {MIN_PASSWORD_LENGTH} caractères, difficile à deviner : une suite de plusieurs mots sans rapport "
    "entre eux convient bien. Évitez votre nom, votre adresse électronique, les mots courants et les suites "
    "simples (« 123456 », « azerty »)."
)
MISMATCH = "Les deux mots de passe saisis ne sont pas identiques."
TITLES = {
    ("invitation", "unknown"): "Invitation introuvable",
    ("invitation", "expired"): "Invitation expirée",
    ("invitation", "used"): "Invitation déjà acceptée",
    ("reset", "unknown"): "Lien introuvable",
    ("reset", "expired"): "Lien expiré",
    ("reset", "used"): "Lien déjà utilisé",
}


def _page(template: str, status: int = 200, **context: Any) -> Template:
    response = page(template, status=status, **context)
    response.headers["Referrer-Policy"] = "no-referrer"  # the link's secret is in the URL
    return response


def _invalid(exc: AccountLinkInvalid) -> Template:
    return _page(
        "accounts/link_invalid.html",
        status=exc.status_code,
        title=TITLES[(exc.kind, exc.reason)],
        detail=exc.message,
    )


def _account_exists(exc: AccountExists) -> Template:
    return _page("accounts/link_invalid.html", status=exc.status_code, title="Compte déjà existant", detail=exc.message)


def _confirmation_error(data: dict[str, Any]) -> dict[str, str]:
    password = str(data.get("password", ""))
    if password and str(data.get("password_confirm", "")) != password:
        return {"password_confirm": MISMATCH}
    return {}


# -- invitations ----------------------------------------------------------------------------------


def _invitation_page(
    request: Request, secret: str, invitation: dict[str, Any], values: dict[str, Any], errors: dict[str, str]
) -> Template:
    return _page(
        "accounts/invitation.html",
        status=422 if errors else 200,
        secret=secret,
        invitation=invitation,
        expires=date_fr(invitation["expires_at"], DEFAULT_TIMEZONE, with_time=True),
        proconnect_enabled=request.app.state.settings.proconnect_enabled,
        password_policy=PASSWORD_POLICY,
        values=values,
        errors=errors,
    )


@get("/invitation/{secret:str}", opt=PUBLIC, include_in_schema=False)
async def invitation_page(request: Request, secret: str) -> Template:
    try:
        invitation = await invitation_for(secret)
    except AccountLinkInvalid as exc:
        return _invalid(exc)
    return _invitation_page(request, secret, invitation, {"full_name": invitation["full_name"]}, {})


@post("/invitation/{secret:str}", opt=PUBLIC, include_in_schema=False)
async def accept_invitation(request: Request, secret: str) -> Response[Any]:
    data = await form_data(request)
    try:
        invitation = await invitation_for(secret)
    except AccountLinkInvalid as exc:
        return _invalid(exc)
    full_name = str(data.get("full_name", ""))
    values = {"full_name": full_name}
    errors = _confirmation_error(data)
    if errors:
        return _invitation_page(request, secret, invitation, values, errors)
    try:
        user_id = await accept_with_password(secret, str(data.get("password", "")), full_name, ip=client_ip(request))
    except AccountLinkInvalid as exc:
        return _invalid(exc)
    except AccountExists as exc:
        return _account_exists(exc)
    except ValidationFailed as exc:
        return _invitation_page(request, secret, invitation, values, exc.errors)
    return await sign_in(
        request, user_id, method="invitation", target="/", message="Votre compte Coord est créé : bienvenue."
    )


# -- forgotten password ---------------------------------------------------------------------------


@get("/mot-de-passe-oublie", opt=PUBLIC, include_in_schema=False)
async def forgot_password_form(request: Request) -> Template:
    return page("accounts/forgot_password.html", sent=False, values={}, errors={})


@post("/mot-de-passe-oublie", opt=PUBLIC, include_in_schema=False)
async def forgot_password(request: Request) -> Template:
    data = await form_data(request)
    fields = Fields(data)
    email = fields.email("email", required=True)
    values = {"email": str(data.get("email", "")).strip()}
    if fields.errors or not email:
        return page("accounts/forgot_password.html", status=422, sent=False, values=values, errors=fields.errors)
    # The same page whether or not the address has an account (request_reset takes as long either way).
    await request_reset(email, ip=client_ip(request), base_url=request.app.state.settings.base_url)
    return page("accounts/forgot_password.html", sent=True, values={"email": email}, errors={})


def _reset_page(secret: str, reset: dict[str, Any], errors: dict[str, str]) -> Template:
    return _page(
        "accounts/reset_password.html",
        status=422 if errors else 200,
        secret=secret,
        reset=reset,
        password_policy=PASSWORD_POLICY,
        errors=errors,
    )


@get("/mot-de-passe/{secret:str}", opt=PUBLIC, include_in_schema=False)
async def reset_form(secret: str) -> Template:
    try:
        reset = await reset_for(secret)
    except AccountLinkInvalid as exc:
        return _invalid(exc)
    return _reset_page(secret, reset, {})


@post("/mot-de-passe/{secret:str}", opt=PUBLIC, include_in_schema=False)
async def reset(request: Request, secret: str) -> Response[Any]:
    data = await form_data(request)
    try:
        pending = await reset_for(secret)
    except AccountLinkInvalid as exc:
        return _invalid(exc)
    if errors := _confirmation_error(data):
        return _reset_page(secret, pending, errors)
    try:
        user_id = await reset_password(secret, str(data.get("password", "")), ip=client_ip(request))
    except AccountLinkInvalid as exc:
        return _invalid(exc)
    except ValidationFailed as exc:
        return _reset_page(secret, pending, exc.errors)
    return await sign_in(
        request,
        user_id,
        method="reset",
        target="/",
        message="Votre mot de passe est changé ; vos autres sessions ont été fermées.",
    )


ROUTES: list[Any] = [invitation_page, accept_invitation, forgot_password_form, forgot_password, reset_form, reset]
