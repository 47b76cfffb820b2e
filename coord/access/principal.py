"""Who is acting: a user, a partner through a signed link, or the system (scheduler, CLI).

Principals are built here and nowhere else, so that what a link holder or a background job may do is
decided in one place.
"""

from __future__ import annotations

from dataclasses import dataclass

from coord.access.roles import PERMISSIONS, Permission, Role


@dataclass(frozen=True)
class Principal:
    """Who is acting: a user, a partner through a signed link, or the system (scheduler, CLI)."""

    user_id: int | None
    email: str
    full_name: str
    role: Role
    department_id: int | None = None
    department_code: str | None = None
    manages_accounts: bool = False  # a per-account right, on top of the role (see Permission)

    @property
    def is_national(self) -> bool:
        return self.role is Role.NATIONAL

    def can(self, permission: Permission) -> bool:
        if permission is Permission.MANAGE_ACCOUNTS and self.manages_accounts and self.user_id is not None:
            return True
        return permission in PERMISSIONS[self.role]

    @property
    def label(self) -> str:
        return self.email


SYSTEM = Principal(user_id=None, email="système", full_name="Coord", role=Role.NATIONAL)


def link_principal(label: str, department_id: int) -> Principal:
    """A partner acting through a signed link: read-only, bound to the link's département."""
    return Principal(user_id=None, email=label, full_name=label, role=Role.OBSERVER, department_id=department_id)


def system_principal(label: str, department_id: int | None = None) -> Principal:
    """A background job or an incoming mail acting for the system (audited under `label`)."""
    return Principal(user_id=None, email=label, full_name=label, role=Role.NATIONAL, department_id=department_id)
