"""Every route of the application, gathered from the domain packages (the only place that lists them)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Router
from litestar.di import Provide

from coord.accounts import admin_api as accounts_admin_api
from coord.accounts import admin_pages as accounts_admin_pages
from coord.accounts import me_pages as accounts_me_pages
from coord.accounts import pages as accounts_pages
from coord.accounts import proconnect_pages
from coord.accounts import public_pages as accounts_links
from coord.actions import api as actions_api
from coord.actions import deliverables as actions_deliverables
from coord.actions import pages as actions_pages
from coord.actions import partner as actions_links
from coord.audit import api as audit_api
from coord.audit import pages as audit_pages
from coord.calendar import api as calendar_api
from coord.calendar import pages as calendar_pages
from coord.calendar import subscription as calendar_links
from coord.committees import api as committees_api
from coord.committees import pages as committees_pages
from coord.conventions import api as conventions_api
from coord.conventions import pages as conventions_pages
from coord.conventions import scans as conventions_scans
from coord.conventions import signing as conventions_links
from coord.documents import routes as documents_links
from coord.mail import demo_pages as mail_pages
from coord.meetings import annexes as meetings_annexes
from coord.meetings import answers as meetings_links
from coord.meetings import api as meetings_api
from coord.meetings import inbox_routes as meetings_inbox
from coord.meetings import minutes_routes as meetings_minutes
from coord.meetings import pages as meetings_pages
from coord.notifications import api as notifications_api
from coord.notifications import pages as notifications_pages
from coord.overview import api as overview_api
from coord.overview import national_pages as overview_national
from coord.overview import pages as overview_pages
from coord.overview import report_pages as overview_report
from coord.partners import api as partners_api
from coord.partners import pages as partners_pages
from coord.pilot_sites import api as pilot_sites_api
from coord.pilot_sites import pages as pilot_sites_pages
from coord.plans import api as plans_api
from coord.plans import pages as plans_pages
from coord.polls import pages as polls_pages
from coord.privacy import api as privacy_api
from coord.privacy import pages as privacy_pages
from coord.scheduling import api as cycle_api
from coord.scheduling import pages as cycle_pages
from coord.search import api as search_api
from coord.search import pages as search_pages
from coord.series import pages as series_pages
from coord.web import health, home, legal
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
        *overview_api.ROUTES,
        *plans_api.ROUTES,
        *partners_api.ROUTES,
        *privacy_api.ROUTES,
        *committees_api.ROUTES,
        *pilot_sites_api.ROUTES,
        *meetings_api.ROUTES,
        *meetings_inbox.API_ROUTES,
        *calendar_api.ROUTES,
        *audit_api.ROUTES,
        *conventions_api.ROUTES,
        *actions_api.ROUTES,
        *cycle_api.ROUTES,
        *search_api.ROUTES,
        *accounts_admin_api.ROUTES,
        *notifications_api.ROUTES,
    ]


def page_routes() -> list[Any]:
    return [
        *home.ROUTES,
        *overview_pages.ROUTES,
        *overview_national.ROUTES,
        *overview_report.ROUTES,
        *plans_pages.ROUTES,
        *partners_pages.ROUTES,
        *privacy_pages.ROUTES,
        *committees_pages.ROUTES,
        *pilot_sites_pages.ROUTES,
        *meetings_pages.ROUTES,
        *meetings_inbox.PAGE_ROUTES,
        *meetings_minutes.ROUTES,
        *meetings_annexes.ROUTES,
        *calendar_pages.ROUTES,
        *audit_pages.ROUTES,
        *mail_pages.ROUTES,
        *conventions_pages.ROUTES,
        *conventions_scans.ROUTES,
        *actions_pages.ROUTES,
        *actions_deliverables.ROUTES,
        *cycle_pages.ROUTES,
        *search_pages.ROUTES,
        *series_pages.ROUTES,
        *accounts_admin_pages.ROUTES,
        *accounts_me_pages.ROUTES,
        *notifications_pages.ROUTES,
        *polls_pages.ROUTES,
    ]


def system_routes() -> list[Any]:
    """Routes outside the logged-in area: login, health probes, partners' signed links."""
    return [
        *accounts_pages.ROUTES,
        *accounts_links.ROUTES,
        *proconnect_pages.ROUTES,
        *health.ROUTES,
        *legal.ROUTES,  # accessibility statement, legal notice, personal data, site map: public
        *meetings_links.ROUTES,
        *meetings_annexes.LINK_ROUTES,
        *documents_links.ROUTES,
        *calendar_links.ROUTES,
        *conventions_links.ROUTES,
        *actions_links.ROUTES,
        *polls_pages.LINK_ROUTES,
    ]
