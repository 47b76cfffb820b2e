from piccolo.columns import SmallInt, Varchar
from piccolo.table import Table


class Department(Table, tablename="department"):
    """One of the 101 départements (reference data from INSEE's official geographic code)."""

    code = Varchar(length=3, unique=True, index=True)
    name = Varchar(length=80)
    region_code = Varchar(length=3)
    region = Varchar(length=80)
    prefecture = Varchar(length=80)
    timezone = Varchar(length=40)
    # `holidays.France(subdiv=...)` code: Alsace-Moselle and overseas have their own public holidays.
    holiday_subdivision = Varchar(length=5, null=True, default=None)
    # INSEE TNCC « type de nom en clair » (0 « de Paris » … 5 « de l'Hérault »): see coord.core.french.
    tncc = SmallInt(default=0)
