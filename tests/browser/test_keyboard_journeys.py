"""Keyboard only, in Debian Chromium: an agent convenes a meeting, a partner answers the invitation.

After the first page is opened, nothing but keys is used (Tab, Shift+Tab, arrows, Space, Enter,
typing): no click, no navigation by URL. Locators only say which element the keys should reach.
Every element the focus stops on must show it (an outline or a box-shadow): WCAG 2.4.7.

SQLite only, like the other page walks (tests/browser/test_accessibility.py says why).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import PASSWORD
from tests.support.seeded_site import Site, chromium, seeded_site

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True, scope="session")

FOCUS_STYLE = """() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    // DSFR draws some outlines on a pseudo-element (`.fr-enlarge-link a::before` covers the block).
    const shows = (s) => (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0)
        || (s.boxShadow && s.boxShadow !== 'none');
    const visible = [null, '::before', '::after'].some((pseudo) => shows(getComputedStyle(el, pseudo)));
    const name = (el.labels && el.labels[0] ? el.labels[0].innerText : el.innerText || el.value
        || el.getAttribute('aria-label') || el.getAttribute('href') || '').trim().replace(/\\s+/g, ' ').slice(0, 60);
    return {visible, what: `${el.tagName.toLowerCase()} « ${name} »`};
}"""


@pytest.fixture(scope="module")
def site(database: Any) -> Iterator[Site]:
    with seeded_site(database) as served:
        yield served


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


class Keys:
    """Moves the focus with the keyboard and notes every stop where the focus cannot be seen."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.invisible: list[str] = []

    def _stop(self) -> None:
        focus = self.page.evaluate(FOCUS_STYLE)
        if focus and not focus["visible"] and focus["what"] not in self.invisible:
            self.invisible.append(f"{focus['what']} on {self.page.url}")

    def tab_to(self, target: Any, *, backwards: bool = False, limit: int = 120) -> None:
        key = "Shift+Tab" if backwards else "Tab"
        for _ in range(limit):
            self.page.keyboard.press(key)
            self._stop()
            if target.evaluate("el => el === document.activeElement"):
                return
        raise AssertionError(f"{key} never reached {target} on {self.page.url}")

    def type_into(self, target: Any, text: str, **kwargs: Any) -> None:
        self.tab_to(target, **kwargs)
        self.page.keyboard.type(text)

    def choose(self, select: Any, wanted: str = "") -> None:
        """Arrow keys on a focused <select> until an option containing `wanted` (or any value) is chosen."""
        for _ in range(50):
            chosen = select.evaluate("el => [el.value, el.options[el.selectedIndex]?.text || '']")
            if chosen[0] and wanted in chosen[1]:
                return
            self.page.keyboard.press("ArrowDown")
        raise AssertionError(f"no option « {wanted} » in {select}")

    def press(self, target: Any, key: str = "Enter", **kwargs: Any) -> None:
        self.tab_to(target, **kwargs)
        self.page.keyboard.press(key)


def _sign_in_by_keyboard(keys: Keys, email: str) -> None:
    page = keys.page
    keys.type_into(page.get_by_label("Adresse électronique professionnelle"), email)
    keys.type_into(page.get_by_label("Mot de passe"), PASSWORD)
    keys.press(page.get_by_role("button", name="Se connecter"))


def test_an_agent_convenes_a_meeting_with_the_keyboard_only(site, browser):
    from coord.territory.working_days import is_working_day, next_working_day

    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    keys = Keys(page)
    page.goto(f"{site.url}/connexion?suivant=/d/34/reunions")
    _sign_in_by_keyboard(keys, site.email("agent"))
    page.wait_for_url(f"{site.url}/d/34/reunions")

    keys.press(page.get_by_role("link", name="Planifier une réunion"))
    page.wait_for_url("**/reunions/nouvelle")
    keys.type_into(page.get_by_label("Intitulé"), "Séance annuelle au clavier")
    keys.tab_to(page.get_by_label("Instance réunie"), backwards=True)
    keys.choose(page.get_by_label("Instance réunie"), "CDPD")
    keys.tab_to(page.get_by_label("Type de réunion"))
    keys.choose(page.get_by_label("Type de réunion"))
    day = dt.date.today() + dt.timedelta(days=30)
    day = day if is_working_day(day, "34") else next_working_day(day, "34")
    # The order of a date field's segments follows Chromium's own locale: day first, or month first.
    for order in ("%d%m%Y", "%m%d%Y"):
        keys.type_into(page.locator("#f-date"), day.strftime(order))
        if page.locator("#f-date").input_value() == day.isoformat():
            break
        keys.tab_to(page.get_by_label("Type de réunion"), backwards=True)
    assert page.locator("#f-date").input_value() == day.isoformat()
    keys.type_into(page.get_by_label("Heure de début"), "0930")
    keys.type_into(page.get_by_label("Heure de fin"), "1200")
    keys.type_into(page.get_by_label("Adresse et salle"), "Préfecture de l'Hérault, salle des commissions")
    keys.press(page.get_by_role("button", name="Enregistrer"))
    page.wait_for_url(lambda url: "/reunions/" in url and not url.endswith("/nouvelle"))
    meeting_url = page.url
    assert page.get_by_role("heading", level=1).inner_text().strip().endswith("Séance annuelle au clavier")

    # The committee's member is invited with the meeting; the convocation goes to them.
    assert page.locator("tr", has_text="SECRET34").count() >= 1
    keys.press(page.get_by_role("button", name="Envoyer la convocation"))
    # The DSFR confirmation modal holds the focus: Tab reaches its « Confirmer ».
    keys.press(page.get_by_role("dialog").get_by_role("button", name="Confirmer"))
    page.get_by_role("status").filter(has_text="Convocation envoyée").wait_for()
    assert page.url.split("?")[0] == meeting_url
    context.close()
    assert not keys.invisible, "focus not visible on: " + "; ".join(keys.invisible)


def test_a_partner_answers_an_invitation_with_the_keyboard_only(site, browser):
    context = browser.new_context(locale="fr-FR", viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    keys = Keys(page)
    page.goto(site.url + site.partner_paths["invitation"])

    accept = page.get_by_label("J'accepte")
    # Tab enters a radio group on its checked radio (the seed's invitee already answered « Peut-être »).
    checked = page.locator("input[name=answer]:checked")
    keys.tab_to(checked if checked.count() else page.locator("input[name=answer]").first)
    page.keyboard.press("Space")
    for _ in range(6):  # arrows move within the radio group, checking each one
        if accept.is_checked():
            break
        page.keyboard.press("ArrowDown")
    assert accept.is_checked()
    keys.type_into(page.get_by_label("Commentaire (facultatif, 500 caractères au maximum)"), "Je serai présente.")
    keys.press(page.get_by_role("button", name="Envoyer ma réponse"))
    page.get_by_text("votre réponse est enregistrée").wait_for()
    # Shift+Tab reaches back into the form after the answer: the page is still usable by keyboard.
    keys.tab_to(page.get_by_label("J'accepte"), backwards=True)
    assert page.get_by_label("J'accepte").is_checked()
    context.close()
    assert not keys.invisible, "focus not visible on: " + "; ".join(keys.invisible)
