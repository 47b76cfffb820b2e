from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from coord.core.migrations import create_index, drop_index

ID = "2026-11-22T22:36:19:917023"
VERSION = "1.38.0"
DESCRIPTION = "composite and unique indexes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="territory", description=DESCRIPTION)
    manager.add_raw(create_index('pilot_site_scheme_key', 'pilot_site', ['department', 'plan', 'scheme'], unique=True))
    manager.add_raw_backwards(drop_index('pilot_site_scheme_key'))

    return manager
