from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from coord.core.migrations import create_index, drop_index

ID = "2026-12-02T15:19:36:456213"
VERSION = "1.38.0"
DESCRIPTION = "one notification per source and recipient, the unread count, one choice per account and kind"

INDEXES = [
    ("notification_source_recipient", "notification", ["source", "recipient"], True, ""),
    ("notification_unread", "notification", ["recipient", "read_at"], False, ""),
    ("notification_digest_pending", "notification", ["digest", "recipient"], False, "digest = 'pending'"),
    ("notification_preference_account_kind", "notification_preference", ["account", "kind"], True, ""),
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="notifications", description=DESCRIPTION)
    for name, table, columns, unique, where in INDEXES:
        manager.add_raw(create_index(name, table, columns, unique=unique, where=where))
        manager.add_raw_backwards(drop_index(name))
    return manager
