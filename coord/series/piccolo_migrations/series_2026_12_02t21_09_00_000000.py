from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from coord.core.migrations import create_index, drop_index

ID = "2026-12-02T21:09:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "one meeting per position of a series, and each meeting in at most one series"

INDEXES = [
    ("series_occurrence_position", "series_occurrence", ["series", "position"]),
    ("series_occurrence_meeting", "series_occurrence", ["meeting"]),
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="series", description=DESCRIPTION)
    for name, table, columns in INDEXES:
        manager.add_raw(create_index(name, table, columns, unique=True))
        manager.add_raw_backwards(drop_index(name))
    return manager
