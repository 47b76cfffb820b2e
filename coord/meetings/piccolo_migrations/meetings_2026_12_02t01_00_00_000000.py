from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer, Text
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-02T01:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "per-attendee SEQUENCE, the SEQUENCE answers hold from, delegation link, urgency reason"


def _integer(default: int | None) -> dict:
    return {
        "default": default,
        "null": default is None,
        "primary_key": False,
        "unique": False,
        "index": False,
        "index_method": IndexMethod.btree,
        "choices": None,
        "db_column_name": None,
        "secret": False,
    }


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="meetings", description=DESCRIPTION)
    manager.add_column(
        table_class_name="Meeting",
        tablename="meeting",
        column_name="answers_sequence",
        db_column_name="answers_sequence",
        column_class_name="Integer",
        column_class=Integer,
        params=_integer(0),
        schema=None,
    )
    manager.add_column(
        table_class_name="Meeting",
        tablename="meeting",
        column_name="urgency_reason",
        db_column_name="urgency_reason",
        column_class_name="Text",
        column_class=Text,
        params={**_integer(None), "default": "", "null": False},
        schema=None,
    )
    for column in ("delegated_from", "sent_sequence"):
        manager.add_column(
            table_class_name="Invitation",
            tablename="invitation",
            column_name=column,
            db_column_name=column,
            column_class_name="Integer",
            column_class=Integer,
            params=_integer(None),
            schema=None,
        )

    return manager
