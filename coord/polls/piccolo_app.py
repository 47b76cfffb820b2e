from pathlib import Path

from piccolo.conf.apps import AppConfig

from coord.polls.tables import DatePoll, PollAnswer, PollParticipant, PollSlot

APP_CONFIG = AppConfig(
    app_name="polls",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[DatePoll, PollSlot, PollParticipant, PollAnswer],
    migration_dependencies=[
        "coord.territory.piccolo_app",
        "coord.partners.piccolo_app",
        "coord.meetings.piccolo_app",
    ],
    commands=[],
)
