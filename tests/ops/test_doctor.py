"""Before going live, the operations team runs `coord doctor` and `coord migrate --check`.

`coord doctor` checks a deployment's configuration against the real services it needs (here: the suite's
migrated SQLite and PostgreSQL databases, an aiosmtpd sink, the loopback ProConnect provider, the suite's
clamd) and says in French what is wrong and how to fix it; exit code 1 when a required check fails.
`coord migrate --check` says whether `coord migrate` has anything left to do, without doing it.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from coord.mail.sink import SmtpSink
from tests.conftest import PG_ADMIN_DSN, Database, _pg_admin, run
from tests.support.clamav import clamd  # noqa: F401 (session fixture)
from tests.support.coord_server import coord_command
from tests.support.live_server import free_port

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = "5"  # seconds per network check (the default): no test waits for it, every refusal is immediate


@pytest.fixture(scope="module")
def smtp_sink() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def good_env(database: Database, smtp_sink: SmtpSink, oidc_provider: Any, clamd: Any, tmp_path: Path) -> dict[str, str]:  # noqa: F811
    """The COORD_* variables of a deployment ready to go live, on the current engine."""
    return {
        "COORD_DATABASE_URL": database.url,
        "COORD_SECRET_KEY": secrets.token_urlsafe(48),
        "COORD_BASE_URL": "https://coord.herault.gouv.fr",
        "COORD_TRUSTED_PROXIES": "127.0.0.1",
        "COORD_ORGANISER_EMAIL": "coordination-teh@herault.gouv.fr",
        "COORD_SMTP_HOST": "127.0.0.1",
        "COORD_SMTP_PORT": str(smtp_sink.port),
        "COORD_SMTP_USERNAME": "",
        "COORD_SMTP_PASSWORD": "",
        "COORD_SMTP_STARTTLS": "false",
        "COORD_SMTP_TLS": "false",
        "COORD_PROCONNECT_ENABLED": "true",
        "COORD_PROCONNECT_ISSUER": oidc_provider.issuer,
        "COORD_PROCONNECT_CLIENT_ID": oidc_provider.client_id,
        "COORD_PROCONNECT_CLIENT_SECRET": oidc_provider.client_secret,
        "COORD_DEMO_MODE": "false",
        "COORD_METRICS_TOKEN": secrets.token_urlsafe(32),
        "COORD_DOCUMENTS_STORAGE": "filesystem",
        "COORD_DOCUMENTS_DIR": str(tmp_path / "documents"),
        "COORD_CLAMD_SOCKET": str(clamd.socket_path),
    }


@dataclass
class Outcome:
    code: int
    output: str

    @property
    def checks(self) -> dict[str, dict[str, str]]:
        return {c["name"]: c for c in json.loads(self.output)["checks"]}


def coord(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], env: dict[str, str], *argv: str
) -> Outcome:
    """`coord ...` in this process, with the deployment's environment variables."""
    from coord.app.cli import main

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    capsys.readouterr()
    try:
        main(list(argv))
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
    return Outcome(code, capsys.readouterr().out)


def doctor(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], env: dict[str, str], *argv: str
) -> Outcome:
    return coord(monkeypatch, capsys, env, "doctor", "--json", "--timeout", TIMEOUT, *argv)


@pytest.fixture(scope="module")
def fresh_url(database: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database of the current engine that `coord migrate` never saw (SQLite: an empty file); the tests
    using it only read it, so one per engine serves them all (creating and dropping one costs seconds)."""
    if database.name == "sqlite":
        path = tmp_path_factory.mktemp("fresh") / "jamais-migree.sqlite3"
        sqlite3.connect(path).close()
        yield f"sqlite:///{path}"
        return
    name = f"coord_doctor_{uuid.uuid4().hex[:8]}"
    run(_pg_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_DSN.rsplit("/", 1)[0] + "/" + name
    finally:
        run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# --- coord doctor ------------------------------------------------------------------------------------------


def test_a_deployment_ready_to_go_live_passes_every_check_and_sends_no_mail(
    monkeypatch, capsys, good_env, database, smtp_sink
):
    before = len(smtp_sink.envelopes)
    outcome = doctor(monkeypatch, capsys, good_env)

    assert outcome.code == 0, outcome.output
    checks = outcome.checks
    assert json.loads(outcome.output)["ok"] is True
    must_pass = {
        "secret_key", "base_url", "trusted_proxies", "database", "migrations", "database_engine", "smtp",
        "proconnect", "organiser_email", "metrics_token", "demo_mode", "documents_dir", "clamd",
    }  # fmt: skip
    assert {name: checks[name]["status"] for name in must_pass} == dict.fromkeys(must_pass, "ok")
    # The database server's clock is compared on PostgreSQL; SQLite is this machine's clock.
    assert checks["clock_database"]["status"] == ("ok" if database.name == "postgres" else "ignoré")
    # NTP is read from timedatectl when systemd runs (not in every container).
    assert checks["clock_ntp"]["status"] in {"ok", "ignoré", "attention"}
    assert checks["migrations"]["message"] == "Schéma à jour."
    assert len(smtp_sink.envelopes) == before  # connect and EHLO only: no mail sent


# The settings' checks read no table: one engine is enough for them (the database's own checks, the
# ready deployment and `migrate --check` run on both).
ONE_ENGINE = pytest.mark.parametrize("database", ["sqlite"], indirect=True, scope="session")


@ONE_ENGINE
def test_the_doctor_command_reports_in_french_one_line_per_check(good_env, database, smtp_sink):
    before = len(smtp_sink.envelopes)
    result = coord_command("doctor", "--timeout", TIMEOUT, env=good_env, timeout=120)

    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    # « ... prête. », or « Aucune erreur, 1 avertissement(s) ... » where systemd says NTP is off.
    assert lines[-1].startswith("Aucune erreur"), result.stdout
    assert any(line.startswith("OK") and "Schéma à jour." in line for line in lines)
    assert any(line.startswith("OK") and f"Serveur SMTP 127.0.0.1:{smtp_sink.port} joignable" in line for line in lines)
    assert any(line.startswith("OK") and "Fournisseur ProConnect joignable" in line for line in lines)
    assert not any(line.startswith("ERREUR") for line in lines)
    assert len(smtp_sink.envelopes) == before  # connect and EHLO: no mail sent


BAD_SETTINGS = {
    "short secret": (
        {"COORD_SECRET_KEY": "court-mais-pas-assez-1234"},
        "secret_key",
        "secret_key est trop courte (25 caractères, 32 au moins)",
    ),
    "development secret": ({"COORD_SECRET_KEY": ""}, "secret_key", "la clé de développement de var/secret_key sert"),
    "http base URL": ({"COORD_BASE_URL": "http://coord.herault.gouv.fr"}, "base_url", "n'est pas en https"),
    "base URL with a trailing slash": (
        {"COORD_BASE_URL": "https://coord.herault.gouv.fr/"},
        "base_url",
        "sans chemin, barre finale, paramètres ni identifiants : https://coord.herault.gouv.fr.",
    ),
    "unreadable trusted proxies": ({"COORD_TRUSTED_PROXIES": "10.0.0.0/33, nginx"}, "trusted_proxies", "illisible"),
    "closed SMTP port": ({"COORD_SMTP_PORT": "{closed}"}, "smtp", "Serveur SMTP 127.0.0.1:{closed} injoignable"),
    "OIDC issuer that does not answer": (
        {"COORD_PROCONNECT_ISSUER": "http://127.0.0.1:{closed}/api/v2"},
        "proconnect",
        "Le fournisseur ProConnect ne répond pas (http://127.0.0.1:{closed}/api/v2/.well-known/openid-configuration",
    ),
    "OIDC issuer that is not the provider's": (
        {"COORD_PROCONNECT_ISSUER": "{origin}"},
        "proconnect",
        "répond 404 : proconnect_issuer n'est pas le bon émetteur.",
    ),
    "ProConnect without its client": (
        {"COORD_PROCONNECT_CLIENT_SECRET": ""},
        "proconnect",
        "ProConnect activé mais proconnect_client_secret vide(s)",
    ),
    "demo mode": ({"COORD_DEMO_MODE": "true"}, "demo_mode", "demo_mode est activé"),
    "clamd down": (
        {"COORD_CLAMD_SOCKET": "{tmp}/clamd-absent.sock"},
        "clamd",
        "les dépôts de documents seront refusés",
    ),
    "documents dir that is a file": (
        {"COORD_DOCUMENTS_DIR": "{tmp}/un-fichier"},
        "documents_dir",
        "un-fichier n'est pas un dossier",
    ),
}


@ONE_ENGINE
@pytest.mark.parametrize("case", list(BAD_SETTINGS))
def test_each_bad_setting_is_named_with_its_fix_and_fails_the_doctor(
    monkeypatch, capsys, good_env, oidc_provider, tmp_path, case
):
    overrides, name, expected = BAD_SETTINGS[case]
    values = {"closed": str(free_port()), "origin": oidc_provider.provider.origin, "tmp": str(tmp_path)}
    env = {**good_env, **{k: v.format(**values) for k, v in overrides.items()}}
    (tmp_path / "un-fichier").write_text("")

    outcome = doctor(monkeypatch, capsys, env)

    assert outcome.code == 1
    check = outcome.checks[name]
    assert check["status"] == "erreur"
    assert expected.format(**values) in check["message"]
    if name == "secret_key":
        assert 'python3 -c "import secrets; print(secrets.token_urlsafe(48))"' in check["message"]
    others = {n: c["status"] for n, c in outcome.checks.items() if n != name}
    assert "erreur" not in others.values(), others  # only the bad setting is reported


def test_an_unreachable_database_fails_the_doctor(monkeypatch, capsys, good_env, database, tmp_path):
    if database.name == "sqlite":
        url, reason = f"sqlite:///{tmp_path}/absente.sqlite3", "absente.sqlite3 n'existe pas"
    else:
        url, reason = f"postgresql://postgres@127.0.0.1:{free_port()}/coord", "connexion impossible"

    outcome = doctor(monkeypatch, capsys, {**good_env, "COORD_DATABASE_URL": url})

    assert outcome.code == 1
    assert outcome.checks["database"]["status"] == "erreur"
    assert outcome.checks["database"]["message"].startswith("Base injoignable")
    assert reason in outcome.checks["database"]["message"]
    assert outcome.checks["migrations"]["status"] == "ignoré"
    assert not (tmp_path / "absente.sqlite3").exists()  # the doctor creates no database


def test_an_unmigrated_database_fails_the_doctor(monkeypatch, capsys, good_env, fresh_url):
    outcome = doctor(monkeypatch, capsys, {**good_env, "COORD_DATABASE_URL": fresh_url})

    assert outcome.code == 1
    assert outcome.checks["database"]["status"] == "ok"
    migrations = outcome.checks["migrations"]
    assert migrations["status"] == "erreur"
    assert "migration(s) en attente (plans " in migrations["message"]
    assert migrations["message"].endswith("lancez `coord migrate`.")


def test_warnings_do_not_fail_the_doctor(monkeypatch, capsys, good_env, database):
    env = {
        **good_env,
        "COORD_ORGANISER_EMAIL": "coordination-teh@prefecture.example.gouv.fr",
        "COORD_TRUSTED_PROXIES": "",
        "COORD_METRICS_TOKEN": "",
    }

    outcome = doctor(monkeypatch, capsys, env, "--workers", "4")

    assert outcome.code == 0
    checks = outcome.checks
    assert checks["organiser_email"]["status"] == "attention"
    assert "l'adresse d'exemple" in checks["organiser_email"]["message"]
    assert checks["trusted_proxies"]["status"] == "attention"
    assert "derrière un proxy inverse" in checks["trusted_proxies"]["message"]
    assert checks["metrics_token"]["status"] == "attention"
    assert "/metrics est désactivé" in checks["metrics_token"]["message"]
    if database.name == "sqlite":  # several web processes on one SQLite file
        assert checks["database_engine"]["status"] == "attention"
        assert "préférez PostgreSQL" in checks["database_engine"]["message"]
    else:
        assert checks["database_engine"]["status"] == "ok"


# --- coord migrate --check ------------------------------------------------------------------------------------


def test_migrate_check_on_a_migrated_database_says_the_schema_is_current(monkeypatch, capsys, database):
    from coord.app.migration_status import pending_migrations
    from coord.core.db import use_engine

    use_engine(database.engine)
    assert run(pending_migrations(database.engine)) == []

    outcome = coord(monkeypatch, capsys, {}, "migrate", "--check")

    assert outcome.code == 0
    assert outcome.output.startswith("Schéma à jour")


def test_migrate_check_on_a_database_never_migrated_lists_everything_and_applies_nothing(
    monkeypatch, capsys, database, tmp_path, fresh_url
):
    from coord.core.db import PooledSQLiteEngine, engine_for, use_engine
    from coord.core.settings import Settings

    url = f"sqlite:///{tmp_path}/jamais-creee.sqlite3" if database.name == "sqlite" else fresh_url
    engine = engine_for(Settings(database_url=url))
    use_engine(engine)  # the database `coord migrate --check` looks at
    try:
        outcome = coord(monkeypatch, capsys, {}, "migrate", "--check")
    finally:
        use_engine(database.engine)
        if isinstance(engine, PooledSQLiteEngine):
            run(engine.close_pool())

    assert outcome.code == 1, outcome.output
    lines = outcome.output.splitlines()
    assert lines[0].endswith("migration(s) en attente (appliquez-les avec `coord migrate`) :")
    listed = [line.split() for line in lines[1:]]
    assert int(lines[0].split()[0]) == len(listed)
    assert listed[0][0] == "plans" and listed[0][1][:4].isdigit()  # app, then the migration's id
    assert {"accounts", "meetings", "overview"} <= {row[0] for row in listed}
    # Nothing applied: no SQLite file created, no migration table on PostgreSQL.
    if database.name == "sqlite":
        assert not (tmp_path / "jamais-creee.sqlite3").exists()
    else:
        assert run(_table_exists(url, "migration")) is False


async def _table_exists(url: str, table: str) -> bool:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        return bool(await connection.fetchval("SELECT to_regclass($1) IS NOT NULL", table))
    finally:
        await connection.close()


def test_migrate_check_says_when_it_cannot_read_the_database(monkeypatch, capsys):
    from coord.core import db as core_db
    from coord.core.settings import Settings

    previous = core_db._engine
    core_db.use_engine(
        core_db.engine_for(Settings(database_url=f"postgresql://postgres@127.0.0.1:{free_port()}/coord"))
    )
    try:
        with pytest.raises(SystemExit) as exit_info:
            coord_main("migrate", "--check")
    finally:
        if previous is not None:
            core_db.use_engine(previous)

    assert str(exit_info.value.code).startswith("Impossible de lire l'état des migrations : ")
    assert "Schéma à jour" not in capsys.readouterr().out


def coord_main(*argv: str) -> None:
    from coord.app.cli import main

    main(list(argv))
