from pathlib import Path

from piccolo.conf.apps import AppConfig

from coord.accounts.tables import ApiToken, LoginAttempt, User

APP_CONFIG = AppConfig(
    app_name="accounts",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[ApiToken, LoginAttempt, User],
    migration_dependencies=["coord.territory.piccolo_app"],
    commands=[],
)
