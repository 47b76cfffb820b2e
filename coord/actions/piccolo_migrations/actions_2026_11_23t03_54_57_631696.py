from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from coord.core.migrations import create_index, drop_index

ID = "2026-11-23T03:54:57:631696"
VERSION = "1.38.0"
DESCRIPTION = "indexes of the action board and the owners' digest"

INDEXES = [
    ("action_item_board", "action_item", ["department", "status", "due_on"]),
    ("action_item_committee_status", "action_item", ["committee", "status"]),
    ("action_item_owner_due", "action_item", ["owner_contact", "status", "due_on"]),
    ("action_item_open_due", "action_item", ["status", "due_on"]),
    ("action_event_timeline", "action_event", ["item", "at"]),
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="actions", description=DESCRIPTION)
    for name, table, columns in INDEXES:
        manager.add_raw(create_index(name, table, columns))
        manager.add_raw_backwards(drop_index(name))
    return manager
