from piccolo.columns import Date, ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from coord.plans.tables import Plan
from coord.territory.tables import Department


class PilotSite(Table, tablename="pilot_site"):
    """A département designated by a national plan to pilot a scheme."""

    department = ForeignKey(Department, on_delete=OnDelete.restrict, null=False, index=True)
    plan = ForeignKey(Plan, on_delete=OnDelete.restrict, null=False, index=True)
    scheme = Varchar(length=30)
    designated_on = Date(null=True, default=None)
    status = Varchar(length=20, default="actif")
    notes = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
