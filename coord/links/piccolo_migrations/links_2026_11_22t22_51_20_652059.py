from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from coord.core.migrations import create_index, drop_index

ID = "2026-11-22T22:51:20:652059"
VERSION = "1.38.0"
DESCRIPTION = "composite and unique indexes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="links", description=DESCRIPTION)
    manager.add_raw(create_index('partner_link_purpose_target', 'partner_link', ['purpose', 'target_id'], unique=False))
    manager.add_raw_backwards(drop_index('partner_link_purpose_target'))

    return manager
