"""Partners answer from the link in their mail, without an account; the organiser sees the answer."""

from __future__ import annotations

import re
from typing import Any

from tests.conftest import run
from tests.meetings import test_mail_golden
from tests.meetings.test_mail_convocations import _convened, _deliver

mail_settings = test_mail_golden.mail_settings  # the fixture, shared


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
    # A new title: an update at SEQUENCE 2 that keeps the answers to SEQUENCE 1 valid.
    url = f"/api/meetings/{meeting['id']}"
    retitled = api.patch(url, json={"version": meeting["version"], "title": "Nouveau titre"})
    assert retitled.status_code == 200 and retitled.json()["sequence"] == 2
    invitation = api.get(f"/api/meetings/{meeting['id']}/invitations").json()["items"][0]
    assert run(record_answer(invitation["id"], "ACCEPTED", source="imip", sequence=2)).status == "applied"
    assert run(record_answer(invitation["id"], "DECLINED", source="imip", sequence=1)).status == "ignored"
    current = [
        i for i in api.get(f"/api/meetings/{meeting['id']}/invitations").json()["items"] if i["id"] == invitation["id"]
    ]
    assert current[0]["answer"] == "accepted"


# -- with meetings inserted directly (no API) ---------------------------------------------------


def _link_of(email: str) -> str:
    from tests.meetings.test_mail_golden import outbox_rows

    body = outbox_rows(to_email=email)[0]["body_text"]
    return re.search(r"http://testserver\.local(/r/invitation/[^?\s]+)", body).group(1)


def _invitation(invitation_id: int) -> dict[str, Any]:
    from coord.meetings.tables import Invitation

    return run(Invitation.select().where(Invitation.id == invitation_id).first())


def test_opening_a_link_with_a_preselected_answer_changes_nothing(mail_settings, client):
    from tests.meetings.test_mail_golden import convene, seed_meeting

    meeting = seed_meeting(code="971")
    run(convene(meeting["id"]))
    target = meeting["invitations"][1]
    path = _link_of(target["email"])
    for choice in ("accepted", "declined", "tentative", "delegated"):
        page = client.get(f"{path}?reponse={choice}")
        assert page.status_code == 200
        assert f'value="{choice}" checked' in page.text
        assert page.headers["referrer-policy"] == "no-referrer" and "no-store" in page.headers["cache-control"]
    assert "heure de la Guadeloupe, UTC−4" in page.text and "Suivi de la convention" in page.text
    client.head(path)
    assert _invitation(target["id"])["answer"] == "needs_action"


def test_a_link_answers_its_own_invitation_only_and_is_audited(mail_settings, client):
    from coord.audit.tables import AuditEntry
    from tests.meetings.test_mail_golden import convene, seed_meeting

    meeting = seed_meeting(sequence=2)
    run(convene(meeting["id"]))
    a, b = meeting["invitations"][0], meeting["invitations"][1]
    response = client.post(
        _link_of(a["email"]), data={"answer": "tentative", "invitation": str(b["id"]), "comment": "Sous réserve"}
    )
    assert response.status_code == 200 and "Peut-être" in response.text
    assert _invitation(a["id"])["answer"] == "tentative"
    assert _invitation(a["id"])["answer_sequence"] == 2  # the version the page showed
    assert _invitation(b["id"])["answer"] == "needs_action"
    entries = run(AuditEntry.select().where(AuditEntry.entity == "invitation"))
    assert entries and entries[-1]["actor"] == f"lien partenaire : {a['email']}"


def test_an_expired_or_forged_link_is_refused_in_french(mail_settings, client):
    import datetime as _dt

    from coord.links.tables import PartnerLink
    from tests.meetings.test_mail_golden import convene, seed_meeting

    meeting = seed_meeting()
    run(convene(meeting["id"]))
    target = meeting["invitations"][0]
    path = _link_of(target["email"])
    token = path.rsplit("/", 1)[1]
    forged = path.replace(token, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    assert client.get(forged).status_code == 403
    run(
        PartnerLink.update({PartnerLink.expires_at: _dt.datetime.now(_dt.UTC) - _dt.timedelta(minutes=1)}).where(
            PartnerLink.target_id == target["id"]
        )
    )
    for response in (client.get(path), client.post(path, data={"answer": "accepted"})):
        assert response.status_code == 403 and "expiré" in response.text
    assert _invitation(target["id"])["answer"] == "needs_action"


def test_a_late_calendar_reply_does_not_undo_a_link_answer(mail_settings, client):
    import datetime as _dt

    from coord.meetings.answers import record_answer
    from tests.meetings.test_mail_golden import convene, seed_meeting

    meeting = seed_meeting(sequence=1)
    run(convene(meeting["id"]))
    target = meeting["invitations"][0]
    before = _dt.datetime.now(_dt.UTC) - _dt.timedelta(minutes=5)
    assert client.post(_link_of(target["email"]), data={"answer": "declined"}).status_code == 200
    late = run(record_answer(target["id"], "ACCEPTED", source="imip", sequence=1, dtstamp=before))
    assert late.status == "ignored"
    assert _invitation(target["id"])["answer"] == "declined"
    newer = run(
        record_answer(
            target["id"],
            "ACCEPTED",
            source="imip",
            sequence=1,
            dtstamp=_dt.datetime.now(_dt.UTC) + _dt.timedelta(seconds=1),
        )
    )
    assert newer.status == "applied" and _invitation(target["id"])["answer"] == "accepted"


def test_delegation_checks_the_colleagues_address(mail_settings, client):
    from tests.meetings.test_mail_golden import convene, seed_meeting

    meeting = seed_meeting()
    run(convene(meeting["id"]))
    target = meeting["invitations"][1]
    path = _link_of(target["email"])
    myself = client.post(path, data={"answer": "delegated", "delegate_name": "Moi", "delegate_email": target["email"]})
    assert myself.status_code == 422 and "pas la vôtre" in myself.text
    missing = client.post(path, data={"answer": "delegated"})
    assert missing.status_code == 422 and "obligatoire" in missing.text
    assert _invitation(target["id"])["answer"] == "needs_action"
