from pathlib import Path

from piccolo.conf.apps import AppConfig

from coord.territory.tables import Department

APP_CONFIG = AppConfig(
    app_name="territory",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    # `pilot_site` was created by this app's first migration; its table now belongs to
    # coord.pilot_sites (same table name, no migration of its own: nothing to apply on upgrade).
    table_classes=[Department],
    migration_dependencies=["coord.plans.piccolo_app"],
    commands=[],
)
