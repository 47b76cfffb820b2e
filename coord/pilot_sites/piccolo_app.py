from pathlib import Path

from piccolo.conf.apps import AppConfig

from coord.pilot_sites.tables import PilotSite

# The `pilot_site` table was created by coord.territory's first migration (before pilot sites became a
# domain of their own); this app's migrations start from there.
APP_CONFIG = AppConfig(
    app_name="pilot_sites",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[PilotSite],
    migration_dependencies=["coord.territory.piccolo_app", "coord.plans.piccolo_app"],
    commands=[],
)
