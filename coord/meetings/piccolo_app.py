from pathlib import Path

from piccolo.conf.apps import AppConfig

from coord.meetings.inbox_tables import InboxItem
from coord.meetings.tables import AgendaItem, Decision, Invitation, Meeting

APP_CONFIG = AppConfig(
    app_name="meetings",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[AgendaItem, Decision, Invitation, Meeting, InboxItem],
    migration_dependencies=["coord.committees.piccolo_app"],
    commands=[],
)
