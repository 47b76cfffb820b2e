from pathlib import Path

from piccolo.conf.apps import AppConfig

from coord.notifications.tables import Notification, NotificationCursor, NotificationPreference

APP_CONFIG = AppConfig(
    app_name="notifications",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Notification, NotificationPreference, NotificationCursor],
    migration_dependencies=["coord.territory.piccolo_app", "coord.accounts.piccolo_app"],
    commands=[],
)
