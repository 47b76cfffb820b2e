from pathlib import Path

from piccolo.conf.apps import AppConfig

from coord.scheduling.tables import CycleProposal, UnavailableDate

APP_CONFIG = AppConfig(
    app_name="scheduling",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[CycleProposal, UnavailableDate],
    migration_dependencies=["coord.territory.piccolo_app", "coord.meetings.piccolo_app"],
    commands=[],
)
