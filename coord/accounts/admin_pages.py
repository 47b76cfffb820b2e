"""Pages of account administration: a département's accounts (`/d/{code}/comptes`, for national
coordinators and the département's referents who manage accounts) and every account (`/comptes`,
national coordinators only). The rules are `coord.accounts.admin`'s."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.response import Redirect, Template

from coord.access import DepartmentRow, Scope, is_valid_id
from coord.accounts import admin, service
from coord.core.errors import Forbidden, NotFound, ValidationFailed
from coord.web.client_ip import client_ip
from coord.web.forms import department_context, form_data, page, redirect

NATIONAL_PAGE = "Cette page est réservée à la coordination nationale."
# A hidden field of the rights form: an unticked checkbox is not sent, and only that form carries it.
RIGHTS_FORM = "rights_form"


def _base(department: DepartmentRow | None) -> str:
    return f"/d/{department['code']}/comptes" if department else "/comptes"


def _context(access: Scope, department: DepartmentRow | None) -> dict[str, Any]:
    if department:
        return {**department_context(access, department, "accounts"), "base": _base(department)}
    return {"department": None, "section": "accounts", "base": "/comptes"}


def _require_national(access: Scope, *ids: int) -> None:
    """403 unless a national coordinator; but first 404 for an id that cannot name a record, as on
    every route (a number beyond the database's integers names nothing, whoever asks)."""
    if not all(is_valid_id(i) for i in ids):
        raise NotFound()
    if not access.principal.is_national:
        raise Forbidden(NATIONAL_PAGE)


async def _list(
    access: Scope,
    department: DepartmentRow | None,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Template:
    rows = await admin.accounts(access)
    return page(
        "accounts/admin_list.html",
        status=status,
        **_context(access, department),
        accounts=rows,
        invitations=await admin.invitations(access),
        roles=admin.assignable_roles(access.principal, national=department is None),
        departments=[] if department else [dict(d) for d in await access.departments()],
        values=values if values is not None else {"role": "observer"},
        errors=errors or {},
    )


async def _invite(access: Scope, department: DepartmentRow | None, request: Request) -> Response:
    data = await form_data(request)
    if department:
        data["department"] = department["code"]
    try:
        invitation = await admin.invite(
            access, data, ip=client_ip(request), base_url=request.app.state.settings.base_url
        )
    except ValidationFailed as exc:
        return await _list(access, department, data, exc.errors, status=422)
    return redirect(
        request,
        _base(department),
        f"Invitation envoyée à {invitation['email']} ({invitation['role_label']}) : le lien est valable "
        f"{request.app.state.settings.invitation_days} jours.",
    )


async def _revoke_invitation(
    access: Scope, department: DepartmentRow | None, request: Request, invitation_id: int
) -> Response:
    invitation = await admin.revoke_invitation(access, invitation_id, ip=client_ip(request))
    return redirect(request, _base(department), f"Invitation de {invitation['email']} annulée.")


async def _detail(
    access: Scope,
    department: DepartmentRow | None,
    user_id: int,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Template:
    account = await admin.account(access, user_id)
    return page(
        "accounts/admin_detail.html",
        status=status,
        **_context(access, department),
        account=account,
        is_self=user_id == access.principal.user_id,
        roles=admin.assignable_roles(access.principal, national=department is None),
        departments=[] if department else [dict(d) for d in await access.departments()],
        values=values if values is not None else {**account, "department": account["department_code"] or ""},
        errors=errors or {},
    )


async def _update(access: Scope, department: DepartmentRow | None, request: Request, user_id: int) -> Response:
    data = await form_data(request)
    if data.pop(RIGHTS_FORM, None):
        data.setdefault("manages_accounts", "")  # an unticked checkbox is not sent
    try:
        await admin.update_account(access, user_id, data, ip=client_ip(request))
    except ValidationFailed as exc:
        account = await admin.account(access, user_id)
        return await _detail(access, department, user_id, {**account, **data}, exc.errors, status=422)
    return _after_change(request, department, user_id, "Compte modifié.")


def _after_change(request: Request, department: DepartmentRow | None, user_id: int, message: str) -> Redirect:
    return redirect(request, f"{_base(department)}/{user_id}", message)


async def _set_active(
    access: Scope, department: DepartmentRow | None, request: Request, user_id: int, active: bool
) -> Response:
    account = await admin.set_active(access, user_id, active, ip=client_ip(request))
    message = (
        f"Compte de {account['email']} réactivé."
        if active
        else f"Compte de {account['email']} désactivé : ses sessions sont terminées et ses jetons d'API révoqués."
    )
    return _after_change(request, department, user_id, message)


async def _end_session(
    access: Scope, department: DepartmentRow | None, request: Request, user_id: int, session_id: int
) -> Response:
    await admin.end_session(access, user_id, session_id, ip=client_ip(request))
    return _after_change(request, department, user_id, "Session terminée.")


async def _revoke_token(
    access: Scope, department: DepartmentRow | None, request: Request, user_id: int, token_id: int
) -> Response:
    if not is_valid_id(token_id):
        raise NotFound("Jeton d'API introuvable.")
    account = await admin.account(access, user_id)
    if token_id not in {t["id"] for t in account["tokens"]}:
        raise NotFound("Jeton d'API introuvable.")
    token = await service.revoke_token(token_id, access, ip=client_ip(request))
    return _after_change(request, department, user_id, f"Jeton d'API « {token['name']} » révoqué.")


class DepartmentAccountPages(Controller):
    """A département's accounts: its national coordinators and its referents who manage accounts."""

    path = "/d/{code:str}/comptes"

    @get("/", name="accounts.department")
    async def list(self, access: Scope, department: DepartmentRow) -> Template:
        return await _list(access, department)

    @post("/inviter")
    async def invite(self, access: Scope, department: DepartmentRow, request: Request) -> Response:
        return await _invite(access, department, request)

    @post("/invitations/{invitation_id:int}/annuler")
    async def revoke_invitation(
        self, access: Scope, department: DepartmentRow, request: Request, invitation_id: int
    ) -> Response:
        return await _revoke_invitation(access, department, request, invitation_id)

    @get("/{user_id:int}", name="accounts.department_detail")
    async def detail(self, access: Scope, department: DepartmentRow, user_id: int) -> Template:
        return await _detail(access, department, user_id)

    @post("/{user_id:int}/modifier")
    async def update(self, access: Scope, department: DepartmentRow, request: Request, user_id: int) -> Response:
        return await _update(access, department, request, user_id)

    @post("/{user_id:int}/desactiver")
    async def deactivate(self, access: Scope, department: DepartmentRow, request: Request, user_id: int) -> Response:
        return await _set_active(access, department, request, user_id, False)

    @post("/{user_id:int}/reactiver")
    async def reactivate(self, access: Scope, department: DepartmentRow, request: Request, user_id: int) -> Response:
        return await _set_active(access, department, request, user_id, True)

    @post("/{user_id:int}/sessions/{session_id:int}/terminer")
    async def end_session(
        self, access: Scope, department: DepartmentRow, request: Request, user_id: int, session_id: int
    ) -> Response:
        return await _end_session(access, department, request, user_id, session_id)

    @post("/{user_id:int}/jetons/{token_id:int}/revoquer")
    async def revoke_token(
        self, access: Scope, department: DepartmentRow, request: Request, user_id: int, token_id: int
    ) -> Response:
        return await _revoke_token(access, department, request, user_id, token_id)


class NationalAccountPages(Controller):
    """Every account, national ones included: national coordinators only (a referent who manages
    accounts is sent to their département's list)."""

    path = "/comptes"

    @get("/", name="accounts.all")
    async def list(self, access: Scope) -> Response:
        principal = access.principal
        if not principal.is_national and principal.department_code and admin.may_manage(access):
            return Redirect(path=f"/d/{principal.department_code}/comptes", status_code=303)
        _require_national(access)
        return await _list(access, None)

    @post("/inviter")
    async def invite(self, access: Scope, request: Request) -> Response:
        _require_national(access)
        return await _invite(access, None, request)

    @post("/invitations/{invitation_id:int}/annuler")
    async def revoke_invitation(self, access: Scope, request: Request, invitation_id: int) -> Response:
        _require_national(access, invitation_id)
        return await _revoke_invitation(access, None, request, invitation_id)

    @get("/{user_id:int}", name="accounts.detail")
    async def detail(self, access: Scope, user_id: int) -> Template:
        _require_national(access, user_id)
        return await _detail(access, None, user_id)

    @post("/{user_id:int}/modifier")
    async def update(self, access: Scope, request: Request, user_id: int) -> Response:
        _require_national(access, user_id)
        return await _update(access, None, request, user_id)

    @post("/{user_id:int}/desactiver")
    async def deactivate(self, access: Scope, request: Request, user_id: int) -> Response:
        _require_national(access, user_id)
        return await _set_active(access, None, request, user_id, False)

    @post("/{user_id:int}/reactiver")
    async def reactivate(self, access: Scope, request: Request, user_id: int) -> Response:
        _require_national(access, user_id)
        return await _set_active(access, None, request, user_id, True)

    @post("/{user_id:int}/sessions/{session_id:int}/terminer")
    async def end_session(self, access: Scope, request: Request, user_id: int, session_id: int) -> Response:
        _require_national(access, user_id, session_id)
        return await _end_session(access, None, request, user_id, session_id)

    @post("/{user_id:int}/jetons/{token_id:int}/revoquer")
    async def revoke_token(self, access: Scope, request: Request, user_id: int, token_id: int) -> Response:
        _require_national(access, user_id, token_id)
        return await _revoke_token(access, None, request, user_id, token_id)


ROUTES: list[Any] = [DepartmentAccountPages, NationalAccountPages]
