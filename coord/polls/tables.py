"""Date polls: candidate slots for a draft meeting, the invitees asked, and their answers.

Every table is owned by a département (read through `Scope`); times are stored in UTC and shown in
the département's zone.
"""

from piccolo.columns import Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from coord.meetings.tables import Meeting
from coord.partners.tables import Contact
from coord.territory.tables import Department


class DatePoll(Table, tablename="date_poll"):
    department = ForeignKey(Department, on_delete=OnDelete.restrict, null=False, index=True)
    meeting = ForeignKey(Meeting, on_delete=OnDelete.cascade, null=False, index=True)
    status = Varchar(length=20, default="open", index=True)  # open | closed | cancelled
    deadline = Timestamptz()
    # The reminder goes this many working days before the deadline, to those who have not answered.
    reminder_days = Integer(default=2)
    message = Text(default="")
    chosen_slot = Integer(null=True, default=None)
    created_by = Varchar(length=200, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    closed_at = Timestamptz(null=True, default=None)


class PollSlot(Table, tablename="poll_slot"):
    department = ForeignKey(Department, on_delete=OnDelete.restrict, null=False, index=True)
    poll = ForeignKey(DatePoll, on_delete=OnDelete.cascade, null=False, index=True)
    position = Integer(default=0)
    starts_at = Timestamptz()
    ends_at = Timestamptz()


class PollParticipant(Table, tablename="poll_participant"):
    department = ForeignKey(Department, on_delete=OnDelete.restrict, null=False, index=True)
    poll = ForeignKey(DatePoll, on_delete=OnDelete.cascade, null=False, index=True)
    contact = ForeignKey(Contact, on_delete=OnDelete.restrict, null=False, index=True)
    name = Varchar(length=200, default="")
    email = Varchar(length=254, default="")
    key = Boolean(default=False)  # their « non » rules a slot out
    answered_at = Timestamptz(null=True, default=None)
    comment = Varchar(length=500, default="")


class PollAnswer(Table, tablename="poll_answer"):
    department = ForeignKey(Department, on_delete=OnDelete.restrict, null=False, index=True)
    participant = ForeignKey(PollParticipant, on_delete=OnDelete.cascade, null=False, index=True)
    slot = ForeignKey(PollSlot, on_delete=OnDelete.cascade, null=False, index=True)
    answer = Varchar(length=10, default="yes")  # yes | maybe | no
