from pathlib import Path

from piccolo.conf.apps import AppConfig

from coord.documents.tables import Document, DocumentBlob

APP_CONFIG = AppConfig(
    app_name="documents",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Document, DocumentBlob],
    migration_dependencies=["coord.territory.piccolo_app"],
    commands=[],
)
