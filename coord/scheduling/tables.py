"""Tables of the yearly coordination cycle: the dates Coord proposed and the dates a prefecture cannot do.

The state of the cycle is derived from the meetings table (see `cycle.py`); these tables only hold
what the meetings table cannot: a proposal before any meeting exists, and unavailable days.
"""

from piccolo.columns import Date, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from coord.territory.tables import Department


class CycleProposal(Table, tablename="cycle_proposal"):
    """The date proposed for one required meeting: (département, committee kind, year, slot) is unique."""

    department = ForeignKey(Department, on_delete=OnDelete.restrict, null=False, index=True)
    committee_kind = Varchar(length=30)
    year = Integer(index=True)
    slot = Integer(default=0)  # 0-based rank of the meeting in the year for that committee kind
    proposed_start = Timestamptz()
    proposed_end = Timestamptz()
    proposed_at = Timestamptz(default=TimestamptzNow())
    accepted_at = Timestamptz(null=True, default=None)
    meeting = Integer(null=True, default=None)  # the draft meeting created on acceptance


class UnavailableDate(Table, tablename="unavailable_date"):
    """A day the prefecture cannot hold the meeting (never proposed)."""

    department = ForeignKey(Department, on_delete=OnDelete.restrict, null=False, index=True)
    day = Date()
    reason = Varchar(length=200, default="")
    created_at = Timestamptz(default=TimestamptzNow())
