"""A partner whose link opens nothing learns what happened (expired on such a day, revoked, not
valid) and whom to ask for a new one."""

from __future__ import annotations

import datetime as dt
import html

from tests.actions.support import link_token, owned_item, seed
from tests.conftest import run


def _page(response) -> str:
    return html.unescape(response.text)


def _action_link(api) -> tuple[dict, str]:
    item = owned_item(api, seed(api))
    return item, link_token(api.post(f"/api/actions/{item['id']}/link").json()["url"])


def test_an_expired_link_says_when_it_expired_and_whom_to_ask(api_as, client, settings):
    from coord.links.tables import PartnerLink

    api = api_as("prefecture", "34")
    _, token = _action_link(api)
    # 23:30 UTC on 2 March 2026 is already 3 March in the Hérault's zone.
    expired_at = dt.datetime(2026, 3, 2, 23, 30, tzinfo=dt.UTC)
    run(PartnerLink.update({PartnerLink.expires_at: expired_at}).where(PartnerLink.revoked_at.is_null()))
    for response in (client.get(f"/r/action/{token}"), client.post(f"/r/action/{token}", data={"status": "fait"})):
        text = _page(response)
        assert response.status_code == 403
        assert "Ce lien a expiré le mardi 3 mars 2026 à 00 h 30." in text
        assert "Qui contacter ?" in text and settings.organiser_email in text
        assert "préfecture de l'Hérault" in text


def test_a_revoked_link_says_so(api_as, client):
    api = api_as("prefecture", "34")
    item, token = _action_link(api)
    api.delete(f"/api/actions/{item['id']}/link")
    response = client.get(f"/r/action/{token}")
    assert response.status_code == 403
    assert "<h1>Ce lien a été révoqué</h1>" in _page(response)
    assert "Utilisez le dernier courriel reçu" in _page(response)


def test_a_forged_or_unknown_link_is_not_valid(api_as, client, settings):
    from coord.links.service import token_for

    api = api_as("prefecture", "34")
    _, token = _action_link(api)
    forged = client.get(f"/r/action/{token[:-3]}xyz")
    assert forged.status_code == 403 and "<h1>Ce lien n'est pas valide</h1>" in _page(forged)
    assert "copiée en entier" in _page(forged)
    unknown = client.get(f"/r/action/{token_for(987654, 'action')}")  # signed, but no such link
    assert unknown.status_code == 403 and "Ce lien n'est pas valide." in _page(unknown)
    # With no département known, the coordination service is named without one.
    assert settings.organiser_email in _page(unknown) and "préfecture de" not in _page(unknown)


def test_an_invitation_link_names_the_organiser_of_the_meeting(api_as, client, smtp_sink):
    from coord.links import service as links
    from coord.meetings.tables import Meeting
    from tests.meetings.test_answer_links import _links
    from tests.meetings.test_mail_convocations import _convened, _deliver

    api = api_as("prefecture", "34")
    meeting = _convened(api)
    _deliver(smtp_sink)
    path = next(iter(_links(smtp_sink).values()))
    run(
        Meeting.update(
            {Meeting.organiser_name: "Claire Dubois", Meeting.organiser_email: "claire.dubois@herault.gouv.fr"}
        ).where(Meeting.id == meeting["id"])
    )
    for invitation in api.get(f"/api/meetings/{meeting['id']}/invitations").json()["items"]:
        run(links.revoke("invitation", invitation["id"]))
    response = client.get(path)
    text = _page(response)
    assert response.status_code == 403 and "Ce lien a été révoqué" in text
    assert "Claire Dubois (organisation de la réunion)" in text and "claire.dubois@herault.gouv.fr" in text
