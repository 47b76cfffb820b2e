"""Conventions and their signatories: lifecycle with an injected clock, amendments, reminders sent
once, bad input refused, coverage counts, signature links, isolation between départements."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

import pytest

from coord.conventions import coverage, service, tasks
from coord.conventions.models import load_models
from coord.conventions.tables import Convention, ConventionSignatory
from coord.core.errors import Conflict, ValidationFailed
from tests.conftest import run
from tests.conventions.support import T0, UTC
from tests.conventions.support import link_from_mail as _link_from_mail
from tests.conventions.support import minors_convention as _minors_convention
from tests.conventions.support import outbox as _outbox
from tests.conventions.support import sign as _sign


# -- models ---------------------------------------------------------------------------------------
def test_every_shipped_model_loads_and_is_served_by_the_api(api_as):
    catalogue = load_models()
    assert {"protection-mineurs", "clav-partenariat", "exploitation-travail"} <= set(catalogue)
    minors = catalogue["protection-mineurs"]
    assert len(minors.required_roles()) == 8
    body = api_as("prefecture", "34").get("/api/convention-models").json()
    assert {m["code"] for m in body} == set(catalogue)
    served = next(m for m in body if m["code"] == "protection-mineurs")
    assert sum(1 for s in served["signatories"] if s["required"]) == 8


# -- lifecycle ------------------------------------------------------------------------------------
def test_a_convention_walks_from_draft_to_in_force_to_expiring_to_renewed(herault):
    convention, signatories = _minors_convention(herault)
    assert convention["status"] == "draft"
    assert (convention["signed_count"], convention["required_count"]) == (0, 8)

    run(service.send_request(herault.scope, convention["id"], signatories[0]["id"], now=T0))
    current = run(service.get_convention(herault.scope, convention["id"]))
    assert current["status"] == "in_signature"

    for index, s in enumerate(signatories[:-1]):
        current = _sign(herault, convention["id"], s["id"], dt.date(2026, 1, 11), T0 + dt.timedelta(days=2))
        assert current["status"] == "in_signature"
        assert current["signed_count"] == index + 1
    assert [m["role"] for m in current["missing_roles"]] == ["association"]

    last_day = dt.date(2026, 1, 12)
    current = _sign(herault, convention["id"], signatories[-1]["id"], last_day, T0 + dt.timedelta(days=2))
    assert current["status"] == "in_force"
    assert current["signed_on"] == last_day and current["effective_from"] == last_day
    assert current["ends_on"] == dt.date(2029, 1, 12)  # 36 months

    # Before the notice period: nothing changes.
    run(tasks.due_reminders(dt.datetime(2028, 6, 1, 8, tzinfo=UTC)))
    assert run(service.get_convention(herault.scope, convention["id"]))["status"] == "in_force"
    # 90 days before the end (the model's notice period), it is shown as expiring.
    run(tasks.due_reminders(dt.datetime(2028, 10, 14, 8, tzinfo=UTC)))
    current = run(service.get_convention(herault.scope, convention["id"]))
    assert current["status"] == "expiring"
    # At the end, the tacit renewal opens a new period of 36 months.
    run(tasks.due_reminders(dt.datetime(2029, 1, 13, 8, tzinfo=UTC)))
    current = run(service.get_convention(herault.scope, convention["id"]))
    assert current["status"] == "renewed"
    assert current["period"] == 2
    assert current["effective_from"] == dt.date(2029, 1, 13)
    assert current["ends_on"] == dt.date(2032, 1, 12)


def test_a_model_without_tacit_renewal_expires_and_a_terminated_one_stops(herault):
    convention = run(service.create_convention(herault.scope, {"model": "exploitation-travail"}))
    roles = [
        ("prefecture", "prefet"),
        ("ddets", "ddets"),
        ("autre", "employeurs"),
        ("autre", "syndicats"),
        ("autre", "chambre_consulaire"),
    ]
    for kind, role in roles:
        org, _ = herault.organisation(kind, f"Organisation {role}")
        s = run(service.add_signatory(herault.scope, convention["id"], {"organisation": org, "role": role}))
        _sign(herault, convention["id"], s["id"], dt.date(2026, 1, 10), T0)
    current = run(service.get_convention(herault.scope, convention["id"]))
    assert current["status"] == "in_force"
    assert current["ends_on"] == dt.date(2029, 1, 10)
    run(tasks.due_reminders(dt.datetime(2029, 1, 11, 12, tzinfo=UTC)))
    assert run(service.get_convention(herault.scope, convention["id"]))["status"] == "expired"

    other, signatories = _minors_convention(herault, title="Deuxième convention")
    for s in signatories:
        _sign(herault, other["id"], s["id"], dt.date(2026, 1, 10), T0)
    terminated = run(
        service.terminate(herault.scope, other["id"], {"terminated_on": "2027-06-30", "reason": "Dénonciation"}, now=T0)
    )
    assert terminated["status"] == "in_force" and terminated["ends_on"] == dt.date(2027, 6, 30)
    run(tasks.due_reminders(dt.datetime(2027, 7, 1, 12, tzinfo=UTC)))
    assert run(service.get_convention(herault.scope, other["id"]))["status"] == "terminated"


def test_an_amendment_is_signed_apart_and_its_text_then_comes_into_force(herault):
    """The whole story is in test_amendments.py; here, the convention's own lifecycle around it."""
    convention, signatories = _minors_convention(herault)
    for s in signatories:
        _sign(herault, convention["id"], s["id"], dt.date(2026, 1, 10), T0)
    assert run(service.get_convention(herault.scope, convention["id"]))["status"] == "in_force"

    with pytest.raises(ValidationFailed) as missing_subject:
        run(service.amend(herault.scope, convention["id"], {"subject": ""}, now=T0))
    assert "subject" in missing_subject.value.errors

    amended = run(service.amend(herault.scope, convention["id"], {"subject": "Ajout d'un volet formation"}, now=T0))
    assert amended["status"] == "in_force" and amended["amendment"] == 0
    assert amended["signed_on"] == dt.date(2026, 1, 10)
    assert (amended["signed_count"], amended["required_count"]) == (8, 8)
    opened = amended["open_amendment"]
    assert opened["number"] == 1 and opened["progress_label"] == "Avenant n° 1 : 0/8 signatures"
    assert {s["status"] for s in opened["signatories"]} == {"to_send"}
    # An old round's signatory has already signed the text in force.
    with pytest.raises(Conflict):
        _sign(herault, convention["id"], signatories[0]["id"], dt.date(2026, 3, 1), T0 + dt.timedelta(days=60))

    later = T0 + dt.timedelta(days=60)
    for s in opened["signatories"]:
        current = _sign(herault, convention["id"], s["id"], dt.date(2026, 3, 1), later)
    assert current["status"] == "in_force" and current["amendment"] == 1
    assert current["amendment_subject"] == "Ajout d'un volet formation"
    assert current["text_in_force_since"] == dt.date(2026, 3, 1)
    assert current["signed_on"] == dt.date(2026, 1, 10)  # the convention's own signature record is kept
    assert current["effective_from"] == dt.date(2026, 1, 10)
    assert current["ends_on"] == dt.date(2029, 1, 10)
    assert current["open_amendment"] is None
    history = run(service.signatory_history(herault.scope, convention["id"]))
    assert len(history) == 8 and {s["amendment"] for s in history} == {0}


# -- bad input ------------------------------------------------------------------------------------
def test_a_role_the_model_does_not_have_or_a_second_signature_is_refused(herault):
    convention, signatories = _minors_convention(herault)
    org, _ = herault.organisation("ddets", "DDETS de l'Hérault")
    with pytest.raises(ValidationFailed) as unknown:
        run(service.add_signatory(herault.scope, convention["id"], {"organisation": org, "role": "ddets"}))
    assert unknown.value.errors["role"] == (
        "Le modèle « Convention locale de protection des mineurs victimes de la traite des êtres humains » "
        "ne prévoit pas le rôle « Directeur départemental de l'emploi, du travail et des solidarités (DDETS) »."
    )
    with pytest.raises(ValidationFailed) as wrong_kind:
        run(service.add_signatory(herault.scope, convention["id"], {"organisation": org, "role": "prefet"}))
    assert "ne peut pas signer" in wrong_kind.value.errors["organisation"]

    association = signatories[-1]
    with pytest.raises(ValidationFailed) as same_org:
        run(
            service.add_signatory(
                herault.scope, convention["id"], {"organisation": association["organisation"], "role": "association"}
            )
        )
    assert "déjà signataire" in same_org.value.errors["organisation"]

    second_org, _ = herault.organisation("association", "Autre association")
    second = run(
        service.add_signatory(herault.scope, convention["id"], {"organisation": second_org, "role": "association"})
    )
    _sign(herault, convention["id"], association["id"], dt.date(2026, 1, 10), T0)
    with pytest.raises(ValidationFailed) as twice:
        _sign(herault, convention["id"], second["id"], dt.date(2026, 1, 10), T0)
    assert twice.value.errors["role"].startswith("Le rôle « Association spécialisée » a déjà signé")
    with pytest.raises(Conflict):  # the same signatory again
        _sign(herault, convention["id"], association["id"], dt.date(2026, 1, 10), T0)
    with pytest.raises(ValidationFailed) as future:
        _sign(herault, convention["id"], signatories[0]["id"], dt.date(2026, 2, 1), T0)
    assert "postérieure" in future.value.errors["signed_on"]


def test_the_api_refuses_bad_input_with_french_messages(api_as):
    api = api_as("prefecture", "34")
    response = api.post("/api/conventions", json={"model": "inexistant"})
    assert response.status_code == 422
    assert "model" in response.json()["errors"]
    convention = api.post("/api/conventions", json={"model": "clav-partenariat", "title": "CLAV 34"}).json()
    org = api.post("/api/organisations", json={"name": "DT PJJ", "kind": "pjj"}).json()
    ok = api.post(
        f"/api/conventions/{convention['id']}/signatories", json={"organisation": org["id"], "role": "dt_pjj"}
    )
    assert ok.status_code == 201, ok.text
    other = api.post("/api/organisations", json={"name": "Employeurs", "kind": "autre"}).json()
    refused = api.post(
        f"/api/conventions/{convention['id']}/signatories", json={"organisation": other["id"], "role": "employeurs"}
    )
    assert refused.status_code == 422
    assert "ne prévoit pas le rôle « Organisation patronale »" in refused.json()["errors"]["role"]
    # Only a draft may be deleted.
    signed = api.patch(
        f"/api/conventions/{convention['id']}/signatories/{ok.json()['id']}",
        json={"status": "signed", "signed_on": dt.date.today().isoformat()},
    )
    assert signed.status_code == 200 and signed.json()["status"] == "signed"
    assert api.get(f"/api/conventions/{convention['id']}").json()["status"] == "in_signature"
    assert api.delete(f"/api/conventions/{convention['id']}").status_code == 409


# -- reminders ------------------------------------------------------------------------------------
def test_signature_and_expiry_reminders_are_queued_once(herault):
    convention, signatories = _minors_convention(herault)
    first = signatories[0]
    run(service.send_request(herault.scope, convention["id"], first["id"], now=T0))
    assert len(_outbox("convention_signature")) == 1
    with pytest.raises(Conflict):
        run(service.send_request(herault.scope, convention["id"], first["id"], now=T0))

    # The 15-day reminder falls on Sunday 25 January: it goes on Friday 23, once.
    assert run(tasks.due_reminders(T0 + dt.timedelta(days=12))) == 0
    assert run(tasks.due_reminders(T0 + dt.timedelta(days=13, hours=1))) == 1
    day15 = T0 + dt.timedelta(days=15, hours=1)
    assert run(tasks.due_reminders(day15)) == 0
    assert run(tasks.due_reminders(day15 + dt.timedelta(hours=5))) == 0
    rows = _outbox("convention_signature_reminder")
    assert len(rows) == 1
    assert rows[0]["dedupe_key"] == f"convention:{convention['id']}:signature-reminder:{first['id']}:15"
    assert rows[0]["to_email"] == first["email"]
    assert "/r/signature/" in rows[0]["body_text"]
    # The next lead time (30 days) gives one more, once.
    assert run(tasks.due_reminders(T0 + dt.timedelta(days=31))) == 1
    assert run(tasks.due_reminders(T0 + dt.timedelta(days=31))) == 0
    # Once signed, no more reminders.
    _sign(herault, convention["id"], first["id"], dt.date(2026, 2, 11), T0 + dt.timedelta(days=32))
    assert run(tasks.due_reminders(T0 + dt.timedelta(days=50))) == 0
    assert len(_outbox("convention_signature_reminder")) == 2

    # Expiry reminders: the prefecture's agents are told once per lead time.
    for s in signatories[1:]:
        _sign(herault, convention["id"], s["id"], dt.date(2026, 2, 11), T0 + dt.timedelta(days=32))
    current = run(service.get_convention(herault.scope, convention["id"]))
    assert current["ends_on"] == dt.date(2029, 2, 11)
    at_150 = dt.datetime(2028, 9, 14, 7, tzinfo=UTC)  # 150 days before the end
    assert run(tasks.due_reminders(at_150)) == 1
    assert run(tasks.due_reminders(at_150)) == 0
    assert run(tasks.due_reminders(at_150 + dt.timedelta(days=10))) == 0
    expiry = _outbox("convention_expiry")
    assert len(expiry) == 1 and "11/02/2029" in expiry[0]["subject"]
    assert run(tasks.due_reminders(dt.datetime(2028, 11, 3, 7, tzinfo=UTC))) == 1  # 100 days before


def test_the_reminder_query_reads_only_due_rows(herault):
    convention, signatories = _minors_convention(herault)
    run(service.send_request(herault.scope, convention["id"], signatories[0]["id"], now=T0))
    due = run(
        ConventionSignatory.select(ConventionSignatory.id).where(
            ConventionSignatory.next_reminder_at <= T0 + dt.timedelta(days=15)
        )
    )
    assert [r["id"] for r in due] == [signatories[0]["id"]]
    row = run(Convention.select(Convention.next_transition_on).where(Convention.id == convention["id"]).first())
    assert row["next_transition_on"] is None  # nothing dated to do before it is in force


# -- coverage -------------------------------------------------------------------------------------
def test_coverage_counts_signatures_and_missing_roles_per_pilot_site(herault, api_as):
    api = api_as("prefecture", "34")
    site = api.post("/api/pilot-sites", json={"plan": "2014-2016", "scheme": "protection_mineurs"})
    assert site.status_code == 201, site.text
    site_id = site.json()["id"]
    api.post("/api/pilot-sites", json={"plan": "2014-2016", "scheme": "coordination"})
    convention, signatories = _minors_convention(herault, pilot_site=site_id)
    for s in signatories[:3]:
        _sign(herault, convention["id"], s["id"], dt.date(2026, 1, 10), T0)

    sites = run(coverage.coverage(herault.scope, department="34"))
    assert len(sites) == 2
    minors = next(s for s in sites if s["scheme"] == "protection_mineurs")
    assert not minors["covered"]
    [entry] = minors["conventions"]
    assert (entry["signed_count"], entry["required_count"]) == (3, 8)
    assert [m["role"] for m in entry["missing_roles"]] == [
        "dt_pjj",
        "dasen",
        "police",
        "gendarmerie",
        "association",
    ]
    assert minors["missing_signatures"] == 5
    assert next(s for s in sites if s["scheme"] == "coordination")["conventions"] == []
    assert coverage.summary(sites) == {
        "sites": 2,
        "covered": 0,
        "in_signature": 1,
        "without_convention": 1,
        "amendment_in_signature": 0,
    }

    national = api_as("national", None)
    body = national.get("/api/conventions/coverage").json()
    assert body["summary"]["sites"] == 2
    csv_text = national.get("/api/conventions/coverage", params={"format": "csv"}).text
    lines = csv_text.lstrip("\ufeff").strip().splitlines()
    assert lines[0].startswith("departement;nom_departement;site_pilote")
    assert any(";3;8;" in line and "Directeur territorial de la PJJ" in line for line in lines)
    assert any("aucune convention" in line for line in lines)

    for s in signatories[3:]:
        _sign(herault, convention["id"], s["id"], dt.date(2026, 1, 10), T0)
    sites = run(coverage.coverage(herault.scope, department="34"))
    assert coverage.summary(sites)["covered"] == 1


def test_coverage_pages_show_counts_and_export(web, make_user, herault, api_as):
    api = api_as("prefecture", "34")
    site_id = api.post("/api/pilot-sites", json={"plan": "2014-2016", "scheme": "protection_mineurs"}).json()["id"]
    convention, signatories = _minors_convention(herault, pilot_site=site_id)
    _sign(herault, convention["id"], signatories[0]["id"], dt.date(2026, 1, 10), T0)
    web.login(make_user("national", None).email)
    page = web.get("/conventions/couverture")
    assert page.status_code == 200
    assert "Protection des mineurs 34" in page.text and "1 sur 8" in page.text
    export = web.get("/conventions/couverture.csv")
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    department_page = web.get("/d/34/conventions")
    assert department_page.status_code == 200 and "1 sur 8" in department_page.text
    detail = web.get(f"/d/34/conventions/{convention['id']}")
    assert "1 signature sur 8 requises" in detail.text
    assert "Directeur territorial de la PJJ" in detail.text


# -- signature links ------------------------------------------------------------------------------
def test_a_signature_link_signs_for_its_own_signatory_only(client, herault):
    convention, signatories = _minors_convention(herault)
    first, second = signatories[0], signatories[1]
    now = dt.datetime.now(UTC)
    run(service.send_request(herault.scope, convention["id"], first["id"], now=now))
    run(service.send_request(herault.scope, convention["id"], second["id"], now=now))
    token = _link_from_mail(first["id"])

    page = client.get(f"/r/signature/{token}")
    assert page.status_code == 200
    assert "Protection des mineurs 34" in page.text and first["organisation_name"] in html.unescape(page.text)
    assert 'name="signed_on"' in page.text
    assert run(service.get_signatory(herault.scope, convention["id"], first["id"]))["status"] == "sent"

    future = client.post(f"/r/signature/{token}", data={"signed_on": "2999-01-01"})
    assert future.status_code == 422 and "postérieure" in future.text
    today = dt.date.today().isoformat()
    done = client.post(f"/r/signature/{token}", data={"signed_on": today, "confirm": "1"})
    assert done.status_code == 200 and "est enregistrée" in done.text
    assert run(service.get_signatory(herault.scope, convention["id"], first["id"]))["status"] == "signed"
    assert run(service.get_signatory(herault.scope, convention["id"], second["id"]))["status"] == "sent"
    again = client.post(f"/r/signature/{token}", data={"signed_on": today, "confirm": "1"})
    assert again.status_code == 409

    # A link for something else does not open this page.
    from coord.links import service as links

    foreign = run(links.issue("invitation", second["id"], department_id=herault.id))
    assert client.get(f"/r/signature/{foreign}").status_code == 403
    assert client.get(f"/r/signature/{token}x").status_code == 403


def test_a_revoked_or_expired_signature_link_is_refused(client, herault):
    from coord.links import service as links

    convention, signatories = _minors_convention(herault)
    first, second = signatories[0], signatories[1]
    run(service.send_request(herault.scope, convention["id"], first["id"], now=dt.datetime.now(UTC)))
    token = _link_from_mail(first["id"])
    run(service.update_signatory(herault.scope, convention["id"], first["id"], {"status": "refused"}))
    revoked = client.post(f"/r/signature/{token}", data={"signed_on": dt.date.today().isoformat()})
    assert revoked.status_code == 403 and "révoqué" in revoked.text
    expired = run(links.issue("signature", second["id"], department_id=herault.id, valid_for=dt.timedelta(seconds=-1)))
    response = client.get(f"/r/signature/{expired}")
    assert response.status_code == 403 and "expiré" in response.text
    assert run(service.get_signatory(herault.scope, convention["id"], second["id"]))["status"] == "to_send"


# -- isolation ------------------------------------------------------------------------------------
def test_an_agent_of_another_department_gets_404_on_a_convention_of_34(app, web, make_user, api_as, herault):
    convention, signatories = _minors_convention(herault)
    intruder = make_user("prefecture", "93")
    other = api_as("prefecture", "93")
    base = f"/api/conventions/{convention['id']}"
    assert other.get(base).status_code == 404
    assert other.patch(base, json={"title": "x"}).status_code == 404
    assert other.delete(base).status_code == 404
    assert other.get(f"{base}/signatories").status_code == 404
    org = other.post("/api/organisations", json={"name": "Préfecture 93", "kind": "prefecture"}).json()
    assert other.post(f"{base}/signatories", json={"organisation": org["id"], "role": "prefet"}).status_code == 404
    sid = signatories[0]["id"]
    assert other.patch(f"{base}/signatories/{sid}", json={"status": "refused"}).status_code == 404
    assert other.post(f"{base}/signatories/{sid}/request").status_code == 404
    assert other.post(f"{base}/amend", json={"subject": "x"}).status_code == 404
    assert other.post(f"{base}/terminate", json={"terminated_on": "2026-01-01"}).status_code == 404
    assert other.get("/api/conventions", params={"department": "34"}).status_code == 404
    assert other.get("/api/conventions").json()["total"] == 0
    assert other.get("/api/conventions/coverage", params={"department": "34"}).status_code == 404
    web.login(intruder.email)
    assert web.get(f"/d/34/conventions/{convention['id']}").status_code == 404
    assert web.get(f"/d/93/conventions/{convention['id']}").status_code == 404
    assert web.post(f"/d/93/conventions/{convention['id']}/signature", {"signatory": sid}).status_code == 404
    assert "Protection des mineurs 34" not in web.get("/conventions/couverture").text

    # Every convention route answers « not found » (or refuses) to the intruder.
    ids = {"code": "34", "convention_id": convention["id"], "signatory_id": sid}
    checked = 0
    for route in app.routes:
        if "convention" not in route.path:
            continue
        path = re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: str(ids.get(m.group(1), m.group(0))), route.path)
        for method in sorted(set(route.methods) - {"OPTIONS", "HEAD"}):
            if path.startswith("/api/"):
                response = other.client.request(
                    method, path, headers=other.headers, json={} if method in {"POST", "PATCH"} else None
                )
            elif method == "GET":
                response = web.get(path)
            else:
                response = web.post(path, {"title": "intrus"})
            checked += 1
            assert "Protection des mineurs 34" not in response.text, (method, path)
            if "/d/" in path or "convention_id" in route.path:  # lists and national views may answer 200
                assert response.status_code in (400, 403, 404, 405, 422), (method, path, response.status_code)
    assert checked > 15
    national = api_as("national", None)
    assert national.get(base).json()["title"] == "Protection des mineurs 34"


# -- pages ----------------------------------------------------------------------------------------
def test_an_agent_manages_a_convention_through_the_pages(web, make_user, herault):
    web.login(make_user("prefecture", "34").email)

    def post(url: str, data: dict[str, Any] | None = None, follow_redirects: bool = False) -> Any:
        return web.post(url, data, follow_redirects=follow_redirects)

    form = web.get("/d/34/conventions/nouvelle")
    assert form.status_code == 200 and "Modèle de convention" in form.text
    invalid = post("/d/34/conventions/nouvelle", {"model": ""})
    assert invalid.status_code == 422 and "Ce champ est obligatoire." in invalid.text
    created = post("/d/34/conventions/nouvelle", {"model": "clav-partenariat", "title": "CLAV de Montpellier"})
    assert created.status_code == 303
    location = created.headers["location"]
    convention_id = int(location.rsplit("/", 1)[1])
    detail = web.get(location)
    assert "CLAV de Montpellier" in detail.text and "Brouillon" in detail.text
    assert "0 signature sur 5 requises" in detail.text

    org, contact = herault.organisation("ddets", "DDETS 34")
    added = post(
        f"/d/34/conventions/{convention_id}/signataires", {"organisation": org, "role": "ddets", "contact": contact}
    )
    assert added.status_code == 303
    wrong = post(f"/d/34/conventions/{convention_id}/signataires", {"organisation": org, "role": "dasen"})
    assert wrong.status_code == 422
    assert "ne peut pas signer" in html.unescape(wrong.text)
    signatory_id = run(service.get_convention(herault.scope, convention_id))["signatories"][0]["id"]
    sent = post(f"/d/34/conventions/{convention_id}/signataires/{signatory_id}/envoyer")
    assert sent.status_code == 303
    assert len(_outbox("convention_signature")) == 1
    assert run(service.get_convention(herault.scope, convention_id))["status"] == "in_signature"
    renamed = post(f"/d/34/conventions/{convention_id}/modifier", {"title": "CLAV – Montpellier", "notes": ""})
    assert renamed.status_code == 303
    assert run(service.get_convention(herault.scope, convention_id))["title"] == "CLAV – Montpellier"
    # A draft only can be deleted; this one is in signature.
    refused = post(f"/d/34/conventions/{convention_id}/supprimer", follow_redirects=True)
    assert "brouillon" in refused.text
    terminated = post(
        f"/d/34/conventions/{convention_id}/resilier", {"terminated_on": "2026-01-01", "reason": "Abandon"}
    )
    assert terminated.status_code == 303
    assert run(service.get_convention(herault.scope, convention_id))["status"] == "terminated"
