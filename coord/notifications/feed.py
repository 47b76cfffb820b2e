"""Notifications derived from what is already recorded: the audit log, and the outbox for bounces.

Design choice: notifications are *derived*, not written by each domain. Every change in Coord is
audited in the same transaction as the change (`coord.audit`), so a job that reads the audit entries
written since a stored cursor sees every partner answer, delegation, reply filed « à vérifier »,
signature and action-item update, whatever the write path (a page, the API, a mail listener, a new
path added next year): none can forget to notify, and the domains stay unaware of notifications
(the layers: notifications sit above them and read their tables). The price is a delay of one
scheduler tick, which a notification centre can afford.

- Work follows what is new: each run reads audit entries after the cursor, in bounded batches,
  ordered by id, and moves the cursor in the same transaction as the notifications it writes.
- Idempotent: one notification per (source, recipient), enforced by a unique index; a rerun, a
  restart midway or a second instance adds nothing (`ON CONFLICT DO NOTHING`), and the cursor moves
  only from the position read (compare and set).
- Ids are handed out at insert but transactions commit in any order on PostgreSQL: an entry whose
  predecessor id is not visible yet is not passed until `SETTLE` has elapsed (the missing id was then
  rolled back), so a slow transaction's entry is never skipped.
- Bounces are not audited (the sender marks a mail « failed » after a 5xx or its last retry): a
  second cursor walks the outbox by id and stops at the first mail still being tried, a mail stuck
  retrying for longer than `STALL` excepted.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from coord.access import system_scope
from coord.accounts.tables import User
from coord.actions.transitions import STATUSES as ACTION_STATUSES
from coord.audit.tables import AuditEntry
from coord.conventions.tables import ConventionSignatory
from coord.core.db import transaction
from coord.mail.tables import OutboxMessage
from coord.meetings.tables import Invitation
from coord.notifications.kinds import DIGEST, RECIPIENT_ROLES, Kind
from coord.notifications.tables import Notification, NotificationCursor, NotificationPreference

logger = logging.getLogger("coord.notifications")

BATCH = 500  # audit entries or outbox messages read per transaction
MAX_BATCHES = 20  # per run: a backlog is worked off over a few ticks, not in one long one
SETTLE = dt.timedelta(minutes=2)
STALL = dt.timedelta(days=1)
AUDIT_CURSOR = "audit"
OUTBOX_CURSOR = "outbox"
PARTNER_ACTION_SUFFIX = "(lien partenaire)"  # coord.actions.partner.partner_principal


@dataclass(frozen=True)
class Event:
    """Something to tell the agents of a département (except its author)."""

    source: str
    kind: str
    department_id: int
    text: str
    link: str
    at: dt.datetime
    actor_user_id: int | None = None


# -- the cursors ---------------------------------------------------------------------------------


async def _position(name: str) -> int:
    # Read only: a tick with nothing new writes nothing (the row is created by the first move).
    row = await NotificationCursor.select(NotificationCursor.position).where(NotificationCursor.name == name).first()
    return int(row["position"]) if row else 0


class _Moved(Exception):
    """Another run moved the cursor meanwhile: this run's batch is rolled back (it would add nothing)."""


async def _move(name: str, old: int, new: int, now: dt.datetime) -> None:
    if new == old:
        return
    moved = await _compare_and_set(name, old, new, now)
    if not moved and old == 0:
        # The first move of this cursor: create its row at 0, then compare and set as usual (a run that
        # created and moved it meanwhile makes the update find nothing).
        await NotificationCursor.insert(NotificationCursor(name=name, position=0)).on_conflict(action="DO NOTHING")
        moved = await _compare_and_set(name, old, new, now)
    if not moved:
        raise _Moved(name)


async def _compare_and_set(name: str, old: int, new: int, now: dt.datetime) -> bool:
    moved = (
        await NotificationCursor.update({NotificationCursor.position: new, NotificationCursor.updated_at: now})
        .where((NotificationCursor.name == name) & (NotificationCursor.position == old))
        .returning(NotificationCursor.id)
    )
    return bool(moved)


# -- reading the audit log -----------------------------------------------------------------------


def _settled(rows: list[dict[str, Any]], position: int, now: dt.datetime) -> list[dict[str, Any]]:
    """The leading rows that can be passed for good: stop before an id gap younger than SETTLE."""
    expected, kept = position + 1, []
    for row in rows:
        if row["id"] != expected and row["at"] > now - SETTLE:
            break
        kept.append(row)
        expected = row["id"] + 1
    return kept


def _is_partner(row: dict[str, Any]) -> bool:
    """Written through a partner's link or mail (no account), not by an agent nor by a job."""
    return row["actor_user_id"] is None and row["actor"] != "système"


async def _invitations(ids: set[int]) -> dict[int, dict[str, Any]]:
    if not ids:
        return {}
    rows = await Invitation.select(
        Invitation.id,
        Invitation.meeting.as_alias("meeting"),
        Invitation.meeting.title.as_alias("title"),
        Invitation.contact.first_name.as_alias("first_name"),
        Invitation.contact.last_name.as_alias("last_name"),
        Invitation.contact.organisation.name.as_alias("organisation"),
    ).where(Invitation.id.is_in(list(ids)))
    return {r["id"]: r for r in rows}


async def _signatories(ids: set[int]) -> dict[int, dict[str, Any]]:
    if not ids:
        return {}
    rows = await ConventionSignatory.select(
        ConventionSignatory.id, ConventionSignatory.convention.as_alias("convention")
    ).where(ConventionSignatory.id.is_in(list(ids)))
    return {r["id"]: r for r in rows}


def _who(invitation: dict[str, Any]) -> str:
    name = f"{invitation['first_name']} {invitation['last_name']}".strip()
    return f"{name} ({invitation['organisation']})" if invitation.get("organisation") else name


def _answer_text(row: dict[str, Any], invitation: dict[str, Any]) -> str:
    answer = row["summary"].removeprefix("Réponse : ")
    return f"{_who(invitation)} a répondu « {answer} » à l'invitation à « {invitation['title']} »."


def _action_text(row: dict[str, Any]) -> str:
    who = row["actor"].removesuffix(PARTNER_ACTION_SUFFIX).strip()
    title = row["summary"].split("« ", 1)[-1].rstrip("»").strip()
    after = row["after"] or {}
    if row["action"] == "comment":
        return f"{who} a commenté l'action « {title} »."
    if "status" in after:
        status = ACTION_STATUSES.get(after["status"], after["status"])
        return f"{who} a passé l'action « {title} » à l'état « {status} »."
    if "progress" in after:
        return f"{who} a porté l'avancement de l'action « {title} » à {after['progress']} %."
    return f"{who} a mis à jour l'action « {title} »."


async def audit_events(rows: list[dict[str, Any]]) -> list[Event]:
    """The notifications the audit entries `rows` call for (most entries call for none)."""
    wanted = [r for r in rows if r["code"] and _is_partner(r)]  # national entries concern nobody here
    invitations = await _invitations({r["entity_id"] for r in wanted if r["entity"] == "invitation"})
    signatories = await _signatories({r["entity_id"] for r in wanted if r["entity"] == "convention_signatory"})
    events = []
    for row in wanted:
        event = _audit_event(row, invitations, signatories)
        if event is not None:
            events.append(event)
    return events


def _audit_event(
    row: dict[str, Any], invitations: dict[int, dict[str, Any]], signatories: dict[int, dict[str, Any]]
) -> Event | None:
    code, entity, action = row["code"], row["entity"], row["action"]
    base = f"/d/{code}"

    def event(kind: str, text: str, link: str) -> Event:
        return Event(f"audit:{row['id']}", kind, row["department"], text[:500], link, row["at"], row["actor_user_id"])

    if entity == "invitation" and action in ("answer", "delegate"):
        invitation = invitations.get(row["entity_id"])
        if invitation is None:  # removed since: nothing left to look at
            return None
        link = f"{base}/reunions/{invitation['meeting']}"
        if action == "delegate":
            return event(Kind.DELEGATION, f"{row['summary']}, pour « {invitation['title']} ».", link)
        return event(Kind.ANSWER, _answer_text(row, invitation), link)
    if entity == "inbox_item" and action == "receive":
        after = row["after"] or {}
        if after.get("kind") not in ("reply", "counter") or not after.get("meeting"):
            return None
        return event(Kind.REPLY_TO_CHECK, f"{row['summary']}.", f"{base}/reunions/{after['meeting']}/courriers")
    if entity == "convention_signatory" and action == "sign":
        signatory = signatories.get(row["entity_id"])
        link = f"{base}/conventions/{signatory['convention']}" if signatory else f"{base}/conventions"
        return event(Kind.SIGNATURE, f"{row['summary']} (par le lien de signature).", link)
    if entity == "action_item" and action in ("update", "comment") and row["actor"].endswith(PARTNER_ACTION_SUFFIX):
        return event(Kind.ACTION_UPDATE, _action_text(row), f"{base}/actions/{row['entity_id']}")
    return None


AUDIT_COLUMNS = (
    AuditEntry.id,
    AuditEntry.at,
    AuditEntry.actor_user_id,
    AuditEntry.actor,
    AuditEntry.department,
    AuditEntry.department.code.as_alias("code"),
    AuditEntry.action,
    AuditEntry.entity,
    AuditEntry.entity_id,
    AuditEntry.summary,
    AuditEntry.after,
)


async def _audit_batch(now: dt.datetime) -> tuple[int, bool]:
    """One batch of the audit log: (notifications written, whether more may wait)."""
    async with transaction():
        position = await _position(AUDIT_CURSOR)
        rows = (
            await AuditEntry.select(*AUDIT_COLUMNS)
            .where(AuditEntry.id > position)
            .order_by(AuditEntry.id)
            .limit(BATCH)
            .output(load_json=True)
        )
        rows = _settled(rows, position, now)
        if not rows:
            return 0, False
        written = await deliver(await audit_events(rows))
        await _move(AUDIT_CURSOR, position, rows[-1]["id"], now)
    return written, len(rows) == BATCH


# -- bounces, from the outbox --------------------------------------------------------------------


def _bounce_link(row: dict[str, Any]) -> str:
    base = f"/d/{row['code']}"
    pages = {"meeting": "reunions", "action_item": "actions", "convention": "conventions"}
    if row["entity"] in pages and row["entity_id"]:
        return f"{base}/{pages[row['entity']]}/{row['entity_id']}"
    return base


def _bounce(row: dict[str, Any]) -> Event:
    reason = " ".join((row["last_error"] or "").split())[:160]
    text = f"Le courriel « {row['subject']} » destiné à {row['to_email']} n'a pas pu être remis"
    text += f" ({reason})." if reason else "."
    return Event(f"outbox:{row['id']}", Kind.BOUNCE, row["department"], text[:500], _bounce_link(row), row["at"])


async def _outbox_batch(now: dt.datetime) -> tuple[int, bool]:
    async with transaction():
        position = await _position(OUTBOX_CURSOR)
        rows = (
            await OutboxMessage.select(
                OutboxMessage.id,
                OutboxMessage.status,
                OutboxMessage.department,
                OutboxMessage.department.code.as_alias("code"),
                OutboxMessage.to_email,
                OutboxMessage.subject,
                OutboxMessage.last_error,
                OutboxMessage.entity,
                OutboxMessage.entity_id,
                OutboxMessage.created_at.as_alias("at"),
            )
            .where(OutboxMessage.id > position)
            .order_by(OutboxMessage.id)
            .limit(BATCH)
        )
        passed, events = position, []
        for row in rows:
            if row["status"] in ("pending", "sending") and row["at"] > now - STALL:
                break  # still being tried: wait for its outcome
            if row["status"] == "failed" and row["code"]:
                events.append(_bounce(row))
            passed = row["id"]
        if passed == position:
            return 0, False
        written = await deliver(events)
        await _move(OUTBOX_CURSOR, position, passed, now)
    return written, len(rows) == BATCH and passed == rows[-1]["id"]


# -- writing notifications -----------------------------------------------------------------------


def _chunks(values: list[Any], size: int) -> Iterable[list[Any]]:
    return (values[i : i + size] for i in range(0, len(values), size))


async def recipients(department_ids: set[int]) -> dict[int, list[int]]:
    """{département id: ids of its active agents who work there (RECIPIENT_ROLES)}."""
    if not department_ids:
        return {}
    agents = system_scope().across(sorted(department_ids))
    rows = await agents.select(User, User.id, User.department).where(
        User.role.is_in(list(RECIPIENT_ROLES)) & User.active.eq(True)
    )
    found: dict[int, list[int]] = {}
    for row in rows:
        found.setdefault(row["department"], []).append(row["id"])
    return found


async def _digest_choices(accounts: set[int]) -> set[tuple[int, str]]:
    if not accounts:
        return set()
    rows = await NotificationPreference.select(NotificationPreference.account, NotificationPreference.kind).where(
        NotificationPreference.account.is_in(list(accounts)) & (NotificationPreference.channel == DIGEST)
    )
    return {(r["account"], r["kind"]) for r in rows}


async def deliver(events: list[Event]) -> int:
    """One notification per event and recipient, never the author; returns how many were new."""
    if not events:
        return 0
    agents = await recipients({e.department_id for e in events})
    digest = await _digest_choices({a for ids in agents.values() for a in ids})
    rows = [
        Notification(
            recipient=account,
            department=event.department_id,
            kind=event.kind,
            source=event.source,
            text=event.text,
            link=event.link,
            created_at=event.at,
            digest="pending" if (account, event.kind) in digest else "",
        )
        for event in events
        for account in agents.get(event.department_id, [])
        if account != event.actor_user_id
    ]
    written = 0
    for chunk in _chunks(rows, 200):
        inserted = await Notification.insert(*chunk).on_conflict(action="DO NOTHING").returning(Notification.id)
        written += len(inserted)
    return written


async def run_feed(now: dt.datetime) -> int:
    """Turn what happened since the last run into notifications; returns how many were written."""
    total = 0
    for batch in (_audit_batch, _outbox_batch):
        for _ in range(MAX_BATCHES):
            try:
                written, more = await batch(now)
            except _Moved:
                logger.info("notification feed: another run moved the %s cursor", batch.__name__)
                break
            total += written
            if not more:
                break
    return total
