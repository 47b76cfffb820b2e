from piccolo.columns import Boolean, ForeignKey, Text, Timestamptz, Varchar
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
    # « Gère les comptes du département »: a prefecture referent invites and manages their colleagues.
    manages_accounts = Boolean(default=False)
    deactivated_at = Timestamptz(null=True, default=None)
    password_changed_at = Timestamptz(null=True, default=None)


class UserSession(Table, tablename="user_session"):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is stored, and ending the
    row (logout, password change, deactivation) ends the session at once for every copy of the cookie."""

    token_hash = Varchar(length=64, unique=True, index=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    method = Varchar(length=20)  # "password" | "proconnect" | "invitation" | "reset"
    created_at = Timestamptz(default=TimestamptzNow())
    last_seen_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    ended_at = Timestamptz(null=True, default=None)
    ip = Varchar(length=64, default="")
    user_agent = Varchar(length=300, default="")
    # SHA-256 of the CSRF token issued at sign-in: a form token from another session is refused.
    csrf_hash = Varchar(length=64, default="")
    # ProConnect's ID token, the `id_token_hint` its logout endpoint asks for.
    id_token = Text(default="")


class AccountInvitation(Table, tablename="account_invitation"):
    """A one-time link mailed to a future colleague: they set a password or sign in with ProConnect."""

    email = Varchar(length=254, index=True)
    full_name = Varchar(length=200, default="")
    role = Varchar(length=20)
    # Empty for an invitation to a national account.
    department = ForeignKey(Department, on_delete=OnDelete.restrict, null=True, default=None, index=True)
    manages_accounts = Boolean(default=False)
    token_hash = Varchar(length=64, unique=True, index=True)
    invited_by = Varchar(length=254, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    accepted_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    user = ForeignKey(User, on_delete=OnDelete.set_null, null=True, default=None)


class PasswordReset(Table, tablename="password_reset"):
    """A one-time link to choose a new password, valid one hour."""

    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    token_hash = Varchar(length=64, unique=True, index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
    ip = Varchar(length=64, default="")


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
