from piccolo.columns import Boolean, ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from coord.partners.tables import Contact
from coord.territory.tables import Department


class Committee(Table, tablename="committee"):
    department = ForeignKey(Department, on_delete=OnDelete.restrict, null=False, index=True)
    name = Varchar(length=200)
    kind = Varchar(length=30, index=True)
    chair = ForeignKey(Contact, on_delete=OnDelete.set_null, null=True, default=None)
    description = Text(default="")
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class CommitteeMember(Table, tablename="committee_member"):
    department = ForeignKey(Department, on_delete=OnDelete.restrict, null=False, index=True)
    committee = ForeignKey(Committee, on_delete=OnDelete.cascade, null=False, index=True)
    contact = ForeignKey(Contact, on_delete=OnDelete.restrict, null=False, index=True)
    role = Varchar(length=30)
    created_at = Timestamptz(default=TimestamptzNow())
