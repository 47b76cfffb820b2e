"""Partners answer from the link in their mail, without an account; the organiser sees the answer."""

from __future__ import annotations

import re
from typing import Any

from tests.conftest import run
from tests.meetings.test_mail_convocations import _convened, _deliver


def _links(sink: Any) -> dict[str, str]:
    found = {}
    for message in sink.messages:
        body = message.get_body(preferencelist=("plain",)).get_content()
        found[message["To"].addresses[0].addr_spec] = re.search(
            r"http://testserver\.local(/r/invitation/\S+)", body
        ).group(1)
    return found


def test_a_partner_accepts_from_the_mail_link(api_as, smtp_sink, client):
    api = api_as("prefecture", "34")
    meeting = _convened(api)
    _deliver(smtp_sink)
    email, path = next(iter(_links(smtp_sink).items()))
    page = client.get(path + "?reponse=accepted")
    assert page.status_code == 200 and meeting["title"] in page.text
    invitations = api.get(f"/api/meetings/{meeting['id']}/invitations").json()["items"]
    assert all(i["answer"] == "needs_action" for i in invitations)  # opening the link changes nothing
    response = client.post(path, data={"answer": "accepted", "comment": "Présente"})
    assert response.status_code == 200 and "votre réponse est enregistrée" in response.text
    invitations = api.get(f"/api/meetings/{meeting['id']}/invitations").json()["items"]
    answered = [i for i in invitations if i["answer"] == "accepted"]
    assert len(answered) == 1 and answered[0]["email"] == email


def test_a_link_answers_only_its_own_invitation_and_dies_when_revoked(api_as, smtp_sink, client):
    from coord.links import service as links

    api = api_as("prefecture", "34")
    meeting = _convened(api)
    _deliver(smtp_sink)
    path = next(iter(_links(smtp_sink).values()))
    assert client.post(path, data={"answer": "declined"}).status_code == 200
    declined = [
        i for i in api.get(f"/api/meetings/{meeting['id']}/invitations").json()["items"] if i["answer"] == "declined"
    ]
    assert len(declined) == 1
    run(links.revoke("invitation", declined[0]["id"]))
    response = client.post(path, data={"answer": "accepted"})
    assert response.status_code == 403 and "révoqué" in response.text
    assert client.get(path[:-3] + "xyz").status_code == 403


def test_a_partner_delegates_to_a_colleague_who_is_then_invited(api_as, smtp_sink, client):
    api = api_as("prefecture", "34")
    meeting = _convened(api)
    _deliver(smtp_sink)
    path = next(iter(_links(smtp_sink).values()))
    smtp_sink.clear()
    bad = client.post(path, data={"answer": "delegated", "delegate_email": "pas-une-adresse"})
    assert bad.status_code == 422
    response = client.post(
        path, data={"answer": "delegated", "delegate_name": "Karim Saidi", "delegate_email": "karim.saidi@justice.fr"}
    )
    assert response.status_code == 200, response.text
    invitations = api.get(f"/api/meetings/{meeting['id']}/invitations").json()["items"]
    assert any(i["email"] == "karim.saidi@justice.fr" for i in invitations)
    _deliver(smtp_sink)
    assert [m["To"].addresses[0].addr_spec for m in smtp_sink.messages] == ["karim.saidi@justice.fr"]


def test_a_stale_answer_does_not_undo_a_newer_one(api_as, smtp_sink):
    from coord.meetings.answers import record_answer

    api = api_as("prefecture", "34")
    meeting = _convened(api)
    invitation = api.get(f"/api/meetings/{meeting['id']}/invitations").json()["items"][0]
    assert run(record_answer(invitation["id"], "ACCEPTED", source="imip", sequence=2)).status == "applied"
    assert run(record_answer(invitation["id"], "DECLINED", source="imip", sequence=1)).status == "ignored"
    current = [
        i for i in api.get(f"/api/meetings/{meeting['id']}/invitations").json()["items"] if i["id"] == invitation["id"]
    ]
    assert current[0]["answer"] == "accepted"
