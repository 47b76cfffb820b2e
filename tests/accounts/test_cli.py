"""Scripts create the first national coordinator and API tokens from the command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def coord(db, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COORD_DATABASE_URL": db.url, "PICCOLO_CONF": "coord.app.piccolo_conf"}
    return subprocess.run(
        [sys.executable, "-m", "coord.app.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_create_national_coordinator_then_token_then_call_the_api(db, client):
    result = coord(
        db,
        "user",
        "create",
        "--email",
        "Miprof@Test.gouv.fr",
        "--password",
        "Premier-Compte-2026",
        "--role",
        "national",
    )
    assert result.returncode == 0, result.stderr
    assert "miprof@test.gouv.fr" in result.stdout
    token = coord(db, "token", "create", "--email", "miprof@test.gouv.fr").stdout.strip()
    assert token.startswith("coord_")
    response = client.get("/api/departments", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert len(response.json()) == 101


def test_cli_reports_invalid_input_in_french(db):
    result = coord(
        db,
        "user",
        "create",
        "--email",
        "x@y.fr",
        "--password",
        "Assez-long-2026",
        "--role",
        "prefecture",
        "--department",
        "99",
    )
    assert result.returncode != 0
    assert "Département « 99 » inconnu" in result.stderr


def coord_in_terminal(db, answers: list[str], *args: str) -> tuple[int, str]:
    """Run `coord` on a pseudo-terminal (as a person would), answering each prompt in turn; returns
    the exit status and everything the terminal showed."""
    import pty
    import select

    env = {**os.environ, "COORD_DATABASE_URL": db.url, "PICCOLO_CONF": "coord.app.piccolo_conf"}
    pid, fd = pty.fork()
    if pid == 0:  # the child: the CLI, with the terminal as its stdin and /dev/tty
        os.chdir(ROOT)
        os.execve(sys.executable, [sys.executable, "-m", "coord.app.cli", *args], env)
    shown, pending = b"", list(answers)
    try:
        while True:
            ready, _, _ = select.select([fd], [], [], 120)
            if not ready:
                raise AssertionError(f"no output from the CLI: {shown!r}")
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            shown += chunk
            if pending and chunk.rstrip().endswith(b":"):  # a prompt waits for its answer
                os.write(fd, pending.pop(0).encode() + b"\n")
    finally:
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), shown.decode(errors="replace")


def _password_works(email: str, password: str) -> bool:
    from coord.accounts.passwords import verify_password
    from coord.accounts.tables import User
    from tests.conftest import run

    row = run(User.select(User.password_hash).where(User.email == email).first())
    return row is not None and verify_password(row["password_hash"], password)


def test_the_password_is_typed_at_a_prompt_without_appearing_on_the_command_line(db):
    status, shown = coord_in_terminal(
        db,
        ["Phrase-secrete-du-terminal", "Phrase-secrete-du-terminal"],
        "user",
        "create",
        "--email",
        "premiere@test.gouv.fr",
        "--role",
        "national",
    )
    assert status == 0, shown
    assert "Confirmez le mot de passe" in shown and "Compte créé : premiere@test.gouv.fr" in shown
    assert "Phrase-secrete-du-terminal" not in shown  # no echo
    assert _password_works("premiere@test.gouv.fr", "Phrase-secrete-du-terminal")


def test_a_mistyped_confirmation_at_the_prompt_creates_nothing(db):
    answers = ["Phrase-secrete-du-terminal", "Autre-chose-entierement"] * 3
    status, shown = coord_in_terminal(db, answers, "user", "create", "--email", "x@test.gouv.fr", "--role", "national")
    assert status != 0
    assert "Les deux mots de passe saisis ne sont pas identiques" in shown
    assert "Aucun mot de passe retenu" in shown
    assert not _password_works("x@test.gouv.fr", "Phrase-secrete-du-terminal")


def test_scripts_give_the_password_on_standard_input(db):
    env = {**os.environ, "COORD_DATABASE_URL": db.url, "PICCOLO_CONF": "coord.app.piccolo_conf"}
    args = [sys.executable, "-m", "coord.app.cli", "user", "create", "--email", "script@test.gouv.fr"]
    args += ["--role", "prefecture", "--department", "34"]
    given = subprocess.run(
        [*args, "--password-stdin"],
        input="Depuis-l-entree-standard\n",
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert given.returncode == 0, given.stderr
    assert _password_works("script@test.gouv.fr", "Depuis-l-entree-standard")
    # Without a terminal nor --password-stdin, nothing waits for a password that will not come.
    missing = subprocess.run(
        [*args[:6], "sans-mot-de-passe@test.gouv.fr", *args[7:]],
        stdin=subprocess.DEVNULL,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert missing.returncode != 0
    assert "--password-stdin" in missing.stderr and "Mot de passe manquant" in missing.stderr


def test_deactivating_an_account_ends_its_sessions_and_tokens(db, web, make_user):
    user = make_user("prefecture", "34")
    web.login(user.email)
    assert web.get("/d/34").status_code == 200
    result = coord(db, "user", "deactivate", user.email.upper())
    assert result.returncode == 0, result.stderr
    assert f"Compte désactivé : {user.email}" in result.stdout
    page = web.get("/d/34", follow_redirects=False)
    assert page.status_code in (302, 303, 307) and page.headers["location"].startswith("/connexion")
    assert web.get("/api/departments", headers={"Authorization": f"Bearer {user.token}"}).status_code == 401
    unknown = coord(db, "user", "deactivate", "personne@test.gouv.fr")
    assert unknown.returncode != 0 and "Aucun compte pour personne@test.gouv.fr" in unknown.stderr


def test_an_invitation_from_the_command_line_is_mailed_and_opens_the_account(db, web):
    import re

    from coord.mail.tables import OutboxMessage
    from tests.conftest import run

    result = coord(
        db,
        "user",
        "invite",
        "Referente@Herault.gouv.fr",
        "--role",
        "prefecture",
        "--department",
        "34",
        "--manages-accounts",
        "--name",
        "Rita Référente",
    )
    assert result.returncode == 0, result.stderr
    assert "mise en file d'attente" in result.stdout
    assert "/invitation/" not in result.stdout  # the link goes to the invited person only
    [mail] = run(OutboxMessage.select().where(OutboxMessage.kind == "account_invitation"))
    assert mail["to_email"] == "referente@herault.gouv.fr" and mail["status"] == "pending"
    path = re.search(r"https?://[^/\s]+(/invitation/[A-Za-z0-9_-]+)", mail["body_text"]).group(1)
    page = web.get(path)
    assert page.status_code == 200 and "Agent de préfecture" in page.text and "Hérault (34)" in page.text
    accepted = web.post(
        path,
        {
            "full_name": "Rita Référente",
            "password": "Cerf-volant-au-dessus-du-port",
            "password_confirm": "Cerf-volant-au-dessus-du-port",
        },
        follow_redirects=False,
    )
    assert accepted.status_code == 303
    assert web.get("/", follow_redirects=False).headers["location"] == "/d/34"

    refused = coord(db, "user", "invite", "autre@herault.gouv.fr", "--role", "chef", "--department", "34")
    assert refused.returncode != 0 and "Valeur inconnue « chef »" in refused.stderr
    assert len(run(OutboxMessage.select().where(OutboxMessage.kind == "account_invitation"))) == 1
