from pathlib import Path

from piccolo.conf.apps import AppConfig

from coord.mail.tables import OutboxMessage

APP_CONFIG = AppConfig(
    app_name="mail",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[OutboxMessage],
    migration_dependencies=["coord.territory.piccolo_app"],
    commands=[],
)
