from pathlib import Path

from piccolo.conf.apps import AppConfig

from coord.conventions.tables import Convention, ConventionAmendment, ConventionSignatory

APP_CONFIG = AppConfig(
    app_name="conventions",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Convention, ConventionSignatory, ConventionAmendment],
    # The audit app: the amendments' migration reads the log to recover the subjects of past amendments.
    migration_dependencies=["coord.partners.piccolo_app", "coord.territory.piccolo_app", "coord.audit.piccolo_app"],
    commands=[],
)
