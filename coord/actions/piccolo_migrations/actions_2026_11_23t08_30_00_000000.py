from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from coord.core.migrations import create_index, drop_index

ID = "2026-11-23T08:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "covering indexes of the national progress per département, measure and status over a period"

INDEXES = [
    ("action_item_period", "action_item", ["department", "status", "created_on", "due_on"]),
    ("action_item_measure_period", "action_item", ["measure", "status", "created_on", "due_on"]),
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="actions", description=DESCRIPTION)
    for name, table, columns in INDEXES:
        manager.add_raw(create_index(name, table, columns))
        manager.add_raw_backwards(drop_index(name))
    return manager
