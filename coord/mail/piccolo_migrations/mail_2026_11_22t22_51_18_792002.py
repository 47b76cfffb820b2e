from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from coord.core.migrations import create_index, drop_index

ID = "2026-11-22T22:51:18:792002"
VERSION = "1.38.0"
DESCRIPTION = "composite and unique indexes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="mail", description=DESCRIPTION)
    manager.add_raw(create_index('outbox_message_status_next_attempt', 'outbox_message', ['status', 'next_attempt_at'], unique=False))
    manager.add_raw_backwards(drop_index('outbox_message_status_next_attempt'))

    return manager
