"""Partners update their own items from a link; coordinators export the list they filtered."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

from tests.actions.support import due, seed
from tests.conftest import run


def _item(api, world, title="Former les éducateurs", days=10):
    response = api.post("/api/actions", json={"title": title, "owner_contact": world["contact"]["id"],
                                              "due_on": due(days)})
    assert response.status_code == 201, response.text
    return response.json()


def _token(url: str) -> str:
    return url.rsplit("/r/action/", 1)[1]


def test_a_partner_link_updates_its_own_item_and_nothing_else(api_as, client):
    api = api_as("prefecture", "34")
    world = seed(api)
    mine, other = _item(api, world), _item(api, world, "Autre action")
    token = _token(api.post(f"/api/actions/{mine['id']}/link").json()["url"])
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
    item = _item(api, seed(api))
    token = _token(api.post(f"/api/actions/{item['id']}/link").json()["url"])
    assert api.delete(f"/api/actions/{item['id']}/link").json() == {"revoked": 1}
    refused = client.post(f"/r/action/{token}", data={"status": "fait"})
    assert refused.status_code == 403 and "révoqué" in refused.text
    token = _token(api.post(f"/api/actions/{item['id']}/link").json()["url"])
    run(PartnerLink.update({PartnerLink.expires_at: dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)}).where(
        PartnerLink.revoked_at.is_null()))
    expired = client.get(f"/r/action/{token}")
    assert expired.status_code == 403 and "expiré" in expired.text
    assert client.get("/r/action/falsifie").status_code == 403
    assert api.get(f"/api/actions/{item['id']}").json()["status"] == "a_faire"


def test_a_partner_cannot_close_an_item_twice_or_leave_an_empty_update(api_as, client):
    api = api_as("prefecture", "34")
    item = _item(api, seed(api))
    token = _token(api.post(f"/api/actions/{item['id']}/link").json()["url"])
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
    _item(api, world, "Bientôt", 5)
    _item(api, world, "Dans deux mois", 60)
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


def test_exports_hold_the_same_rows_in_csv_and_xlsx(api_as):
    from openpyxl import load_workbook

    api = api_as("prefecture", "34")
    world = seed(api)
    _item(api, world, "=HYPERLINK(\"http://x\")", 5)
    _item(api, world, "Former les éducateurs", 20)
    done = _item(api, world, "Close", 30)
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
    assert [r[1] for r in rows[1:]] == ["'=HYPERLINK(\"http://x\")", "Former les éducateurs"]  # no formula runs
