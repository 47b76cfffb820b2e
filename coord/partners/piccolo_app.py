from pathlib import Path

from piccolo.conf.apps import AppConfig

from coord.partners.tables import Contact, Organisation, OrganisationKind

APP_CONFIG = AppConfig(
    app_name="partners",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Contact, Organisation, OrganisationKind],
    migration_dependencies=["coord.territory.piccolo_app"],
    commands=[],
)
