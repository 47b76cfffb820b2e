"""The audit log: one row per change, written in the same transaction as the change, and read back
(newest first) within a scope."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from coord.access import Principal, Scope
from coord.audit.tables import AuditEntry
from coord.core.pagination import PageRequest
from coord.ops.request_context import current_request_id

COLUMNS = (
    AuditEntry.id,
    AuditEntry.at,
    AuditEntry.actor,
    AuditEntry.action,
    AuditEntry.entity,
    AuditEntry.entity_id,
    AuditEntry.summary,
    AuditEntry.before,
    AuditEntry.after,
    AuditEntry.department.code.as_alias("department"),
    AuditEntry.request_id,
)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields that differ, so the log reads as a diff."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


async def record(
    actor: Principal,
    action: str,
    entity: str,
    entity_id: int | None,
    *,
    department_id: int | None,
    summary: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    ip: str = "",
) -> None:
    await AuditEntry.insert(
        AuditEntry(
            actor_user_id=actor.user_id,
            actor=actor.label[:254],
            department=department_id,
            action=action,
            entity=entity,
            entity_id=entity_id,
            summary=summary[:300],
            before=_jsonable(before) if before is not None else None,
            after=_jsonable(after) if after is not None else None,
            ip=ip[:64],
            request_id=current_request_id(),
        )
    )


async def entries(
    access: Scope,
    request_page: PageRequest,
    *,
    department: str | None = None,
    entity: str | None = None,
    entity_id: int | None = None,
) -> tuple[list[dict[str, Any]], int]:
    access = await access.within_code(department)
    query = access.select(AuditEntry, *COLUMNS)
    count = access.count(AuditEntry)
    conditions = []
    if entity:
        conditions.append(AuditEntry.entity == entity)
    if entity_id is not None:
        conditions.append(AuditEntry.entity_id == entity_id)
    for condition in conditions:
        query, count = query.where(condition), count.where(condition)
    rows = (
        await query.output(load_json=True)
        .order_by(AuditEntry.id, ascending=False)
        .limit(request_page.per_page)
        .offset(request_page.offset)
    )
    return rows, await count
