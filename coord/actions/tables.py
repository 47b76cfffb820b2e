"""Action items decided in committee meetings, and the history of each."""

from piccolo.columns import JSON, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from coord.committees.tables import Committee
from coord.meetings.tables import Decision, Meeting
from coord.partners.tables import Contact, Organisation
from coord.plans.tables import Measure
from coord.territory.tables import Department


class ActionItem(Table, tablename="action_item"):
    """Something a partner committed to do. `status` follows `coord.actions.transitions`."""

    department = ForeignKey(Department, on_delete=OnDelete.restrict, null=False, index=True)
    committee = ForeignKey(Committee, on_delete=OnDelete.set_null, null=True, default=None, index=True)
    meeting = ForeignKey(Meeting, on_delete=OnDelete.set_null, null=True, default=None, index=True)
    decision = ForeignKey(Decision, on_delete=OnDelete.set_null, null=True, default=None, index=True)
    measure = ForeignKey(Measure, on_delete=OnDelete.set_null, null=True, default=None, index=True)
    owner_organisation = ForeignKey(Organisation, on_delete=OnDelete.restrict, null=True, default=None, index=True)
    owner_contact = ForeignKey(Contact, on_delete=OnDelete.set_null, null=True, default=None, index=True)
    title = Varchar(length=300)
    description = Text(default="")
    due_on = Date(null=True, default=None, index=True)
    status = Varchar(length=20, default="a_faire", index=True)
    progress = Integer(default=0)
    priority = Varchar(length=10, default="normale")
    tags = Varchar(length=300, default="")  # comma separated, lower case
    version = Integer(default=1)  # optimistic locking
    done_on = Date(null=True, default=None)
    created_on = Date()  # in the département's zone: the due date may not be earlier
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class ActionEvent(Table, tablename="action_event"):
    """One line of an item's timeline: a creation, a change, a status move or a comment."""

    department = ForeignKey(Department, on_delete=OnDelete.restrict, null=False, index=True)
    item = ForeignKey(ActionItem, on_delete=OnDelete.cascade, null=False, index=True)
    at = Timestamptz(default=TimestamptzNow())
    actor = Varchar(length=254)  # the user's e-mail, or "Name (lien partenaire)"
    kind = Varchar(length=20)  # created | changed | status | comment
    from_status = Varchar(length=20, default="")
    to_status = Varchar(length=20, default="")
    comment = Text(default="")
    changes = JSON(null=True, default=None)


class ActionTally(Table, tablename="action_tally"):
    """How many items a département has of each creation year and status, kept by triggers on
    `action_item` (migration `actions_2026_12_03t08_17_00`) in the writing transaction: the progress
    of a département sums at most five rows a year instead of counting its whole history. A key
    whose items all went elsewhere keeps its row at zero."""

    department = ForeignKey(Department, on_delete=OnDelete.cascade, null=False, index=True)
    year = Integer()  # of `created_on`
    status = Varchar(length=20)
    n = Integer(default=0)


class ActionMeasureTally(Table, tablename="action_measure_tally"):
    """How many items of every département carry out each plan measure, by creation year and status,
    kept by the same triggers. National data with no département column: read only for a scope
    that sees every département (`coord.actions.tally`); any other counts its own items."""

    measure = Integer()  # 0: no measure (a unique key cannot match NULL); not a foreign key, a
    # deleted measure's items move to 0 through their own update
    year = Integer()
    status = Varchar(length=20)
    n = Integer(default=0)
