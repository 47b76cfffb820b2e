from pathlib import Path

from piccolo.conf.apps import AppConfig

from coord.actions.tables import ActionEvent, ActionItem, ActionMeasureTally, ActionTally

APP_CONFIG = AppConfig(
    app_name="actions",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[ActionItem, ActionEvent, ActionTally, ActionMeasureTally],
    migration_dependencies=[
        "coord.meetings.piccolo_app",
        "coord.partners.piccolo_app",
        "coord.plans.piccolo_app",
        "coord.committees.piccolo_app",
    ],
    commands=[],
)
