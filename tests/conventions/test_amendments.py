"""Amendments (avenants) have a signature state of their own: the convention stays in force on its
current text, keeps covering its pilot site and goes on being renewed or expiring while an amendment
is signed; the amendment's text becomes the convention's once every required role has signed it.
Signature links of an amendment sign the amendment only. Every step is audited; bad input gets a
French answer. Databases of the previous release, where an amendment put the convention back in
signature, are repaired by the migration."""

from __future__ import annotations

import datetime as dt
import html
import importlib
import json
from typing import Any

import pytest

from coord.access import SYSTEM
from coord.audit import log as audit
from coord.audit.tables import AuditEntry
from coord.conventions import coverage, service, tasks
from coord.conventions.tables import Convention, ConventionAmendment, ConventionSignatory
from coord.core import clock
from coord.core.db import transaction
from coord.core.errors import Conflict
from tests.conftest import run
from tests.conventions.support import (
    T0,
    UTC,
    Dept,
    link_from_mail,
    outbox,
    sign,
    signed_minors_convention,
)

SIGNED_ON = dt.date(2026, 1, 10)


def _convention(dept: Dept, convention_id: int) -> dict[str, Any]:
    return run(service.get_convention(dept.scope, convention_id))


def _amend(dept: Dept, convention_id: int, subject: str = "Ajout d'un volet formation", **extra: Any) -> dict:
    return run(service.amend(dept.scope, convention_id, {"subject": subject, **extra}, now=T0))


def _audit(entity: str, entity_id: int | None = None) -> list[dict[str, Any]]:
    query = AuditEntry.select().where(AuditEntry.entity == entity).order_by(AuditEntry.id)
    if entity_id is not None:
        query = query.where(AuditEntry.entity_id == entity_id)
    return run(query)


def _json(value: Any) -> Any:
    """A JSON column as read back (text on SQLite, text or decoded on PostgreSQL)."""
    return json.loads(value) if isinstance(value, str) else value


def _text_in_force_record(convention_id: int) -> list[dict[str, Any]]:
    """The convention's own signature record: its row's dates and the signatures of round 0."""
    row = run(
        Convention.select(Convention.status, Convention.signed_on, Convention.effective_from, Convention.ends_on).where(
            Convention.id == convention_id
        )
    )
    signatures = run(
        ConventionSignatory.select(ConventionSignatory.id, ConventionSignatory.status, ConventionSignatory.signed_on)
        .where((ConventionSignatory.convention == convention_id) & (ConventionSignatory.amendment == 0))
        .order_by(ConventionSignatory.id)
    )
    return row + signatures


# -- the reported bug: an amendment no longer takes the convention out of force -------------------------
def test_an_open_amendment_keeps_the_convention_in_force_and_its_pilot_site_covered(herault, api_as, web, make_user):
    api = api_as("prefecture", "34")
    site = api.post("/api/pilot-sites", json={"plan": "2014-2016", "scheme": "protection_mineurs"}).json()
    convention, _ = signed_minors_convention(herault, SIGNED_ON, T0, pilot_site=site["id"])
    cid = convention["id"]
    assert coverage.summary(run(coverage.coverage(herault.scope, department="34")))["covered"] == 1
    before = _text_in_force_record(cid)

    opened = api.post(
        f"/api/conventions/{cid}/amend",
        json={"subject": "Ajout d'un volet formation", "text": "Article 4 bis : formation des agents."},
    )
    assert opened.status_code == 201, opened.text
    body = opened.json()
    assert (body["status"], body["status_label"]) == ("in_force", "En vigueur")
    assert (body["signed_count"], body["required_count"], body["version_label"]) == (8, 8, "Texte initial")
    amendment = body["open_amendment"]
    assert amendment["number"] == 1 and amendment["status_label"] == "En cours de signature"
    assert amendment["progress_label"] == "Avenant n° 1 : 0/8 signatures"
    assert {s["status"] for s in amendment["signatories"]} == {"to_send"}

    # Three of the eight sign the amendment.
    for s in amendment["signatories"][:3]:
        response = api.patch(
            f"/api/conventions/{cid}/signatories/{s['id']}", json={"status": "signed", "signed_on": "2026-01-20"}
        )
        assert response.status_code == 200, response.text
    state = api.get(f"/api/conventions/{cid}").json()
    assert state["status"] == "in_force" and (state["signed_count"], state["required_count"]) == (8, 8)
    assert state["open_amendment"]["progress_label"] == "Avenant n° 1 : 3/8 signatures"
    assert [m["role"] for m in state["open_amendment"]["missing_roles"]][:1] == ["dt_pjj"]
    assert api.get(f"/api/conventions/{cid}/amendment").json()["signed_count"] == 3
    assert len(api.get(f"/api/conventions/{cid}/amendment/signatories").json()) == 8
    assert _text_in_force_record(cid) == before  # the convention's own signatures are untouched

    # Coverage never drops: the site is covered, the amendment shown next to the convention.
    sites = run(coverage.coverage(herault.scope, department="34"))
    assert sites[0]["covered"] and sites[0]["missing_signatures"] == 0
    assert sites[0]["conventions"][0]["open_amendment"]["progress_label"] == "Avenant n° 1 : 3/8 signatures"
    assert coverage.summary(sites)["covered"] == 1 and coverage.summary(sites)["amendment_in_signature"] == 1
    csv_lines = api_as("national", None).get("/api/conventions/coverage", params={"format": "csv"}).text.splitlines()
    assert csv_lines[0].endswith(
        ";avenant_en_cours;avenant_signatures_obtenues;avenant_signatures_requises;avenant_roles_manquants"
    )
    assert any(line.startswith("34;") and ";En vigueur;0;8;8;" in line and ";1;3;8;" in line for line in csv_lines)

    # The pages show both states, in French.
    web.login(make_user("prefecture", "34").email)
    detail = html.unescape(web.get(f"/d/34/conventions/{cid}").text)
    assert '<dd class="status" id="etat-convention">En vigueur</dd>' in detail
    assert "8 signatures sur 8 requises" in detail
    assert "Avenant n° 1 : 3/8 signatures" in detail
    assert "Avenant n° 1 en cours de signature" in detail and "3 signatures sur 8 requises" in detail
    assert "Article 4 bis : formation des agents." in detail
    assert "reste en vigueur sur son texte actuel" in detail
    assert "Avenant n° 1 : 3/8 signatures" in html.unescape(web.get("/d/34/conventions").text)
    national = html.unescape(web.get("/conventions/couverture").text)
    assert "1 site avec un avenant en cours de signature" in national

    # The last five signatures: the amendment's text becomes the convention's.
    for s in state["open_amendment"]["signatories"][3:]:
        sign(herault, cid, s["id"], dt.date(2026, 1, 25), T0 + dt.timedelta(days=20))
    done = _convention(herault, cid)
    assert (done["status"], done["amendment"], done["version_label"]) == ("in_force", 1, "Avenant n° 1")
    assert done["amendment_subject"] == "Ajout d'un volet formation"
    assert done["amendment_text"] == "Article 4 bis : formation des agents."
    assert done["text_in_force_since"] == dt.date(2026, 1, 25)
    assert done["open_amendment"] is None
    assert done["signed_on"] == SIGNED_ON and done["ends_on"] == dt.date(2029, 1, 10)
    assert (done["signed_count"], done["required_count"]) == (8, 8)
    [history] = api.get(f"/api/conventions/{cid}/amendments").json()
    assert (history["number"], history["status"], history["in_force_from"]) == (1, "in_force", "2026-01-25")
    assert history["progress_label"] == "Avenant n° 1 : 8/8 signatures"
    assert api.get(f"/api/conventions/{cid}/amendment").status_code == 404
    assert coverage.summary(run(coverage.coverage(herault.scope, department="34")))["covered"] == 1
    page = html.unescape(web.get(f"/d/34/conventions/{cid}").text)
    assert "Avenant n° 1 : Ajout d'un volet formation (depuis le dimanche 25 janvier 2026)" in page
    assert "Texte de l'avenant n° 1, en vigueur" in page

    # Every step is in the audit log.
    [amendment_row] = run(ConventionAmendment.select().where(ConventionAmendment.convention == cid))
    steps = [(e["action"], e["summary"]) for e in _audit("convention_amendment", amendment_row["id"])]
    assert steps[0] == ("amend", "Avenant n° 1 à « Protection des mineurs 34 » ouvert à la signature")
    assert steps[-1] == ("update", "Avenant n° 1 à « Protection des mineurs 34 » : entrée en vigueur")
    signatures = [e for e in _audit("convention_signatory") if e["action"] == "sign"]
    assert sum("sur l'avenant n° 1 de « Protection des mineurs 34 »" in e["summary"] for e in signatures) == 8
    convention_log = _audit("convention", cid)
    assert (
        convention_log[-1]["summary"] == "Convention « Protection des mineurs 34 » : texte de l'avenant n° 1 en vigueur"
    )
    assert _json(convention_log[-1]["after"]) == {"amendment": 1, "amendment_subject": "Ajout d'un volet formation"}


def test_a_second_amendment_follows_the_first_and_numbers_are_never_reused(herault):
    convention, _ = signed_minors_convention(herault, SIGNED_ON, T0)
    cid = convention["id"]
    first = _amend(herault, cid, "Premier avenant")["open_amendment"]
    run(service.withdraw_amendment(herault.scope, cid, {"reason": "Texte renégocié"}, now=T0))
    second = _amend(herault, cid, "Deuxième avenant")["open_amendment"]
    assert (first["number"], second["number"]) == (1, 2)
    for s in second["signatories"]:
        sign(herault, cid, s["id"], dt.date(2026, 2, 1), T0 + dt.timedelta(days=30))
    third = _amend(herault, cid, "Troisième avenant")
    assert third["amendment"] == 2 and third["open_amendment"]["number"] == 3
    # The third round starts from the signatories of the text in force (the second amendment's).
    assert len(third["open_amendment"]["signatories"]) == 8
    listed = run(service.list_amendments(herault.scope, cid))
    assert [(a["number"], a["status"]) for a in listed] == [(3, "open"), (2, "in_force"), (1, "withdrawn")]
    assert listed[2]["close_reason"] == "Texte renégocié" and listed[2]["closed_on"] == dt.date(2026, 1, 10)
    # History holds the rounds of the initial text and of the abandoned amendment, not the live ones.
    history = run(service.signatory_history(herault.scope, cid))
    assert {s["amendment"] for s in history} == {0, 1}


# -- renewal and expiry go on while an amendment is open -------------------------------------------------
def test_a_tacit_renewal_leaves_the_amendment_open_and_it_applies_to_the_new_period(herault):
    convention, _ = signed_minors_convention(herault, dt.date(2026, 1, 12), T0 + dt.timedelta(days=2))
    cid = convention["id"]
    run(tasks.due_reminders(dt.datetime(2028, 10, 14, 8, tzinfo=UTC)))
    assert _convention(herault, cid)["status"] == "expiring"
    amended = run(
        service.amend(herault.scope, cid, {"subject": "Nouvelle annexe"}, now=dt.datetime(2028, 11, 2, tzinfo=UTC))
    )
    assert amended["status"] == "expiring" and amended["open_amendment"]["number"] == 1

    run(tasks.due_reminders(dt.datetime(2029, 1, 13, 8, tzinfo=UTC)))
    renewed = _convention(herault, cid)
    assert (renewed["status"], renewed["period"], renewed["ends_on"]) == ("renewed", 2, dt.date(2032, 1, 12))
    assert renewed["open_amendment"]["status"] == "open"  # still attached, still being signed

    later = dt.datetime(2029, 2, 1, 9, tzinfo=UTC)
    for s in renewed["open_amendment"]["signatories"]:
        current = sign(herault, cid, s["id"], dt.date(2029, 2, 1), later)
    assert (current["status"], current["period"], current["amendment"]) == ("renewed", 2, 1)
    assert current["text_in_force_since"] == dt.date(2029, 2, 1)
    assert current["effective_from"] == dt.date(2029, 1, 13) and current["ends_on"] == dt.date(2032, 1, 12)


def test_when_the_convention_expires_its_open_amendment_lapses_and_its_reminders_stop(herault):
    convention = run(service.create_convention(herault.scope, {"model": "exploitation-travail"}))
    cid = convention["id"]
    for kind, role in (
        ("prefecture", "prefet"),
        ("ddets", "ddets"),
        ("autre", "employeurs"),
        ("autre", "syndicats"),
        ("autre", "chambre_consulaire"),
    ):
        org, contact = herault.organisation(kind, f"Organisation {role}")
        s = run(service.add_signatory(herault.scope, cid, {"organisation": org, "role": role, "contact": contact}))
        sign(herault, cid, s["id"], SIGNED_ON, T0)
    assert _convention(herault, cid)["ends_on"] == dt.date(2029, 1, 10)

    asked = dt.datetime(2028, 12, 20, 9, tzinfo=UTC)
    opened = run(service.amend(herault.scope, cid, {"subject": "Extension au BTP"}, now=asked))["open_amendment"]
    first = opened["signatories"][0]
    run(service.send_request(herault.scope, cid, first["id"], now=asked))
    request = outbox("convention_signature")[-1]
    assert "avenant n° 1" in request["body_text"] and request["to_email"] == first["email"]
    # The amendment's signatories are reminded like the convention's (15 days after the request).
    run(tasks.due_reminders(dt.datetime(2029, 1, 5, 8, tzinfo=UTC)))
    [reminder] = outbox("convention_signature_reminder")
    assert reminder["dedupe_key"] == f"convention:{cid}:signature-reminder:{first['id']}:15"
    assert "avenant n° 1" in reminder["body_text"]

    run(tasks.due_reminders(dt.datetime(2029, 1, 11, 12, tzinfo=UTC)))
    ended = _convention(herault, cid)
    assert ended["status"] == "expired" and ended["open_amendment"] is None
    [lapsed] = run(service.list_amendments(herault.scope, cid))
    assert (lapsed["status"], lapsed["status_label"], lapsed["closed_on"]) == ("lapsed", "Caduc", dt.date(2029, 1, 11))
    assert "La convention a pris fin (expirée)" in lapsed["close_reason"]
    with pytest.raises(Conflict) as refused:
        sign(
            herault, cid, opened["signatories"][1]["id"], dt.date(2029, 1, 11), dt.datetime(2029, 1, 11, 13, tzinfo=UTC)
        )
    assert "caduc" in refused.value.message
    run(tasks.due_reminders(dt.datetime(2029, 1, 21, 8, tzinfo=UTC)))  # the 30-day reminder is not sent
    assert len(outbox("convention_signature_reminder")) == 1
    lapse = _audit("convention_amendment", lapsed["id"])[-1]
    assert lapse["actor"] == "système" and lapse["summary"].endswith(": caduc")


def test_a_termination_makes_the_open_amendment_lapse_and_a_later_one_is_refused(herault):
    convention, _ = signed_minors_convention(herault, SIGNED_ON, T0)
    cid = convention["id"]
    _amend(herault, cid)
    # A termination ahead leaves the amendment open: it may still enter into force before.
    ahead = run(service.terminate(herault.scope, cid, {"terminated_on": "2027-06-30"}, now=T0))
    assert ahead["status"] == "in_force" and ahead["open_amendment"]["status"] == "open"
    run(tasks.due_reminders(dt.datetime(2027, 7, 1, 12, tzinfo=UTC)))
    assert _convention(herault, cid)["status"] == "terminated"
    assert run(service.list_amendments(herault.scope, cid))[0]["status"] == "lapsed"

    other, _ = signed_minors_convention(herault, SIGNED_ON, T0, title="Deuxième convention")
    _amend(herault, other["id"])
    run(
        service.terminate(herault.scope, other["id"], {"terminated_on": "2026-01-10", "reason": "Dénonciation"}, now=T0)
    )
    [lapsed] = run(service.list_amendments(herault.scope, other["id"]))
    assert lapsed["status"] == "lapsed" and "résiliée au 10/01/2026" in lapsed["close_reason"]

    third, _ = signed_minors_convention(herault, SIGNED_ON, T0, title="Troisième convention")
    run(service.terminate(herault.scope, third["id"], {"terminated_on": "2027-06-30"}, now=T0))
    with pytest.raises(Conflict) as refused:
        _amend(herault, third["id"])
    assert refused.value.message == "La convention est résiliée au 30/06/2027 : aucun avenant ne peut plus être ouvert."


# -- signature links of an amendment --------------------------------------------------------------------
def test_an_amendment_signature_link_signs_the_amendment_and_leaves_the_convention_record_alone(client, herault):
    now = dt.datetime.now(UTC)
    day = (now - dt.timedelta(days=3)).date()
    convention, _ = signed_minors_convention(herault, day, now)
    cid = convention["id"]
    before = _text_in_force_record(cid)
    opened = run(
        service.amend(herault.scope, cid, {"subject": "Volet hébergement", "text": "Article 6 modifié."}, now=now)
    )["open_amendment"]
    first, second = opened["signatories"][0], opened["signatories"][1]
    run(service.send_request(herault.scope, cid, first["id"], now=now))
    run(service.send_request(herault.scope, cid, second["id"], now=now))
    token = link_from_mail(first["id"])

    page = html.unescape(client.get(f"/r/signature/{token}").text)
    assert "Avenant n° 1 à la convention « Protection des mineurs 34 »" in page
    assert "Volet hébergement" in page and "Article 6 modifié." in page
    assert "Avenant n° 1 : 0/8 signatures" in page and 'id="etat-convention">En vigueur' in page
    assert 'name="signed_on"' in page

    future = client.post(f"/r/signature/{token}", data={"signed_on": "2999-01-01"})
    assert future.status_code == 422 and "postérieure" in html.unescape(future.text)
    # Signed today: a partner's date may not precede the convention's creation in Coord (today here).
    signed_day = clock.local_today("Europe/Paris", now).isoformat()
    done = client.post(f"/r/signature/{token}", data={"signed_on": signed_day, "confirm": "1"})
    assert done.status_code == 200
    assert "sur l'avenant n° 1 est enregistrée" in html.unescape(done.text)
    assert "Avenant n° 1 : 1/8 signatures" in html.unescape(done.text)
    assert run(service.get_signatory(herault.scope, cid, first["id"]))["status"] == "signed"
    assert _text_in_force_record(cid) == before
    state = _convention(herault, cid)
    assert state["status"] == "in_force" and state["open_amendment"]["signed_count"] == 1
    signed = next(e for e in _audit("convention_signatory", first["id"]) if e["action"] == "sign")
    assert signed["actor"].startswith("lien de signature : ")
    assert "sur l'avenant n° 1 de" in signed["summary"]

    # Once the amendment is abandoned, its links no longer sign anything.
    run(service.withdraw_amendment(herault.scope, cid, {"reason": "Projet retiré"}, now=now))
    revoked = client.post(f"/r/signature/{link_from_mail(second['id'])}", data={"signed_on": day.isoformat()})
    assert revoked.status_code == 403 and "révoqué" in html.unescape(revoked.text)
    after = html.unescape(client.get(f"/r/signature/{token}").text)
    assert "L'avenant n° 1 a été abandonné" in after and 'name="signed_on"' not in after
    assert client.post(f"/r/signature/{token}", data={"signed_on": signed_day, "confirm": "1"}).status_code == 409
    assert _text_in_force_record(cid) == before


# -- bad input -------------------------------------------------------------------------------------------
def test_bad_amendment_input_gets_french_answers_never_a_500(herault, api_as):
    api = api_as("prefecture", "34")
    draft = api.post("/api/conventions", json={"model": "clav-partenariat"}).json()
    refused = api.post(f"/api/conventions/{draft['id']}/amend", json={"subject": "Objet"})
    assert refused.status_code == 409
    assert refused.json()["detail"] == "Un avenant ne peut être ouvert que sur une convention en vigueur."

    convention, _ = signed_minors_convention(herault, SIGNED_ON, T0)
    base = f"/api/conventions/{convention['id']}"
    assert (
        api.get(f"{base}/amendment").json()["detail"]
        == "Aucun avenant n'est en cours de signature sur cette convention."
    )
    for method, path, body in (
        ("patch", f"{base}/amendment", {"text": "x"}),
        ("post", f"{base}/amendment/withdraw", {}),
        ("post", f"{base}/amendment/signatories", {"organisation": 1, "role": "prefet"}),
    ):
        response = getattr(api, method)(path, json=body)
        assert response.status_code == 409, (path, response.text)
        assert response.json()["detail"] == "Aucun avenant n'est en cours de signature sur cette convention."

    for body, field in (
        ({"subject": ""}, "subject"),
        ({"subject": "x" * 2001}, "subject"),
        ({"subject": "Objet", "text": "\x00"}, "text"),
    ):
        response = api.post(f"{base}/amend", json=body)
        assert response.status_code == 422, response.text
        assert field in response.json()["errors"]
    for body in ({"subject": 5}, {"subject": "Objet", "date": "2026-01-01"}, {}):
        response = api.post(f"{base}/amend", json=body)
        assert response.status_code == 400 and response.json()["detail"] == "Paramètres invalides.", response.text

    assert api.post(f"{base}/amend", json={"subject": "Objet", "text": "Texte"}).status_code == 201
    again = api.post(f"{base}/amend", json={"subject": "Un autre"})
    assert again.status_code == 409 and "L'avenant n° 1 est déjà en cours de signature" in again.json()["detail"]
    empty = api.patch(f"{base}/amendment", json={"subject": ""})
    assert empty.status_code == 422 and empty.json()["errors"]["subject"] == "Ce champ est obligatoire."
    edited = api.patch(f"{base}/amendment", json={"text": "Texte\r\nrévisé"})
    assert edited.status_code == 200 and edited.json()["text"] == "Texte\nrévisé"

    org, _ = herault.organisation("ddets", "DDETS de l'Hérault")
    unknown = api.post(f"{base}/amendment/signatories", json={"organisation": org, "role": "ddets"})
    assert unknown.status_code == 422 and "ne prévoit pas le rôle" in unknown.json()["errors"]["role"]
    wrong_kind = api.post(f"{base}/amendment/signatories", json={"organisation": org, "role": "prefet"})
    assert wrong_kind.status_code == 422 and "ne peut pas signer" in wrong_kind.json()["errors"]["organisation"]
    amendment = api.get(f"{base}/amendment").json()
    prefet = amendment["signatories"][0]
    twice = api.post(f"{base}/amendment/signatories", json={"organisation": prefet["organisation"], "role": "prefet"})
    assert twice.status_code == 422 and "déjà signataire" in twice.json()["errors"]["organisation"]
    future = api.patch(f"{base}/signatories/{prefet['id']}", json={"status": "signed", "signed_on": "2999-01-01"})
    assert future.status_code == 422 and "postérieure" in future.json()["errors"]["signed_on"]
    signed = api.patch(f"{base}/signatories/{prefet['id']}", json={"status": "signed", "signed_on": "2026-01-10"})
    assert signed.status_code == 200
    locked = api.patch(f"{base}/amendment", json={"text": "Encore un autre texte"})
    assert (
        locked.status_code == 409 and "Des signatures de cet avenant sont déjà enregistrées" in locked.json()["detail"]
    )
    # A signature of the amendment can be undone while it is open; the text in force's cannot.
    assert api.patch(f"{base}/signatories/{prefet['id']}", json={"status": "to_send"}).status_code == 200
    in_force = api.get(base).json()["signatories"][0]
    undo = api.patch(f"{base}/signatories/{in_force['id']}", json={"status": "to_send"})
    assert undo.status_code == 409 and "ne peut plus être annulée" in undo.json()["detail"]
    assert api.delete(f"{base}/signatories/{in_force['id']}").status_code == 409
    assert api.delete(f"{base}/signatories/{prefet['id']}").status_code == 204
    withdrawn = api.post(f"{base}/amendment/withdraw", json={"reason": "Abandon"})
    assert withdrawn.status_code == 201 and withdrawn.json()["open_amendment"] is None


# -- pages -----------------------------------------------------------------------------------------------
def test_an_agent_opens_signs_and_abandons_an_amendment_through_the_pages(web, make_user, herault):
    web.login(make_user("prefecture", "34").email)
    convention, _ = signed_minors_convention(herault, SIGNED_ON, T0)
    url = f"/d/34/conventions/{convention['id']}"
    page = html.unescape(web.get(url).text)
    assert "Ouvrir l'avenant n° 1" in page and "continue de couvrir son site pilote" in page

    missing = web.post(f"{url}/avenant", {"subject": ""})
    assert missing.status_code == 422 and 'id="f-subject-error"' in missing.text
    opened = web.post(f"{url}/avenant", {"subject": "Volet formation", "text": "Article 4 bis."}, follow_redirects=True)
    text = html.unescape(opened.text)
    assert "Avenant n° 1 ouvert : ses signatures sont à recueillir ; la convention reste en vigueur" in text
    assert "Avenant n° 1 en cours de signature" in text and 'id="etat-convention">En vigueur' in text

    amendment = _convention(herault, convention["id"])["open_amendment"]
    first = amendment["signatories"][0]
    future = web.post(f"{url}/avenant/signature", {"avenant_signatory": first["id"], "avenant_signed_on": "2999-01-01"})
    assert future.status_code == 422
    assert 'id="f-avenant_signed_on-error"' in future.text and "postérieure" in html.unescape(future.text)
    recorded = web.post(
        f"{url}/avenant/signature",
        {"avenant_signatory": first["id"], "avenant_signed_on": "2026-01-10", "avenant_document_ref": "GED-AV1"},
        follow_redirects=True,
    )
    text = html.unescape(recorded.text)
    assert "Signature enregistrée sur l'avenant n° 1 : 1 sur 8 requises." in text
    assert "Avenant n° 1 : 1/8 signatures" in text and "GED-AV1" in text
    assert "Modifier l'avenant" not in text  # a signed text is no longer edited

    org, contact = herault.organisation("barreau", "Ordre des avocats de Montpellier")
    wrong = web.post(f"{url}/avenant/signataires", {"avenant_organisation": org, "avenant_role": "prefet"})
    assert wrong.status_code == 422 and 'id="f-avenant_organisation-error"' in wrong.text
    added = web.post(
        f"{url}/avenant/signataires",
        {"avenant_organisation": org, "avenant_role": "barreau", "avenant_contact": contact},
        follow_redirects=True,
    )
    assert "ajouté(e) à l'avenant comme « Bâtonnier »" in html.unescape(added.text)
    assert len(_convention(herault, convention["id"])["open_amendment"]["signatories"]) == 9
    assert len(_convention(herault, convention["id"])["signatories"]) == 8

    withdrawn = web.post(f"{url}/avenant/abandonner", {"avenant_reason": "Texte renégocié"}, follow_redirects=True)
    text = html.unescape(withdrawn.text)
    assert "Avenant abandonné : la convention reste en vigueur sur son texte actuel." in text
    assert "abandonné le" in text and "Texte renégocié" in text and "Ouvrir l'avenant n° 2" in text


def test_another_department_sees_nothing_of_an_amendment(herault, api_as, web, make_user):
    convention, _ = signed_minors_convention(herault, SIGNED_ON, T0)
    _amend(herault, convention["id"], "Objet confidentiel 34")
    base = f"/api/conventions/{convention['id']}"
    other = api_as("prefecture", "93")
    for method, path, body in (
        ("get", f"{base}/amendment", None),
        ("get", f"{base}/amendments", None),
        ("get", f"{base}/amendment/signatories", None),
        ("patch", f"{base}/amendment", {"subject": "Intrus"}),
        ("post", f"{base}/amendment/withdraw", {}),
        ("post", f"{base}/amendment/signatories", {"organisation": 1, "role": "prefet"}),
        ("post", f"{base}/amend", {"subject": "Intrus"}),
    ):
        response = getattr(other, method)(path, **({"json": body} if body is not None else {}))
        assert response.status_code == 404, (method, path, response.status_code)
        assert "Objet confidentiel 34" not in response.text
    web.login(make_user("prefecture", "93").email)
    for action in ("avenant", "avenant/modifier", "avenant/abandonner", "avenant/signataires", "avenant/signature"):
        response = web.post(f"/d/34/conventions/{convention['id']}/{action}", {"avenant_subject": "Intrus"})
        assert response.status_code == 404, action
    assert _convention(herault, convention["id"])["open_amendment"]["subject"] == "Objet confidentiel 34"


# -- databases of the previous release ----------------------------------------------------------------
MIGRATION = "coord.conventions.piccolo_migrations.conventions_2026_12_03t09_00_01_000000"


async def _as_previous_release(convention_id: int, rounds: list[tuple[int, str, dt.date | None]], **row: Any) -> None:
    """Rewrite a signed convention the way the previous release left it: each round (number,
    subject, date its signatures were given, None while being signed) copied from round 0, an
    `amend` audit entry per round, the convention row as given."""
    base = await ConventionSignatory.select().where(
        (ConventionSignatory.convention == convention_id) & (ConventionSignatory.amendment == 0)
    )
    async with transaction():
        for number, subject, signed_on in rounds:
            for position, s in enumerate(base):
                done = signed_on is not None or position < 2  # an open round has two signatures
                await ConventionSignatory.insert(
                    ConventionSignatory(
                        department=s["department"],
                        convention=convention_id,
                        amendment=number,
                        organisation=s["organisation"],
                        role=s["role"],
                        status="signed" if done else "to_send",
                        signed_on=(signed_on or dt.date(2026, 3, 2)) if done else None,
                    )
                )
            await audit.record(
                SYSTEM,
                "amend",
                "convention",
                convention_id,
                department_id=base[0]["department"],
                summary=f"Avenant n° {number}",
                after={"amendment": number, "amendment_subject": subject, "status": "in_signature"},
            )
        await Convention.update({getattr(Convention, k): v for k, v in row.items()}).where(
            Convention.id == convention_id
        )


def test_amendments_opened_before_this_release_get_their_own_state_and_the_convention_is_in_force_again(herault):
    stuck, _ = signed_minors_convention(herault, SIGNED_ON, T0, title="Avenant en cours")
    twice, _ = signed_minors_convention(herault, SIGNED_ON, T0, title="Deux avenants")
    ended, _ = signed_minors_convention(herault, SIGNED_ON, T0, title="Résiliée pendant l'avenant")
    run(
        _as_previous_release(
            stuck["id"],
            [(1, "Volet formation", None)],
            amendment=1,
            amendment_subject="Volet formation",
            status="in_signature",
            signed_on=None,
        )
    )
    run(
        _as_previous_release(
            twice["id"],
            [(1, "Premier avenant", dt.date(2026, 2, 1)), (2, "Deuxième avenant", dt.date(2026, 4, 1))],
            amendment=2,
            amendment_subject="Deuxième avenant",
            signed_on=dt.date(2026, 4, 1),
        )
    )
    run(
        _as_previous_release(
            ended["id"],
            [(1, "Jamais signé", None)],
            amendment=1,
            amendment_subject="Jamais signé",
            status="terminated",
            signed_on=None,
            terminated_on=dt.date(2026, 3, 1),
        )
    )
    assert run(ConventionAmendment.count()) == 0

    run(importlib.import_module(MIGRATION).backfill(Convention._meta.db))

    repaired = _convention(herault, stuck["id"])
    assert (repaired["status"], repaired["amendment"], repaired["signed_on"]) == ("in_force", 0, SIGNED_ON)
    assert (repaired["signed_count"], repaired["required_count"]) == (8, 8)
    opened = repaired["open_amendment"]
    assert (opened["number"], opened["subject"], opened["progress_label"]) == (
        1,
        "Volet formation",
        "Avenant n° 1 : 2/8 signatures",
    )
    upgrade = [e for e in _audit("convention", stuck["id"]) if e["action"] == "upgrade"]
    assert len(upgrade) == 1 and upgrade[0]["actor"] == "système"
    assert _json(upgrade[0]["after"]) == {"status": "in_force", "amendment": 0}
    # The periodic job settles its dates (next status change: 90 days before the end).
    run(tasks.due_reminders(dt.datetime(2026, 5, 1, 8, tzinfo=UTC)))
    row = run(
        Convention.select(Convention.status, Convention.next_transition_on).where(Convention.id == stuck["id"]).first()
    )
    assert row == {"status": "in_force", "next_transition_on": dt.date(2028, 10, 12)}
    # ... and the amendment goes on: its last six signatures bring it into force.
    for s in opened["signatories"][2:]:
        sign(herault, stuck["id"], s["id"], dt.date(2026, 5, 2), dt.datetime(2026, 5, 2, 9, tzinfo=UTC))
    assert _convention(herault, stuck["id"])["amendment"] == 1

    both = _convention(herault, twice["id"])
    assert (both["amendment"], both["amendment_subject"], both["signed_on"]) == (2, "Deuxième avenant", SIGNED_ON)
    assert both["text_in_force_since"] == dt.date(2026, 4, 1)
    listed = run(service.list_amendments(herault.scope, twice["id"]))
    assert [(a["number"], a["subject"], a["status"], a["in_force_from"]) for a in listed] == [
        (2, "Deuxième avenant", "in_force", dt.date(2026, 4, 1)),
        (1, "Premier avenant", "in_force", dt.date(2026, 2, 1)),
    ]

    closed = _convention(herault, ended["id"])
    assert (closed["status"], closed["amendment"], closed["open_amendment"]) == ("terminated", 0, None)
    [lapsed] = run(service.list_amendments(herault.scope, ended["id"]))
    assert (lapsed["status"], lapsed["closed_on"]) == ("lapsed", dt.date(2026, 3, 1))
    assert run(ConventionAmendment.count()) == 4
