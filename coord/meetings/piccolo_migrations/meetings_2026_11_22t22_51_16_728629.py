from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from coord.core.migrations import create_index, drop_index

ID = "2026-11-22T22:51:16:728629"
VERSION = "1.38.0"
DESCRIPTION = "composite and unique indexes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="meetings", description=DESCRIPTION)
    manager.add_raw(create_index("meeting_department_starts_at", "meeting", ["department", "starts_at"], unique=False))
    manager.add_raw_backwards(drop_index("meeting_department_starts_at"))
    manager.add_raw(create_index("agenda_item_meeting_position", "agenda_item", ["meeting", "position"], unique=False))
    manager.add_raw_backwards(drop_index("agenda_item_meeting_position"))
    manager.add_raw(create_index("invitation_meeting_contact_key", "invitation", ["meeting", "contact"], unique=True))
    manager.add_raw_backwards(drop_index("invitation_meeting_contact_key"))
    manager.add_raw(create_index("invitation_contact_meeting", "invitation", ["contact", "meeting"], unique=False))
    manager.add_raw_backwards(drop_index("invitation_contact_meeting"))

    return manager
