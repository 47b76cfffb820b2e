from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from coord.core.migrations import create_index, drop_index

ID = "2026-11-23T03:23:27:907594"
VERSION = "1.38.0"
DESCRIPTION = "unique and composite indexes of the cycle; time-window indexes on meetings for the reminder ticks"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="scheduling", description=DESCRIPTION)
    manager.add_raw(
        create_index(
            "cycle_proposal_slot_key", "cycle_proposal", ["department", "committee_kind", "year", "slot"], unique=True
        )
    )
    manager.add_raw_backwards(drop_index("cycle_proposal_slot_key"))
    manager.add_raw(create_index("unavailable_date_day_key", "unavailable_date", ["department", "day"], unique=True))
    manager.add_raw_backwards(drop_index("unavailable_date_day_key"))
    # The reminder ticks read meetings by (status, starts_at) and (kind, starts_at) windows only.
    manager.add_raw(create_index("meeting_status_starts_at_idx", "meeting", ["status", "starts_at"]))
    manager.add_raw_backwards(drop_index("meeting_status_starts_at_idx"))
    manager.add_raw(create_index("meeting_kind_starts_at_idx", "meeting", ["kind", "starts_at"]))
    manager.add_raw_backwards(drop_index("meeting_kind_starts_at_idx"))
    return manager
