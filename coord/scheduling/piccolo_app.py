from pathlib import Path

from piccolo.conf.apps import AppConfig

from coord.scheduling.tables import CycleProposal, CycleSlot, CycleVersion, UnavailableDate

APP_CONFIG = AppConfig(
    app_name="scheduling",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[CycleProposal, UnavailableDate, CycleVersion, CycleSlot],
    migration_dependencies=[
        "coord.territory.piccolo_app",
        "coord.meetings.piccolo_app",
        "coord.committees.piccolo_app",  # its triggers watch the committees
    ],
    commands=[],
)
