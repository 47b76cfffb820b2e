from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import Date, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table

ID = "2026-12-03T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "convention_amendment: an amendment and the state of its own signature round"


class Convention(Table, tablename="convention", schema=None):
    id = Serial(null=False, primary_key=True, unique=False, index=False, db_column_name="id")


class Department(Table, tablename="department", schema=None):
    id = Serial(null=False, primary_key=True, unique=False, index=False, db_column_name="id")


def _params(default, *, null: bool = False, index: bool = False, **extra) -> dict:
    return {
        "default": default,
        "null": null,
        "primary_key": False,
        "unique": False,
        "index": index,
        "index_method": IndexMethod.btree,
        "choices": None,
        "db_column_name": None,
        "secret": False,
        **extra,
    }


def _foreign_key(references, on_delete) -> dict:
    params = _params(None, index=True, references=references, on_delete=on_delete, on_update=OnUpdate.cascade)
    params["target_column"] = None
    params.pop("default")
    return params


COLUMNS = (
    ("department", ForeignKey, _foreign_key(Department, OnDelete.restrict)),
    ("convention", ForeignKey, _foreign_key(Convention, OnDelete.cascade)),
    ("number", Integer, _params(1)),
    ("subject", Text, _params("")),
    ("text", Text, _params("")),
    ("status", Varchar, _params("open", length=20)),
    ("signed_on", Date, _params(None, null=True)),
    ("in_force_from", Date, _params(None, null=True)),
    ("closed_on", Date, _params(None, null=True)),
    ("close_reason", Text, _params("")),
    ("created_at", Timestamptz, _params(TimestamptzNow())),
    ("updated_at", Timestamptz, _params(TimestamptzNow())),
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="conventions", description=DESCRIPTION)
    manager.add_table(class_name="ConventionAmendment", tablename="convention_amendment", schema=None, columns=None)
    for name, column_class, params in COLUMNS:
        manager.add_column(
            table_class_name="ConventionAmendment",
            tablename="convention_amendment",
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params=params,
            schema=None,
        )
    return manager
