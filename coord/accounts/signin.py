"""Signing in with an address and a password: throttled (see `throttle`), audited, and the same
answer for an unknown address, a wrong password, an account without a password and a deactivated one.
"""

from __future__ import annotations

import asyncio
from typing import Any

from coord.access import Principal, system_principal
from coord.accounts import throttle
from coord.accounts.passwords import hash_password, needs_rehash, verify_password
from coord.accounts.service import load_principal
from coord.accounts.tables import User
from coord.audit import log as audit
from coord.core import clock
from coord.core.settings import Settings

REFUSED = "Adresse électronique ou mot de passe incorrect."


class SignInRefused(Exception):
    """Wrong address or password (or an account that may not sign in with one): `message` says so
    without telling which."""

    def __init__(self) -> None:
        self.message = REFUSED
        super().__init__(self.message)


class SignInDelayed(Exception):
    """Too many recent failures: the password was not checked; try again in `seconds` (also the value
    for a Retry-After header)."""

    def __init__(self, seconds: int) -> None:
        self.seconds = seconds
        self.message = f"Trop de tentatives de connexion : réessayez dans {_duration(seconds)}."
        super().__init__(self.message)


def _duration(seconds: int) -> str:
    if seconds < 120:
        return "1 seconde" if seconds <= 1 else f"{seconds} secondes"
    return f"{-(-seconds // 60)} minutes"


def _refusal(user: dict[str, Any] | None, matches: bool) -> str | None:
    """Why the audit says the sign-in failed (the person is told none of it), None if it did not."""
    if user is None:
        return "unknown_address"
    if not user["active"]:
        return "deactivated"
    if not user["password_hash"]:
        return "no_password"
    return None if matches else "wrong_password"


async def authenticate(email: str, password: str, ip: str, *, settings: Settings) -> Principal:
    """The signed-in user's principal; raises SignInRefused or SignInDelayed.

    `ip` is the client's address as the web layer resolved it (trusted proxies only)."""
    email = (email or "").strip().lower()[:254]
    ip = (ip or "")[:64]
    password = password or ""
    user = (
        await User.select(User.id, User.password_hash, User.active, User.department).where(User.email == email).first()
    )
    user_id = user["id"] if user else None
    department_id = user["department"] if user else None
    actor = system_principal(email or "(adresse vide)")

    attempt_id = await throttle.note_attempt(email, ip)
    wait = await throttle.wait_before(email, ip, attempt_id, user_id=user_id, settings=settings)
    if wait is not None:
        await throttle.withdraw(attempt_id)  # a delayed attempt is not a failure: it checked nothing
        seconds = wait.seconds(clock.now())
        await audit.record(
            actor,
            "sign_in_delayed",
            "user",
            user_id,
            department_id=department_id,
            summary=f"Connexion de {email} retardée de {seconds} s (trop d'échecs)",
            after={"email": email, "wait_seconds": seconds, "counted": wait.rule},
            ip=ip,
        )
        raise SignInDelayed(seconds)

    # Argon2 takes tens of milliseconds of CPU: off the event loop (argon2-cffi releases the GIL).
    password_hash = user["password_hash"] if user else None
    matches = await asyncio.to_thread(verify_password, password_hash, password)
    reason = _refusal(user, matches)
    principal = await load_principal(user_id) if reason is None and user_id is not None else None
    if principal is None:
        await audit.record(
            actor,
            "sign_in_failed",
            "user",
            user_id,
            department_id=department_id,
            summary=f"Échec de connexion de {email}",
            after={"email": email, "reason": reason or "deactivated"},  # None: deactivated meanwhile
            ip=ip,
        )
        raise SignInRefused()

    await throttle.clear(email, ip)
    updates: dict[Any, Any] = {User.last_login_at: clock.now()}
    if password_hash and needs_rehash(password_hash):
        updates[User.password_hash] = await asyncio.to_thread(hash_password, password)
    await User.update(updates).where(User.id == principal.user_id)
    return principal
