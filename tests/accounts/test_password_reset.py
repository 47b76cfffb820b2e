"""Anyone can get a new password by mail without learning whether an address has an account; the link
serves once, for an hour, and ends every session; a signed-in user changes their password by giving
the current one."""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest
from markupsafe import escape

from coord.accounts import resets
from coord.accounts.invitations import check_password
from coord.accounts.passwords import verify_password
from coord.accounts.resets import change_password, request_reset
from coord.accounts.service import principal_for_user
from coord.accounts.tables import PasswordReset, User
from coord.audit.tables import AuditEntry
from coord.core.errors import ValidationFailed
from coord.mail.tables import OutboxMessage
from tests.conftest import PASSWORD, run

NEW_PASSWORD = "Lampadaire-violet-sous-la-pluie"
BASE_URL = "http://testserver.local"


def reset_mails(email: str) -> list[dict]:
    return run(
        OutboxMessage.select()
        .where((OutboxMessage.kind == "password_reset") & (OutboxMessage.to_email == email))
        .order_by(OutboxMessage.id)
    )


def link_in(mail: dict) -> str:
    match = re.search(rf"{re.escape(BASE_URL)}(/mot-de-passe/[A-Za-z0-9_-]+)", mail["body_text"])
    assert match, mail["body_text"]
    return match.group(1)


def ask(web, email: str):
    return web.post("/mot-de-passe-oublie", {"email": email})


def choose(web, path: str, password: str = NEW_PASSWORD, confirm: str | None = None):
    return web.post(
        path,
        {"password": password, "password_confirm": password if confirm is None else confirm},
        follow_redirects=False,
    )


def copy_of(web, new_web):
    thief = new_web()
    thief.http.cookies.set("coord_session", web.http.cookies["coord_session"], domain="testserver.local")
    return thief


def signed_out(client) -> bool:
    response = client.get("/d/34", follow_redirects=False)
    return response.status_code in (302, 303, 307) and response.headers["location"].startswith("/connexion")


def password_works(email: str, password: str) -> bool:
    """Whether signing in with this password would pass the check (no browser needed)."""
    row = run(User.select(User.password_hash).where(User.email == email).first())
    return verify_password(row["password_hash"], password)


def test_a_forgotten_password_is_replaced_from_the_mailed_link(web, make_user):
    user = make_user("prefecture", "34")
    login_page = web.get("/connexion")
    assert 'href="/mot-de-passe-oublie"' in login_page.text

    answer = ask(web, user.email.upper())
    assert answer.status_code == 200
    assert "Si un compte actif correspond" in answer.text
    [mail] = reset_mails(user.email)
    assert mail["subject"] == "Coord : choisir un nouveau mot de passe"
    for body in (mail["body_text"], mail["body_html"]):
        assert "une heure" in body and "ignorez ce courriel" in body
    path = link_in(mail)

    form = web.get(path)
    assert form.status_code == 200 and user.email in form.text
    assert form.headers["referrer-policy"] == "no-referrer"
    response = choose(web, path)
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert "Hérault" in web.get("/d/34").text

    assert not password_works(user.email, PASSWORD)
    web.post("/deconnexion", follow_redirects=False)
    web.login(user.email, NEW_PASSWORD)
    row = run(User.select(User.id, User.password_changed_at).where(User.email == user.email).first())
    assert row["password_changed_at"] is not None
    actions = {a["action"] for a in run(AuditEntry.select(AuditEntry.action).where(AuditEntry.entity_id == row["id"]))}
    assert {"request_reset", "reset_password"} <= actions


def test_an_unknown_or_deactivated_address_gets_the_same_answer_and_no_mail(web, make_user):
    known = make_user("prefecture", "34", email="connue@herault.gouv.fr")
    gone = make_user("observer", "34", email="partie@herault.gouv.fr")
    run(User.update({User.active: False}).where(User.email == gone.email))

    def answer_for(email: str) -> str:
        started = time.monotonic()
        text = ask(web, email).text
        assert time.monotonic() - started >= resets.MIN_REQUEST_SECONDS
        page = text.split("<main", 1)[1].split("</main>", 1)[0]
        return re.sub(r'name="_csrf_token" value="[^"]*"', "", page.replace(email, "ADDRESS"))

    known_answer = answer_for(known.email)
    assert answer_for("inconnue@herault.gouv.fr") == known_answer
    assert answer_for(gone.email) == known_answer
    assert len(reset_mails(known.email)) == 1
    assert reset_mails("inconnue@herault.gouv.fr") == [] and reset_mails(gone.email) == []

    malformed = ask(web, "pas-une-adresse")
    assert malformed.status_code == 422 and "Adresse électronique invalide" in malformed.text


def test_a_reset_link_serves_once(web, new_web, make_user):
    user = make_user("prefecture", "34")
    ask(web, user.email)
    path = link_in(reset_mails(user.email)[0])
    assert choose(web, path).status_code == 303
    other = new_web()
    reused = other.get(path)
    assert reused.status_code == 410
    assert "Ce lien de réinitialisation a déjà servi" in reused.text
    assert choose(other, path, password="Autre-phrase-de-passe-solide").status_code == 410
    assert password_works(user.email, NEW_PASSWORD)


def test_a_newer_link_voids_the_earlier_one(web, make_user):
    user = make_user("prefecture", "34")
    ask(web, user.email)
    ask(web, user.email)
    first, second = (link_in(m) for m in reset_mails(user.email))
    assert web.get(first).status_code == 410
    assert web.get(second).status_code == 200


@pytest.mark.parametrize("how", ["expired", "tampered"])
def test_an_expired_or_tampered_reset_link_changes_nothing(web, make_user, how):
    user = make_user("prefecture", "34")
    ask(web, user.email)
    path = link_in(reset_mails(user.email)[0])
    if how == "expired":
        run(
            PasswordReset.update({PasswordReset.expires_at: dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)}).where(
                PasswordReset.id > 0
            )
        )
        status, message = 410, "Ce lien de réinitialisation a expiré (il est valable une heure)"
    else:
        path = path[:-2] + ("AA" if not path.endswith("AA") else "BB")
        status, message = 404, "Ce lien de réinitialisation est inconnu"
    page = web.get(path)
    assert page.status_code == status and message in page.text
    assert choose(web, path).status_code == status
    assert password_works(user.email, PASSWORD)


def test_a_weak_or_mistyped_new_password_shows_the_form_again(web, make_user):
    user = make_user("prefecture", "34")
    ask(web, user.email)
    path = link_in(reset_mails(user.email)[0])
    weak = "minuscules"
    response = choose(web, path, password=weak)
    assert response.status_code == 422
    reason = check_password(weak, (user.email, user.email.split("@")[0]))
    assert reason and str(escape(reason)) in response.text
    mistyped = choose(web, path, confirm=NEW_PASSWORD + "!")
    assert mistyped.status_code == 422 and "Les deux mots de passe saisis ne sont pas identiques" in mistyped.text
    assert password_works(user.email, PASSWORD)  # unchanged
    assert choose(web, path).status_code == 303  # and the link still serves


def test_a_reset_ends_every_other_session_of_the_account(web, new_web, make_user):
    user = make_user("prefecture", "34")
    web.login(user.email)
    thief = copy_of(web, new_web)
    assert thief.get("/d/34").status_code == 200
    ask(web, user.email)
    assert choose(web, link_in(reset_mails(user.email)[0])).status_code == 303
    assert signed_out(thief)
    assert "Connexion à Coord" in thief.get("/d/34").text
    assert web.get("/d/34").status_code == 200  # the browser that reset is signed in again, anew


def test_one_address_gets_a_few_reset_mails_an_hour_at_most(db, make_user):
    user = make_user("prefecture", "34")
    for _ in range(resets.MAX_PER_ADDRESS_PER_HOUR + 2):
        run(request_reset(user.email, ip="192.0.2.7", base_url=BASE_URL))
    assert len(reset_mails(user.email)) == resets.MAX_PER_ADDRESS_PER_HOUR


# -- changing one's password ---------------------------------------------------------------------


def _principal(email: str):
    return run(principal_for_user(run(User.select().where(User.email == email).first())))


def test_changing_the_password_needs_the_current_one(web, make_user):
    user = make_user("prefecture", "34")
    principal = _principal(user.email)
    with pytest.raises(ValidationFailed) as refused:
        run(change_password(principal, "pas-le-bon-mot-de-passe", NEW_PASSWORD, ip="192.0.2.8"))
    assert refused.value.errors == {"current_password": "Le mot de passe actuel est incorrect."}
    with pytest.raises(ValidationFailed) as same:
        run(change_password(principal, PASSWORD, PASSWORD, ip="192.0.2.8"))
    assert "différent" in same.value.errors["new_password"]
    with pytest.raises(ValidationFailed) as weak:
        run(change_password(principal, PASSWORD, "faible", ip="192.0.2.8"))
    assert weak.value.errors["new_password"] == check_password("faible", (user.email, principal.full_name))
    assert password_works(user.email, PASSWORD)


def test_changing_the_password_ends_every_session(web, new_web, make_user):
    user = make_user("prefecture", "34")
    web.login(user.email)
    thief = copy_of(web, new_web)
    run(change_password(_principal(user.email), PASSWORD, NEW_PASSWORD, ip="192.0.2.9"))
    assert signed_out(thief) and signed_out(web)
    assert password_works(user.email, NEW_PASSWORD)
    entry = run(AuditEntry.select().where(AuditEntry.action == "change_password").first())
    assert entry["ip"] == "192.0.2.9" and entry["actor"] == user.email
