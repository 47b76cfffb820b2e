from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from coord.core.migrations import create_index, drop_index

ID = "2026-12-02T02:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "index of outbox_message.message_id: the mail a partner's answer replies to (In-Reply-To)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="mail", description=DESCRIPTION)
    # The name Piccolo gives the index of `message_id = Varchar(index=True)`.
    manager.add_raw(create_index("outbox_message_message_id", "outbox_message", ["message_id"]))
    manager.add_raw_backwards(drop_index("outbox_message_message_id"))
    return manager
