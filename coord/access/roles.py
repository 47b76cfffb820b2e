"""Roles and what each may do. The only place where permissions are decided by role."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    NATIONAL = "national"  # national coordinator (MIPROF): every département
    PREFECTURE = "prefecture"  # prefecture staff: one département, read and write
    COORDINATOR = "coordinator"  # local coordinator: one département, follows action items
    OBSERVER = "observer"  # read only, one département


ROLE_LABELS: dict[str, str] = {
    Role.NATIONAL: "Coordination nationale",
    Role.PREFECTURE: "Agent de préfecture",
    Role.COORDINATOR: "Coordinateur local",
    Role.OBSERVER: "Observateur",
}


class Permission(StrEnum):
    READ = "read"  # see the département's records
    MANAGE = "manage"  # create and change committees, partners, meetings, pilot sites
    TRACK_ACTIONS = "track_actions"  # create and update action items
    ADMINISTER = "administer"  # accounts, reference data, every département
    # Invite and manage the accounts of a département: national coordinators, and the referents who
    # were given the per-account right « gère les comptes du département » (`Principal.manages_accounts`).
    MANAGE_ACCOUNTS = "manage_accounts"


PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.NATIONAL: frozenset(Permission),
    Role.PREFECTURE: frozenset({Permission.READ, Permission.MANAGE, Permission.TRACK_ACTIONS}),
    Role.COORDINATOR: frozenset({Permission.READ, Permission.TRACK_ACTIONS}),
    Role.OBSERVER: frozenset({Permission.READ}),
}
