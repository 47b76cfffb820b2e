from piccolo.columns import JSON, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from coord.territory.tables import Department


class AuditEntry(Table, tablename="audit_entry"):
    """Who changed what, when, with the values before and after. Never deleted by the app."""

    at = Timestamptz(default=TimestamptzNow(), index=True)
    actor_user_id = Integer(null=True, default=None, index=True)
    actor = Varchar(length=254)  # e-mail of the user, or "lien partenaire: ...", or "système"
    department = ForeignKey(Department, on_delete=OnDelete.restrict, null=True, default=None, index=True)
    action = Varchar(length=40)
    entity = Varchar(length=40, index=True)
    entity_id = Integer(null=True, default=None, index=True)
    summary = Varchar(length=300, default="")
    before = JSON(null=True, default=None)
    after = JSON(null=True, default=None)
    ip = Varchar(length=64, default="")
    # The id of the HTTP request that made the change (its log lines carry it too); None when the
    # worker or the command line did.
    request_id = Varchar(length=128, null=True, default=None)
