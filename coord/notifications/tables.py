from piccolo.columns import ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from coord.accounts.tables import User
from coord.territory.tables import Department


class Notification(Table, tablename="notification"):
    """Something a partner did that an agent of the département should know, for one agent.

    `source` names what it was derived from ("audit:<id>", "outbox:<id>"): unique with the recipient,
    so deriving it twice (a rerun, a second instance) adds nothing. `digest` is "pending" while it
    waits for the recipient's daily mail, then the day of that mail ("" when it goes to no mail)."""

    recipient = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    department = ForeignKey(Department, on_delete=OnDelete.restrict, index=True)
    kind = Varchar(length=40)
    source = Varchar(length=60)
    text = Varchar(length=500)
    link = Varchar(length=500, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    read_at = Timestamptz(null=True, default=None)
    digest = Varchar(length=20, default="")


class NotificationPreference(Table, tablename="notification_preference"):
    """An agent's choice for one kind: "app" (in Coord only, the default) or "digest" (also in the
    daily mail). Unique per (account, kind)."""

    account = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    kind = Varchar(length=40)
    channel = Varchar(length=20, default="app")
    updated_at = Timestamptz(default=TimestamptzNow())


class NotificationCursor(Table, tablename="notification_cursor"):
    """How far each feed has read its source (the last audit entry or outbox message id handled)."""

    name = Varchar(length=40, unique=True)
    position = Integer(default=0)
    updated_at = Timestamptz(default=TimestamptzNow())
