from piccolo.columns import Boolean, ForeignKey, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from coord.territory.tables import Department


class User(Table, tablename="coord_user"):
    email = Varchar(length=254, unique=True, index=True)
    full_name = Varchar(length=200, default="")
    password_hash = Varchar(length=255)
    role = Varchar(length=20)
    # Empty for national coordinators, who see every département.
    department = ForeignKey(Department, on_delete=OnDelete.restrict, null=True, default=None, index=True)
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    last_login_at = Timestamptz(null=True, default=None)


class ApiToken(Table, tablename="api_token"):
    """Bearer tokens for the JSON API; only a SHA-256 of the token is stored."""

    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    name = Varchar(length=100, default="")
    token_hash = Varchar(length=64, unique=True, index=True)
    prefix = Varchar(length=12)
    created_at = Timestamptz(default=TimestamptzNow())
    last_used_at = Timestamptz(null=True, default=None)
    expires_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


class LoginAttempt(Table, tablename="login_attempt"):
    """Failed logins, counted per address and per IP to throttle password guessing."""

    email = Varchar(length=254, index=True)
    ip = Varchar(length=64, index=True)
    at = Timestamptz(default=TimestamptzNow(), index=True)
