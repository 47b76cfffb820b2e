"""Signing in with ProConnect: the start (redirect to the provider) and the return (callback).

The start keeps a state, a nonce, the page to go to afterwards and the time in the encrypted cookie
session; the return accepts each state once, within ten minutes, in the browser that started it.
Nobody gets an account by signing in: the verified e-mail must be an active account's or a pending
invitation's (`invitations.claim_for_identity`); otherwise a French page says whom to ask.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Template

from coord.access import system_principal
from coord.accounts import proconnect
from coord.accounts.invitations import IdentityRefused, claim_for_identity
from coord.accounts.pages import safe_next
from coord.accounts.tables import User
from coord.accounts.tokens import new_secret
from coord.accounts.web_sessions import sign_in
from coord.audit import log as audit
from coord.core import clock
from coord.web.client_ip import client_ip
from coord.web.forms import page

logger = logging.getLogger("coord.proconnect")

PENDING_KEY = "proconnect"  # in the cookie session: {state: {"nonce", "next", "at"}}
PENDING_SECONDS = 600
MAX_PENDING = 3  # sign-ins started in other tabs of the same browser stay valid
MAX_PARAM = 2048  # longer code or state values are not ProConnect's


def _now() -> int:
    return int(clock.now().timestamp())  # the process clock, which tests may freeze


def _enabled(request: Request) -> Any:
    settings = request.app.state.settings
    if not settings.proconnect_enabled:
        raise NotFoundException()
    return settings


def _refused(exc: proconnect.ProConnectError | IdentityRefused, title: str | None = None) -> Template:
    return page(
        "accounts/proconnect_refused.html",
        status=exc.status_code,
        title=title or getattr(exc, "title", proconnect.ProConnectError.title),
        detail=exc.message,
    )


async def _audit_failure(request: Request, reason: str, detail: str, *, email: str = "") -> None:
    user = await User.select(User.id, User.department).where(User.email == email).first() if email else None
    await audit.record(
        system_principal(email or "ProConnect"),
        "sign_in_failed",
        "user",
        user["id"] if user else None,
        department_id=user["department"] if user else None,
        summary=f"Échec de connexion ProConnect{f' de {email}' if email else ''} ({reason})",
        after={"method": "proconnect", "reason": reason, "detail": detail[:200], **({"email": email} if email else {})},
        ip=client_ip(request),
    )


@get("/connexion/proconnect", opt={"exclude_from_auth": True}, include_in_schema=False)
async def proconnect_start(request: Request, suivant: str | None = None) -> Response[Any]:
    settings = _enabled(request)
    try:
        meta = await proconnect.metadata(settings)
    except proconnect.ProConnectError as exc:
        logger.warning("ProConnect discovery failed: %s", getattr(exc, "detail", type(exc).__name__))
        return _refused(exc)
    # 43 characters each, above ProConnect's minimum of 32.
    state, nonce = new_secret(), new_secret()
    now = _now()
    session = dict(request.session or {})
    pending = {
        key: value
        for key, value in dict(session.get(PENDING_KEY) or {}).items()
        if isinstance(value, dict) and now - int(value.get("at", 0)) < PENDING_SECONDS
    }
    pending[state] = {"nonce": nonce, "next": safe_next(suivant), "at": now}
    session[PENDING_KEY] = dict(sorted(pending.items(), key=lambda item: item[1]["at"])[-MAX_PENDING:])
    request.set_session(session)
    return Redirect(path=proconnect.authorization_url(settings, meta, state=state, nonce=nonce), status_code=302)


def _take_pending(request: Request, state: str | None) -> dict[str, Any] | None:
    """The sign-in this state belongs to, removed from the session whatever happens next (one use)."""
    session = dict(request.session or {})
    pending = dict(session.get(PENDING_KEY) or {})
    found = pending.pop(state, None) if state else None
    if pending:
        session[PENDING_KEY] = pending
    else:
        session.pop(PENDING_KEY, None)
    request.set_session(session)
    return found if isinstance(found, dict) else None


@get("/connexion/proconnect/retour", opt={"exclude_from_auth": True}, include_in_schema=False)
async def proconnect_callback(request: Request) -> Response[Any]:
    # Read from the query itself: `state` is a reserved parameter name in Litestar handlers.
    query = request.query_params
    code, state, error, iss = (query.get(name) for name in ("code", "state", "error", "iss"))
    settings = _enabled(request)
    if (code and len(code) > MAX_PARAM) or (state and len(state) > MAX_PARAM):
        return _refused(proconnect.CallbackInvalid("parameter too long"))
    pending = _take_pending(request, state)
    if error:
        return _refused(proconnect.ProviderDenied(error[:100]))
    if pending is None:
        return _refused(proconnect.CallbackInvalid("unknown or used state"))
    if _now() - int(pending.get("at", 0)) >= PENDING_SECONDS:
        return _refused(proconnect.CallbackInvalid("expired state"))
    if not code:
        return _refused(proconnect.CallbackInvalid("no code"))
    try:
        meta = await proconnect.metadata(settings)
        # RFC 9207: a provider that names itself in the response must be the one we sent the browser to.
        if iss is not None and iss != meta.issuer:
            raise proconnect.CallbackInvalid(f"iss {iss!r}")
        identity = await proconnect.complete_sign_in(settings, code=code, nonce=str(pending.get("nonce", "")))
    except proconnect.ProConnectError as exc:
        detail = getattr(exc, "detail", "") or type(exc).__name__
        logger.warning("ProConnect sign-in failed: %s", detail)
        if not isinstance(exc, proconnect.ProviderUnreachable | proconnect.CallbackInvalid):
            await _audit_failure(request, type(exc).__name__, detail)
        return _refused(exc)
    try:
        user_id = await claim_for_identity(identity.email, identity.full_name, ip=client_ip(request))
    except IdentityRefused as exc:
        await _audit_failure(
            request, exc.reason, "no account" if exc.reason == "unknown" else "deactivated", email=identity.email
        )
        title = "Aucun compte Coord pour cette adresse" if exc.reason == "unknown" else "Compte désactivé"
        return _refused(exc, title)
    return await sign_in(
        request,
        user_id,
        method="proconnect",
        target=safe_next(str(pending.get("next") or "/")),
        id_token=identity.id_token,
    )


ROUTES: list[Any] = [proconnect_start, proconnect_callback]
