from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from coord.core.migrations import create_index, drop_index

ID = "2026-12-01T21:55:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "index of the sent mails whose content the retention job has not cleared yet"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="mail", description=DESCRIPTION)
    # The retention job reads `purged_at IS NULL AND status = 'sent' AND sent_at < cutoff`: one range of
    # this index, which skips the whole history of purged mails. `purged_at` leads so that the claim of
    # pending mails (`status = ...` alone) keeps to `outbox_message_status`. (Raw steps run before a
    # migration's column changes, hence a migration of its own after the column's.)
    manager.add_raw(create_index("outbox_message_retention", "outbox_message", ["purged_at", "status", "sent_at"]))
    manager.add_raw_backwards(drop_index("outbox_message_retention"))
    return manager
