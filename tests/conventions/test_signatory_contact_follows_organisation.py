"""A convention's signatory form lists each contact with its organisation (for the script that
filters them) and refuses a contact of another organisation than the signatory's."""

from __future__ import annotations

import html


def test_the_signatory_form_follows_the_organisation(web, make_user, herault):
    from tests.conventions.support import minors_convention

    convention, signatories = minors_convention(herault)
    first, second = signatories[0], signatories[1]
    web.login(make_user("prefecture", "34").email)
    page = web.get(f"/d/34/conventions/{convention['id']}").text
    assert 'data-contacts-of="f-organisation"' in page and 'src="/static/contact-picker.js"' in page
    assert f'value="{first["contact"]}" data-organisation="{first["organisation"]}"' in page
    refused = web.post(
        f"/d/34/conventions/{convention['id']}/signataires",
        {"role": second["role"], "organisation": str(second["organisation"]), "contact": str(first["contact"])},
    )
    assert refused.status_code == 422
    assert "Choisissez un contact de l'organisation signataire." in html.unescape(refused.text)
