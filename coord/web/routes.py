"""Every route of the application, gathered from the domain packages."""

from __future__ import annotations

from typing import Any


def api_routes() -> list[Any]:
    from coord.actions import api as actions
    from coord.audit import routes as audit
    from coord.calendar import routes as calendar
    from coord.committees import api as committees
    from coord.conventions import api as conventions
    from coord.meetings import api as meetings
    from coord.partners import api as partners
    from coord.plans import routes as plans
    from coord.scheduling import api as scheduling
    from coord.territory import pilot_sites_api
    from coord.territory import routes as territory

    return [
        *territory.API_ROUTES,
        *plans.API_ROUTES,
        *partners.ROUTES,
        *committees.ROUTES,
        *pilot_sites_api.ROUTES,
        *meetings.ROUTES,
        *calendar.API_ROUTES,
        *audit.API_ROUTES,
        *conventions.ROUTES,
        *actions.ROUTES,
        *scheduling.ROUTES,
    ]


def page_routes() -> list[Any]:
    from coord.actions import pages as actions
    from coord.audit import routes as audit
    from coord.calendar import routes as calendar
    from coord.committees import pages as committees
    from coord.conventions import pages as conventions
    from coord.mail import demo_pages
    from coord.meetings import pages as meetings
    from coord.partners import pages as partners
    from coord.plans import routes as plans
    from coord.scheduling import pages as scheduling
    from coord.territory import pilot_sites_pages
    from coord.territory import routes as territory
    from coord.web import home

    return [
        *home.ROUTES,
        *territory.PAGE_ROUTES,
        *plans.PAGE_ROUTES,
        *partners.ROUTES,
        *committees.ROUTES,
        *pilot_sites_pages.ROUTES,
        *meetings.ROUTES,
        *calendar.PAGE_ROUTES,
        *audit.PAGE_ROUTES,
        *demo_pages.ROUTES,
        *conventions.PAGE_ROUTES,
        *actions.PAGE_ROUTES,
        *scheduling.PAGE_ROUTES,
    ]


def system_routes() -> list[Any]:
    """Routes outside the logged-in area: login, health probes, partners' signed links."""
    from coord.accounts import pages as accounts
    from coord.actions import partner as action_links
    from coord.calendar import routes as calendar
    from coord.conventions import pages as conventions
    from coord.meetings import answers
    from coord.web import health

    return [
        *accounts.ROUTES,
        *health.ROUTES,
        *answers.ROUTES,
        *calendar.PUBLIC_ROUTES,
        *conventions.PUBLIC_ROUTES,
        *action_links.PUBLIC_ROUTES,
    ]
