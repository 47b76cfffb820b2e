"""From an item's page, an agent sends the owner their update link by mail (not copied by hand): one
mail per form sent, through the outbox, with a link that works, recorded in the journal."""

from __future__ import annotations

import html
import re

from tests.actions.support import owned_item, seed
from tests.conftest import run


def _send_form(page_html: str) -> dict[str, str]:
    key = re.search(r'name="send_key" value="([^"]+)"', page_html)
    assert key, "no send form on the item page"
    return {"send_key": key.group(1)}


def _outbox(kind: str = "action_link") -> list[dict]:
    from coord.mail.tables import OutboxMessage

    return run(OutboxMessage.select().where(OutboxMessage.kind == kind).order_by(OutboxMessage.id))


def test_the_owner_receives_a_working_link_once(api_as, web, make_user, client, smtp_sink):
    from coord.mail.dispatcher import deliver_all_now
    from coord.mail.smtp import SmtpSettings

    api = api_as("prefecture", "34")
    world = seed(api)
    item = owned_item(api, world)
    web.login(make_user("coordinator", "34").email)
    page = web.get(f"/d/34/actions/{item['id']}")
    assert "Envoyer le lien par courriel" in page.text and "Isabelle Moreau – i.moreau34@cd.fr" in page.text
    form = _send_form(page.text)
    sent = web.post(f"/d/34/actions/{item['id']}/envoyer-lien", form)
    assert sent.status_code == 200
    assert "Le lien de mise à jour a été envoyé par courriel à Isabelle Moreau" in html.unescape(sent.text)
    again = web.post(f"/d/34/actions/{item['id']}/envoyer-lien", form)  # a double click, a retried request
    assert "n'a pas été envoyé une seconde fois" in html.unescape(again.text)
    [row] = _outbox()
    assert row["to_email"] == "i.moreau34@cd.fr" and row["entity_id"] == item["id"]
    run(deliver_all_now(smtp_settings=SmtpSettings(port=smtp_sink.port)))
    [message] = smtp_sink.messages
    assert "Former les éducateurs" in message["Subject"]
    body = message.get_body(preferencelist=("plain",)).get_content()
    token = re.search(r"/r/action/(\S+)", body).group(1)
    assert "Bonjour Isabelle Moreau" in body and "victimes" in body
    opened = client.get(f"/r/action/{token}")
    assert opened.status_code == 200 and "Former les éducateurs" in opened.text
    from coord.audit.tables import AuditEntry

    sends = run(AuditEntry.select().where((AuditEntry.action == "send") & (AuditEntry.entity == "action_item")))
    assert [e["summary"] for e in sends] == [
        "Lien de mise à jour de « Former les éducateurs » envoyé à Isabelle Moreau"
    ]


def test_a_colleague_of_the_owner_organisation_may_receive_it(api_as, web, make_user, client):
    api = api_as("prefecture", "34")
    world = seed(api)
    colleague = api.post(
        "/api/contacts",
        json={
            "organisation": world["org"]["id"],
            "first_name": "Marc",
            "last_name": "Petit",
            "email": "m.petit34@cd.fr",
        },
    ).json()
    item = owned_item(api, world)
    web.login(make_user("coordinator", "34").email)
    form = _send_form(web.get(f"/d/34/actions/{item['id']}").text)
    sent = web.post(f"/d/34/actions/{item['id']}/envoyer-lien", {**form, "contact": str(colleague["id"])})
    assert "envoyé par courriel à Marc Petit" in html.unescape(sent.text)
    [row] = _outbox()
    assert row["to_email"] == "m.petit34@cd.fr"
    token = re.search(r"/r/action/(\S+)", row["body_text"]).group(1)
    assert client.get(f"/r/action/{token}").status_code == 200
    # The link stays the owner's: when the item changes hands, it stops working.
    api.patch(
        f"/api/actions/{item['id']}",
        json={"owner_contact": world["other"]["id"], "owner_organisation": world["other_org"]["id"]},
    )
    assert client.get(f"/r/action/{token}").status_code == 403


def test_a_contact_of_another_organisation_or_a_stale_form_is_refused(api_as, web, make_user):
    api = api_as("prefecture", "34")
    world = seed(api)
    item = owned_item(api, world)
    web.login(make_user("coordinator", "34").email)
    form = _send_form(web.get(f"/d/34/actions/{item['id']}").text)
    wrong = web.post(f"/d/34/actions/{item['id']}/envoyer-lien", {**form, "contact": str(world["other"]["id"])})
    assert wrong.status_code == 422
    assert "Choisissez un contact de l'organisation responsable de l'action." in html.unescape(wrong.text)
    stale = web.post(f"/d/34/actions/{item['id']}/envoyer-lien", {"send_key": "x"})
    assert stale.status_code == 422 and "rechargez la page" in html.unescape(stale.text)
    assert _outbox() == []


def test_an_observer_cannot_send_links(api_as, web, make_user):
    api = api_as("prefecture", "34")
    item = owned_item(api, seed(api))
    web.login(make_user("observer", "34").email)
    page = web.get(f"/d/34/actions/{item['id']}")
    assert "Envoyer le lien par courriel" not in page.text
    refused = web.post(f"/d/34/actions/{item['id']}/envoyer-lien", {"send_key": "a" * 24})
    assert refused.status_code == 403
    assert _outbox() == []
