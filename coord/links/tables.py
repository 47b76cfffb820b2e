from piccolo.columns import ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from coord.territory.tables import Department


class PartnerLink(Table, tablename="partner_link"):
    """One row per link handed to a partner. The token in the URL is signed and names this row;
    revoking or expiring the row kills the link even though its signature stays valid."""

    department = ForeignKey(Department, on_delete=OnDelete.restrict, null=True, default=None, index=True)
    purpose = Varchar(length=40)  # e.g. "invitation", "action_item", "signature", "feed"
    target_id = Integer(index=True)
    contact_id = Integer(null=True, default=None, index=True)
    expires_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    last_used_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
