"""In a real headless Chromium, with records in every section: the département's home page and the
national report are readable on a 390 px phone (no sideways scroll, tables scroll in their own
frame) and on a 1280 px screen, with no axe-core violation (WCAG 2.2 AA and best practices).

SQLite only: the pages render the same records whatever the engine (the services are tested on both
engines in the other files of this folder)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.overview.test_department_dashboard import seed_department
from tests.support.axe import WIDTHS, axe_context, horizontal_overflow, run_axe, summarise, widest_elements
from tests.support.seeded_site import chromium, sign_in

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True, scope="session")


def _measure(page: Any, url: str) -> list[str]:
    """Problems of the page at each width: axe violations and sideways scrolling."""
    problems: list[str] = []
    page.goto(url)
    page.wait_for_load_state("load")
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(100)
        if overflow := horizontal_overflow(page):
            problems.append(f"{url} @ {width}px scrolls {overflow} px sideways: {widest_elements(page)}")
        if violations := run_axe(page, width):
            problems.append(summarise(violations))
    return problems


def test_the_home_of_a_department_and_the_report_fit_a_phone_and_pass_axe(live_url, make_user, api_as):
    from tests.overview.test_national_report import _measures, held_meeting, item

    seed_department(api_as("prefecture", "34"), "34", "Hérault avec un titre de réunion assez long pour un téléphone")
    herault = api_as("prefecture", "34")
    measures = _measures()
    item(herault, measures[1], "fait")
    item(herault, measures[2], "en_cours")
    held_meeting(herault, "34", dt.date(2015, 11, 20))
    agent = make_user("prefecture", "34")
    national = make_user("national", None)
    problems: list[str] = []
    with chromium() as browser:
        for person, paths in (
            (agent, ("/d/34", "/plans/2014-2016/rapport")),
            (national, ("/plans/2014-2016/rapport",)),
        ):
            with axe_context(browser) as context:
                page = context.new_page()
                sign_in(page, live_url, person.email)
                for path in paths:
                    problems += _measure(page, f"{live_url}{path}")
    assert not problems, "\n".join(problems)
