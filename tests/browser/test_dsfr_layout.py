"""In a real headless Chromium on a 390 px wide phone: Coord wears the State design system (DSFR) —
Marianne font, header with the menu button, footer with the mandatory links — and no page scrolls
sideways: agents' pages, a partner's page reached from a mail, the accessibility statement."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.actions.support import owned_item, seed
from tests.conftest import PASSWORD

PHONE = {"width": 390, "height": 844}
MANDATORY_FOOTER_LINKS = {
    "/accessibilite": "Accessibilité : partiellement conforme",
    "/mentions-legales": "Mentions légales",
    "/donnees-personnelles": "Données personnelles",
    "/plan-du-site": "Plan du site",
}
pytestmark = [
    pytest.mark.skipif(
        not __import__("coord.app.factory", fromlist=["DSFR_DIST"]).DSFR_DIST.joinpath("dsfr.min.css").exists(),
        reason="the State design system is not installed (tools/dsfr: run tests/run.py)",
    ),
    # SQLite only, like the other browser walks: the frame is the same on either engine.
    pytest.mark.parametrize("database", ["sqlite"], indirect=True, scope="session"),
]


# The deepest elements that stick out on the right: named in the failure message.
OVERFLOWING = """(limit) => {
  const clipped = (e) => { for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
    if (getComputedStyle(a).overflowX !== 'visible') return true; } return false; };
  const out = (e) => e.getBoundingClientRect().right > limit + 1 && !clipped(e);
  return [...document.querySelectorAll('body *')].filter((e) => out(e) && ![...e.children].some(out))
    .slice(0, 5).map((e) => `${e.tagName.toLowerCase()}.${[...e.classList].join('.')}#${e.id}`
      + ` (${Math.round(e.getBoundingClientRect().right)} px)`);
}"""


def _login(page: Any, url: str, email: str) -> None:
    page.goto(f"{url}/connexion")
    page.get_by_label("Adresse électronique professionnelle").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()


def _check_phone_layout(page: Any, what: str) -> None:
    """No sideways scroll, the DSFR font, a compact header and the four mandatory footer links."""
    page.wait_for_load_state("load")
    page.evaluate("document.fonts.ready")
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > PHONE["width"]:
        culprits = page.evaluate(OVERFLOWING, PHONE["width"])
        pytest.fail(f"{what}: the page is {width} px wide on a {PHONE['width']} px phone: {culprits}")
    font = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert "Marianne" in font, f"{what}: the DSFR stylesheet is not applied (font {font!r})"
    header = page.locator("header.fr-header").bounding_box()
    assert header is not None and header["height"] <= 200, f"{what}: header {header} taller than 200 px"
    footer = page.locator("footer.fr-footer")
    for href, label in MANDATORY_FOOTER_LINKS.items():
        link = footer.locator(f'a[href="{href}"]')
        assert link.count() == 1 and link.inner_text().strip() == label, f"{what}: footer link {href}"


def _check_menu_opens(page: Any, what: str, link_name: str) -> None:
    """On a phone the navigation hides behind « Menu », which the DSFR script opens."""
    nav_link = page.locator("#navigation-principale").get_by_role("link", name=link_name, exact=True)
    assert not nav_link.is_visible(), f"{what}: the navigation should be folded on a phone"
    page.get_by_role("button", name="Menu").click()
    nav_link.wait_for(state="visible", timeout=5000)
    # The header's tools (account, logout) are copied into the open menu by the DSFR script.
    assert page.locator("#modal-menu").get_by_role("button", name="Se déconnecter").is_visible()
    page.locator("#modal-menu").get_by_role("button", name="Fermer").click()
    nav_link.wait_for(state="hidden", timeout=5000)


def test_agent_pages_fit_a_phone_and_the_menu_opens(live_url, browser_page, make_user, api_as):
    api = api_as("prefecture", "34")
    world = seed(api)
    item = owned_item(api, world, title="Former les éducateurs de l'ASE au repérage des situations de traite")
    agent = make_user("prefecture", "34")
    page = browser_page
    page.set_viewport_size(PHONE)
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    _login(page, live_url, agent.email)

    pages = {
        "département": "/d/34",
        "réunions": "/d/34/reunions",
        "réunion": f"/d/34/reunions/{world['meeting']['id']}",
        "action": f"/d/34/actions/{item['id']}",
        "actions": "/d/34/actions",
        "partenaires": "/d/34/partenaires",
    }
    for what, path in pages.items():
        page.goto(f"{live_url}{path}")
        assert page.url.endswith(path), f"{what}: landed on {page.url}"
        _check_phone_layout(page, what)
    _check_menu_opens(page, "partenaires", "Réunions")

    # The search bar of the département is behind its own header button on a phone.
    page.get_by_role("button", name="Rechercher").first.click()
    search = page.locator("#recherche-q")
    search.wait_for(state="visible", timeout=5000)
    assert search.get_attribute("name") == "q"
    assert page.locator("form#recherche").get_attribute("action") == "/d/34/recherche"
    assert not [e for e in console_errors if "Content Security Policy" in e], console_errors


def test_the_menu_and_footer_on_a_wide_screen(live_url, browser_page, make_user):
    national = make_user("national", None)
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 800})
    _login(page, live_url, national.email)
    page.goto(f"{live_url}/departements")
    nav = page.locator("#navigation-principale")
    for name in ("Tableau de bord", "Départements", "Plans nationaux", "Journal"):
        assert nav.get_by_role("link", name=name, exact=True).is_visible(), name
    assert nav.get_by_role("link", name="Tableau de bord", exact=True).get_attribute("href") == "/national"
    assert nav.locator('a[aria-current="page"]').inner_text().strip() == "Départements"
    assert not page.get_by_role("button", name="Menu").is_visible()  # the menu button is for phones
    assert page.locator(".fr-header__service-title").inner_text().strip() == "Coord"
    assert page.locator(".fr-header .fr-logo").inner_text().split() == ["RÉPUBLIQUE", "FRANÇAISE"]


def test_a_partner_page_from_a_mail_link_fits_a_phone(live_url, browser_page, api_as):
    api = api_as("prefecture", "34")
    world = seed(api)
    item = owned_item(api, world)
    link = api.post(f"/api/actions/{item['id']}/link").json()["url"]
    path = "/r/action/" + link.rsplit("/r/action/", 1)[1]
    page = browser_page  # no session: partners have no account
    page.set_viewport_size(PHONE)
    page.goto(f"{live_url}{path}")
    assert "Former les éducateurs" in page.locator("h1").inner_text()
    _check_phone_layout(page, "page partenaire")
    # Same identity as the agents' pages, without their navigation.
    assert page.locator(".fr-header__service-title").inner_text().strip() == "Coord"
    assert page.get_by_role("button", name="Menu").count() == 0
    assert page.get_by_label("Nouveau statut").is_visible()


def test_an_invitation_answer_page_fits_a_phone(live_url, browser_page, api_as):
    from tests.meetings.test_mail_convocations import _convened
    from tests.meetings.test_mail_golden import outbox_rows

    meeting = _convened(api_as("prefecture", "34"))
    body = next(r["body_text"] for r in outbox_rows() if "/r/invitation/" in (r["body_text"] or ""))
    path = re.search(r"(/r/invitation/[^?\s]+)", body).group(1)
    page = browser_page
    page.set_viewport_size(PHONE)
    page.goto(f"{live_url}{path}")
    assert page.locator("h1").inner_text() == meeting["title"]
    _check_phone_layout(page, "réponse à une invitation")
    assert page.get_by_label("J'accepte").is_visible()  # the radio buttons, large enough to tap


def test_the_accessibility_statement_is_public_and_fits_a_phone(live_url, browser_page):
    page = browser_page
    page.set_viewport_size(PHONE)
    page.goto(f"{live_url}/plan-du-site")
    page.locator("footer").get_by_role("link", name="Accessibilité : partiellement conforme").click()
    page.wait_for_url(f"{live_url}/accessibilite")
    assert page.locator("h1").inner_text() == "Déclaration d'accessibilité"
    text = page.locator("main").inner_text()
    for part in ("partiellement conforme", "RGAA", "Voies de recours", "Défenseur des droits", "axe-core"):
        assert part in text, part
    assert re.search(r"Établie le (\w+ )?\d{1,2}(er)? \w+ \d{4}", text)
    _check_phone_layout(page, "déclaration d'accessibilité")
