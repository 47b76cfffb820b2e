from pathlib import Path

from piccolo.conf.apps import AppConfig

from coord.overview.tables import DepartmentTally

APP_CONFIG = AppConfig(
    app_name="overview",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[DepartmentTally],
    migration_dependencies=[
        "coord.territory.piccolo_app",
        "coord.committees.piccolo_app",
        "coord.partners.piccolo_app",
        "coord.pilot_sites.piccolo_app",
    ],
    commands=[],
)
