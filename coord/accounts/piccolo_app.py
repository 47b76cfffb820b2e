from pathlib import Path

from piccolo.conf.apps import AppConfig

from coord.accounts.tables import AccountInvitation, ApiToken, LoginAttempt, PasswordReset, User, UserSession

APP_CONFIG = AppConfig(
    app_name="accounts",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[AccountInvitation, ApiToken, LoginAttempt, PasswordReset, User, UserSession],
    migration_dependencies=["coord.territory.piccolo_app"],
    commands=[],
)
