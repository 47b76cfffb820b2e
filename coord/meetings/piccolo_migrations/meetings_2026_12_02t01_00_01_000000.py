from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-02T01:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "backfill the per-attendee SEQUENCE (Piccolo runs raw steps before added columns)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="meetings", description=DESCRIPTION)

    async def backfill() -> None:
        # Meetings convened before this release: every answer was to the meeting's SEQUENCE, and
        # each active invitee last received that SEQUENCE.
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl("UPDATE meeting SET answers_sequence = sequence")
        await engine.run_ddl(
            "UPDATE invitation SET sent_sequence = (SELECT sequence FROM meeting WHERE meeting.id = invitation.meeting) "
            "WHERE EXISTS (SELECT 1 FROM meeting WHERE meeting.id = invitation.meeting AND meeting.status <> 'draft')"
        )

    manager.add_raw(backfill)
    return manager
