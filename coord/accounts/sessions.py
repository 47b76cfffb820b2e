"""Server-side sessions: what a signed-in browser is, and how it ends.

The browser's (encrypted) session cookie holds a random token; the `user_session` row holds its
digest, so ending a row — logout, password change, deactivation, a role change, « terminer mes
sessions » — ends that session at once for every copy of the cookie. The principal of a request is
read in one query (session, account, département), and `last_seen_at` is written at most every few
minutes so page reads do not queue behind SQLite's single writer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from piccolo.query.functions.aggregate import Count

from coord.access import Principal
from coord.accounts.service import principal_from_row
from coord.accounts.tables import UserSession
from coord.accounts.tokens import digest, new_secret, wall_now
from coord.core.settings import current_settings

SEEN_RESOLUTION = dt.timedelta(minutes=5)


METHOD_LABELS = {
    "password": "mot de passe",
    "proconnect": "ProConnect",
    "invitation": "invitation",
    "reset": "réinitialisation du mot de passe",
}


@dataclass(frozen=True)
class OpenedSession:
    id: int
    token: str  # goes into the cookie; never stored


@dataclass(frozen=True)
class SessionPrincipal:
    principal: Principal
    session_id: int
    csrf_hash: str


async def open_session(
    user_id: int, *, method: str, ip: str, user_agent: str, csrf_token: str, id_token: str = ""
) -> OpenedSession:
    token = new_secret()
    now = wall_now()
    row = (
        await UserSession.insert(
            UserSession(
                token_hash=digest(token),
                user=user_id,
                method=method[:20],
                created_at=now,
                last_seen_at=now,
                expires_at=now + dt.timedelta(hours=current_settings().session_hours),
                ip=ip[:64],
                user_agent=user_agent[:300],
                csrf_hash=digest(csrf_token),
                id_token=id_token,
            )
        ).returning(UserSession.id)
    )[0]
    return OpenedSession(id=row["id"], token=token)


# The principal of every page request, written once rather than built by the ORM on each request
# (building the query cost twice its execution). Same tables, joins and conditions as the ORM's.
_PRINCIPAL_SQL = """
SELECT s.id, s.csrf_hash, s.last_seen_at, u.id AS user_id, u.email, u.full_name, u.role, u.department,
       d.code AS department_code, u.manages_accounts
FROM user_session s
JOIN coord_user u ON u.id = s."user"
LEFT JOIN department d ON d.id = u.department
WHERE s.token_hash = {} AND s.ended_at IS NULL AND s.expires_at > {} AND u.active = {}
LIMIT 1
"""


async def principal_for_session(token: str) -> SessionPrincipal | None:
    """Who holds this session token, if the session is open, unexpired and its account active.

    Read from the database on every request, never from a per-process cache: ending a session in
    one process (logout, a role change, a deactivation) must end it in all of them at once."""
    now = wall_now()
    rows = await UserSession.raw(_PRINCIPAL_SQL, digest(token), now, True)
    if not rows:
        return None
    row = rows[0]
    if now - row["last_seen_at"] > SEEN_RESOLUTION:
        await UserSession.update({UserSession.last_seen_at: now}).where(UserSession.id == row["id"])
    principal = principal_from_row({**row, "id": row["user_id"]})
    return SessionPrincipal(principal=principal, session_id=row["id"], csrf_hash=row["csrf_hash"])


async def end_session(token: str) -> dict[str, Any] | None:
    """End the session of this token; its row (user, id_token) if it was open."""
    now = wall_now()
    rows = await (
        UserSession.update({UserSession.ended_at: now})
        .where((UserSession.token_hash == digest(token)) & UserSession.ended_at.is_null())
        .returning(UserSession.id, UserSession.user, UserSession.id_token)
    )
    return rows[0] if rows else None


async def end_session_id(user_id: int, session_id: int) -> bool:
    """End one session of an account (from the account's page); False if it was not open."""
    rows = await (
        UserSession.update({UserSession.ended_at: wall_now()})
        .where((UserSession.id == session_id) & (UserSession.user == user_id) & UserSession.ended_at.is_null())
        .returning(UserSession.id)
    )
    return bool(rows)


async def end_sessions_of(user_id: int, *, reason: str) -> int:
    """End every open session of an account (`reason` is for the caller's audit entry); how many."""
    rows = await (
        UserSession.update({UserSession.ended_at: wall_now()})
        .where((UserSession.user == user_id) & UserSession.ended_at.is_null())
        .returning(UserSession.id)
    )
    return len(rows)


async def active_sessions(user_id: int) -> list[dict[str, Any]]:
    """The open sessions of an account, most recently used first."""
    rows = (
        await UserSession.select(
            UserSession.id,
            UserSession.method,
            UserSession.created_at,
            UserSession.last_seen_at,
            UserSession.ip,
            UserSession.user_agent,
        )
        .where((UserSession.user == user_id) & UserSession.ended_at.is_null() & (UserSession.expires_at > wall_now()))
        .order_by(UserSession.last_seen_at, ascending=False)
    )
    return [{**row, "method_label": METHOD_LABELS.get(row["method"], row["method"])} for row in rows]


async def active_session_counts(user_ids: list[int]) -> dict[int, int]:
    """Open sessions per account, for account lists (one query)."""
    if not user_ids:
        return {}
    rows = (
        await UserSession.select(UserSession.user, Count(UserSession.id, alias="n"))
        .where(
            UserSession.user.is_in(user_ids) & UserSession.ended_at.is_null() & (UserSession.expires_at > wall_now())
        )
        .group_by(UserSession.user)
    )
    return {row["user"]: row["n"] for row in rows}
