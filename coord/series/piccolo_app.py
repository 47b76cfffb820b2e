from pathlib import Path

from piccolo.conf.apps import AppConfig

from coord.series.tables import MeetingSeries, SeriesOccurrence

APP_CONFIG = AppConfig(
    app_name="series",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[MeetingSeries, SeriesOccurrence],
    migration_dependencies=["coord.meetings.piccolo_app", "coord.committees.piccolo_app"],
    commands=[],
)
