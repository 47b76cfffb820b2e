"""« Mon compte » (`/compte`): my profile, my password, my open sessions and my API tokens."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.response import Template

from coord.access import ROLE_LABELS, Principal, Scope
from coord.accounts import resets, service, sessions
from coord.accounts.tables import User
from coord.accounts.web_sessions import current_session_id, sign_in
from coord.audit import log as audit
from coord.core.db import transaction
from coord.core.errors import NotFound, ValidationFailed
from coord.core.settings import current_settings
from coord.web.client_ip import client_ip
from coord.web.forms import form_data, page, redirect

PASSWORD_FIELDS = ("current_password", "new_password", "confirm_password")


async def _profile(principal: Principal) -> dict[str, Any]:
    row = (
        await User.select(
            User.email,
            User.full_name,
            User.role,
            User.department.code.as_alias("department_code"),
            User.department.name.as_alias("department_name"),
            User.department.timezone.as_alias("timezone"),
            User.manages_accounts,
            User.created_at,
            User.last_login_at,
            User.password_changed_at,
            User.password_hash,
        )
        .where(User.id == principal.user_id)
        .first()
    )
    profile = dict(row or {})
    has_password = bool(profile.pop("password_hash", ""))
    return {**profile, "role_label": ROLE_LABELS.get(principal.role, principal.role), "has_password": has_password}


async def _page(
    request: Request,
    access: Scope,
    *,
    password_errors: dict[str, str] | None = None,
    token_values: dict[str, Any] | None = None,
    token_errors: dict[str, str] | None = None,
    created: dict[str, Any] | None = None,
    status: int = 200,
) -> Template:
    principal = access.principal
    assert principal.user_id is not None  # pages are for signed-in people
    template = page(
        "accounts/account.html",
        status=status,
        section="me",
        profile=await _profile(principal),
        sessions=await sessions.active_sessions(principal.user_id),
        current_session=current_session_id(request),
        tokens=await service.tokens_of(principal),
        created=created,
        default_days=current_settings().api_token_days,
        max_days=service.MAX_TOKEN_DAYS,
        password_errors=password_errors or {},
        token_values=token_values or {},
        token_errors=token_errors or {},
    )
    if created:  # the one page that shows a token: keep it out of every cache
        template.headers["Cache-Control"] = "no-store"
    return template


class MyAccountPages(Controller):
    path = "/compte"

    @get("/", name="accounts.me")
    async def show(self, access: Scope, request: Request) -> Template:
        return await _page(request, access)

    @post("/mot-de-passe")
    async def change_password(self, access: Scope, request: Request) -> Response:
        data = await form_data(request)
        current, new, confirm = (str(data.get(name, "")) for name in PASSWORD_FIELDS)
        try:
            if new and new != confirm:
                raise ValidationFailed({"confirm_password": "Les deux saisies du nouveau mot de passe diffèrent."})
            await resets.change_password(access.principal, current, new, ip=client_ip(request))
        except ValidationFailed as exc:
            return await _page(request, access, password_errors=exc.errors, status=422)
        # Every session of the account has ended: this browser gets a fresh one.
        return await sign_in(
            request,
            access.principal.user_id or 0,
            method="password",
            target="/compte",
            message="Votre mot de passe est modifié. Vos autres sessions sont terminées.",
        )

    @post("/sessions/terminer")
    async def end_my_sessions(self, access: Scope, request: Request) -> Response:
        principal = access.principal
        assert principal.user_id is not None
        async with transaction():
            ended = await sessions.end_sessions_of(principal.user_id, reason="ended_by_user")
            await audit.record(
                principal,
                "end_sessions",
                "user",
                principal.user_id,
                department_id=principal.department_id,
                summary=f"{ended} session(s) terminée(s) par {principal.email}",
                ip=client_ip(request),
            )
        request.clear_session()
        request.set_session({})  # empty but present: it carries the message to the login page
        return redirect(
            request, "/connexion", "Toutes vos sessions sont terminées, y compris celle-ci : reconnectez-vous."
        )

    @post("/jetons")
    async def create_token(self, access: Scope, request: Request) -> Response:
        data = await form_data(request)
        try:
            created = await service.create_token_for(access.principal, data, ip=client_ip(request))
        except ValidationFailed as exc:
            return await _page(request, access, token_values=data, token_errors=exc.errors, status=422)
        return await _page(request, access, created=created)

    @post("/jetons/{token_id:int}/revoquer")
    async def revoke_token(self, access: Scope, request: Request, token_id: int) -> Response:
        if token_id not in {t["id"] for t in await service.tokens_of(access.principal)}:
            raise NotFound("Jeton d'API introuvable.")  # this page revokes one's own tokens only
        token = await service.revoke_token(token_id, access, ip=client_ip(request))
        return redirect(request, "/compte#jetons", f"Jeton d'API « {token['name'] or token['prefix']} » révoqué.")


ROUTES: list[Any] = [MyAccountPages]
