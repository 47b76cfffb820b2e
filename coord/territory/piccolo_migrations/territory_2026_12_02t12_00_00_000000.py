from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import SmallInt
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-02T12:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "department INSEE type of name (tncc)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="territory", description=DESCRIPTION)
    manager.add_column(
        table_class_name="Department",
        tablename="department",
        column_name="tncc",
        db_column_name="tncc",
        column_class_name="SmallInt",
        column_class=SmallInt,
        params={
            "default": 0,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )
    return manager
