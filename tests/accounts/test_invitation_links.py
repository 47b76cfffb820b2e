"""A colleague opens the mailed invitation, chooses a password and is signed in; a link that is
expired, used, tampered with or revoked gets a French page and creates nothing. A ProConnect identity
gets in only through an existing active account or a pending invitation."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from markupsafe import escape

from coord.access import SYSTEM, Principal, Scope
from coord.accounts import admin
from coord.accounts.invitations import IdentityRefused, check_password, claim_for_identity
from coord.accounts.service import principal_for_user
from coord.accounts.tables import AccountInvitation, User
from coord.accounts.tokens import digest
from coord.audit.tables import AuditEntry
from coord.core.settings import Settings
from tests.conftest import run

NEW_PASSWORD = "Quatre-chevaux-bleus-dans-la-cour"


def invite(
    email: str = "nouvelle.collegue@herault.gouv.fr",
    *,
    role: str = "coordinator",
    department: str | None = "34",
    manages_accounts: bool = False,
    by: Principal = SYSTEM,
    full_name: str = "Nouvelle Collègue",
) -> str:
    """An invitation made as the administration pages make it; returns the secret of its link."""
    data = {
        "email": email,
        "role": role,
        "department": department or "",
        "manages_accounts": manages_accounts,
        "full_name": full_name,
    }
    invitation = run(admin.invite(Scope(by), data, base_url="http://testserver.local"))
    return invitation["link"].rsplit("/invitation/", 1)[1]


def shift_expiry(secret: str, delta: dt.timedelta) -> None:
    run(
        AccountInvitation.update({AccountInvitation.expires_at: dt.datetime.now(dt.UTC) + delta}).where(
            AccountInvitation.token_hash == digest(secret)
        )
    )


def revoke(secret: str) -> None:
    """Cancelled from the administration page."""
    row = run(
        AccountInvitation.select(AccountInvitation.id).where(AccountInvitation.token_hash == digest(secret)).first()
    )
    run(admin.revoke_invitation(Scope(SYSTEM), row["id"]))


def accept(web, secret: str, *, name: str = "Camille Martin", password: str = NEW_PASSWORD, confirm: str | None = None):
    return web.post(
        f"/invitation/{secret}",
        {"full_name": name, "password": password, "password_confirm": password if confirm is None else confirm},
        follow_redirects=False,
    )


def users_named(email: str) -> list[dict]:
    return run(User.select().where(User.email == email))


def test_an_invited_colleague_chooses_a_password_and_lands_on_their_department(web, new_web, make_user):
    inviter = make_user("national", None, email="alice.nationale@interieur.gouv.fr")
    run(User.update({User.full_name: "Alice Nationale"}).where(User.email == inviter.email))
    by = run(principal_for_user(users_named(inviter.email)[0]))
    secret = invite(role="prefecture", manages_accounts=True, by=by)

    shown = web.get(f"/invitation/{secret}")
    assert shown.status_code == 200
    assert "Alice Nationale vous invite" in shown.text
    assert "Agent de préfecture" in shown.text and "Hérault (34)" in shown.text
    assert "gère les comptes du département" in shown.text
    assert "12 caractères" in shown.text  # the policy is said before the fields
    assert shown.headers["referrer-policy"] == "no-referrer"
    assert "/connexion/proconnect" not in shown.text  # ProConnect is off in these settings

    response = accept(web, secret)
    assert response.status_code == 303 and response.headers["location"] == "/"
    home = web.get("/", follow_redirects=False)
    assert home.headers["location"] == "/d/34"
    assert "Hérault" in web.get("/d/34").text

    [user] = users_named("nouvelle.collegue@herault.gouv.fr")
    assert (user["role"], user["full_name"], user["manages_accounts"], user["active"]) == (
        "prefecture",
        "Camille Martin",
        True,
        True,
    )
    assert user["password_changed_at"] is not None
    invitation = run(AccountInvitation.select().where(AccountInvitation.token_hash == digest(secret)).first())
    assert invitation["accepted_at"] is not None and invitation["user"] == user["id"]
    audited = run(AuditEntry.select(AuditEntry.action, AuditEntry.entity).where(AuditEntry.actor_user_id == user["id"]))
    assert {(a["action"], a["entity"]) for a in audited} >= {("create", "user"), ("accept", "account_invitation")}
    # The chosen password is the account's from now on.
    new_web().login(user["email"], NEW_PASSWORD)


def test_the_invitation_offers_proconnect_when_it_is_enabled(db, settings):
    from litestar.testing import TestClient

    from coord.app.factory import create_app

    secret = invite()
    enabled: Settings = replace(settings, proconnect_enabled=True)
    with TestClient(create_app(enabled, engine=db.engine), base_url="http://testserver.local") as client:
        page = client.get(f"/invitation/{secret}")
    assert page.status_code == 200
    assert 'href="/connexion/proconnect"' in page.text and "S'identifier avec" in page.text
    assert "nouvelle.collegue@herault.gouv.fr" in page.text


def test_an_expired_invitation_says_so_and_creates_nothing(web):
    secret = invite()
    shift_expiry(secret, -dt.timedelta(minutes=1))
    page = web.get(f"/invitation/{secret}")
    assert page.status_code == 410
    assert "Ce lien d&#39;invitation a expiré" in page.text
    assert accept(web, secret).status_code == 410
    assert users_named("nouvelle.collegue@herault.gouv.fr") == []


def test_an_invitation_serves_once(web, new_web):
    secret = invite()
    assert accept(web, secret).status_code == 303
    other = new_web()
    page = other.get(f"/invitation/{secret}")
    assert page.status_code == 410
    assert "Cette invitation a déjà été acceptée" in page.text
    again = accept(other, secret, name="Quelqu'un d'autre")
    assert again.status_code == 410
    assert [u["full_name"] for u in users_named("nouvelle.collegue@herault.gouv.fr")] == ["Camille Martin"]


@pytest.mark.parametrize("how", ["tampered", "revoked"])
def test_a_tampered_or_revoked_invitation_is_unknown(web, how):
    secret = invite()
    if how == "tampered":
        secret = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    else:
        revoke(secret)
    page = web.get(f"/invitation/{secret}")
    assert page.status_code == 404
    assert "Ce lien d&#39;invitation est inconnu ou a été révoqué" in page.text
    assert accept(web, secret).status_code == 404
    assert users_named("nouvelle.collegue@herault.gouv.fr") == []


def test_an_invitation_for_an_address_that_already_has_an_account_is_refused(web, make_user):
    secret = invite("deja.inscrite@herault.gouv.fr", role="prefecture")
    # Meanwhile someone created the account another way (the command line, another invitation).
    existing = make_user("observer", "34", email="deja.inscrite@herault.gouv.fr")
    response = accept(web, secret)
    assert response.status_code == 409
    assert "Un compte existe déjà avec cette adresse électronique" in response.text
    [user] = users_named(existing.email)
    assert user["role"] == "observer"  # the existing account is left as it was
    invitation = run(AccountInvitation.select().where(AccountInvitation.token_hash == digest(secret)).first())
    assert invitation["accepted_at"] is None


def test_a_weak_or_mistyped_password_shows_the_form_again_with_the_reason(web):
    secret = invite()
    weak = "court"
    response = accept(web, secret, password=weak)
    assert response.status_code == 422
    reason = check_password(weak, ("nouvelle.collegue@herault.gouv.fr", "Camille Martin"))
    assert reason and str(escape(reason)) in response.text
    assert 'value="Camille Martin"' in response.text  # what was typed is kept, the password is not
    assert 'name="password" type="password" value=""' in response.text

    mistyped = accept(web, secret, confirm=NEW_PASSWORD + "x")
    assert mistyped.status_code == 422
    assert "Les deux mots de passe saisis ne sont pas identiques" in mistyped.text

    nameless = accept(web, secret, name="  ")
    assert nameless.status_code == 422
    assert "Ce champ est obligatoire" in nameless.text
    assert users_named("nouvelle.collegue@herault.gouv.fr") == []
    assert accept(web, secret).status_code == 303  # the link still works once the form is right


# -- ProConnect identities -----------------------------------------------------------------------


def test_a_proconnect_identity_signs_in_to_the_active_account_of_its_address(db, make_user):
    user = make_user("prefecture", "34", email="agent@herault.gouv.fr")
    expected = users_named(user.email)[0]["id"]
    assert run(claim_for_identity("Agent@Herault.gouv.fr", "Agent Public", ip="10.0.0.1")) == expected
    run(User.update({User.active: False}).where(User.id == expected))
    with pytest.raises(IdentityRefused) as refused:
        run(claim_for_identity(user.email, "Agent Public", ip="10.0.0.1"))
    assert refused.value.reason == "inactive" and "désactivé" in refused.value.message


def test_a_proconnect_identity_with_a_pending_invitation_gets_an_account_without_password(db):
    secret = invite("invitee@herault.gouv.fr", role="observer", full_name="")
    user_id = run(claim_for_identity("INVITEE@herault.gouv.fr", "Dominique Durand", ip="10.0.0.2"))
    [user] = users_named("invitee@herault.gouv.fr")
    assert user["id"] == user_id
    assert (user["role"], user["full_name"], user["password_hash"]) == ("observer", "Dominique Durand", "")
    invitation = run(AccountInvitation.select().where(AccountInvitation.token_hash == digest(secret)).first())
    assert invitation["accepted_at"] is not None and invitation["user"] == user_id
    # Signing in again finds the account; the used invitation is not needed any more.
    assert run(claim_for_identity("invitee@herault.gouv.fr", "Dominique Durand", ip="10.0.0.2")) == user_id
    entry = run(AuditEntry.select().where((AuditEntry.entity == "user") & (AuditEntry.action == "create")).first())
    assert entry["ip"] == "10.0.0.2" and "ProConnect" in entry["summary"]


@pytest.mark.parametrize("invitation", ["none", "expired", "revoked"])
def test_a_proconnect_identity_without_account_or_pending_invitation_is_refused(db, invitation):
    if invitation != "none":
        secret = invite("stranger@herault.gouv.fr")
        if invitation == "expired":
            shift_expiry(secret, -dt.timedelta(seconds=1))
        else:
            revoke(secret)
    with pytest.raises(IdentityRefused) as refused:
        run(claim_for_identity("stranger@herault.gouv.fr", "Inconnu", ip="10.0.0.3"))
    assert refused.value.reason == "unknown" and "invitation" in refused.value.message
    assert users_named("stranger@herault.gouv.fr") == []
