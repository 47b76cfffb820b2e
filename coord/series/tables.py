"""Meeting series of a committee (a recurrence rule) and the meetings created for them."""

from piccolo.columns import Boolean, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from coord.committees.tables import Committee
from coord.meetings.tables import Meeting
from coord.territory.tables import Department


class MeetingSeries(Table, tablename="meeting_series"):
    """A recurrence rule (see `coord.series.rules`) in the département's zone."""

    department = ForeignKey(Department, on_delete=OnDelete.restrict, null=False, index=True)
    committee = ForeignKey(Committee, on_delete=OnDelete.restrict, null=False, index=True)
    title = Varchar(length=200)
    place = Text(default="")
    freq = Varchar(length=12)  # weekly | monthly | quarterly
    interval = Integer(default=1)
    weekday = Integer(null=True, default=None)  # 0 = Monday
    nth = Integer(null=True, default=None)  # 1..4, -1 = last
    month_day = Integer(null=True, default=None)
    start_date = Date()
    start_time = Varchar(length=5)  # HH:MM, local
    duration_minutes = Integer(default=120)
    until = Date(null=True, default=None)
    max_count = Integer(null=True, default=None)  # not `count`: it would hide Table.count()
    horizon_months = Integer(default=12)
    generated = Integer(default=0)  # positions of the rule already created
    # When the extension job must look at it again; null once nothing is left to create.
    next_extension_due = Timestamptz(null=True, default=None, index=True)
    ended_at = Timestamptz(null=True, default=None)
    ended_from = Date(null=True, default=None)
    predecessor = Integer(null=True, default=None)  # the series this one continues after a split
    version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())


class SeriesOccurrence(Table, tablename="series_occurrence"):
    """One position of a series and its meeting; (series, position) is unique (migration)."""

    department = ForeignKey(Department, on_delete=OnDelete.restrict, null=False, index=True)
    series = ForeignKey(MeetingSeries, on_delete=OnDelete.cascade, null=False, index=True)
    meeting = ForeignKey(Meeting, on_delete=OnDelete.set_null, null=True, default=None, index=True)
    position = Integer()
    nominal_date = Date()
    moved_note = Text(default="")
    # What the series set: a meeting that differs was edited by hand (an exception).
    planned_start = Timestamptz(null=True, default=None)
    planned_end = Timestamptz(null=True, default=None)
    planned_place = Text(default="")
    cancelled = Boolean(default=False)
