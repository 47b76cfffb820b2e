from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from coord.core.migrations import create_index, drop_index

ID = "2026-11-22T22:36:28:095738"
VERSION = "1.38.0"
DESCRIPTION = "composite and unique indexes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="audit", description=DESCRIPTION)
    manager.add_raw(create_index('audit_entry_department_at', 'audit_entry', ['department', 'at'], unique=False))
    manager.add_raw_backwards(drop_index('audit_entry_department_at'))
    manager.add_raw(create_index('audit_entry_entity_entity_id', 'audit_entry', ['entity', 'entity_id'], unique=False))
    manager.add_raw_backwards(drop_index('audit_entry_entity_entity_id'))

    return manager
