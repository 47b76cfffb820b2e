from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from coord.core.migrations import create_index, drop_index

ID = "2026-11-22T23:59:48:202032"
VERSION = "1.38.0"
DESCRIPTION = "composite and unique indexes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="conventions", description=DESCRIPTION)
    manager.add_raw(create_index("convention_department_status", "convention", ["department", "status"]))
    manager.add_raw_backwards(drop_index("convention_department_status"))
    manager.add_raw(
        create_index(
            "convention_signatory_round_role",
            "convention_signatory",
            ["convention", "amendment", "role"],
        )
    )
    manager.add_raw_backwards(drop_index("convention_signatory_round_role"))
    manager.add_raw(
        create_index(
            "convention_signatory_round_org_role_key",
            "convention_signatory",
            ["convention", "amendment", "organisation", "role"],
            unique=True,
        )
    )
    manager.add_raw_backwards(drop_index("convention_signatory_round_org_role_key"))

    return manager
