from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from coord.core.migrations import create_index, drop_index

ID = "2026-11-22T22:36:24:236061"
VERSION = "1.38.0"
DESCRIPTION = "composite and unique indexes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="committees", description=DESCRIPTION)
    manager.add_raw(create_index('committee_department_name_key', 'committee', ['department', 'name'], unique=True))
    manager.add_raw_backwards(drop_index('committee_department_name_key'))
    manager.add_raw(create_index('committee_member_committee_contact_key', 'committee_member', ['committee', 'contact'], unique=True))
    manager.add_raw_backwards(drop_index('committee_member_committee_contact_key'))

    return manager
