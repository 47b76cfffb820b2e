"""In a real Chromium: the contact list of a form follows the chosen organisation (static
contact-picker.js, no inline script under the strict CSP); without the script the server refuses a
contact of another organisation (tests/actions/test_contact_follows_organisation.py)."""

from __future__ import annotations

import pytest

from tests.actions.support import seed
from tests.conftest import PASSWORD

# SQLite only, like the other browser walks: what Chromium shows is the same on either engine, and the
# services behind each step are tested on both (tests/browser/test_accessibility.py says why).
pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True, scope="session")


def _visible_contacts(page, label: str) -> list[str]:
    return page.get_by_label(label).locator("option:not([hidden]):not([value=''])").all_inner_texts()


def test_the_owner_contact_list_follows_the_owner_organisation(live_url, browser_page, make_user, api_as):
    world = seed(api_as("prefecture", "34"))
    page = browser_page
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    url = f"{live_url}/d/34/actions/nouvelle"
    page.goto(url)
    page.get_by_label("Adresse électronique professionnelle").fill(make_user("coordinator", "34").email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(url)
    everyone = _visible_contacts(page, "Contact responsable")
    assert {"Isabelle Moreau (Conseil départemental 34)", "Fatou Diallo (Association 34)"} <= set(everyone)
    page.get_by_label("Organisation responsable").select_option(label="Association 34")
    assert _visible_contacts(page, "Contact responsable") == ["Fatou Diallo (Association 34)"]
    # A contact chosen for another organisation is dropped when the organisation changes.
    page.get_by_label("Contact responsable").select_option(label="Fatou Diallo (Association 34)")
    page.get_by_label("Organisation responsable").select_option(label="Conseil départemental 34")
    assert page.get_by_label("Contact responsable").input_value() == ""
    assert _visible_contacts(page, "Contact responsable") == ["Isabelle Moreau (Conseil départemental 34)"]
    # Choosing a contact first picks their organisation.
    page.get_by_label("Organisation responsable").select_option(value="")
    page.get_by_label("Contact responsable").select_option(label="Fatou Diallo (Association 34)")
    assert page.get_by_label("Organisation responsable").input_value() == str(world["other_org"]["id"])
    assert not [e for e in errors if "Content Security Policy" in e]
