from piccolo.columns import ForeignKey, Integer, Text, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table


class Plan(Table, tablename="plan"):
    """A national action plan against trafficking (2014-2016, 2019-2021, 2024-2027...)."""

    code = Varchar(length=20, unique=True, index=True)
    title = Varchar(length=300)
    start_year = Integer()
    end_year = Integer()


class Measure(Table, tablename="measure"):
    plan = ForeignKey(Plan, on_delete=OnDelete.cascade, null=False, index=True)
    number = Integer()
    title = Varchar(length=400)
    priority = Integer(null=True, default=None)
    priority_title = Varchar(length=300, default="")
    axis = Varchar(length=300, default="")
    summary = Text(default="")
