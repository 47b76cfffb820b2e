from pathlib import Path

from piccolo.conf.apps import AppConfig

from coord.links.tables import PartnerLink

APP_CONFIG = AppConfig(
    app_name="links",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[PartnerLink],
    migration_dependencies=["coord.territory.piccolo_app"],
    commands=[],
)
