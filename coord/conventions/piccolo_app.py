from pathlib import Path

from piccolo.conf.apps import AppConfig

from coord.conventions.tables import Convention, ConventionSignatory

APP_CONFIG = AppConfig(
    app_name="conventions",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Convention, ConventionSignatory],
    migration_dependencies=["coord.partners.piccolo_app", "coord.territory.piccolo_app"],
    commands=[],
)
