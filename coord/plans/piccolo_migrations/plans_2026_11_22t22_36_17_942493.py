from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from coord.core.migrations import create_index, drop_index

ID = "2026-11-22T22:36:17:942493"
VERSION = "1.38.0"
DESCRIPTION = "composite and unique indexes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="plans", description=DESCRIPTION)
    manager.add_raw(create_index('measure_plan_number_key', 'measure', ['plan', 'number'], unique=True))
    manager.add_raw_backwards(drop_index('measure_plan_number_key'))

    return manager
