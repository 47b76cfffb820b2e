"""Accounts: users and API tokens (each account lists, creates and revokes its own)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from coord.access import Principal, Scope, department_of, is_valid_id
from coord.access.roles import ROLE_LABELS, Permission, Role
from coord.accounts.passwords import hash_password, password_problem
from coord.accounts.tables import ApiToken, User
from coord.accounts.tokens import digest, new_secret, wall_now
from coord.audit import log as audit
from coord.core import clock
from coord.core.db import transaction
from coord.core.errors import NotFound
from coord.core.settings import current_settings
from coord.core.validation import Fields
from coord.territory.tables import Department

TOKEN_PREFIX = "coord_"  # noqa: S105 (a prefix, not a secret)
TOKEN_USE_RESOLUTION = dt.timedelta(minutes=5)


async def principal_for_user(user: dict[str, Any]) -> Principal:
    code = None
    if user.get("department"):
        row = await department_of(user, Department.code)
        code = row["code"] if row else None
    return Principal(
        user_id=user["id"],
        email=user["email"],
        full_name=user["full_name"],
        role=Role(user["role"]),
        department_id=user.get("department"),
        department_code=code,
        manages_accounts=bool(user.get("manages_accounts")),
    )


_PRINCIPAL_COLUMNS = (
    User.id,
    User.email,
    User.full_name,
    User.role,
    User.department,
    User.department.code.as_alias("department_code"),
    User.manages_accounts,
)


def principal_from_row(row: dict[str, Any]) -> Principal:
    return Principal(
        user_id=row["id"],
        email=row["email"],
        full_name=row["full_name"],
        role=Role(row["role"]),
        department_id=row["department"],
        department_code=row["department_code"],
        manages_accounts=bool(row.get("manages_accounts")),
    )


async def load_principal(user_id: int) -> Principal | None:
    """An active account's principal (sign-in, scripts), user and département code joined in one query."""
    row = await User.select(*_PRINCIPAL_COLUMNS).where((User.id == user_id) & (User.active.eq(True))).first()
    return principal_from_row(row) if row else None


async def create_user(
    scope: Scope,
    data: dict[str, Any],
) -> dict[str, Any]:
    """An account with a password (the CLI, the demo, tests); people are invited instead
    (`coord.accounts.admin.invite`)."""
    scope.require(Permission.ADMINISTER)
    fields = Fields(data)
    email = fields.email("email", required=True)
    fields.text("full_name", max_length=200)
    role = fields.choice("role", ROLE_LABELS)
    password = fields.text("password", required=True, max_length=200)
    code = fields.text("department", max_length=3)
    manages_accounts = bool(fields.boolean("manages_accounts"))
    if manages_accounts and (problem := manages_accounts_problem(role)):
        fields.error("manages_accounts", problem)
    if password and (
        problem := password_problem(password, user_inputs=(email or "", str(data.get("full_name") or "")))
    ):
        fields.error("password", problem)
    department_id = None
    if role and role != Role.NATIONAL:
        if not code:
            fields.error("department", "Un département est obligatoire pour ce rôle.")
        else:
            row = await Department.select(Department.id).where(Department.code == code.upper()).first()
            if row is None:
                fields.error("department", f"Département « {code} » inconnu.")
            else:
                department_id = row["id"]
    if email and await User.exists().where(User.email == email):
        fields.error("email", "Un compte existe déjà avec cette adresse.")
    values = fields.check()
    async with transaction():
        row = (
            await User.insert(
                User(
                    email=email,
                    full_name=values.get("full_name") or "",
                    password_hash=hash_password(password or ""),
                    role=role,
                    department=department_id,
                    manages_accounts=manages_accounts,
                    password_changed_at=clock.now(),
                )
            ).returning(User.id)
        )[0]
        await audit.record(
            scope.principal,
            "create",
            "user",
            row["id"],
            department_id=department_id,
            summary=f"Compte {email} ({ROLE_LABELS[role or '']})",
            after={"email": email, "role": role, "department": code, "manages_accounts": manages_accounts},
        )
    return {"id": row["id"], "email": email, "role": role, "department": code, "manages_accounts": manages_accounts}


def manages_accounts_problem(role: str | None) -> str | None:
    """Why an account of `role` may not hold « gère les comptes du département », or None: national
    coordinators manage accounts by their role, and the right is a prefecture referent's."""
    if role == Role.NATIONAL:
        return (
            "La coordination nationale gère déjà tous les comptes : ce droit ne s'applique qu'à un agent de préfecture."
        )
    if role != Role.PREFECTURE:
        return "Seul un agent de préfecture peut gérer les comptes du département."
    return None


MAX_TOKEN_DAYS = 366  # what a person may choose on the page or the API: tokens do not live for ever


async def create_token(email: str, name: str = "", *, days: int | None = None) -> str:
    """A new bearer token for the account of `email` (the CLI, tests); only its hash is kept, so it is
    shown once. It expires after `days` days, `api_token_days` (90) by default; `days=0` makes a
    token that never expires, for scripts whose operator rotates it."""
    user = await User.select(User.id).where(User.email == email.strip().lower()).first()
    principal = await load_principal(user["id"]) if user else None
    if principal is None:
        raise NotFound(f"Aucun compte actif pour {email}.")
    return (await _issue_token(principal, name[:100], days))["token"]


async def create_token_for(principal: Principal, data: dict[str, Any], *, ip: str = "") -> dict[str, Any]:
    """A token of one's own from the pages or the API: `name` is required, `days` (1 to 366) defaults
    to `api_token_days`. Returns the row with the token itself under "token", shown this once."""
    if principal.user_id is None:
        raise NotFound()
    fields = Fields(data)
    name = fields.text("name", required=True, max_length=100)
    days = fields.integer("days", minimum=1, maximum=MAX_TOKEN_DAYS)
    if days is None and not fields.errors.get("days"):
        days = current_settings().api_token_days
    fields.check()
    return await _issue_token(principal, name or "", days, ip=ip)


async def _issue_token(principal: Principal, name: str, days: int | None, *, ip: str = "") -> dict[str, Any]:
    token = new_secret(TOKEN_PREFIX)
    if days is None:
        days = current_settings().api_token_days
    now = wall_now()
    expires = now + dt.timedelta(days=days) if days > 0 else None
    async with transaction():
        row = (
            await ApiToken.insert(
                ApiToken(
                    user=principal.user_id,
                    name=name,
                    token_hash=digest(token),
                    prefix=token[:12],
                    created_at=now,
                    expires_at=expires,
                )
            ).returning(ApiToken.id)
        )[0]
        await audit.record(
            principal,
            "create",
            "api_token",
            row["id"],
            department_id=principal.department_id,
            summary=f"Jeton d'API « {name or token[:12]} » de {principal.email}",
            after={"name": name, "prefix": token[:12], "expires_at": expires},
            ip=ip,
        )
    return {
        "id": row["id"],
        "name": name,
        "prefix": token[:12],
        "created_at": now,
        "last_used_at": None,
        "expires_at": expires,
        "revoked_at": None,
        "status": "active",
        "token": token,
    }


_TOKEN_COLUMNS = (
    ApiToken.id,
    ApiToken.name,
    ApiToken.prefix,
    ApiToken.created_at,
    ApiToken.last_used_at,
    ApiToken.expires_at,
    ApiToken.revoked_at,
)
TOKEN_STATUS_LABELS = {"active": "actif", "expired": "expiré", "revoked": "révoqué"}


def _with_status(row: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    if row["revoked_at"] is not None:
        status = "revoked"
    elif row["expires_at"] is not None and row["expires_at"] <= now:
        status = "expired"
    else:
        status = "active"
    return {**row, "status": status, "status_label": TOKEN_STATUS_LABELS[status]}


async def tokens_of_user(user_id: int) -> list[dict[str, Any]]:
    """The API tokens of an account, newest first: name, prefix, created, last used, expiry, revoked."""
    rows = await ApiToken.select(*_TOKEN_COLUMNS).where(ApiToken.user == user_id).order_by(ApiToken.id, ascending=False)
    now = wall_now()
    return [_with_status(row, now) for row in rows]


async def tokens_of(principal: Principal) -> list[dict[str, Any]]:
    """The caller's own API tokens (never the secret: only its first characters)."""
    return await tokens_of_user(principal.user_id) if principal.user_id is not None else []


# The principal of every API request, written once rather than built by the ORM on each request
# (building the query cost twice its execution). Same tables, joins and conditions as the ORM's.
_API_PRINCIPAL_SQL = """
SELECT t.id, t.expires_at, t.revoked_at, t.last_used_at, u.id AS id_of_user, u.email, u.full_name, u.role,
       u.department, d.code AS department_code, u.active, u.manages_accounts
FROM api_token t
JOIN coord_user u ON u.id = t."user"
LEFT JOIN department d ON d.id = u.department
WHERE t.token_hash = {}
LIMIT 1
"""


async def principal_for_token(token: str) -> Principal | None:
    """Who holds this bearer token, if it is unrevoked, unexpired and its account active (read from the
    database on every request, so a revocation applies to the next one in every process)."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    rows = await ApiToken.raw(_API_PRINCIPAL_SQL, digest(token))
    row = rows[0] if rows else None
    now = wall_now()
    if row is None or row["revoked_at"] is not None or not row["active"]:
        return None
    if row["expires_at"] is not None and row["expires_at"] <= now:
        return None
    # "Last used" is for people reviewing tokens: minute precision is enough, and skipping the
    # write on most requests keeps API reads from queueing behind SQLite's single writer.
    if row["last_used_at"] is None or now - row["last_used_at"] > TOKEN_USE_RESOLUTION:
        await ApiToken.update({ApiToken.last_used_at: now}).where(ApiToken.id == row["id"])
    return principal_from_row({**row, "id": row["id_of_user"]})


async def revoke_token(token_id: int, scope: Scope, *, ip: str = "") -> dict[str, Any]:
    """Revoke one's own token (national coordinators: anyone's); at once, its next request gets 401.
    Another account's token answers 404, so its existence does not leak. Revoking twice is a no-op."""
    owner = ApiToken.user
    row = (
        await ApiToken.select(
            *_TOKEN_COLUMNS,
            owner.id.as_alias("owner"),
            owner.email.as_alias("owner_email"),
            owner.department.as_alias("owner_department"),
        )
        .where(ApiToken.id == token_id)
        .first()
        if is_valid_id(token_id)
        else None
    )
    principal = scope.principal
    if row is None or (row["owner"] != principal.user_id and not principal.is_national):
        raise NotFound("Jeton d'API introuvable.")
    if row["revoked_at"] is not None:
        return _with_status(_token_fields(row), wall_now())
    now = wall_now()
    async with transaction():
        await ApiToken.update({ApiToken.revoked_at: now}).where(
            (ApiToken.id == token_id) & ApiToken.revoked_at.is_null()
        )
        await audit.record(
            principal,
            "revoke",
            "api_token",
            token_id,
            department_id=row["owner_department"],
            summary=f"Jeton d'API « {row['name'] or row['prefix']} » de {row['owner_email']} révoqué",
            before={"revoked_at": None},
            after={"revoked_at": now},
            ip=ip,
        )
    return _with_status({**_token_fields(row), "revoked_at": now}, now)


def _token_fields(row: dict[str, Any]) -> dict[str, Any]:
    return {column._meta.name: row[column._meta.name] for column in _TOKEN_COLUMNS}
