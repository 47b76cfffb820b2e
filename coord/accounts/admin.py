"""Account administration: who may invite and manage whom, and the audited actions.

National coordinators manage every account. A prefecture referent given « gère les comptes du
département » (`User.manages_accounts`) manages their own département's accounts only: `Scope` never
shows them a national account (no département) nor another département's, so those answer 404, and
`Scope.require` refuses the rest (403). Nobody changes their own role or right, nor deactivates
themselves: a mistake there could lock the last manager out.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from coord.access import ROLE_LABELS, Permission, Principal, Role, Scope, is_valid_id, system_scope
from coord.accounts import service, sessions
from coord.accounts.invitations import INVITATION_COLUMNS
from coord.accounts.tables import AccountInvitation, ApiToken, User
from coord.accounts.tokens import digest, new_secret
from coord.audit import log as audit
from coord.core import clock
from coord.core.db import transaction
from coord.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from coord.core.settings import current_settings
from coord.core.validation import Fields
from coord.mail import outbox
from coord.mail import render as mails

NOT_A_MANAGER = "Vous n'avez pas le droit de gérer les comptes de ce département."
NATIONAL_ONLY = "Seule la coordination nationale peut attribuer le rôle « Coordination nationale »."
NOT_YOURSELF = (
    "Vous ne pouvez modifier ni votre propre rôle, ni vos droits, ni votre rattachement : "
    "demandez-le à une autre personne qui gère les comptes."
)
NOT_YOURSELF_ACTIVE = "Vous ne pouvez pas désactiver votre propre compte."

_ACCOUNT_COLUMNS = (
    User.id,
    User.email,
    User.full_name,
    User.role,
    User.department,
    User.department.code.as_alias("department_code"),
    User.department.name.as_alias("department_name"),
    User.manages_accounts,
    User.active,
    User.created_at,
    User.last_login_at,
    User.deactivated_at,
)


# -- who may do what --------------------------------------------------------------------------
def _require_manager(scope: Scope, department_id: int | None) -> None:
    """403 unless the caller manages the accounts of `department_id` (None: national accounts)."""
    if not scope.may(Permission.MANAGE_ACCOUNTS, department_id):
        raise Forbidden(NOT_A_MANAGER)


def may_manage(scope: Scope) -> bool:
    """Whether the caller manages the accounts this scope reads (a département's, or all of them)."""
    return scope.may(Permission.MANAGE_ACCOUNTS, scope.department_id)


def assignable_roles(principal: Principal, *, national: bool = True) -> dict[str, str]:
    """The roles the caller may give (a referent never gives the national one); `national=False` for
    a département's pages, where the account being made belongs to that département."""
    return {
        role: label
        for role, label in ROLE_LABELS.items()
        if role != Role.NATIONAL or (principal.is_national and national)
    }


def _label(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "role_label": ROLE_LABELS.get(row["role"], row["role"])}


async def _department_of_code(
    fields: Fields, role: str | None, code: str | None, scope: Scope
) -> tuple[int | None, str | None]:
    """The département (id, code) of a new or moved account: none for a national one, else the one
    given (any existing code: whether the caller may use it is `_require_manager`'s answer, 403),
    else the caller's own."""
    if role == Role.NATIONAL:
        if code:
            fields.error(
                "department",
                "Un compte de la coordination nationale n'est rattaché à aucun département : laissez le champ vide.",
            )
        return None, None
    if not code:
        own = scope.department_id
        if own is None:
            if role:
                fields.error("department", "Indiquez le département du compte (code, par exemple 34 ou 2A).")
            return None, None
        row = await system_scope(own).departments().first()
        return own, row["code"] if row else None
    try:
        row = await system_scope().department(code)
    except NotFound:
        fields.error("department", f"Département « {code[:10]} » inconnu.")
        return None, None
    return row["id"], row["code"]


# -- reading ----------------------------------------------------------------------------------
async def accounts(scope: Scope) -> list[dict[str, Any]]:
    """The accounts the caller manages (a département's, or every one for a national coordinator),
    with their number of open sessions: two queries whatever their number."""
    _require_manager(scope, scope.department_id)
    rows = await scope.select(User, *_ACCOUNT_COLUMNS)
    counts = await sessions.active_session_counts([row["id"] for row in rows])
    rows.sort(key=lambda r: (r["department_code"] is not None, r["department_code"] or "", r["email"]))
    return [{**_label(row), "active_sessions": counts.get(row["id"], 0)} for row in rows]


async def _visible_account(scope: Scope, user_id: int) -> dict[str, Any]:
    """The account if the scope reads it (404 otherwise) and the caller manages it (403 otherwise)."""
    row = await scope.get(User, user_id, *_ACCOUNT_COLUMNS)
    _require_manager(scope, row["department"])
    return row


async def _account_row(user_id: int) -> dict[str, Any]:
    """An account as it is now, after a change (which may have moved it out of the caller's scope)."""
    row = await system_scope().get(User, user_id, *_ACCOUNT_COLUMNS)
    return {**_label(row), "active_sessions": len(await sessions.active_sessions(user_id))}


async def account(scope: Scope, user_id: int) -> dict[str, Any]:
    """One account with its open sessions, its API tokens and the invitation it came from."""
    row = await _visible_account(scope, user_id)
    open_sessions = await sessions.active_sessions(user_id)
    invitation = (
        await AccountInvitation.select(*INVITATION_COLUMNS)
        .where((AccountInvitation.user == user_id) | (AccountInvitation.email == row["email"]))
        .order_by(AccountInvitation.id, ascending=False)
        .first()
    )
    return {
        **_label(row),
        "active_sessions": len(open_sessions),
        "sessions": open_sessions,
        "tokens": await service.tokens_of_user(user_id),
        "invitation": _invitation_view(invitation) if invitation else None,
    }


def _invitation_view(row: dict[str, Any]) -> dict[str, Any]:
    now = clock.now()
    if row["accepted_at"] is not None:
        status = "accepted"
    elif row["revoked_at"] is not None:
        status = "revoked"
    elif row["expires_at"] <= now:
        status = "expired"
    else:
        status = "pending"
    labels = {"accepted": "acceptée", "revoked": "annulée", "expired": "expirée", "pending": "en attente"}
    return {**_label(row), "status": status, "status_label": labels[status]}


def _pending() -> Any:
    return AccountInvitation.accepted_at.is_null() & AccountInvitation.revoked_at.is_null()


async def invitations(scope: Scope) -> list[dict[str, Any]]:
    """The invitations not yet accepted nor cancelled (expired ones too, marked so: they are replaced
    by inviting the address again), newest first."""
    _require_manager(scope, scope.department_id)
    rows = await (
        scope.select(AccountInvitation, *INVITATION_COLUMNS)
        .where(_pending())
        .order_by(AccountInvitation.id, ascending=False)
    )
    return [_invitation_view(row) for row in rows]


# -- inviting ---------------------------------------------------------------------------------
async def invite(scope: Scope, data: dict[str, Any], *, ip: str = "", base_url: str) -> dict[str, Any]:
    """Invite a future colleague: a one-time link mailed to them, valid `invitation_days` days, to
    choose a password or sign in with ProConnect. A pending invitation of the same address is
    replaced. The mail is queued in the same transaction as the invitation.

    `data`: email, full_name, role, department (a code; none for a national account, the caller's own
    by default), manages_accounts. Returns the invitation, with its link under "link" (for the CLI:
    never shown on a page nor in the API, since only the invited person should hold it)."""
    principal = scope.principal
    fields = Fields(data)
    email = fields.email("email", required=True)
    full_name = fields.text("full_name", max_length=200) or ""
    role = fields.choice("role", ROLE_LABELS)
    code = fields.text("department", max_length=3)
    manages_accounts = bool(fields.boolean("manages_accounts"))
    if role and manages_accounts and (problem := service.manages_accounts_problem(role)):
        fields.error("manages_accounts", problem)
    department_id, _code = await _department_of_code(fields, role, code, scope)
    fields.check()
    if role == Role.NATIONAL and not principal.is_national:
        raise Forbidden(NATIONAL_ONLY)
    _require_manager(scope, department_id)
    if await User.exists().where(User.email == email):
        raise ValidationFailed({"email": "Un compte existe déjà avec cette adresse électronique."})
    earlier = await AccountInvitation.select(AccountInvitation.id, AccountInvitation.department).where(
        (AccountInvitation.email == email) & _pending()
    )
    # A referent replaces only their own département's invitations; a national coordinator, any.
    if not all(principal.is_national or scope.sees(row) for row in earlier):
        raise ValidationFailed(
            {"email": "Une invitation est déjà en cours pour cette adresse, dans un autre département."}
        )
    settings = current_settings()
    secret = new_secret()
    now = clock.now()
    expires = now + dt.timedelta(days=settings.invitation_days)
    async with transaction():
        if earlier:
            await AccountInvitation.update({AccountInvitation.revoked_at: now}).where(
                AccountInvitation.id.is_in([row["id"] for row in earlier]) & _pending()
            )
        invitation_id = (
            await AccountInvitation.insert(
                AccountInvitation(
                    email=email,
                    full_name=full_name,
                    role=role,
                    department=department_id,
                    manages_accounts=manages_accounts,
                    token_hash=digest(secret),
                    invited_by=principal.email,
                    created_at=now,
                    expires_at=expires,
                )
            ).returning(AccountInvitation.id)
        )[0]["id"]
        row = await system_scope().get(AccountInvitation, invitation_id, *INVITATION_COLUMNS)
        link = f"{base_url.rstrip('/')}/invitation/{secret}"
        await _queue_invitation_mail(principal, _label(row), link, settings)
        where = f"{row['department_name']} ({row['department_code']})" if row["department_code"] else "national"
        await audit.record(
            principal,
            "invite",
            "account_invitation",
            invitation_id,
            department_id=department_id,
            summary=f"Invitation de {email} ({ROLE_LABELS[role or '']}, {where})"
            + (f", remplace {len(earlier)} invitation(s) en attente" if earlier else ""),
            after={
                "email": email,
                "full_name": full_name,
                "role": role,
                "department": row["department_code"],
                "manages_accounts": manages_accounts,
                "expires_at": expires,
                "replaces": [r["id"] for r in earlier],
            },
            ip=ip,
        )
    return {**_invitation_view(row), "link": link}


async def _queue_invitation_mail(principal: Principal, invitation: dict[str, Any], link: str, settings: Any) -> None:
    context = {
        "invitation": invitation,
        "inviter_name": principal.full_name or principal.email,
        "inviter_email": principal.email,
        "link": link,
        "days": settings.invitation_days,
        "proconnect": settings.proconnect_enabled,
        "organiser_name": settings.organiser_name,
        "organiser_email": settings.organiser_email,
    }
    mail = mails.render("account_invitation", context)
    await outbox.queue(
        dedupe_key=f"account_invitation:{invitation['id']}",
        kind="account_invitation",
        to_email=invitation["email"],
        to_name=invitation["full_name"] or invitation["email"],
        subject=mail.subject,
        text=mail.text,
        html=mail.html,
        department_id=invitation["department"],
        entity="account_invitation",
        entity_id=invitation["id"],
    )


async def revoke_invitation(scope: Scope, invitation_id: int, *, ip: str = "") -> dict[str, Any]:
    """Cancel a pending invitation: its link stops working at once."""
    row = await scope.get(AccountInvitation, invitation_id, *INVITATION_COLUMNS)
    _require_manager(scope, row["department"])
    if row["accepted_at"] is not None or row["revoked_at"] is not None:
        raise Conflict("Cette invitation a déjà été acceptée ou annulée.")
    now = clock.now()
    async with transaction():
        await AccountInvitation.update({AccountInvitation.revoked_at: now}).where(
            (AccountInvitation.id == row["id"]) & _pending()
        )
        await audit.record(
            scope.principal,
            "revoke",
            "account_invitation",
            row["id"],
            department_id=row["department"],
            summary=f"Invitation de {row['email']} annulée",
            before={"revoked_at": None},
            after={"revoked_at": now},
            ip=ip,
        )
    return _invitation_view({**row, "revoked_at": now})


# -- changing an account ----------------------------------------------------------------------
FIELD_LABELS = {
    "full_name": "nom",
    "role": "rôle",
    "department": "département",
    "manages_accounts": "gestion des comptes du département",
}
# Changes after which the account's sessions end, so its new rights apply from its next sign-in.
RIGHTS = {"role", "department", "manages_accounts"}


async def update_account(scope: Scope, user_id: int, data: dict[str, Any], *, ip: str = "") -> dict[str, Any]:
    """Change an account's name, role, right « gère les comptes du département » or (national
    coordinators) département. Only the fields given change. A change of rights ends its sessions."""
    principal = scope.principal
    target = await _visible_account(scope, user_id)
    fields = Fields(data, partial=True)
    full_name = fields.text("full_name", max_length=200)
    role = fields.choice("role", ROLE_LABELS) or target["role"]
    code = fields.text("department", max_length=3)
    manages = fields.boolean("manages_accounts")
    if role == Role.NATIONAL or code:
        department_id, department_code = await _department_of_code(fields, role, code, scope)
    elif target["role"] != Role.NATIONAL:  # the account stays in its département
        department_id, department_code = target["department"], target["department_code"]
    else:  # a national account becoming a département's needs one
        department_id, department_code = await _department_of_code(fields, role, None, scope)
    if manages and (problem := service.manages_accounts_problem(role)):
        fields.error("manages_accounts", problem)
    # The right belongs to prefecture referents: another role drops it.
    keeps_right = (target["manages_accounts"] if manages is None else manages) and role == Role.PREFECTURE
    fields.check()
    before = {
        "full_name": target["full_name"],
        "role": target["role"],
        "department": target["department_code"],
        "manages_accounts": bool(target["manages_accounts"]),
    }
    after = {
        "full_name": target["full_name"] if full_name is None else full_name,
        "role": role,
        "department": department_code,
        "manages_accounts": bool(keeps_right),
    }
    before, after = audit.changed_fields(before, after)
    if not after:
        return await _account_row(user_id)
    if role == Role.NATIONAL and not principal.is_national and "role" in after:
        raise Forbidden(NATIONAL_ONLY)
    if user_id == principal.user_id and set(after) & RIGHTS:
        raise Forbidden(NOT_YOURSELF)
    _require_manager(scope, department_id)
    async with transaction():
        await User.update(
            {
                User.full_name: after.get("full_name", target["full_name"]),
                User.role: role,
                User.department: department_id,
                User.manages_accounts: bool(keeps_right),
            }
        ).where(User.id == user_id)
        ended = await sessions.end_sessions_of(user_id, reason="role_changed") if set(after) & RIGHTS else 0
        changed = ", ".join(FIELD_LABELS[k] for k in after)
        await audit.record(
            principal,
            "update",
            "user",
            user_id,
            department_id=department_id if department_id is not None else target["department"],
            summary=f"Compte {target['email']} modifié ({changed})"
            + (f", {ended} session(s) terminée(s)" if ended else ""),
            before=before,
            after=after,
            ip=ip,
        )
    return await _account_row(user_id)


async def set_active(scope: Scope, user_id: int, active: bool, *, ip: str = "") -> dict[str, Any]:
    """Deactivate an account (its sessions end and its API tokens are revoked, at once) or
    reactivate it (it signs in again; its former tokens stay revoked)."""
    principal = scope.principal
    target = await _visible_account(scope, user_id)
    if user_id == principal.user_id:
        raise Forbidden(NOT_YOURSELF_ACTIVE)
    if bool(target["active"]) is bool(active):
        return await _account_row(user_id)
    now = clock.now()
    async with transaction():
        if active:
            await User.update({User.active: True, User.deactivated_at: None}).where(User.id == user_id)
            summary = f"Compte {target['email']} réactivé"
        else:
            await User.update({User.active: False, User.deactivated_at: now}).where(User.id == user_id)
            ended = await sessions.end_sessions_of(user_id, reason="deactivated")
            revoked = await (
                ApiToken.update({ApiToken.revoked_at: now})
                .where((ApiToken.user == user_id) & ApiToken.revoked_at.is_null())
                .returning(ApiToken.id)
            )
            summary = (
                f"Compte {target['email']} désactivé : {ended} session(s) terminée(s), "
                f"{len(revoked)} jeton(s) d'API révoqué(s)"
            )
        await audit.record(
            principal,
            "reactivate" if active else "deactivate",
            "user",
            user_id,
            department_id=target["department"],
            summary=summary,
            before={"active": bool(target["active"])},
            after={"active": bool(active)},
            ip=ip,
        )
    return await _account_row(user_id)


async def end_session(scope: Scope, user_id: int, session_id: int, *, ip: str = "") -> None:
    """End one open session of an account the caller manages (a lost laptop, a shared computer)."""
    if not is_valid_id(session_id):
        raise NotFound("Cette session est introuvable ou déjà terminée.")
    target = await _visible_account(scope, user_id)
    async with transaction():
        if not await sessions.end_session_id(user_id, session_id):
            raise NotFound("Cette session est introuvable ou déjà terminée.")
        await audit.record(
            scope.principal,
            "end",
            "user_session",
            session_id,
            department_id=target["department"],
            summary=f"Session de {target['email']} terminée",
            ip=ip,
        )
