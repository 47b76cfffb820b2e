from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from coord.core.migrations import create_index, drop_index

ID = "2026-11-22T22:36:22:096313"
VERSION = "1.38.0"
DESCRIPTION = "composite and unique indexes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="partners", description=DESCRIPTION)
    manager.add_raw(create_index('organisation_department_name_key', 'organisation', ['department', 'name'], unique=True))
    manager.add_raw_backwards(drop_index('organisation_department_name_key'))
    manager.add_raw(create_index('contact_organisation_email_key', 'contact', ['organisation', 'email'], unique=True))
    manager.add_raw_backwards(drop_index('contact_organisation_email_key'))
    manager.add_raw(create_index('contact_department_last_name', 'contact', ['department', 'last_name'], unique=False))
    manager.add_raw_backwards(drop_index('contact_department_last_name'))

    return manager
