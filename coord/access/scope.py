"""Département isolation, decided here and nowhere else.

Every read of département-owned data goes through `Scope`: it adds the département condition to the
query, so a route cannot forget it. Every write checks `Scope.require`. A record of another
département answers "not found", never "forbidden", so its existence does not leak either.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from piccolo.columns import ForeignKey
from piccolo.query import Count, Delete, Exists, Objects, Select, Update
from piccolo.table import Table

from coord.access.principal import SYSTEM, Principal
from coord.access.roles import Permission
from coord.core.errors import Forbidden, NotFound
from coord.core.validation import DB_INT_MAX, Fields
from coord.territory.tables import Department

# Primary keys are 32-bit on PostgreSQL (SERIAL); a larger number cannot name a record.
MAX_ID = DB_INT_MAX


def is_valid_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


DEPARTMENT_CODE = re.compile(r"^(?:\d{2,3}|2[ABab])$")


def is_department_owned(table: type[Table]) -> bool:
    column = getattr(table, "department", None)
    return isinstance(column, ForeignKey) and column._foreign_key_meta.resolved_references is Department


DepartmentRow = dict[str, Any]


class Scope:
    """What one principal may read, optionally narrowed to the départements of the URL.

    A scope lives for one request or command. `within(department)` narrows it to one département (a
    page under `/d/{code}/` gets such a scope from its dependencies, national coordinators included),
    so no caller writes a département condition of its own.
    """

    def __init__(self, principal: Principal, *, narrowed_to: tuple[int, ...] | None = None) -> None:
        self.principal = principal
        self.narrowed_to = narrowed_to  # None: every département the principal may see
        self._departments: dict[str, dict[str, Any]] = {}

    # -- narrowing -----------------------------------------------------------------------------
    def within(self, department: DepartmentRow | int) -> Scope:
        """The same principal, reading one département only (an id, or a row from `department`)."""
        department_id = department if isinstance(department, int) else department["id"]
        return self.across((department_id,))

    def across(self, department_ids: list[int] | tuple[int, ...]) -> Scope:
        """The same principal, reading these départements only (national tables filtered by region).
        Narrowing a narrowed scope keeps only the départements both allow: it never widens."""
        wanted = tuple(department_ids)
        if self.narrowed_to is not None:
            wanted = tuple(d for d in wanted if d in self.narrowed_to)
        narrowed = Scope(self.principal, narrowed_to=wanted)
        narrowed._departments = self._departments
        return narrowed

    async def within_code(self, code: str | None) -> Scope:
        """Narrowed to the département of that code when one is given (API filters), else unchanged."""
        return self.within(await self.department(code)) if code else self

    @property
    def department_id(self) -> int | None:
        """The one département this scope reads, if it reads exactly one."""
        if self.narrowed_to is not None and len(self.narrowed_to) == 1:
            return self.narrowed_to[0]
        return None if self.principal.is_national else self.principal.department_id

    # -- reading -------------------------------------------------------------------------------
    def _condition(self, table: type[Table]) -> Any | None:
        if table is Department:
            column = Department.id
        elif is_department_owned(table):
            column = table.department  # type: ignore[attr-defined]
        else:
            return None  # national reference data (plans, measures, kinds)
        conditions = []
        if not self.principal.is_national:
            conditions.append(column == self.principal.department_id)
        if self.narrowed_to is not None:
            ids = list(self.narrowed_to)
            conditions.append(column == ids[0] if len(ids) == 1 else column.is_in(ids or [0]))
        if not conditions:
            return None
        return conditions[0] if len(conditions) == 1 else conditions[0] & conditions[1]

    def condition(self, table: type[Table]) -> Any | None:
        """The département condition of `table` for a query built elsewhere (joins, aggregates)."""
        return self._condition(table)

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

    def exists(self, table: type[Table]) -> Exists:
        query = table.exists()
        condition = self._condition(table)
        return query.where(condition) if condition is not None else query

    def update(self, table: type[Table], values: dict[Any, Any]) -> Update:
        query = table.update(values)
        condition = self._condition(table)
        return query.where(condition) if condition is not None else query

    def delete(self, table: type[Table]) -> Delete:
        """A DELETE limited to the records this scope reads (add the record's own conditions)."""
        query = table.delete()
        condition = self._condition(table)
        return query.where(condition) if condition is not None else query

    async def get(self, table: type[Table], record_id: int, *columns: Any) -> dict[str, Any]:
        if not is_valid_id(record_id):
            raise NotFound()
        row = await self.select(table, *columns).where(table._meta.primary_key == record_id).first()
        if row is None:
            raise NotFound()
        return row

    def require_in(self, record: Mapping[str, Any] | None, department: DepartmentRow | int) -> None:
        """404 unless `record` belongs to `department` (records name theirs by id or by code)."""
        if record is None or not belongs_to(record, department):
            raise NotFound()

    def sees(self, record: Mapping[str, Any]) -> bool:
        """Whether this scope reads `record`, a row read elsewhere whose `department` is an id (or a
        nested row): the in-memory twin of `condition`, for rows matched by something else (a UID)."""
        own = record.get("department")
        if isinstance(own, Mapping):
            own = own.get("id")
        if not self.principal.is_national and (own is None or own != self.principal.department_id):
            return False
        return self.narrowed_to is None or own in self.narrowed_to

    async def department(self, code: str) -> dict[str, Any]:
        if not DEPARTMENT_CODE.match(code or ""):
            raise NotFound(f"Département « {code[:10]} » inconnu ou non accessible.")
        if code.upper() in self._departments:  # pages and the queries they call ask several times
            return dict(self._departments[code.upper()])
        row = await Scope(self.principal).select(Department).where(Department.code == code.upper()).first()
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
        if self.narrowed_to is not None and department_id not in self.narrowed_to:
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


def belongs_to(record: Mapping[str, Any], department: DepartmentRow | int) -> bool:
    """Whether a record (its `department` is an id, a code, or a nested row) is of `department`."""
    own = record.get("department")
    if isinstance(own, Mapping):
        own = own.get("id")
    if isinstance(department, int):
        return own == department
    return own in (department.get("id"), department.get("code"))


def same_department(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two records of département-owned tables belong to the same département."""
    return a.get("department") is not None and a.get("department") == b.get("department")


async def department_of(record: Mapping[str, Any], *columns: Any) -> dict[str, Any] | None:
    """The département row of a record already read through a scope (its zone, code, name)."""
    return await Department.select(*columns).where(Department.id == record["department"]).first()


def system_scope(department_id: int | None = None) -> Scope:
    """What a background job reads: everything, or one département's records."""
    scope = Scope(SYSTEM)
    return scope.within(department_id) if department_id is not None else scope


def link_scope(department_id: int | None) -> Scope:
    """What the holder of a signed link reads (for the system): the records of the link's
    département, and nothing at all when the link names none (never every département)."""
    return Scope(SYSTEM, narrowed_to=() if department_id is None else (department_id,))


async def resolve_department(scope: Scope, code: str | None, errors: Fields) -> int | None:
    """The département a new record goes to: the one given, else the scope's own (the URL's, or the
    user's), with a French error in `errors` when there is none or it is not accessible."""
    if not code:
        own = scope.department_id
        if own is None:
            errors.error("department", "Indiquez le département (code, par exemple 34 ou 2A).")
        return own
    try:
        return (await scope.department(code))["id"]
    except NotFound:
        errors.error("department", f"Département « {code} » inconnu ou non accessible.")
        return None
