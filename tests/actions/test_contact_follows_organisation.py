"""Wherever a form picks an organisation then a contact (action owners, convention signatories), the
contact options name their organisation for the script that filters them, and without the script the
server refuses a contact of another organisation, in French."""

from __future__ import annotations

import html

from tests.actions.support import due, seed


def test_the_action_form_lists_contacts_with_their_organisation_and_refuses_a_mismatch(api_as, web, make_user):
    world = seed(api_as("prefecture", "34"))
    web.login(make_user("coordinator", "34").email)
    form = web.get("/d/34/actions/nouvelle").text
    assert 'data-contacts-of="f-owner_organisation"' in form and 'src="/static/contact-picker.js"' in form
    assert f'value="{world["other"]["id"]}" data-organisation="{world["other_org"]["id"]}"' in form
    refused = web.post(
        "/d/34/actions/nouvelle",
        {
            "title": "Former les éducateurs",
            "owner_organisation": str(world["org"]["id"]),
            "owner_contact": str(world["other"]["id"]),
            "due_on": due(10),
        },
    )
    assert refused.status_code == 422
    text = html.unescape(refused.text)
    assert "Ce contact n'appartient pas à l'organisation responsable." in text
    assert 'id="f-owner_contact-error"' in text


def test_the_script_is_served_from_the_site_under_the_strict_policy(client):
    script = client.get("/static/contact-picker.js")
    assert script.status_code == 200 and "data-contacts-of" in script.text
    assert "javascript" in script.headers["content-type"]
