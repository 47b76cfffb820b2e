from piccolo.columns import Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from coord.territory.tables import Department


class OrganisationKind(Table, tablename="institution_kind"):
    """Reference list of partner institution kinds (préfecture, parquet, PJJ...)."""

    code = Varchar(length=30, unique=True, index=True)
    label = Varchar(length=120)
    position = Integer(default=0)


class Organisation(Table, tablename="organisation"):
    department = ForeignKey(Department, on_delete=OnDelete.restrict, null=False, index=True)
    name = Varchar(length=200)
    kind = Varchar(length=30, index=True)
    acronym = Varchar(length=40, default="")
    address = Text(default="")
    email = Varchar(length=254, default="")
    phone = Varchar(length=25, default="")
    notes = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Contact(Table, tablename="contact"):
    """A professional contact. The département is copied from the organisation so that the
    isolation rule can filter every table the same way."""

    department = ForeignKey(Department, on_delete=OnDelete.restrict, null=False, index=True)
    organisation = ForeignKey(Organisation, on_delete=OnDelete.restrict, null=False, index=True)
    first_name = Varchar(length=100)
    last_name = Varchar(length=100)
    function = Varchar(length=200, default="")
    email = Varchar(length=254, index=True)
    phone = Varchar(length=25, default="")
    active = Boolean(default=True)
    # Set once the contact was erased on request (GDPR, coord.privacy.erasure): never reactivated.
    erased_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
