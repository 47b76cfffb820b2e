"""Partners update their own items from a link; coordinators export the list they filtered."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

from tests.actions.support import link_token, owned_item, seed
from tests.conftest import run


def test_a_partner_link_updates_its_own_item_and_nothing_else(api_as, client):
    api = api_as("prefecture", "34")
    world = seed(api)
    mine, other = owned_item(api, world), owned_item(api, world, "Autre action")
    token = link_token(api.post(f"/api/actions/{mine['id']}/link").json()["url"])
    page = client.get(f"/r/action/{token}")
    assert page.status_code == 200 and "Former les éducateurs" in page.text and "Autre action" not in page.text
    done = client.post(f"/r/action/{token}", data={"status": "fait", "comment": "Formation faite le 3 mars."})
    assert done.status_code == 200, done.text
    item = api.get(f"/api/actions/{mine['id']}").json()
    assert item["status"] == "fait"
    last = api.get(f"/api/actions/{mine['id']}/history").json()[-1]
    assert last["to_status"] == "fait" and "lien partenaire" in last["actor"] and "Isabelle Moreau" in last["actor"]
    assert api.get(f"/api/actions/{other['id']}").json()["status"] == "a_faire"
    # The token of one item opens no other page, no API.
    assert client.get(f"/api/actions/{other['id']}", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert client.get(f"/r/signature/{token}").status_code == 403


def test_a_revoked_or_expired_link_is_refused(api_as, client):
    from coord.links.tables import PartnerLink

    api = api_as("prefecture", "34")
    item = owned_item(api, seed(api))
    token = link_token(api.post(f"/api/actions/{item['id']}/link").json()["url"])
    assert api.delete(f"/api/actions/{item['id']}/link").json() == {"revoked": 1}
    refused = client.post(f"/r/action/{token}", data={"status": "fait"})
    assert refused.status_code == 403 and "révoqué" in refused.text
    token = link_token(api.post(f"/api/actions/{item['id']}/link").json()["url"])
    run(
        PartnerLink.update({PartnerLink.expires_at: dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)}).where(
            PartnerLink.revoked_at.is_null()
        )
    )
    expired = client.get(f"/r/action/{token}")
    assert expired.status_code == 403 and "expiré" in expired.text
    assert client.get("/r/action/falsifie").status_code == 403
    assert api.get(f"/api/actions/{item['id']}").json()["status"] == "a_faire"


def test_a_partner_cannot_close_an_item_twice_or_leave_an_empty_update(api_as, client):
    api = api_as("prefecture", "34")
    item = owned_item(api, seed(api))
    token = link_token(api.post(f"/api/actions/{item['id']}/link").json()["url"])
    assert client.post(f"/r/action/{token}", data={}).status_code == 422
    assert client.post(f"/r/action/{token}", data={"progress": "150"}).status_code == 422
    assert client.post(f"/r/action/{token}", data={"progress": "60"}).status_code == 200
    assert api.get(f"/api/actions/{item['id']}").json()["progress"] == 60


def test_each_owner_gets_one_weekly_digest_with_working_links(api_as, client, smtp_sink):
    from coord.actions.partner import queue_owner_digests
    from coord.mail.dispatcher import deliver_all_now
    from coord.mail.smtp import SmtpSettings

    api = api_as("prefecture", "34")
    world = seed(api)
    owned_item(api, world, "Bientôt", 5)
    owned_item(api, world, "Dans deux mois", 60)
    now = dt.datetime.now(dt.UTC)
    assert run(queue_owner_digests(now)) == 1
    assert run(queue_owner_digests(now + dt.timedelta(hours=3))) == 0  # same week: not again
    run(deliver_all_now(smtp_settings=SmtpSettings(port=smtp_sink.port)))
    [message] = smtp_sink.messages
    assert message["To"].addresses[0].addr_spec == "i.moreau34@cd.fr"
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert "Bientôt" in body and "Dans deux mois" not in body and "victimes" in body
    url = re.search(r"https?://\S+/r/action/(\S+)", body).group(1)
    assert client.post(f"/r/action/{url}", data={"status": "en_cours"}).status_code == 200


def test_each_line_of_a_digest_opens_its_own_item(api_as, client, smtp_sink):
    from coord.actions.partner import queue_owner_digests
    from coord.mail.dispatcher import deliver_all_now
    from coord.mail.smtp import SmtpSettings

    api = api_as("prefecture", "34")
    world = seed(api)
    titles = ["Former les éducateurs", "Réunir les foyers", "Diffuser la fiche réflexe"]
    for days, title in enumerate(titles, start=2):
        owned_item(api, world, title, days)
    assert run(queue_owner_digests(dt.datetime.now(dt.UTC))) == 1
    run(deliver_all_now(smtp_settings=SmtpSettings(port=smtp_sink.port)))
    body = smtp_sink.messages[0].get_body(preferencelist=("plain",)).get_content()
    tokens = re.findall(r"/r/action/(\S+)", body)
    assert len(set(tokens)) == 3
    for token in tokens:
        page = client.get(f"/r/action/{token}")
        assert page.status_code == 200
        assert sum(title in page.text for title in titles) == 1  # one item per link


def test_a_digest_another_instance_queued_meanwhile_is_skipped_with_its_links(api_as, monkeypatch):
    from coord.actions import partner
    from coord.core.clock import local_today
    from coord.links.tables import PartnerLink
    from coord.mail import outbox
    from coord.mail.tables import OutboxMessage

    api = api_as("prefecture", "34")
    world = seed(api)
    owned_item(api, world, "Bientôt", 3)
    theirs = owned_item(api, world, "Accueillir", 4, contact="other")
    now = dt.datetime.now(dt.UTC)
    found = partner._owners_without_digest
    first_owner = world["contact"]["id"]

    async def then_the_other_instance_queues_one(*args):
        owners = await found(*args)
        # Between our read and our write, as a second app instance would.
        key = partner._week_key(first_owner, local_today("Europe/Paris", now))
        await outbox.queue(dedupe_key=key, kind="action_digest", to_email="x@cd.fr", to_name="X", subject="s", text="t")
        return owners

    monkeypatch.setattr(partner, "_owners_without_digest", then_the_other_instance_queues_one)
    assert run(partner.queue_owner_digests(now)) == 1
    digests = run(OutboxMessage.select(OutboxMessage.to_email).where(OutboxMessage.kind == "action_digest"))
    assert sorted(d["to_email"] for d in digests) == sorted(["x@cd.fr", world["other"]["email"]])
    issued = run(
        PartnerLink.select(PartnerLink.target_id, PartnerLink.contact_id).where(PartnerLink.purpose == "action")
    )
    assert issued == [{"target_id": theirs["id"], "contact_id": world["other"]["id"]}]


def test_exports_hold_the_same_rows_in_csv_and_xlsx(api_as):
    from openpyxl import load_workbook

    api = api_as("prefecture", "34")
    world = seed(api)
    owned_item(api, world, '=HYPERLINK("http://x")', 5)
    owned_item(api, world, "Former les éducateurs", 20)
    done = owned_item(api, world, "Close", 30)
    api.post(f"/api/actions/{done['id']}/transition", json={"status": "fait"})
    params = {"status": "ouvertes"}
    csv_response = api.get("/api/actions/export.csv", params=params)
    assert csv_response.status_code == 200 and csv_response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(csv_response.content.decode("utf-8-sig")), delimiter=";"))
    xlsx = api.get("/api/actions/export.xlsx", params=params)
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    cells = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    assert cells == rows
    assert rows[0][:3] == ["N°", "Titre", "Statut"]
    assert [r[1] for r in rows[1:]] == ['\'=HYPERLINK("http://x")', "Former les éducateurs"]  # no formula runs
