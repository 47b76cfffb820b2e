"""Every route of the application, gathered from the domain packages (the only place that lists them)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Router
from litestar.di import Provide

from coord.accounts import pages as accounts_pages
from coord.actions import api as actions_api
from coord.actions import pages as actions_pages
from coord.actions import partner as actions_links
from coord.audit import routes as audit_routes
from coord.calendar import routes as calendar_routes
from coord.committees import api as committees_api
from coord.committees import pages as committees_pages
from coord.conventions import api as conventions_api
from coord.conventions import pages as conventions_pages
from coord.mail import demo_pages as mail_pages
from coord.meetings import answers as meetings_links
from coord.meetings import api as meetings_api
from coord.meetings import pages as meetings_pages
from coord.overview import routes as overview_routes
from coord.partners import api as partners_api
from coord.partners import pages as partners_pages
from coord.pilot_sites import api as pilot_sites_api
from coord.pilot_sites import pages as pilot_sites_pages
from coord.plans import routes as plans_routes
from coord.privacy import routes as privacy_routes
from coord.scheduling import api as cycle_api
from coord.scheduling import pages as cycle_pages
from coord.web import health, home
from coord.web.auth import DEPARTMENT_PATHS, provide_department


def _path(handler: Any) -> str:
    if isinstance(handler, type) and issubclass(handler, Controller):
        # Controller declares `path` as a slot: a subclass without its own path is mounted at "/".
        return next((c.__dict__["path"] for c in handler.__mro__ if isinstance(c.__dict__.get("path"), str)), "/")
    return next(iter(handler.paths))


def with_department(handlers: list[Any]) -> list[Any]:
    """Handlers under a département's URL get the `department` row as a dependency (their `access`
    scope is narrowed to it by `provide_scope`); the others are left as they are."""
    inside = [h for h in handlers if _path(h).startswith(DEPARTMENT_PATHS)]
    outside = [h for h in handlers if not _path(h).startswith(DEPARTMENT_PATHS)]
    router = Router(path="/", route_handlers=inside, dependencies={"department": Provide(provide_department)})
    return [router, *outside]


def api_routes() -> list[Any]:
    return [
        *overview_routes.API_ROUTES,
        *plans_routes.API_ROUTES,
        *partners_api.ROUTES,
        *privacy_routes.API_ROUTES,
        *committees_api.ROUTES,
        *pilot_sites_api.ROUTES,
        *meetings_api.ROUTES,
        *calendar_routes.API_ROUTES,
        *audit_routes.API_ROUTES,
        *conventions_api.ROUTES,
        *actions_api.ROUTES,
        *cycle_api.ROUTES,
    ]


def page_routes() -> list[Any]:
    return [
        *home.ROUTES,
        *overview_routes.PAGE_ROUTES,
        *plans_routes.PAGE_ROUTES,
        *partners_pages.ROUTES,
        *privacy_routes.PAGE_ROUTES,
        *committees_pages.ROUTES,
        *pilot_sites_pages.ROUTES,
        *meetings_pages.ROUTES,
        *calendar_routes.PAGE_ROUTES,
        *audit_routes.PAGE_ROUTES,
        *mail_pages.ROUTES,
        *conventions_pages.PAGE_ROUTES,
        *actions_pages.PAGE_ROUTES,
        *cycle_pages.PAGE_ROUTES,
    ]


def system_routes() -> list[Any]:
    """Routes outside the logged-in area: login, health probes, partners' signed links."""
    return [
        *accounts_pages.ROUTES,
        *health.ROUTES,
        *meetings_links.ROUTES,
        *calendar_routes.PUBLIC_ROUTES,
        *conventions_pages.PUBLIC_ROUTES,
        *actions_links.PUBLIC_ROUTES,
    ]
