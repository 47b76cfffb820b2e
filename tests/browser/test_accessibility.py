"""Every page every role reaches, measured by axe-core in Debian Chromium at 390 px (a phone) and
1280 px (a desktop): no WCAG 2.2 AA or best-practice violation, and no page scrolls sideways.

The pages are enumerated from the application's routes (the isolation tests' `_routes`, filled with
the isolation seed's ids), so a page added tomorrow is measured the day it is added. Each role signs
in through the form; partners follow the `/r/` links Coord issues them; people without an account see
the sign-in pages. What is not an HTML page (API, calendars, CSV, PDF, XLSX) or redirects is skipped
by its answer, not by a list of names.

Run on SQLite only: the pages render the same records whatever the engine (the services and their
queries are tested on both engines elsewhere), and one walk takes minutes of a loaded machine. The
`database` fixture is parametrised here to "sqlite" whatever COORD_TEST_ENGINES says.

To stay within budget: one browser for the module, one context per role, each page loaded once and
measured at both widths by resizing the viewport (the CSS media queries and DSFR's scripts follow
resizes). A page is measured when its <main> content has not been measured yet, or when its frame
(header, navigation, footer: everything but <main>) has not: so the same form seen by an agent and
by an account manager, whose menus differ, is measured once, and each role's menus at least once.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.isolation.test_department_isolation import _fill
from tests.support.axe import (
    WIDTHS,
    Violation,
    axe_context,
    ensure_axe,
    horizontal_overflow,
    run_axe,
    summarise,
    widest_elements,
)
from tests.support.seeded_site import PEOPLE, Site, chromium, seeded_site, sign_in

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True, scope="session")

# Pages of people not signed in: the sign-in form, a forgotten password, links of invitation and
# password mails that are not (or no longer) valid.
ANONYMOUS_PATHS = ("/connexion", "/mot-de-passe-oublie", "/invitation/inconnu", "/mot-de-passe/inconnu")
VARYING = re.compile(r'(name="_csrf_token" value=")[^"]*|(nonce=")[^"]*|(/r/\w+/)[\w.-]+')


@pytest.fixture(scope="module")
def site(database: Any) -> Iterator[Site]:
    ensure_axe()
    with seeded_site(database) as served:
        yield served


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def measured() -> set[str]:
    """Digests of the page contents and frames already measured, across the roles of the module."""
    return set()


MAIN = re.compile(r"<main\b.*?</main>", re.S)
TITLE = re.compile(r"<title>.*?</title>", re.S)


def _digests(html: str, email: str) -> tuple[str, str]:
    """(digest of the <main> element, digest of the frame around it), without what varies per request."""
    html = VARYING.sub(r"\1\2\3", html).replace(email, "")
    found = MAIN.search(html)
    main = found.group(0) if found else html
    # The page's title and which menu item is the current one change only that text and that item's
    # style: one frame per role.
    frame = TITLE.sub("", MAIN.sub("<main></main>", html)).replace(' aria-current="page"', "")
    return (
        "main:" + hashlib.sha256(main.encode()).hexdigest(),
        "frame:" + hashlib.sha256(frame.encode()).hexdigest(),
    )


class Walk:
    """Measures pages in one browser context and keeps every finding, to report them all at once."""

    def __init__(self, context: Any, site: Site, measured: set[str], who: str, email: str = "") -> None:
        self.context, self.site, self.measured, self.who, self.email = context, site, measured, who, email
        self.page = context.pages[0] if context.pages else context.new_page()
        self.violations: list[Violation] = []
        self.overflows: list[str] = []
        self.errors: list[str] = []
        self.pages = 0  # measured
        self.html_pages = 0  # answered with HTML, measured or already measured for another role

    def visit(self, path: str) -> None:
        url = self.site.url + path
        answer = self.context.request.get(url, max_redirects=0)
        if 300 <= answer.status < 400 or "text/html" not in answer.headers.get("content-type", ""):
            return
        if answer.status >= 500:
            self.errors.append(f"{self.who}: GET {path} answered {answer.status}")
            return
        self.html_pages += 1
        digests = _digests(answer.text(), self.email)
        if all(d in self.measured for d in digests):
            return
        self.measured.update(digests)
        self.pages += 1
        self.page.goto(url)
        for width in sorted(WIDTHS, reverse=True):
            self.page.set_viewport_size({"width": width, "height": 900})
            self.violations.extend(run_axe(self.page, width))
            if (overflow := horizontal_overflow(self.page)) > 0:
                culprits = ", ".join(widest_elements(self.page))
                self.overflows.append(f"{path} @ {width}px scrolls {overflow}px sideways ({culprits})")

    def report(self) -> str:
        parts = [f"{self.who}: {self.html_pages} HTML page(s), {self.pages} measured (others already were)"]
        if self.errors:
            parts.append("Pages in error or not measured:\n" + "\n".join(self.errors))
        if self.violations:
            parts.append(f"{len(self.violations)} axe violation(s):\n" + summarise(self.violations))
        if self.overflows:
            parts.append("Horizontal scrolling:\n" + "\n".join(self.overflows))
        return "\n\n".join(parts)

    @property
    def clean(self) -> bool:
        return not (self.violations or self.overflows or self.errors)


def _page_paths(site: Site) -> tuple[list[str], list[str]]:
    """Every GET page of the app (not the API), its parameters filled with the seeded records; and the
    pages that could not be filled (a path parameter the isolation seed does not know yet)."""
    paths, unknown = [], []
    for method, template in site.routes:
        if method != "GET" or "/api/" in template:
            continue
        try:
            paths.append(_fill(template, site.ids))
        except pytest.fail.Exception as missing:
            unknown.append(str(missing))
    return paths, unknown


@pytest.mark.parametrize("person", PEOPLE, ids=[p.key for p in PEOPLE])
def test_every_page_of_a_signed_in_role_is_accessible(site, browser, measured, person):
    with axe_context(browser) as context:
        page = context.new_page()
        page.set_default_timeout(20_000)
        sign_in(page, site.url, site.email(person.key))
        walk = Walk(context, site, measured, person.key, site.email(person.key))
        paths, walk.errors = _page_paths(site)
        for path in paths:
            walk.visit(path)
        assert walk.html_pages > 20, f"only {walk.html_pages} HTML pages answered {person.key}"
        assert walk.clean, walk.report()


def test_every_page_a_partner_reaches_by_link_is_accessible(site, browser, measured):
    """Answering an invitation, updating an action item, signing a convention (the calendar feed is
    an .ics file: it is checked to be one, and not measured)."""
    with axe_context(browser) as context:
        walk = Walk(context, site, measured, "partenaire")
        for kind, path in site.partner_paths.items():
            if kind == "feed":
                answer = context.request.get(site.url + path)
                assert answer.status == 200 and "text/calendar" in answer.headers["content-type"], path
                continue
            walk.visit(path)
        assert walk.clean, walk.report()
        assert walk.pages == 3, walk.report()


def test_the_pages_of_people_without_an_account_are_accessible(site, browser, measured):
    with axe_context(browser) as context:
        walk = Walk(context, site, measured, "anonyme")
        for path in ANONYMOUS_PATHS:
            walk.visit(path)
        assert walk.clean, walk.report()
