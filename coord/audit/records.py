"""Create, update and delete a département-owned record: permission, transaction and audit in one
place, so every domain service gets them the same way."""

from __future__ import annotations

from typing import Any

from piccolo.table import Table

from coord.access import Scope
from coord.access.roles import Permission
from coord.audit import log as audit
from coord.core import clock
from coord.core.db import transaction
from coord.core.errors import Conflict


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in {"created_at", "updated_at"}}


async def create(
    scope: Scope,
    table: type[Table],
    values: dict[str, Any],
    *,
    entity: str,
    summary: str,
    permission: Permission = Permission.MANAGE,
) -> dict[str, Any]:
    department_id = values.get("department")
    scope.require(permission, department_id)
    async with transaction():
        row = (await table.insert(table(**values)).returning(*table._meta.columns))[0]
        await audit.record(
            scope.principal,
            "create",
            entity,
            row["id"],
            department_id=department_id,
            summary=summary,
            after=_plain(row),
        )
    return row


async def update(
    scope: Scope,
    table: type[Table],
    record_id: int,
    changes: dict[str, Any],
    *,
    entity: str,
    summary: str,
    permission: Permission = Permission.MANAGE,
) -> dict[str, Any]:
    before = await scope.get(table, record_id)
    scope.require(permission, before.get("department"))
    if hasattr(table, "updated_at"):
        changes = {**changes, "updated_at": clock.now()}
    async with transaction():
        rows = (
            await table.update({getattr(table, k): v for k, v in changes.items()})
            .where(table._meta.primary_key == record_id)
            .returning(*table._meta.columns)
        )
        after = rows[0]
        old, new = audit.changed_fields(_plain(before), _plain(after))
        if new:
            await audit.record(
                scope.principal,
                "update",
                entity,
                record_id,
                department_id=before.get("department"),
                summary=summary,
                before=old,
                after=new,
            )
    return after


async def delete(
    scope: Scope,
    table: type[Table],
    record_id: int,
    *,
    entity: str,
    summary: str,
    in_use: str | None = None,
    permission: Permission = Permission.MANAGE,
) -> None:
    """Delete a record; `in_use` is the French reason given when foreign keys still point to it."""
    before = await scope.get(table, record_id)
    scope.require(permission, before.get("department"))
    try:
        async with transaction():
            await table.delete().where(table._meta.primary_key == record_id)
            await audit.record(
                scope.principal,
                "delete",
                entity,
                record_id,
                department_id=before.get("department"),
                summary=summary,
                before=_plain(before),
            )
    except Exception as exc:
        if _is_integrity_error(exc):
            raise Conflict(in_use or "Cet élément est encore utilisé ailleurs et ne peut pas être supprimé.") from exc
        raise


def _is_integrity_error(exc: Exception) -> bool:
    name = type(exc).__name__
    return name in {"IntegrityError", "ForeignKeyViolationError", "UniqueViolationError"} or "FOREIGN KEY" in str(exc)


def is_unique_violation(exc: Exception) -> bool:
    return type(exc).__name__ == "UniqueViolationError" or "UNIQUE constraint failed" in str(exc)
