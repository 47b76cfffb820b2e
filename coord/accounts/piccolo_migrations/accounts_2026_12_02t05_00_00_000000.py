from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns import Boolean, ForeignKey, Serial, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod
from piccolo.engine import engine_finder
from piccolo.table import Table

from coord.core.migrations import create_index, drop_index

ID = "2026-12-02T05:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "server-side sessions, invitations, password resets, account managers"


class Department(Table, tablename="department", schema=None):
    id = Serial(primary_key=True)


class User(Table, tablename="coord_user", schema=None):
    id = Serial(primary_key=True)


# The tables as this migration creates them (frozen here: later changes get migrations of their own).
class UserSession(Table, tablename="user_session", schema=None):
    token_hash = Varchar(length=64, unique=True, index=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    method = Varchar(length=20)
    created_at = Timestamptz(default=TimestamptzNow())
    last_seen_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    ended_at = Timestamptz(null=True, default=None)
    ip = Varchar(length=64, default="")
    user_agent = Varchar(length=300, default="")
    csrf_hash = Varchar(length=64, default="")
    id_token = Text(default="")


class AccountInvitation(Table, tablename="account_invitation", schema=None):
    email = Varchar(length=254, index=True)
    full_name = Varchar(length=200, default="")
    role = Varchar(length=20)
    department = ForeignKey(Department, on_delete=OnDelete.restrict, null=True, default=None, index=True)
    manages_accounts = Boolean(default=False)
    token_hash = Varchar(length=64, unique=True, index=True)
    invited_by = Varchar(length=254, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    accepted_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    user = ForeignKey(User, on_delete=OnDelete.set_null, null=True, default=None)


class PasswordReset(Table, tablename="password_reset", schema=None):
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    token_hash = Varchar(length=64, unique=True, index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
    ip = Varchar(length=64, default="")


NEW_TABLES = (UserSession, AccountInvitation, PasswordReset)
# Sessions of an account are listed and ended together; pending invitations are looked up by address.
INDEXES = [
    ("user_session_user_ended", "user_session", ["user", "ended_at"]),
    ("account_invitation_email_accepted", "account_invitation", ["email", "accepted_at"]),
]


async def create_tables() -> None:
    # Raw steps run before a migration's add_column steps: tables and indexes are created here.
    engine = engine_finder()
    assert engine is not None
    for table in (Department, User, *NEW_TABLES):
        table._meta.db = engine
    for table in NEW_TABLES:
        await table.create_table(if_not_exists=True)
    for name, table, columns in INDEXES:
        await create_index(name, table, columns)()


async def drop_tables() -> None:
    for name, _, _ in INDEXES:
        await drop_index(name)()
    engine = engine_finder()
    assert engine is not None
    for table in reversed(NEW_TABLES):
        await engine.run_ddl(f'DROP TABLE IF EXISTS "{table._meta.tablename}"')


def _params(default: object, null: bool) -> dict:
    return {
        "default": default,
        "null": null,
        "primary_key": False,
        "unique": False,
        "index": False,
        "index_method": IndexMethod.btree,
        "choices": None,
        "db_column_name": None,
        "secret": False,
    }


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="accounts", description=DESCRIPTION)
    manager.add_raw(create_tables)
    manager.add_raw_backwards(drop_tables)
    manager.add_column(
        table_class_name="User",
        tablename="coord_user",
        column_name="manages_accounts",
        db_column_name="manages_accounts",
        column_class_name="Boolean",
        column_class=Boolean,
        params=_params(False, False),
        schema=None,
    )
    for column in ("deactivated_at", "password_changed_at"):
        manager.add_column(
            table_class_name="User",
            tablename="coord_user",
            column_name=column,
            db_column_name=column,
            column_class_name="Timestamptz",
            column_class=Timestamptz,
            params=_params(None, True),
            schema=None,
        )
    return manager
