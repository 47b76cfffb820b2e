"""Département isolation, decided here and nowhere else.

Every read of département-owned data goes through `Scope`: it adds the département condition to the
query, so a route cannot forget it. Every write checks `Scope.require`. A record of another
département answers "not found", never "forbidden", so its existence does not leak either.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from piccolo.columns import ForeignKey
from piccolo.query import Count, Objects, Select
from piccolo.table import Table

from coord.accounts.roles import PERMISSIONS, Permission, Role
from coord.core.errors import Forbidden, NotFound
from coord.territory.tables import Department


@dataclass(frozen=True)
class Principal:
    """Who is acting: a user, a partner through a signed link, or the system (scheduler, CLI)."""

    user_id: int | None
    email: str
    full_name: str
    role: Role
    department_id: int | None = None
    department_code: str | None = None

    @property
    def is_national(self) -> bool:
        return self.role is Role.NATIONAL

    def can(self, permission: Permission) -> bool:
        return permission in PERMISSIONS[self.role]

    @property
    def label(self) -> str:
        return self.email


# Primary keys are 32-bit on PostgreSQL (SERIAL); a larger number cannot name a record.
MAX_ID = 2_147_483_647


def is_valid_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


DEPARTMENT_CODE = re.compile(r"^(?:\d{2,3}|2[ABab])$")


SYSTEM = Principal(user_id=None, email="système", full_name="Coord", role=Role.NATIONAL)


def is_department_owned(table: type[Table]) -> bool:
    column = getattr(table, "department", None)
    return isinstance(column, ForeignKey) and column._foreign_key_meta.resolved_references is Department


class Scope:
    def __init__(self, principal: Principal) -> None:
        self.principal = principal
        self._departments: dict[str, dict[str, Any]] = {}  # a scope lives for one request or command

    # -- reading -------------------------------------------------------------------------------
    def _condition(self, table: type[Table]) -> Any | None:
        if self.principal.is_national:
            return None
        if table is Department:
            return Department.id == self.principal.department_id
        if not is_department_owned(table):
            return None  # national reference data (plans, measures, kinds)
        return table.department == self.principal.department_id  # type: ignore[attr-defined]

    def select(self, table: type[Table], *columns: Any) -> Select:
        query = table.select(*columns)
        condition = self._condition(table)
        return query.where(condition) if condition is not None else query

    def objects(self, table: type[Table]) -> Objects:
        query = table.objects()
        condition = self._condition(table)
        return query.where(condition) if condition is not None else query

    def count(self, table: type[Table]) -> Count:
        query = table.count()
        condition = self._condition(table)
        return query.where(condition) if condition is not None else query

    async def get(self, table: type[Table], record_id: int, *columns: Any) -> dict[str, Any]:
        if not is_valid_id(record_id):
            raise NotFound()
        row = await self.select(table, *columns).where(table._meta.primary_key == record_id).first()
        if row is None:
            raise NotFound()
        return row

    async def department(self, code: str) -> dict[str, Any]:
        if not DEPARTMENT_CODE.match(code or ""):
            raise NotFound(f"Département « {code[:10]} » inconnu ou non accessible.")
        if code.upper() in self._departments:  # pages and the queries they call ask several times
            return dict(self._departments[code.upper()])
        row = await self.select(Department).where(Department.code == code.upper()).first()
        if row is None:
            raise NotFound(f"Département « {code} » inconnu ou non accessible.")
        self._departments[code.upper()] = dict(row)
        return row

    def departments(self) -> Select:
        return self.select(Department).order_by(Department.id)

    # -- writing -------------------------------------------------------------------------------
    def require(self, permission: Permission, department_id: int | None = None) -> None:
        """Raise unless the principal may do `permission` in `department_id` (None: national)."""
        if not self.principal.can(permission):
            raise Forbidden()
        if self.principal.is_national:
            return
        if department_id is None or department_id != self.principal.department_id:
            raise Forbidden()

    def may(self, permission: Permission, department_id: int | None = None) -> bool:
        try:
            self.require(permission, department_id)
        except Forbidden:
            return False
        return True
