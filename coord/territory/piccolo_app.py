from pathlib import Path

from piccolo.conf.apps import AppConfig

from coord.territory.tables import Department, PilotSite

APP_CONFIG = AppConfig(
    app_name="territory",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Department, PilotSite],
    migration_dependencies=["coord.plans.piccolo_app"],
    commands=[],
)
