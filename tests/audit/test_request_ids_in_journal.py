"""A journal entry names the HTTP request that wrote it (the id the response sent back in
`X-Request-ID`, also on that request's log lines), so an operator goes from a user's report to the
logs and back; the page shows it discreetly, the API and the CSV export carry it."""

from __future__ import annotations

import csv
import io

from tests.conftest import PASSWORD

PROXY_ID = "4f6c1c0e9a2b4d7e8f90a1b2c3d4e5f6"


def test_the_entry_of_a_sign_in_names_its_request_on_the_page_the_api_and_the_export(make_user, web, client):
    user = make_user("prefecture", "34")
    csrf = web.csrf()
    response = client.post(
        "/connexion",
        data={"email": user.email, "password": PASSWORD, "_csrf_token": csrf},
        headers={"X-Request-ID": PROXY_ID},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["x-request-id"] == PROXY_ID

    page = web.get("/journal").text
    assert f"requête <code>{PROXY_ID}</code>" in page
    api = client.get("/api/audit", headers={"Authorization": f"Bearer {user.token}"}).json()
    assert [e["request_id"] for e in api["items"] if e["action"] == "sign_in"] == [PROXY_ID]
    rows = list(csv.reader(io.StringIO(web.get("/journal/export.csv").text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][-1] == "Requête"
    assert [r[-1] for r in rows[1:] if r[4] == "Connexion"] == [PROXY_ID]
