from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns import Boolean, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.engine import engine_finder
from piccolo.table import Table

from coord.core.migrations import create_index, drop_index

ID = "2026-12-02T02:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "meeting_inbox_item: calendar answers to check, proposals of another time, messages received"


class Department(Table, tablename="department", schema=None):
    id = Serial(primary_key=True)


class Meeting(Table, tablename="meeting", schema=None):
    id = Serial(primary_key=True)


class Invitation(Table, tablename="invitation", schema=None):
    id = Serial(primary_key=True)


class InboxItem(Table, tablename="meeting_inbox_item", schema=None):
    """The table as this migration creates it (frozen here: later changes get migrations of their own)."""

    department = ForeignKey(Department, on_delete=OnDelete.restrict, null=False, index=True)
    meeting = ForeignKey(Meeting, on_delete=OnDelete.cascade, null=False, index=True)
    invitation = ForeignKey(Invitation, on_delete=OnDelete.set_null, null=True, default=None)
    kind = Varchar(length=20)
    status = Varchar(length=20, default="pending")
    verified = Boolean(default=False)
    automatic = Boolean(default=False)
    sender = Varchar(length=254, default="")
    sender_name = Varchar(length=200, default="")
    envelope_sender = Varchar(length=254, default="")
    subject = Varchar(length=300, default="")
    sent_at = Timestamptz(null=True, default=None)
    received_at = Timestamptz(default=TimestamptzNow())
    message_id = Varchar(length=200, default="")
    body = Text(default="")
    note = Varchar(length=500, default="")
    attendee_email = Varchar(length=254, default="")
    partstat = Varchar(length=20, default="")
    sequence = Integer(null=True, default=None)
    dtstamp = Timestamptz(null=True, default=None)
    delegated_to = Varchar(length=254, default="")
    delegate_name = Varchar(length=200, default="")
    comment = Varchar(length=500, default="")
    proposed_start = Timestamptz(null=True, default=None)
    proposed_end = Timestamptz(null=True, default=None)
    proposed_location = Varchar(length=500, default="")
    decided_at = Timestamptz(null=True, default=None)
    decided_by = Varchar(length=254, default="")
    decision_note = Varchar(length=500, default="")


# The meeting page lists a meeting's items newest first; a redelivered mail is found by its Message-ID.
INDEXES = [
    ("meeting_inbox_item_meeting_received", "meeting_inbox_item", ["meeting", "received_at"]),
    ("meeting_inbox_item_meeting_message_id", "meeting_inbox_item", ["meeting", "message_id"]),
]


async def create_inbox_table() -> None:
    # Raw steps run before a migration's add_table steps: the table and its indexes are created here,
    # in this order, inside the migration's transaction.
    engine = engine_finder()
    assert engine is not None
    InboxItem._meta.db = engine
    for table in (Department, Meeting, Invitation):
        table._meta.db = engine
    await InboxItem.create_table(if_not_exists=True)
    for name, table, columns in INDEXES:
        await create_index(name, table, columns)()


async def drop_inbox_table() -> None:
    for name, _, _ in INDEXES:
        await drop_index(name)()
    engine = engine_finder()
    assert engine is not None
    await engine.run_ddl('DROP TABLE IF EXISTS "meeting_inbox_item"')


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="meetings", description=DESCRIPTION)
    manager.add_raw(create_inbox_table)
    manager.add_raw_backwards(drop_inbox_table)
    return manager
