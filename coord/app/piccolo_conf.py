"""Piccolo configuration (found through PICCOLO_CONF=coord.app.piccolo_conf).

The engine follows the `database_url` setting: SQLite file by default, PostgreSQL for `postgresql://`.
"""

from piccolo.conf.apps import AppRegistry

from coord.core.db import engine_for
from coord.core.settings import get_settings

DB = engine_for(get_settings())

# Order matters for migrations: an app comes after the apps its tables reference.
APP_REGISTRY = AppRegistry(
    apps=[
        "coord.plans.piccolo_app",
        "coord.territory.piccolo_app",
        "coord.pilot_sites.piccolo_app",
        "coord.partners.piccolo_app",
        "coord.committees.piccolo_app",
        "coord.accounts.piccolo_app",
        "coord.documents.piccolo_app",
        "coord.audit.piccolo_app",
        "coord.meetings.piccolo_app",
        "coord.series.piccolo_app",  # after meetings and committees
        "coord.mail.piccolo_app",
        "coord.links.piccolo_app",
        "coord.conventions.piccolo_app",
        "coord.actions.piccolo_app",
        "coord.scheduling.piccolo_app",
        "coord.search.piccolo_app",  # after the apps whose tables it indexes
        "coord.notifications.piccolo_app",
        "coord.polls.piccolo_app",
        "coord.overview.piccolo_app",  # after the apps whose rows it counts
    ]
)
