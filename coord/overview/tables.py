"""What the list of départements counts, kept by the database itself."""

from piccolo.columns import ForeignKey, Integer, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from coord.territory.tables import Department


class DepartmentTally(Table, tablename="department_tally"):
    """How many committees, organisations, contacts and pilot sites a département holds (`subject`
    names the table), kept by triggers on those tables (migration `overview_2026_12_03t08_14_00`) in
    the writing transaction, so the list of départements reads 4 small rows per département."""

    department = ForeignKey(Department, on_delete=OnDelete.cascade, null=False, index=True)
    subject = Varchar(length=20)  # committee | organisation | contact | pilot_site
    n = Integer(default=0)
