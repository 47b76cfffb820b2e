"""Who may see and do what: principals, roles and the département scope of every query.

Département isolation is decided in this package and nowhere else: `Scope` adds the département
condition to every query of département-owned data, and a test fails if a condition on a `department`
column is written outside it.
"""

from coord.access.principal import SYSTEM, Principal, link_principal, system_principal
from coord.access.roles import PERMISSIONS, ROLE_LABELS, Permission, Role
from coord.access.scope import (
    DEPARTMENT_CODE,
    MAX_ID,
    DepartmentRow,
    Scope,
    belongs_to,
    department_of,
    is_department_owned,
    is_valid_id,
    link_scope,
    resolve_department,
    same_department,
    system_scope,
)

__all__ = [
    "DEPARTMENT_CODE",
    "MAX_ID",
    "PERMISSIONS",
    "ROLE_LABELS",
    "SYSTEM",
    "DepartmentRow",
    "Permission",
    "Principal",
    "Role",
    "Scope",
    "belongs_to",
    "department_of",
    "is_department_owned",
    "is_valid_id",
    "link_principal",
    "link_scope",
    "resolve_department",
    "same_department",
    "system_principal",
    "system_scope",
]
