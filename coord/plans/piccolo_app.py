from pathlib import Path

from piccolo.conf.apps import AppConfig

from coord.plans.tables import Measure, Plan

APP_CONFIG = AppConfig(
    app_name="plans",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Measure, Plan],
    migration_dependencies=[],
    commands=[],
)
