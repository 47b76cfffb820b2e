"""Forgotten and changed passwords.

`request_reset` mails a one-time link (valid `password_reset_minutes`, one hour by default) to an
active account, and answers alike for any address: same outcome, and at least `MIN_REQUEST_SECONDS`
so the time taken does not tell either. `reset_password` and `change_password` set an Argon2id hash
and end every session of the account, so a stolen cookie stops working with the old password.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import Any

from coord.access import Principal, Role, system_principal
from coord.accounts.invitations import MAX_SECRET_LENGTH, AccountLinkInvalid, check_password
from coord.accounts.passwords import hash_password, verify_password
from coord.accounts.sessions import end_sessions_of
from coord.accounts.tables import PasswordReset, User
from coord.accounts.tokens import digest, new_secret
from coord.audit import log as audit
from coord.core import clock
from coord.core.db import transaction
from coord.core.errors import NotFound, ValidationFailed
from coord.core.settings import current_settings
from coord.core.validation import is_valid_email
from coord.mail import outbox
from coord.mail import render as mails

# One address gets at most this many links an hour (a form cannot be used to flood a mailbox), and one
# client address may ask for this many (spread over any accounts) before its requests are ignored.
MAX_PER_ADDRESS_PER_HOUR = 3
MAX_PER_IP_PER_HOUR = 20
MIN_REQUEST_SECONDS = 0.2  # the floor of `request_reset`: known and unknown addresses take as long
MAX_PASSWORD_LENGTH = 200
# The fields of the change-password form, as `change_password` names them in its errors.
CURRENT_FIELD = "current_password"
NEW_FIELD = "new_password"


class ResetInvalid(AccountLinkInvalid):
    def __init__(self, reason: str) -> None:
        super().__init__("reset", reason)


def _user_principal(user: dict[str, Any]) -> Principal:
    return Principal(
        user_id=user["id"],
        email=user["email"],
        full_name=user["full_name"],
        role=Role(user["role"]),
        department_id=user["department"],
        manages_accounts=bool(user["manages_accounts"]),
    )


_USER_COLUMNS = (
    User.id,
    User.email,
    User.full_name,
    User.role,
    User.department,
    User.manages_accounts,
    User.active,
    User.password_hash,
)


async def request_reset(email: str, *, ip: str, base_url: str) -> None:
    """Queue a reset link for the active account of `email`, if there is one and it is not over its
    hourly limit; otherwise do nothing. Either way the caller says the same thing."""
    started = time.monotonic()
    try:
        await _request_reset(email, ip=ip, base_url=base_url)
    finally:
        await asyncio.sleep(max(0.0, MIN_REQUEST_SECONDS - (time.monotonic() - started)))


async def _request_reset(email: str, *, ip: str, base_url: str) -> None:
    email = (email or "").strip().lower()
    if not is_valid_email(email):
        return
    ip = ip[:64]
    since = clock.now() - dt.timedelta(hours=1)
    # Read first: an unknown address must not take SQLite's write lock.
    user = await User.select(*_USER_COLUMNS).where(User.email == email).first()
    if user is None or not user["active"]:
        return
    async with transaction():
        recent = PasswordReset.created_at > since
        by_user = await PasswordReset.count().where(recent & (PasswordReset.user == user["id"]))
        by_ip = await PasswordReset.count().where(recent & (PasswordReset.ip == ip)) if ip else 0
        if by_user >= MAX_PER_ADDRESS_PER_HOUR or by_ip >= MAX_PER_IP_PER_HOUR:
            return
        now = clock.now()
        minutes = current_settings().password_reset_minutes
        # A new link voids the earlier ones: only the latest mail works.
        await PasswordReset.update({PasswordReset.used_at: now}).where(
            (PasswordReset.user == user["id"]) & PasswordReset.used_at.is_null()
        )
        secret = new_secret()
        reset_id = (
            await PasswordReset.insert(
                PasswordReset(
                    user=user["id"],
                    token_hash=digest(secret),
                    created_at=now,
                    expires_at=now + dt.timedelta(minutes=minutes),
                    ip=ip,
                )
            ).returning(PasswordReset.id)
        )[0]["id"]
        await _queue_mail(user, f"{base_url.rstrip('/')}/mot-de-passe/{secret}", minutes, reset_id)
        await audit.record(
            system_principal("formulaire « mot de passe oublié »", user["department"]),
            "request_reset",
            "user",
            user["id"],
            department_id=user["department"],
            summary=f"Lien de réinitialisation du mot de passe envoyé à {email}",
            ip=ip,
        )


def _duration(minutes: int) -> str:
    if minutes % 60 == 0:
        hours = minutes // 60
        return "une heure" if hours == 1 else f"{hours} heures"
    return f"{minutes} minutes"


async def _queue_mail(user: dict[str, Any], link: str, minutes: int, reset_id: int) -> None:
    settings = current_settings()
    mail = mails.render(
        "password_reset",
        {
            "recipient": user["full_name"],
            "email": user["email"],
            "link": link,
            "duration": _duration(minutes),
            "base_url": settings.base_url,
            "organiser_name": settings.organiser_name,
            "organiser_email": settings.organiser_email,
        },
    )
    await outbox.queue(
        dedupe_key=f"password-reset:{reset_id}",
        kind="password_reset",
        to_email=user["email"],
        to_name=user["full_name"],
        subject=mail.subject,
        text=mail.text,
        html=mail.html,
        department_id=user["department"],
        entity="user",
        entity_id=user["id"],
    )


_RESET_COLUMNS = (
    PasswordReset.id,
    PasswordReset.user,
    PasswordReset.expires_at,
    PasswordReset.used_at,
    PasswordReset.user.email.as_alias("email"),
    PasswordReset.user.full_name.as_alias("full_name"),
    PasswordReset.user.active.as_alias("active"),
)


def _checked(row: dict[str, Any] | None) -> dict[str, Any]:
    if row is None or not row["active"]:
        raise ResetInvalid("unknown")
    if row["used_at"] is not None:
        raise ResetInvalid("used")
    if row["expires_at"] <= clock.now():
        raise ResetInvalid("expired")
    return row


async def reset_for(secret: str) -> dict[str, Any]:
    """The pending reset of a link (`email`, `full_name` of the account); raises `ResetInvalid`."""
    if not secret or len(secret) > MAX_SECRET_LENGTH:
        raise ResetInvalid("unknown")
    return _checked(
        await PasswordReset.select(*_RESET_COLUMNS).where(PasswordReset.token_hash == digest(secret)).first()
    )


def _new_password_errors(password: str, user: dict[str, Any], field: str) -> dict[str, str]:
    if not password:
        return {field: "Ce champ est obligatoire."}
    if len(password) > MAX_PASSWORD_LENGTH:
        return {field: f"{MAX_PASSWORD_LENGTH} caractères au maximum."}
    problem = check_password(password, (user["email"], user["full_name"]))
    return {field: problem} if problem else {}


async def _set_password(user: dict[str, Any], password_hash: str, *, now: dt.datetime) -> None:
    await User.update({User.password_hash: password_hash, User.password_changed_at: now}).where(User.id == user["id"])
    # Links mailed before the change must not set another password afterwards.
    await PasswordReset.update({PasswordReset.used_at: now}).where(
        (PasswordReset.user == user["id"]) & PasswordReset.used_at.is_null()
    )


async def reset_password(secret: str, new_password: str, *, ip: str) -> int:
    """Set the password of the link's account (once; within its validity), end all its sessions;
    returns the account's id. Raises `ResetInvalid` or `ValidationFailed` ({"password": ...})."""
    reset = await reset_for(secret)
    user = await User.select(*_USER_COLUMNS).where(User.id == reset["user"]).first()
    if user is None:
        raise ResetInvalid("unknown")
    if errors := _new_password_errors(new_password, user, "password"):
        raise ValidationFailed(errors)
    password_hash = hash_password(new_password)
    async with transaction():
        now = clock.now()
        # Claim the link: of two submissions of the same link, one only sets a password.
        claimed = await (
            PasswordReset.update({PasswordReset.used_at: now})
            .where(
                (PasswordReset.id == reset["id"]) & PasswordReset.used_at.is_null() & (PasswordReset.expires_at > now)
            )
            .returning(PasswordReset.id)
        )
        if not claimed:
            _checked(await PasswordReset.select(*_RESET_COLUMNS).where(PasswordReset.id == reset["id"]).first())
            raise ResetInvalid("used")
        await _set_password(user, password_hash, now=now)
        ended = await end_sessions_of(user["id"], reason="password_reset")
        await audit.record(
            _user_principal(user),
            "reset_password",
            "user",
            user["id"],
            department_id=user["department"],
            summary=f"Mot de passe réinitialisé par lien ({ended} session(s) fermée(s))",
            ip=ip,
        )
    return int(user["id"])


async def change_password(principal: Principal, current: str, new: str, *, ip: str) -> None:
    """Change the signed-in user's password after checking the current one; ends every session of
    the account (the caller opens a new one for this browser). Raises `ValidationFailed` with
    `current_password` or `new_password` errors."""
    if principal.user_id is None:
        raise NotFound()
    user = await User.select(*_USER_COLUMNS).where(User.id == principal.user_id).first()
    if user is None or not user["active"]:
        raise NotFound()
    errors: dict[str, str] = {}
    if not user["password_hash"]:
        errors[CURRENT_FIELD] = (
            "Ce compte n'a pas encore de mot de passe (connexion par ProConnect) : choisissez-en un depuis la "
            "page « Mot de passe oublié »."
        )
    elif not verify_password(user["password_hash"], current or ""):
        errors[CURRENT_FIELD] = "Le mot de passe actuel est incorrect."
    if not errors:
        errors = _new_password_errors(new, user, NEW_FIELD)
        if not errors and new == current:
            errors[NEW_FIELD] = "Le nouveau mot de passe doit être différent de l'actuel."
    if errors:
        raise ValidationFailed(errors)
    password_hash = hash_password(new)
    async with transaction():
        await _set_password(user, password_hash, now=clock.now())
        ended = await end_sessions_of(user["id"], reason="password_change")
        await audit.record(
            principal,
            "change_password",
            "user",
            user["id"],
            department_id=user["department"],
            summary=f"Mot de passe changé ({ended} session(s) fermée(s))",
            ip=ip,
        )
