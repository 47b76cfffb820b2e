"""An agent's notifications: the list (unread first), the unread count, marking read, and the choice
per kind between the app only and the daily digest.

A notification is its recipient's alone: every query is bound to the signed-in account and, through
the access scope, to the département the account works in. Someone else's is « introuvable » (404)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from piccolo.query import OrderByRaw

from coord.access import MAX_ID, Scope
from coord.core import clock
from coord.core.db import transaction
from coord.core.errors import Forbidden, NotFound, ValidationFailed
from coord.core.pagination import PageRequest
from coord.notifications.kinds import APP, CHANNELS, DEFAULT_CHANNEL, DIGEST, KIND_LABELS
from coord.notifications.tables import Notification, NotificationPreference

COLUMNS = (
    Notification.id,
    Notification.kind,
    Notification.text,
    Notification.link,
    Notification.created_at,
    Notification.read_at,
    Notification.department.code.as_alias("department"),
)


def account_id(scope: Scope) -> int:
    if scope.principal.user_id is None:
        raise Forbidden("Les notifications sont celles d'un compte : connectez-vous.")
    return scope.principal.user_id


def _mine(scope: Scope) -> Any:
    return Notification.recipient == account_id(scope)


def out(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "kind_label": KIND_LABELS.get(row["kind"], row["kind"]), "unread": row["read_at"] is None}


# Written once rather than built by the ORM: the header shows it on every page, and building the
# query cost more than running it on the (recipient, read_at) index.
_UNREAD_SQL = "SELECT COUNT(*) AS n FROM notification WHERE recipient = {} AND read_at IS NULL"


async def unread_count(user_id: int) -> int:
    """The account's unread notifications: one indexed COUNT (recipient, read_at)."""
    rows = await Notification.raw(_UNREAD_SQL, user_id)
    return int(rows[0]["n"])


async def listing(scope: Scope, request_page: PageRequest, *, unread_only: bool = False) -> tuple[list[dict], int]:
    """The account's notifications, unread first then newest first."""
    condition = _mine(scope)
    if unread_only:
        condition &= Notification.read_at.is_null()
    query = scope.select(Notification, *COLUMNS).where(condition)
    total = await scope.count(Notification).where(condition)
    # NULL sorts first on PostgreSQL and last on SQLite: order on a portable expression instead.
    rows = (
        await query.order_by(OrderByRaw('CASE WHEN "notification"."read_at" IS NULL THEN 0 ELSE 1 END'))
        .order_by(Notification.id, ascending=False)
        .limit(request_page.per_page)
        .offset(request_page.offset)
    )
    return [out(r) for r in rows], int(total)


async def _owned(scope: Scope, notification_id: int) -> dict[str, Any]:
    row = await scope.select(Notification, *COLUMNS).where((Notification.id == notification_id) & _mine(scope)).first()
    if row is None:
        raise NotFound("Cette notification n'existe pas ou ne vous est pas adressée.")
    return row


async def get(scope: Scope, notification_id: int) -> dict[str, Any]:
    return out(await _owned(scope, notification_id))


async def mark_read(scope: Scope, notification_id: int, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """Mark one read (following it does); already read keeps its first reading time."""
    row = await _owned(scope, notification_id)
    if row["read_at"] is None:
        await scope.update(Notification, {Notification.read_at: now or clock.now()}).where(
            (Notification.id == notification_id) & _mine(scope) & Notification.read_at.is_null()
        )
    return out(await _owned(scope, notification_id))


def parse_up_to(value: Any) -> int:
    """The newest notification the agent saw when asking « Tout marquer comme lu »."""
    try:
        up_to = int(value)
        if not 0 < up_to <= MAX_ID:
            raise ValueError
    except (TypeError, ValueError):
        raise ValidationFailed(
            {"jusqu_a": "Rechargez la page des notifications, puis cliquez de nouveau sur « Tout marquer comme lu »."}
        ) from None
    return up_to


async def mark_all_read(scope: Scope, up_to: Any, *, now: dt.datetime | None = None) -> int:
    """« Tout marquer comme lu »: every unread one up to `up_to`, the newest the agent was shown (one
    that arrived since stays unread). Returns how many were marked."""
    newest = parse_up_to(up_to)
    rows = (
        await scope.update(Notification, {Notification.read_at: now or clock.now()})
        .where(_mine(scope) & Notification.read_at.is_null() & (Notification.id <= newest))
        .returning(Notification.id)
    )
    return len(rows)


async def newest_unread(scope: Scope) -> int | None:
    row = (
        await scope.select(Notification, Notification.id)
        .where(_mine(scope) & Notification.read_at.is_null())
        .order_by(Notification.id, ascending=False)
        .first()
    )
    return int(row["id"]) if row else None


# -- preferences ---------------------------------------------------------------------------------


async def preferences(scope: Scope) -> dict[str, str]:
    """{kind: channel} for every kind, the default where the account chose nothing."""
    rows = await NotificationPreference.select(NotificationPreference.kind, NotificationPreference.channel).where(
        NotificationPreference.account == account_id(scope)
    )
    chosen = {r["kind"]: r["channel"] for r in rows}
    return {kind: chosen.get(kind, DEFAULT_CHANNEL) for kind in KIND_LABELS}


def _parse(data: dict[str, Any]) -> dict[str, str]:
    errors, choices = {}, {}
    for kind, label in KIND_LABELS.items():
        value = data.get(kind)
        if value in (None, ""):
            errors[kind] = f"Choisissez comment être prévenu pour « {label} »."
        elif value not in CHANNELS:
            errors[kind] = f"Choix inconnu pour « {label} » : « dans Coord seulement » ou « courriel quotidien »."
        else:
            choices[kind] = str(value)
    unknown = sorted(set(data) - set(KIND_LABELS))
    if unknown:
        errors["form"] = "Type de notification inconnu : " + ", ".join(unknown)[:200] + "."
    if errors:
        raise ValidationFailed(errors)
    return choices


async def save_preferences(scope: Scope, data: dict[str, Any], *, now: dt.datetime | None = None) -> dict[str, str]:
    """Store a choice for every kind. A kind moved back to the app only leaves the next digest at
    once; moved to the digest, it applies to what comes from now on."""
    account = account_id(scope)
    choices = _parse(data)
    now = now or clock.now()
    async with transaction():
        for kind, channel in choices.items():
            await NotificationPreference.insert(
                NotificationPreference(account=account, kind=kind, channel=channel, updated_at=now)
            ).on_conflict(
                target=(NotificationPreference.account, NotificationPreference.kind),
                action="DO UPDATE",
                values=[NotificationPreference.channel, NotificationPreference.updated_at],
            )
        dropped = [kind for kind, channel in choices.items() if channel == APP]
        if dropped:
            await Notification.update({Notification.digest: ""}).where(
                (Notification.recipient == account)
                & (Notification.digest == "pending")
                & Notification.kind.is_in(dropped)
            )
    return await preferences(scope)


__all__ = ["APP", "DIGEST", "get", "listing", "mark_all_read", "mark_read", "preferences", "save_preferences"]
