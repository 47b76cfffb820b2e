from pathlib import Path

from piccolo.conf.apps import AppConfig

from coord.committees.tables import Committee, CommitteeMember

APP_CONFIG = AppConfig(
    app_name="committees",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Committee, CommitteeMember],
    migration_dependencies=["coord.partners.piccolo_app"],
    commands=[],
)
