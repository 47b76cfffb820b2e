"""Accounts: users, login with throttling, API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from coord.access import Principal, Scope, department_of
from coord.access.roles import ROLE_LABELS, Permission, Role
from coord.accounts.passwords import hash_password, needs_rehash, password_problem, verify_password
from coord.accounts.tables import ApiToken, LoginAttempt, User
from coord.audit import log as audit
from coord.core import clock
from coord.core.db import transaction
from coord.core.errors import NotFound, ValidationFailed
from coord.core.validation import Fields
from coord.territory.tables import Department

TOKEN_PREFIX = "coord_"  # noqa: S105 (a prefix, not a secret)
TOKEN_USE_RESOLUTION = dt.timedelta(minutes=5)


class LoginThrottled(Exception):
    """Too many failed attempts for this address or IP address."""


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
    )


_PRINCIPAL_COLUMNS = (
    User.id,
    User.email,
    User.full_name,
    User.role,
    User.department,
    User.department.code.as_alias("department_code"),
)


def _principal_from_row(row: dict[str, Any]) -> Principal:
    return Principal(
        user_id=row["id"],
        email=row["email"],
        full_name=row["full_name"],
        role=Role(row["role"]),
        department_id=row["department"],
        department_code=row["department_code"],
    )


async def load_principal(user_id: int) -> Principal | None:
    """Who a session belongs to: one query per request (user and département code joined)."""
    row = await User.select(*_PRINCIPAL_COLUMNS).where((User.id == user_id) & (User.active.eq(True))).first()
    return _principal_from_row(row) if row else None


async def create_user(
    scope: Scope,
    data: dict[str, Any],
) -> dict[str, Any]:
    scope.require(Permission.ADMINISTER)
    fields = Fields(data)
    email = fields.email("email", required=True)
    fields.text("full_name", max_length=200)
    role = fields.choice("role", ROLE_LABELS)
    password = fields.text("password", required=True, max_length=200)
    code = fields.text("department", max_length=3)
    if password and (problem := password_problem(password)):
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
            after={"email": email, "role": role, "department": code},
        )
    return {"id": row["id"], "email": email, "role": role, "department": code}


async def _recent_failures(email: str, ip: str, window: dt.timedelta) -> tuple[int, int]:
    since = clock.now() - window
    by_email = await LoginAttempt.count().where((LoginAttempt.email == email) & (LoginAttempt.at > since))
    by_ip = await LoginAttempt.count().where((LoginAttempt.ip == ip) & (LoginAttempt.at > since))
    return by_email, by_ip


async def authenticate(
    email: str, password: str, ip: str, *, max_failures: int, window_minutes: int
) -> Principal | None:
    """The user's principal, None on bad credentials; raises LoginThrottled when rate-limited.

    Failures are counted in the database so the limit holds across restarts and instances."""
    email = (email or "").strip().lower()[:254]
    window = dt.timedelta(minutes=window_minutes)
    by_email, by_ip = await _recent_failures(email, ip, window)
    # The IP limit is looser: several agents of one prefecture share an address.
    if by_email >= max_failures or by_ip >= max_failures * 4:
        raise LoginThrottled()
    user = await User.select().where(User.email == email).first()
    ok = verify_password(user["password_hash"] if user else None, password or "")
    if not ok or not user or not user["active"]:
        await LoginAttempt.insert(LoginAttempt(email=email, ip=ip[:64], at=clock.now()))
        return None
    updates: dict[Any, Any] = {User.last_login_at: clock.now()}
    if needs_rehash(user["password_hash"]):
        updates[User.password_hash] = hash_password(password)
    await User.update(updates).where(User.id == user["id"])
    await LoginAttempt.delete().where(LoginAttempt.email == email)
    return await principal_for_user(user)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_token(email: str, name: str = "", *, days: int | None = None) -> str:
    """A new bearer token for the user; only its hash is kept, so it is shown once."""
    user = await User.select(User.id, User.department).where(User.email == email.strip().lower()).first()
    if user is None:
        raise NotFound(f"Aucun compte pour {email}.")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = clock.now() + dt.timedelta(days=days) if days else None
    async with transaction():
        row = (
            await ApiToken.insert(
                ApiToken(
                    user=user["id"],
                    name=name[:100],
                    token_hash=_token_hash(token),
                    prefix=token[:12],
                    expires_at=expires,
                )
            ).returning(ApiToken.id)
        )[0]
        principal = await load_principal(user["id"])
        assert principal is not None
        await audit.record(
            principal,
            "create",
            "api_token",
            row["id"],
            department_id=user["department"],
            summary=f"Jeton d'API « {name or token[:12]} »",
        )
    return token


async def principal_for_token(token: str) -> Principal | None:
    if not token.startswith(TOKEN_PREFIX):
        return None
    user = ApiToken.user
    row = (
        await ApiToken.select(
            ApiToken.id,
            ApiToken.expires_at,
            ApiToken.revoked_at,
            ApiToken.last_used_at,
            user.id.as_alias("id_of_user"),
            user.email.as_alias("email"),
            user.full_name.as_alias("full_name"),
            user.role.as_alias("role"),
            user.department.as_alias("department"),
            user.department.code.as_alias("department_code"),
            user.active.as_alias("active"),
        )
        .where(ApiToken.token_hash == _token_hash(token))
        .first()
    )
    now = clock.now()
    if row is None or row["revoked_at"] is not None or not row["active"]:
        return None
    if row["expires_at"] is not None and row["expires_at"] <= now:
        return None
    # "Last used" is for people reviewing tokens: minute precision is enough, and skipping the
    # write on most requests keeps API reads from queueing behind SQLite's single writer.
    if row["last_used_at"] is None or now - row["last_used_at"] > TOKEN_USE_RESOLUTION:
        await ApiToken.update({ApiToken.last_used_at: now}).where(ApiToken.id == row["id"])
    return _principal_from_row({**row, "id": row["id_of_user"]})


async def revoke_token(token_id: int, scope: Scope) -> None:
    row = await ApiToken.select(ApiToken.id, ApiToken.user).where(ApiToken.id == token_id).first()
    if row is None or (row["user"] != scope.principal.user_id and not scope.principal.is_national):
        raise NotFound()
    async with transaction():
        await ApiToken.update({ApiToken.revoked_at: clock.now()}).where(ApiToken.id == token_id)
        await audit.record(scope.principal, "revoke", "api_token", token_id, department_id=None)


def validate_password_or_raise(password: str) -> None:
    if problem := password_problem(password):
        raise ValidationFailed({"password": problem})
