from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from coord.core.migrations import create_index, drop_index

ID = "2026-11-22T22:36:26:308756"
VERSION = "1.38.0"
DESCRIPTION = "composite and unique indexes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="accounts", description=DESCRIPTION)
    manager.add_raw(create_index('login_attempt_ip_at', 'login_attempt', ['ip', 'at'], unique=False))
    manager.add_raw_backwards(drop_index('login_attempt_ip_at'))

    return manager
