"""Tables of the yearly coordination cycle: the dates Coord proposed and the dates a prefecture cannot do.

The state of the cycle is derived from the meetings table (see `cycle.py`); the first two tables only
hold what the meetings table cannot: a proposal before any meeting exists, and unavailable days. The
last two keep that derivation for the national table (see `readmodel.py`).
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


class CycleVersion(Table, tablename="cycle_version"):
    """How many times what a département's cycle is derived from has changed: its meetings, committees,
    proposals, unavailable dates or its zone. Bumped by triggers (migration `scheduling_2026_12_03t08_16_24`)
    in the writing transaction, so every write path counts, and read by `readmodel` to tell a stored slot
    still exact from one to derive again. No row yet: version 0."""

    department = ForeignKey(Department, on_delete=OnDelete.cascade, null=False, unique=True)
    version = Integer(default=0)


class CycleSlot(Table, tablename="cycle_slot"):
    """One required meeting of a département's year as `cycle.build_slots` derives it, less what the
    clock alone moves: its state is derived again on every read (`cycle.derive_state`), so it is exact
    at every instant. `inputs_version` is the département's `CycleVersion` read before its inputs were,
    and `config_key` the `[cycle]` rules: a row whose either differs is derived again before use.
    (department, year, committee_kind, slot) is unique."""

    department = ForeignKey(Department, on_delete=OnDelete.cascade, null=False, index=True)
    year = Integer()
    committee_kind = Varchar(length=30)
    slot = Integer(default=0)
    # The proposal stored by the scheduler (every column of it), if any.
    proposal_id = Integer(null=True, default=None)
    proposal_proposed_at = Timestamptz(null=True, default=None)
    proposal_accepted_at = Timestamptz(null=True, default=None)
    proposal_meeting = Integer(null=True, default=None)
    # The stored proposal's dates, or those Coord would propose (not stored yet).
    proposed_start = Timestamptz(null=True, default=None)
    proposed_end = Timestamptz(null=True, default=None)
    # The yearly meeting counted for this slot, if any.
    meeting_id = Integer(null=True, default=None)
    meeting_title = Varchar(length=200, default="")
    meeting_status = Varchar(length=20, default="")
    meeting_starts_at = Timestamptz(null=True, default=None)
    meeting_ends_at = Timestamptz(null=True, default=None)
    meeting_convened_at = Timestamptz(null=True, default=None)
    meeting_minutes_published_at = Timestamptz(null=True, default=None)
    inputs_version = Integer(default=0)
    config_key = Varchar(length=32, default="")
