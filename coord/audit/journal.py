"""Reading the journal for people: the entries of the reader's scope that match the filters, the
people and kinds of object to choose from, and the reader's zone for periods."""

from __future__ import annotations

from typing import Any

from coord.access import Scope
from coord.audit import log
from coord.audit.filters import JournalFilters
from coord.audit.presenting import DEFAULT_ZONE, resolve_names
from coord.audit.tables import AuditEntry
from coord.core.pagination import PageRequest

# The log's columns, plus what names the actor and dates an entry in its département's zone.
COLUMNS = (
    *log.COLUMNS,
    AuditEntry.actor_user_id,
    AuditEntry.department.name.as_alias("department_name"),
    AuditEntry.department.timezone.as_alias("department_timezone"),
)
MAX_EXPORT = 100_000
MAX_PEOPLE = 500


async def reader_zone(access: Scope) -> str:
    """The zone periods are read in: the reader's département's (a scope of one département), Paris
    for readers of several."""
    rows = await access.departments().limit(2)
    return rows[0]["timezone"] if len(rows) == 1 else DEFAULT_ZONE


def _conditions(filters: JournalFilters, zone: str) -> list[Any]:
    conditions = []
    if filters.person:
        conditions.append(AuditEntry.actor == filters.person)
    if filters.kind:
        conditions.append(AuditEntry.entity == filters.kind)
    start, end = filters.period_utc(zone)
    if start:
        conditions.append(AuditEntry.at >= start)
    if end:
        conditions.append(AuditEntry.at < end)
    return conditions


async def matching(
    access: Scope, filters: JournalFilters, request_page: PageRequest | None
) -> tuple[list[dict[str, Any]], int]:
    """The entries (newest first) and how many match; every entry when `request_page` is None (export)."""
    zone = await reader_zone(access)
    query = access.select(AuditEntry, *COLUMNS)
    count = access.count(AuditEntry)
    for condition in _conditions(filters, zone):
        query, count = query.where(condition), count.where(condition)
    query = query.output(load_json=True).order_by(AuditEntry.id, ascending=False)
    if request_page is None:
        query = query.limit(MAX_EXPORT)
    else:
        query = query.limit(request_page.per_page).offset(request_page.offset)
    return await query, await count


async def people(access: Scope) -> list[tuple[str, str]]:
    """Who acted in the reader's journal, as (value of the filter, name shown), by name."""
    rows = await (
        access.select(AuditEntry, AuditEntry.actor, AuditEntry.actor_user_id)
        .distinct()
        .order_by(AuditEntry.actor)
        .limit(MAX_PEOPLE)
    )
    user_ids = {r["actor_user_id"] for r in rows if r["actor_user_id"]}
    names = (await resolve_names(access, {"user": user_ids})).get("user", {})
    options: dict[str, str] = {}
    for row in rows:
        actor = row["actor"]
        name = names.get(row["actor_user_id"]) if row["actor_user_id"] else None
        label = (
            f"{name} ({actor})" if name and name != actor else ("Coord (automatique)" if actor == "système" else actor)
        )
        options.setdefault(actor, label)
    return sorted(options.items(), key=lambda item: item[1].casefold())


async def kinds(access: Scope) -> list[str]:
    """The kinds of object the reader's journal holds."""
    rows = await access.select(AuditEntry, AuditEntry.entity).distinct()
    return [r["entity"] for r in rows]
