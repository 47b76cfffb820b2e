"""Account administration: the national coordinator manages every account, a prefecture referent who
« gère les comptes du département » manages their département's only; every action is audited."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import PASSWORD, Account, ApiClient, run

INVITATION_LINK = re.compile(r"http://testserver\.local/invitation/([A-Za-z0-9_-]{40,})")


@pytest.fixture
def make_manager(db):
    """A prefecture referent given « gère les comptes du département » (the shared `make_user` has no
    such option)."""
    from coord.access import SYSTEM, Scope
    from coord.accounts.service import create_token, create_user

    def make(department: str = "34", email: str | None = None) -> Account:
        email = email or f"referent-{department}@test.gouv.fr"
        run(
            create_user(
                Scope(SYSTEM),
                {
                    "email": email,
                    "password": PASSWORD,
                    "role": "prefecture",
                    "department": department,
                    "full_name": f"Référente {department}",
                    "manages_accounts": True,
                },
            )
        )
        return Account(email, "prefecture", department, run(create_token(email, "tests")))

    return make


def user_id(email: str) -> int:
    from coord.accounts.tables import User

    return run(User.select(User.id).where(User.email == email).first())["id"]


def account_row(email: str) -> dict[str, Any]:
    from coord.accounts.tables import User

    return run(User.select().where(User.email == email).first())


def audit_rows(entity: str | None = None) -> list[dict[str, Any]]:
    from coord.audit.tables import AuditEntry

    query = AuditEntry.select(
        AuditEntry.action,
        AuditEntry.entity,
        AuditEntry.entity_id,
        AuditEntry.actor,
        AuditEntry.ip,
        AuditEntry.summary,
        AuditEntry.department.code.as_alias("department"),
    ).order_by(AuditEntry.id)
    if entity:
        query = query.where(AuditEntry.entity == entity)
    return run(query)


def changes() -> list[dict[str, Any]]:
    """The audit without the sign-ins (which the tests do on the way)."""
    return [e for e in audit_rows() if not e["action"].startswith(("sign", "login"))]


def outbox_to(email: str) -> list[dict[str, Any]]:
    from coord.mail.tables import OutboxMessage

    return run(OutboxMessage.select().where(OutboxMessage.to_email == email).order_by(OutboxMessage.id))


def invitation_rows(email: str) -> list[dict[str, Any]]:
    from coord.accounts.tables import AccountInvitation

    return run(AccountInvitation.select().where(AccountInvitation.email == email).order_by(AccountInvitation.id))


def test_the_national_coordinator_invites_a_referent_of_the_herault_who_gets_a_link_by_mail(web, make_user):
    from coord.accounts.tokens import digest

    national = make_user("national", None)
    web.login(national.email)
    assert web.get("/comptes").status_code == 200
    response = web.post(
        "/comptes/inviter",
        {
            "email": "Referente.Herault@Interieur.gouv.fr",
            "full_name": "Claire Martin",
            "role": "prefecture",
            "department": "34",
            "manages_accounts": "1",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    email = "referente.herault@interieur.gouv.fr"
    [invitation] = invitation_rows(email)
    assert invitation["role"] == "prefecture" and invitation["manages_accounts"] is True
    assert invitation["invited_by"] == national.email
    [mail] = outbox_to(email)
    assert mail["kind"] == "account_invitation" and mail["entity_id"] == invitation["id"]
    assert "Hérault (34)" in mail["subject"]
    secret = INVITATION_LINK.search(mail["body_text"]).group(1)
    assert digest(secret) == invitation["token_hash"]  # the mailed link opens this invitation
    assert secret in mail["body_html"]
    assert "Agent de préfecture" in mail["body_text"] and "7 jours" in mail["body_text"]
    assert secret not in response.text and secret not in web.get("/comptes").text  # only the invited person has it
    listed = web.get("/d/34/comptes")
    assert listed.status_code == 200 and email in listed.text
    [entry] = [e for e in audit_rows("account_invitation") if e["action"] == "invite"]
    assert entry["department"] == "34" and entry["actor"] == national.email and entry["ip"]


def test_a_referent_who_manages_accounts_invites_an_observer_of_their_department(client, web, make_manager):
    referent = make_manager("34")
    api = ApiClient(client, referent.token)
    response = api.post("/api/accounts/invitations", json={"email": "obs34@test.gouv.fr", "role": "observer"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["department"] == "34" and body["role_label"] == "Observateur" and body["status"] == "pending"
    assert "link" not in body and "token" not in body
    assert INVITATION_LINK.search(outbox_to("obs34@test.gouv.fr")[0]["body_text"])
    # The same from the département's page.
    web.login(referent.email)
    page = web.get("/d/34/comptes")
    assert page.status_code == 200 and "obs34@test.gouv.fr" in page.text
    assert 'value="national"' not in page.text  # a referent is never offered the national role
    response = web.post(
        "/d/34/comptes/inviter", {"email": "coord34@test.gouv.fr", "role": "coordinator"}, follow_redirects=False
    )
    assert response.status_code == 303
    assert [i["role"] for i in invitation_rows("coord34@test.gouv.fr")] == ["coordinator"]
    listed = api.get("/api/accounts/invitations").json()
    assert {i["email"] for i in listed["items"]} == {"obs34@test.gouv.fr", "coord34@test.gouv.fr"}


def test_a_referent_reads_and_changes_nothing_in_another_department(client, web, make_user, make_manager):
    referent = make_manager("34")
    gard = make_user("prefecture", "30")
    gard_id = user_id(gard.email)
    api = ApiClient(client, referent.token)
    before = changes()
    assert api.get(f"/api/accounts/{gard_id}").status_code == 404
    assert api.patch(f"/api/accounts/{gard_id}", json={"role": "observer"}).status_code == 404
    assert api.patch(f"/api/accounts/{gard_id}", json={"active": False}).status_code == 404
    assert api.get("/api/accounts", params={"department": "30"}).status_code == 404
    assert gard.email not in api.get("/api/accounts").text
    refused = api.post(
        "/api/accounts/invitations", json={"email": "x30@test.gouv.fr", "role": "observer", "department": "30"}
    )
    assert refused.status_code == 403 and "département" in refused.json()["detail"]
    web.login(referent.email)
    assert web.get("/d/30/comptes").status_code == 404
    assert web.post("/d/30/comptes/inviter", {"email": "y30@test.gouv.fr", "role": "observer"}).status_code == 404
    assert web.get(f"/d/34/comptes/{gard_id}").status_code == 404
    assert web.post(f"/d/34/comptes/{gard_id}/desactiver").status_code == 404
    assert account_row(gard.email)["active"] is True and account_row(gard.email)["role"] == "prefecture"
    assert invitation_rows("x30@test.gouv.fr") == [] and invitation_rows("y30@test.gouv.fr") == []
    assert changes() == before


def test_a_referent_cannot_reach_a_national_account(client, web, make_user, make_manager):
    referent = make_manager("34")
    national = make_user("national", None)
    national_id = user_id(national.email)
    api = ApiClient(client, referent.token)
    before = changes()
    assert api.get(f"/api/accounts/{national_id}").status_code == 404
    assert api.patch(f"/api/accounts/{national_id}", json={"active": False}).status_code == 404
    assert national.email not in api.get("/api/accounts").text
    web.login(referent.email)
    assert web.get(f"/d/34/comptes/{national_id}").status_code == 404
    assert national.email not in web.get("/d/34/comptes").text
    everything = web.get("/comptes", follow_redirects=False)
    assert everything.status_code == 303 and everything.headers["location"] == "/d/34/comptes"
    assert web.get(f"/comptes/{national_id}").status_code == 403
    assert web.post(f"/comptes/{national_id}/desactiver").status_code == 403
    assert account_row(national.email)["active"] is True
    assert changes() == before


def test_nobody_changes_their_own_role_or_right_nor_deactivates_themselves(client, web, make_user, make_manager):
    referent = make_manager("34")
    national = make_user("national", None)
    own_id, national_id = user_id(referent.email), user_id(national.email)
    api = ApiClient(client, referent.token)
    before = changes()
    for change in (
        {"role": "observer"},
        {"manages_accounts": False},
        {"active": False},
        {"full_name": "X", "active": False},
    ):
        response = api.patch(f"/api/accounts/{own_id}", json=change)
        assert response.status_code == 403, change
        assert "votre propre" in response.json()["detail"]
    national_api = ApiClient(client, national.token)
    assert national_api.patch(f"/api/accounts/{national_id}", json={"active": False}).status_code == 403
    assert (
        national_api.patch(f"/api/accounts/{national_id}", json={"role": "observer", "department": "34"}).status_code
        == 403
    )
    web.login(referent.email)
    refused = web.post(f"/d/34/comptes/{own_id}/desactiver")
    assert refused.status_code == 403 and "propre compte" in refused.text
    assert account_row(referent.email)["active"] is True and account_row(referent.email)["manages_accounts"] is True
    assert account_row(national.email)["role"] == "national"
    assert changes() == before
    # Their own name is theirs to change.
    assert (
        api.patch(f"/api/accounts/{own_id}", json={"full_name": "Claire Martin"}).json()["full_name"] == "Claire Martin"
    )


def test_a_referent_cannot_give_the_national_role(client, make_user, make_manager):
    referent = make_manager("34")
    colleague = make_user("observer", "34")
    api = ApiClient(client, referent.token)
    invited = api.post("/api/accounts/invitations", json={"email": "n@test.gouv.fr", "role": "national"})
    assert invited.status_code == 403 and "Coordination nationale" in invited.json()["detail"]
    promoted = api.patch(f"/api/accounts/{user_id(colleague.email)}", json={"role": "national"})
    assert promoted.status_code == 403
    assert invitation_rows("n@test.gouv.fr") == [] and account_row(colleague.email)["role"] == "observer"


def test_a_role_outside_the_list_is_refused_with_a_french_message(client, web, make_user, make_manager):
    referent = make_manager("34")
    colleague = make_user("observer", "34")
    api = ApiClient(client, referent.token)
    invited = api.post("/api/accounts/invitations", json={"email": "r@test.gouv.fr", "role": "administrateur"})
    assert invited.status_code == 422
    assert "Valeur inconnue « administrateur »" in invited.json()["errors"]["role"]
    changed = api.patch(f"/api/accounts/{user_id(colleague.email)}", json={"role": "superviseur"})
    assert changed.status_code == 422 and "Valeurs possibles" in changed.json()["errors"]["role"]
    web.login(referent.email)
    form = web.post("/d/34/comptes/inviter", {"email": "r@test.gouv.fr", "full_name": "Rémi", "role": "chef"})
    assert form.status_code == 422 and "Valeur inconnue « chef »" in form.text and 'value="Rémi"' in form.text
    # Other bad input: no address, the right given to an observer, an address with an account.
    form = web.post("/d/34/comptes/inviter", {"email": "", "role": "observer", "manages_accounts": "1"})
    assert form.status_code == 422 and "Ce champ est obligatoire" in form.text
    assert "Seul un agent de préfecture peut gérer les comptes" in form.text
    taken = api.post("/api/accounts/invitations", json={"email": colleague.email, "role": "observer"})
    assert taken.status_code == 422 and "existe déjà" in taken.json()["errors"]["email"]
    assert invitation_rows("r@test.gouv.fr") == [] and outbox_to(colleague.email) == []
    assert account_row(colleague.email)["role"] == "observer"


def test_a_prefecture_agent_without_the_right_manages_no_account(client, web, make_user):
    agent = make_user("prefecture", "34")
    api = ApiClient(client, agent.token)
    assert api.get("/api/accounts").status_code == 403
    assert (
        api.post("/api/accounts/invitations", json={"email": "z@test.gouv.fr", "role": "observer"}).status_code == 403
    )
    web.login(agent.email)
    refused = web.get("/d/34/comptes")
    assert refused.status_code == 403 and "gérer les comptes" in refused.text
    assert web.get("/comptes").status_code == 403
    assert ">Comptes</a>" not in web.get("/d/34").text  # not offered in the navigation either
    assert invitation_rows("z@test.gouv.fr") == []


def test_deactivation_stops_the_accounts_api_token_and_sessions_at_once(client, web, new_web, make_user, make_manager):
    referent = make_manager("34")
    colleague = make_user("observer", "34")
    colleague_id = user_id(colleague.email)
    browser = new_web()
    browser.login(colleague.email)
    colleague_api = ApiClient(client, colleague.token)
    assert colleague_api.get("/api/organisations").status_code == 200
    api = ApiClient(client, referent.token)
    assert api.get(f"/api/accounts/{colleague_id}").json()["active_sessions"] == 1
    response = api.patch(f"/api/accounts/{colleague_id}", json={"active": False})
    assert response.status_code == 200 and response.json()["active"] is False
    assert colleague_api.get("/api/organisations").status_code == 401
    signed_out = browser.get("/d/34", follow_redirects=False)
    assert signed_out.status_code in (302, 303) and signed_out.headers["location"].startswith("/connexion")
    assert account_row(colleague.email)["deactivated_at"] is not None
    [entry] = [e for e in audit_rows("user") if e["action"] == "deactivate"]
    assert "1 session(s) terminée(s), 1 jeton(s) d'API révoqué(s)" in entry["summary"] and entry["ip"]
    # Reactivated from the page (after its confirmation): it signs in again, its old token stays revoked.
    web.login(referent.email)
    detail = web.get(f"/d/34/comptes/{colleague_id}")
    assert "désactivé" in detail.text and "data-confirm" in detail.text
    assert web.post(f"/d/34/comptes/{colleague_id}/reactiver", follow_redirects=False).status_code == 303
    assert account_row(colleague.email)["active"] is True
    assert colleague_api.get("/api/organisations").status_code == 401
    browser.login(colleague.email)
    assert browser.get("/d/34").status_code == 200


def test_deactivating_from_the_page_asks_for_confirmation(web, make_user, make_manager):
    referent = make_manager("34")
    colleague = make_user("coordinator", "34")
    colleague_id = user_id(colleague.email)
    web.login(referent.email)
    detail = web.get(f"/d/34/comptes/{colleague_id}")
    form = re.search(r'<form method="post" action="/d/34/comptes/\d+/desactiver" data-confirm="([^"]+)"', detail.text)
    assert form and "Désactiver le compte de" in form.group(1)
    response = web.post(f"/d/34/comptes/{colleague_id}/desactiver", follow_redirects=False)
    assert response.status_code == 303
    assert account_row(colleague.email)["active"] is False
    assert "ses sessions sont terminées" in web.get(response.headers["location"]).text


def test_a_role_change_applies_at_once_and_ends_the_accounts_sessions(web, new_web, make_user, make_manager):
    referent = make_manager("34")
    colleague = make_user("prefecture", "34")
    colleague_id = user_id(colleague.email)
    browser = new_web()
    browser.login(colleague.email)
    web.login(referent.email)
    response = web.post(
        f"/d/34/comptes/{colleague_id}/modifier",
        {"rights_form": "1", "full_name": "Paul Durand", "role": "observer"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    row = account_row(colleague.email)
    assert (row["role"], row["full_name"], row["manages_accounts"]) == ("observer", "Paul Durand", False)
    signed_out = browser.get("/d/34", follow_redirects=False)
    assert signed_out.headers["location"].startswith("/connexion")
    [entry] = [e for e in audit_rows("user") if e["action"] == "update"]
    assert "rôle" in entry["summary"] and entry["department"] == "34" and entry["ip"]
    # Giving the right, then taking it back (the unticked checkbox is not sent).
    web.post(
        f"/d/34/comptes/{colleague_id}/modifier", {"rights_form": "1", "role": "prefecture", "manages_accounts": "1"}
    )
    assert account_row(colleague.email)["manages_accounts"] is True
    web.post(f"/d/34/comptes/{colleague_id}/modifier", {"rights_form": "1", "role": "prefecture"})
    assert account_row(colleague.email)["manages_accounts"] is False
    bad = web.post(
        f"/d/34/comptes/{colleague_id}/modifier", {"rights_form": "1", "role": "observer", "manages_accounts": "1"}
    )
    assert bad.status_code == 422 and "Seul un agent de préfecture" in bad.text


def test_an_account_manager_ends_one_session_of_an_account(client, web, new_web, make_user, make_manager):
    from coord.accounts.tables import UserSession

    referent = make_manager("34")
    colleague = make_user("observer", "34")
    colleague_id = user_id(colleague.email)
    laptop, phone = new_web(), web
    laptop.login(colleague.email)
    phone.login(colleague.email)
    api = ApiClient(client, referent.token)
    open_sessions = api.get(f"/api/accounts/{colleague_id}").json()["sessions"]
    assert len(open_sessions) == 2 and {s["method"] for s in open_sessions} == {"password"}
    newest = max(s["id"] for s in open_sessions)  # the phone's
    assert api.delete(f"/api/accounts/{colleague_id}/sessions/{newest}").status_code == 204
    assert phone.get("/d/34", follow_redirects=False).status_code in (302, 303)
    assert laptop.get("/d/34").status_code == 200
    assert api.delete(f"/api/accounts/{colleague_id}/sessions/{newest}").status_code == 404  # already ended
    assert api.delete(f"/api/accounts/{colleague_id}/sessions/99999999999").status_code == 404
    ended = run(UserSession.select(UserSession.ended_at).where(UserSession.id == newest).first())
    assert ended["ended_at"] is not None
    [entry] = audit_rows("user_session")
    assert entry["action"] == "end" and entry["entity_id"] == newest and entry["ip"]


def test_the_terminer_button_of_the_account_page_signs_that_browser_out(web, new_web, make_user, make_manager):
    referent = make_manager("34")
    colleague = make_user("coordinator", "34")
    colleague_id = user_id(colleague.email)
    browser = new_web()
    browser.login(colleague.email)
    web.login(referent.email)
    detail = web.get(f"/d/34/comptes/{colleague_id}").text
    [session_id] = re.findall(rf'action="/d/34/comptes/{colleague_id}/sessions/(\d+)/terminer"', detail)
    response = web.post(f"/d/34/comptes/{colleague_id}/sessions/{session_id}/terminer", follow_redirects=False)
    assert response.status_code == 303
    assert "Session terminée" in web.get(response.headers["location"]).text
    signed_out = browser.get("/d/34", follow_redirects=False)
    assert signed_out.status_code in (302, 303) and signed_out.headers["location"].startswith("/connexion")


def test_the_account_list_shows_roles_last_sign_in_and_open_sessions(client, web, new_web, make_user, make_manager):
    referent = make_manager("34")
    colleague = make_user("coordinator", "34")
    make_user("prefecture", "30")
    national = make_user("national", None)
    web.login(colleague.email)
    api = ApiClient(client, referent.token)
    listed = {a["email"]: a for a in api.get("/api/accounts").json()["items"]}
    assert set(listed) == {referent.email, colleague.email}
    seen = listed[colleague.email]
    assert seen["role_label"] == "Coordinateur local" and seen["department"] == "34"
    assert seen["last_login_at"] is not None and seen["active_sessions"] == 1 and seen["manages_accounts"] is False
    assert listed[referent.email]["manages_accounts"] is True and listed[referent.email]["last_login_at"] is None
    everyone = ApiClient(client, national.token).get("/api/accounts").json()["items"]
    assert everyone[0]["department"] is None  # national accounts come first
    assert len(everyone) == 4
    within = ApiClient(client, national.token).get("/api/accounts", params={"department": "30"}).json()
    assert [a["department"] for a in within["items"]] == ["30"]
    browser = new_web()
    browser.login(national.email)
    page = browser.get("/comptes").text
    assert national.email in page and colleague.email in page and "Coordination nationale" in page


def test_inviting_an_address_again_replaces_the_pending_invitation(client, make_manager):
    referent = make_manager("34")
    api = ApiClient(client, referent.token)
    first = api.post("/api/accounts/invitations", json={"email": "again@test.gouv.fr", "role": "observer"}).json()
    second = api.post("/api/accounts/invitations", json={"email": "again@test.gouv.fr", "role": "coordinator"}).json()
    rows = invitation_rows("again@test.gouv.fr")
    assert [r["revoked_at"] is not None for r in rows] == [True, False]
    assert len(outbox_to("again@test.gouv.fr")) == 2  # each invitation its own mail and link
    pending = api.get("/api/accounts/invitations").json()["items"]
    assert [i["id"] for i in pending] == [second["id"]] and first["id"] != second["id"]
    assert api.delete(f"/api/accounts/invitations/{second['id']}").status_code == 204
    assert api.get("/api/accounts/invitations").json()["items"] == []
    again = api.delete(f"/api/accounts/invitations/{second['id']}")
    assert again.status_code == 409 and "déjà" in again.json()["detail"]
    actions = [(e["action"], e["entity_id"]) for e in audit_rows("account_invitation")]
    assert actions == [("invite", first["id"]), ("invite", second["id"]), ("revoke", second["id"])]


def test_a_referent_does_not_replace_another_departments_invitation(client, make_manager):
    api_34 = ApiClient(client, make_manager("34").token)
    api_30 = ApiClient(client, make_manager("30").token)
    assert (
        api_30.post("/api/accounts/invitations", json={"email": "both@test.gouv.fr", "role": "observer"}).status_code
        == 201
    )
    response = api_34.post("/api/accounts/invitations", json={"email": "both@test.gouv.fr", "role": "observer"})
    assert response.status_code == 422 and "autre département" in response.json()["errors"]["email"]
    assert [r["revoked_at"] for r in invitation_rows("both@test.gouv.fr")] == [None]
    invitation_id = invitation_rows("both@test.gouv.fr")[0]["id"]
    assert api_34.delete(f"/api/accounts/invitations/{invitation_id}").status_code == 404


def test_the_national_coordinator_invites_a_national_account_without_department(client, make_user):
    national = make_user("national", None)
    api = ApiClient(client, national.token)
    with_department = api.post(
        "/api/accounts/invitations", json={"email": "nat2@test.gouv.fr", "role": "national", "department": "34"}
    )
    assert with_department.status_code == 422 and "aucun département" in with_department.json()["errors"]["department"]
    without = api.post("/api/accounts/invitations", json={"email": "obs@test.gouv.fr", "role": "observer"})
    assert without.status_code == 422 and "Indiquez le département" in without.json()["errors"]["department"]
    unknown = api.post(
        "/api/accounts/invitations", json={"email": "obs@test.gouv.fr", "role": "observer", "department": "999"}
    )
    assert unknown.status_code == 422
    created = api.post("/api/accounts/invitations", json={"email": "nat2@test.gouv.fr", "role": "national"})
    assert created.status_code == 201 and created.json()["department"] is None
    assert "coordination nationale" in outbox_to("nat2@test.gouv.fr")[0]["body_text"]


# -- my account ---------------------------------------------------------------------------------
def test_my_account_page_shows_my_profile_and_this_session(web, make_manager):
    referent = make_manager("34")
    web.login(referent.email)
    page = web.get("/compte")
    assert page.status_code == 200
    for text in (
        "Référente 34",
        "Agent de préfecture, gère les comptes du département",
        "Hérault (34)",
        "(cette session)",
    ):
        assert text in page.text, text
    assert "Dernière connexion</dt><dd>jamais" not in page.text  # signed in just now
    home = web.get("/d/34").text
    assert 'href="/compte"' in home and 'href="/d/34/comptes"' in home  # both in the navigation


def test_ending_all_my_sessions_signs_every_browser_out_including_this_one(web, new_web, make_user):
    user = make_user("observer", "34")
    other = new_web()
    other.login(user.email)
    web.login(user.email)
    response = web.post("/compte/sessions/terminer", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/connexion"
    assert "Toutes vos sessions sont terminées" in web.get("/connexion").text
    for browser in (web, other):
        signed_out = browser.get("/compte", follow_redirects=False)
        assert signed_out.status_code in (302, 303) and signed_out.headers["location"].startswith("/connexion")
    [entry] = [e for e in audit_rows("user") if e["action"] == "end_sessions"]
    assert "2 session(s)" in entry["summary"] and entry["department"] == "34" and entry["ip"]


def test_changing_my_password_keeps_this_browser_and_ends_my_other_sessions(web, new_web, make_user):
    user = make_user("prefecture", "34")
    other = new_web()
    other.login(user.email)
    web.login(user.email)
    new_password = "Quatre-chevaux-bleus-sous-la-brume-2026"
    wrong = web.post(
        "/compte/mot-de-passe",
        {"current_password": "pas-le-bon", "new_password": new_password, "confirm_password": new_password},
    )
    assert wrong.status_code == 422 and "mot de passe actuel est incorrect" in wrong.text
    mismatch = web.post(
        "/compte/mot-de-passe",
        {"current_password": PASSWORD, "new_password": new_password, "confirm_password": new_password + "x"},
    )
    assert mismatch.status_code == 422 and "diffèrent" in mismatch.text
    changed = web.post(
        "/compte/mot-de-passe",
        {"current_password": PASSWORD, "new_password": new_password, "confirm_password": new_password},
        follow_redirects=False,
    )
    assert changed.status_code == 303 and changed.headers["location"] == "/compte"
    assert "Votre mot de passe est modifié" in web.get("/compte").text
    assert other.get("/compte", follow_redirects=False).status_code in (302, 303)
    other.login(user.email, new_password)
    assert other.get("/compte").status_code == 200
