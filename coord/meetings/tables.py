from piccolo.columns import Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from coord.committees.tables import Committee
from coord.partners.tables import Contact
from coord.plans.tables import Measure
from coord.territory.tables import Department


class Meeting(Table, tablename="meeting"):
    """A committee meeting. Times are stored in UTC and shown in the département's zone."""

    department = ForeignKey(Department, on_delete=OnDelete.restrict, null=False, index=True)
    committee = ForeignKey(Committee, on_delete=OnDelete.restrict, null=False, index=True)
    title = Varchar(length=200)
    kind = Varchar(length=30, default="ordinaire")  # ordinaire | annuelle_teh | extraordinaire
    starts_at = Timestamptz(index=True)
    ends_at = Timestamptz()
    place = Text(default="")
    video_url = Varchar(length=500, default="")
    status = Varchar(length=20, default="draft", index=True)  # draft | convened | held | cancelled
    organiser_email = Varchar(length=254, default="")
    organiser_name = Varchar(length=200, default="")
    # iCalendar identity: the UID never changes; SEQUENCE rises with every update mailed to anyone,
    # so each attendee's copies only rise (RFC 5546 §2.1.4).
    uid = Varchar(length=120, unique=True)
    sequence = Integer(default=0)
    # The SEQUENCE of the last change of time or place: answers to an earlier one no longer hold.
    answers_sequence = Integer(default=0)
    # Optimistic locking: every update says which version it read.
    version = Integer(default=1)
    urgent = Boolean(default=False)
    urgency_reason = Text(default="")  # why the five-day lead of R.133-8 CRPA could not be kept
    quorum_required = Boolean(default=True)
    reconvened_from = Integer(null=True, default=None)  # id of the meeting that lacked quorum
    minutes = Text(default="")
    minutes_published_at = Timestamptz(null=True, default=None)
    convened_at = Timestamptz(null=True, default=None)
    cancelled_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class AgendaItem(Table, tablename="agenda_item"):
    department = ForeignKey(Department, on_delete=OnDelete.restrict, null=False, index=True)
    meeting = ForeignKey(Meeting, on_delete=OnDelete.cascade, null=False, index=True)
    position = Integer(default=0)
    title = Varchar(length=300)
    presenter = Varchar(length=200, default="")
    duration_minutes = Integer(default=0)
    measure = ForeignKey(Measure, on_delete=OnDelete.set_null, null=True, default=None)
    notes = Text(default="")


class Invitation(Table, tablename="invitation"):
    department = ForeignKey(Department, on_delete=OnDelete.restrict, null=False, index=True)
    meeting = ForeignKey(Meeting, on_delete=OnDelete.cascade, null=False, index=True)
    contact = ForeignKey(Contact, on_delete=OnDelete.restrict, null=False, index=True)
    role = Varchar(length=20, default="required")  # chair | required | optional | info
    answer = Varchar(length=20, default="needs_action")  # needs_action|accepted|declined|tentative|delegated
    answered_at = Timestamptz(null=True, default=None)
    # The SEQUENCE and DTSTAMP of the last answer taken, so a late reply cannot undo a newer one.
    answer_sequence = Integer(null=True, default=None)
    answer_dtstamp = Timestamptz(null=True, default=None)
    delegate = ForeignKey(Contact, on_delete=OnDelete.set_null, null=True, default=None)
    # The invitation of the invitee who delegated to this one (ATTENDEE;DELEGATED-FROM).
    delegated_from = Integer(null=True, default=None)
    # The highest SEQUENCE this attendee was sent (REQUEST or CANCEL): anything sent next is above it,
    # and a REPLY claiming a higher one answers nothing Coord sent.
    sent_sequence = Integer(null=True, default=None)
    comment = Varchar(length=500, default="")
    attendance = Varchar(length=20, default="unknown")  # unknown|present|video|excused|absent|represented
    represented_by = Integer(null=True, default=None)  # invitation id of the member holding the mandate
    removed_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class Decision(Table, tablename="decision"):
    department = ForeignKey(Department, on_delete=OnDelete.restrict, null=False, index=True)
    meeting = ForeignKey(Meeting, on_delete=OnDelete.cascade, null=False, index=True)
    position = Integer(default=0)
    text = Text()
    created_at = Timestamptz(default=TimestamptzNow())
