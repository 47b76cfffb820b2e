"""JSON API of account administration (`/api/accounts`) and of one's own API tokens (`/api/me/tokens`).

The rules are `coord.accounts.admin`'s: a national coordinator manages every account, a referent with
« gère les comptes du département » their département's; another département's account answers 404.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from litestar import Controller, Request, delete, get, patch, post

from coord.access import Scope
from coord.accounts import admin, service
from coord.core.errors import Forbidden
from coord.core.validation import DbInt
from coord.web.client_ip import client_ip


class AccountOut(msgspec.Struct):
    id: int
    email: str
    full_name: str
    role: str
    role_label: str
    department: str | None  # its code; none for a national account
    manages_accounts: bool
    active: bool
    created_at: dt.datetime
    last_login_at: dt.datetime | None
    deactivated_at: dt.datetime | None
    active_sessions: int


class SessionOut(msgspec.Struct):
    id: int
    method: str
    method_label: str
    created_at: dt.datetime
    last_seen_at: dt.datetime
    ip: str
    user_agent: str


class TokenOut(msgspec.Struct):
    id: int
    name: str
    prefix: str  # the first characters of the token, to recognise it
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    status: str  # "active" | "expired" | "revoked"


class TokenCreated(TokenOut):
    token: str  # shown this once: only its digest is kept


class InvitationOut(msgspec.Struct):
    id: int
    email: str
    full_name: str
    role: str
    role_label: str
    department: str | None
    manages_accounts: bool
    invited_by: str
    created_at: dt.datetime
    expires_at: dt.datetime
    status: str  # "pending" | "expired" | "accepted" | "revoked"


class AccountDetail(AccountOut):
    sessions: list[SessionOut]
    tokens: list[TokenOut]
    invitation: InvitationOut | None


class AccountList(msgspec.Struct):
    items: list[AccountOut]
    total: int


class InvitationList(msgspec.Struct):
    items: list[InvitationOut]
    total: int


class TokenList(msgspec.Struct):
    items: list[TokenOut]
    total: int


class AccountPatch(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    full_name: str | msgspec.UnsetType = msgspec.UNSET
    role: str | msgspec.UnsetType = msgspec.UNSET
    manages_accounts: bool | msgspec.UnsetType = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET
    department: str | msgspec.UnsetType | None = msgspec.UNSET  # national coordinators only: moves the account


class InvitationIn(msgspec.Struct, forbid_unknown_fields=True):
    email: str
    role: str
    full_name: str = ""
    department: str | None = None  # a code; none for a national account, the caller's own by default
    manages_accounts: bool = False


class TokenIn(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    days: DbInt | None = None  # 1 to 366 (checked with a French message); 90 by default


def _pick(struct: type[msgspec.Struct], row: dict[str, Any], **extra: Any) -> Any:
    values = {**row, **extra}
    return struct(**{name: values[name] for name in struct.__struct_fields__})


def _account(row: dict[str, Any]) -> AccountOut:
    return _pick(AccountOut, row, department=row["department_code"], manages_accounts=bool(row["manages_accounts"]))


def _invitation(row: dict[str, Any]) -> InvitationOut:
    return _pick(InvitationOut, row, department=row["department_code"], manages_accounts=bool(row["manages_accounts"]))


def _sent(struct: msgspec.Struct) -> dict[str, Any]:
    return {k: v for k, v in msgspec.structs.asdict(struct).items() if v is not msgspec.UNSET}


class AccountApi(Controller):
    path = "/api/accounts"
    tags = ["Comptes"]

    @get("/", summary="Comptes que vous gérez (filtre : département)")
    async def list(self, access: Scope, department: str | None = None) -> AccountList:
        rows = await admin.accounts(await access.within_code(department))
        return AccountList(items=[_account(r) for r in rows], total=len(rows))

    @get("/{user_id:int}", summary="Un compte, ses sessions ouvertes et ses jetons d'API")
    async def read(self, access: Scope, user_id: int) -> AccountDetail:
        row = await admin.account(access, user_id)
        return _pick(
            AccountDetail,
            row,
            department=row["department_code"],
            manages_accounts=bool(row["manages_accounts"]),
            sessions=[_pick(SessionOut, s) for s in row["sessions"]],
            tokens=[_pick(TokenOut, t) for t in row["tokens"]],
            invitation=_invitation(row["invitation"]) if row["invitation"] else None,
        )

    @patch("/{user_id:int}", summary="Modifier un compte (rôle, droit de gérer les comptes, nom, activation)")
    async def update(self, access: Scope, request: Request, user_id: int, data: AccountPatch) -> AccountOut:
        changes = _sent(data)
        active = changes.pop("active", None)
        if active is not None and user_id == access.principal.user_id:
            raise Forbidden(admin.NOT_YOURSELF_ACTIVE)  # before any other change is made
        ip = client_ip(request)
        row = await admin.update_account(access, user_id, changes, ip=ip) if changes else None
        if active is not None:
            row = await admin.set_active(access, user_id, active, ip=ip)
        if row is None:
            row = await admin.account(access, user_id)
        return _account(row)

    @delete("/{user_id:int}/sessions/{session_id:int}", summary="Terminer une session ouverte d'un compte")
    async def end_session(self, access: Scope, request: Request, user_id: int, session_id: int) -> None:
        await admin.end_session(access, user_id, session_id, ip=client_ip(request))

    @get("/invitations", summary="Invitations en attente")
    async def invitations(self, access: Scope, department: str | None = None) -> InvitationList:
        rows = await admin.invitations(await access.within_code(department))
        return InvitationList(items=[_invitation(r) for r in rows], total=len(rows))

    @post("/invitations", summary="Inviter une personne par courriel (lien valable 7 jours)")
    async def invite(self, access: Scope, request: Request, data: InvitationIn) -> InvitationOut:
        row = await admin.invite(
            access,
            msgspec.structs.asdict(data),
            ip=client_ip(request),
            base_url=request.app.state.settings.base_url,
        )
        return _invitation(row)

    @delete("/invitations/{invitation_id:int}", summary="Annuler une invitation en attente")
    async def revoke_invitation(self, access: Scope, request: Request, invitation_id: int) -> None:
        await admin.revoke_invitation(access, invitation_id, ip=client_ip(request))


class MyTokensApi(Controller):
    path = "/api/me/tokens"
    tags = ["Comptes"]

    @get("/", summary="Mes jetons d'API")
    async def list(self, access: Scope) -> TokenList:
        rows = await service.tokens_of(access.principal)
        return TokenList(items=[_pick(TokenOut, r) for r in rows], total=len(rows))

    @post("/", summary="Créer un jeton d'API (affiché une seule fois ; 90 jours par défaut)")
    async def create(self, access: Scope, request: Request, data: TokenIn) -> TokenCreated:
        row = await service.create_token_for(access.principal, msgspec.structs.asdict(data), ip=client_ip(request))
        return _pick(TokenCreated, row)

    @delete("/{token_id:int}", summary="Révoquer un de mes jetons d'API")
    async def revoke(self, access: Scope, request: Request, token_id: int) -> None:
        await service.revoke_token(token_id, access, ip=client_ip(request))


ROUTES: list[Any] = [AccountApi, MyTokensApi]
