from pathlib import Path

from piccolo.conf.apps import AppConfig

# No Piccolo table: the index is engine-specific (an FTS5 table on SQLite, a tsvector table on
# PostgreSQL) and kept by triggers that the migration creates on the indexed tables.
APP_CONFIG = AppConfig(
    app_name="search",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[],
    migration_dependencies=[
        "coord.meetings.piccolo_app",
        "coord.partners.piccolo_app",
        "coord.conventions.piccolo_app",
        "coord.actions.piccolo_app",
    ],
    commands=[],
)
