"""`coord doctor`: checks a deployment's configuration and says in French what is wrong and how to fix it.

Each check is a small function returning a `CheckResult` (name, status, message); `run_checks` runs them
all (the ones that talk to a server concurrently, each within a short timeout) and the command prints one
line per check, or JSON with `--json`. Exit code 1 when a check failed (status « erreur »); warnings
(« attention ») and checks that do not apply (« ignoré ») leave it at 0.

Nothing is written anywhere: no migration, no mail sent (SMTP stops after EHLO and login), no file
created but a temporary one in the documents directory, removed at once.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Awaitable
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

import aiosmtplib
import asyncpg
import httpx

from coord.accounts.proconnect import missing_endpoints
from coord.app.migration_status import pending_migrations
from coord.core.db import PooledSQLiteEngine, engine_for
from coord.core.settings import DEVELOPMENT_SECRET, Settings, load_settings
from coord.documents import scanner
from coord.documents.storage import documents_root
from coord.web.client_ip import trusted_networks

OK = "ok"
WARNING = "attention"
ERROR = "erreur"
SKIPPED = "ignoré"
LABELS = {OK: "OK", WARNING: "ATTENTION", ERROR: "ERREUR", SKIPPED: "IGNORÉ"}

DEFAULT_TIMEOUT_SECONDS = 5.0
MIN_SECRET_LENGTH = 32
CLOCK_TOLERANCE_SECONDS = 5.0
NEW_KEY_COMMAND = 'python3 -c "import secrets; print(secrets.token_urlsafe(48))"'


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: str  # OK, WARNING, ERROR or SKIPPED
    message: str


# --- Configuration alone -------------------------------------------------------------------------------------


def check_secret_key(settings: Settings, development_secret: Path = DEVELOPMENT_SECRET) -> CheckResult:
    name = "secret_key"
    key = settings.secret_key
    fix = f"générez-en une avec `{NEW_KEY_COMMAND}` et mettez-la dans config/local.toml ou COORD_SECRET_KEY"
    if not key or (development_secret.exists() and development_secret.read_text().strip() == key):
        return CheckResult(
            name, ERROR, f"secret_key n'est pas définie : la clé de développement de var/secret_key sert ; {fix}."
        )
    if len(key) < MIN_SECRET_LENGTH:
        return CheckResult(
            name, ERROR, f"secret_key est trop courte ({len(key)} caractères, {MIN_SECRET_LENGTH} au moins) ; {fix}."
        )
    return CheckResult(name, OK, f"secret_key définie ({len(key)} caractères).")


def check_base_url(settings: Settings) -> CheckResult:
    name = "base_url"
    url = settings.base_url
    parts = urlsplit(url)
    if parts.scheme != "https":
        return CheckResult(
            name,
            ERROR,
            f"base_url ({url}) n'est pas en https : les cookies de session ne seraient pas protégés et les liens "
            "des courriels seraient en clair ; mettez l'adresse publique en https://, p. ex. https://coord.example.fr.",
        )
    if not parts.hostname or parts.path or parts.query or parts.fragment or parts.username or url.endswith("?"):
        return CheckResult(
            name,
            ERROR,
            f"base_url ({url}) doit être l'adresse du site seule, sans chemin, barre finale, paramètres ni "
            f"identifiants : https://{parts.hostname or 'coord.example.fr'}{f':{parts.port}' if parts.port else ''}.",
        )
    return CheckResult(name, OK, f"base_url en https ({url}).")


def check_trusted_proxies(settings: Settings) -> CheckResult:
    name = "trusted_proxies"
    try:
        networks = trusted_networks(settings.trusted_proxies)
    except ValueError as exc:
        return CheckResult(
            name,
            ERROR,
            f"trusted_proxies est illisible ({exc}) : adresses IP ou réseaux CIDR séparés par des virgules, "
            "p. ex. « 127.0.0.1, 10.0.0.0/24 ».",
        )
    if networks:
        return CheckResult(name, OK, f"{len(networks)} proxy(s) de confiance : {settings.trusted_proxies}.")
    if settings.base_url.startswith("https://"):
        return CheckResult(
            name,
            WARNING,
            "trusted_proxies est vide : derrière un proxy inverse (nginx), le journal et la limitation des "
            "connexions verraient l'adresse du proxy au lieu de celle des personnes ; mettez l'adresse du proxy "
            "(souvent 127.0.0.1).",
        )
    return CheckResult(name, OK, "Aucun proxy de confiance (accès direct).")


def check_database_engine(settings: Settings, workers: int) -> CheckResult:
    name = "database_engine"
    if not settings.is_sqlite:
        return CheckResult(name, OK, "PostgreSQL.")
    if workers > 1:
        return CheckResult(
            name,
            WARNING,
            f"SQLite avec {workers} processus web : un seul écrit à la fois et les autres attendent ; en "
            "production préférez PostgreSQL (database_url = postgresql://utilisateur@hôte:5432/coord).",
        )
    return CheckResult(name, OK, "SQLite, un seul processus web (au-delà, préférez PostgreSQL).")


def check_organiser_email(settings: Settings) -> CheckResult:
    name = "organiser_email"
    address = settings.organiser_email.strip()
    fix = "mettez l'adresse de la boîte de la coordination : elle expédie les courriels et reçoit les réponses"
    if "@" not in address:
        return CheckResult(name, WARNING, f"organiser_email n'est pas une adresse ({address or 'vide'}) ; {fix}.")
    if "example" in address.rsplit("@", 1)[1].lower().split("."):
        return CheckResult(name, WARNING, f"organiser_email est l'adresse d'exemple ({address}) ; {fix}.")
    return CheckResult(name, OK, f"organiser_email : {address}.")


def check_metrics_token(settings: Settings) -> CheckResult:
    name = "metrics_token"
    token = settings.metrics_token.strip()
    if not token:
        return CheckResult(
            name,
            WARNING,
            "metrics_token est vide : /metrics est désactivé et la supervision ne voit ni la file des "
            "courriels ni les rappels ; mettez une valeur aléatoire (COORD_METRICS_TOKEN).",
        )
    if len(token) < MIN_SECRET_LENGTH:
        return CheckResult(
            name,
            WARNING,
            f"metrics_token est court ({len(token)} caractères, {MIN_SECRET_LENGTH} conseillés) ; "
            f"générez-en un : {NEW_KEY_COMMAND}.",
        )
    return CheckResult(name, OK, "Métriques /metrics protégées par metrics_token.")


def check_demo_mode(settings: Settings) -> CheckResult:
    if settings.demo_mode:
        return CheckResult(
            "demo_mode",
            ERROR,
            "demo_mode est activé : les courriels sont captés par le puits de démonstration au lieu de partir ; "
            "mettez demo_mode = false (ou COORD_DEMO_MODE=false).",
        )
    return CheckResult("demo_mode", OK, "Mode démonstration désactivé.")


def check_documents_dir(settings: Settings) -> CheckResult:
    name = "documents_dir"
    if settings.documents_storage == "database":
        return CheckResult(name, SKIPPED, "Documents enregistrés dans la base (documents_storage = database).")
    if settings.documents_storage != "filesystem":
        return CheckResult(
            name, ERROR, f"documents_storage inconnu ({settings.documents_storage}) : filesystem ou database."
        )
    root = documents_root(settings)
    fix = "donnez ce dossier (et ses parents) au compte qui fait tourner Coord, en mode 0700"
    if not root.exists():
        parent = next(p for p in root.parents if p.exists())
        if parent.is_dir() and os.access(parent, os.W_OK | os.X_OK):
            return CheckResult(name, OK, f"{root} sera créé au premier dépôt.")
        return CheckResult(name, ERROR, f"{root} n'existe pas et {parent} n'est pas accessible en écriture ; {fix}.")
    if not root.is_dir():
        return CheckResult(name, ERROR, f"{root} n'est pas un dossier : corrigez documents_dir.")
    try:
        with tempfile.NamedTemporaryFile(dir=root, prefix=".coord-doctor-"):
            pass
    except OSError as exc:
        return CheckResult(name, ERROR, f"{root} n'est pas accessible en écriture ({exc.strerror}) ; {fix}.")
    return CheckResult(name, OK, f"{root} accessible en écriture.")


def check_ntp(seconds: float = DEFAULT_TIMEOUT_SECONDS) -> CheckResult:
    name = "clock_ntp"
    binary = shutil.which("timedatectl")
    unknown = "vérifiez que l'horloge est synchronisée (chrony ou systemd-timesyncd)"
    if binary is None:
        return CheckResult(name, SKIPPED, f"timedatectl absent : {unknown}.")
    try:
        answer = subprocess.run(
            [binary, "show", "-p", "NTPSynchronized", "--value"], capture_output=True, text=True, timeout=seconds
        )
    except (OSError, subprocess.TimeoutExpired):
        answer = None
    if answer is None or answer.returncode != 0:
        return CheckResult(name, SKIPPED, f"timedatectl ne répond pas (pas de systemd ?) : {unknown}.")
    if answer.stdout.strip() == "yes":
        return CheckResult(name, OK, "Horloge synchronisée par NTP.")
    return CheckResult(
        name,
        WARNING,
        "L'horloge n'est pas synchronisée par NTP : rappels, jetons et liens datés en dépendent ; "
        "activez-la (`timedatectl set-ntp true`, ou chrony).",
    )


# --- The database ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DatabaseProbe:
    problem: str = ""  # why the database cannot be used; "" when it answered
    offset_seconds: float | None = None  # the database server's clock minus this machine's (PostgreSQL)


def _probe_sqlite(path: Path) -> DatabaseProbe:
    if not path.exists():
        return DatabaseProbe(f"le fichier {path} n'existe pas (créez la base avec `coord migrate`)")
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)
        try:
            connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            connection.close()
    except sqlite3.Error as exc:
        return DatabaseProbe(f"le fichier {path} n'est pas lisible comme base SQLite ({exc})")
    if not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)):
        return DatabaseProbe(f"{path} ou son dossier n'est pas accessible en écriture au compte de Coord")
    return DatabaseProbe()


async def _probe_postgres(url: str, seconds: float) -> DatabaseProbe:
    try:
        connection = await asyncpg.connect(dsn=url, timeout=seconds)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        return DatabaseProbe(f"connexion impossible ({type(exc).__name__} : {exc})")
    try:
        before = time.time()
        server_now = await connection.fetchval("SELECT now()", timeout=seconds)
        after = time.time()
    finally:
        await connection.close(timeout=seconds)
    return DatabaseProbe(offset_seconds=server_now.timestamp() - (before + after) / 2)


async def probe_database(settings: Settings, seconds: float = DEFAULT_TIMEOUT_SECONDS) -> DatabaseProbe:
    if settings.is_sqlite:
        return await asyncio.to_thread(_probe_sqlite, settings.sqlite_path)
    if not settings.database_url.startswith(("postgresql://", "postgres://")):
        return DatabaseProbe("database_url doit commencer par sqlite:/// ou postgresql://")
    return await _probe_postgres(settings.database_url, seconds)


def _where(settings: Settings) -> str:
    if settings.is_sqlite:
        return f"SQLite {settings.sqlite_path}"
    parts = urlsplit(settings.database_url)
    return f"PostgreSQL {parts.hostname}:{parts.port or 5432}{parts.path}"  # no password in the output


def check_database(settings: Settings, probe: DatabaseProbe) -> CheckResult:
    if probe.problem:
        return CheckResult(
            "database", ERROR, f"Base injoignable ({_where(settings)}) : {probe.problem} ; vérifiez database_url."
        )
    return CheckResult("database", OK, f"Base joignable ({_where(settings)}).")


async def check_migrations(settings: Settings, probe: DatabaseProbe, seconds: float) -> CheckResult:
    name = "migrations"
    if probe.problem:
        return CheckResult(name, SKIPPED, "Base injoignable : migrations non vérifiées.")
    engine = await asyncio.to_thread(engine_for, settings)
    try:
        pending = await asyncio.wait_for(pending_migrations(engine), seconds)
    finally:
        if isinstance(engine, PooledSQLiteEngine):
            await engine.close_pool()
    if pending:
        shown = ", ".join(str(m) for m in pending[:3]) + (" ..." if len(pending) > 3 else "")
        return CheckResult(name, ERROR, f"{len(pending)} migration(s) en attente ({shown}) : lancez `coord migrate`.")
    return CheckResult(name, OK, "Schéma à jour.")


def check_database_clock(settings: Settings, probe: DatabaseProbe) -> CheckResult:
    name = "clock_database"
    if settings.is_sqlite:
        return CheckResult(name, SKIPPED, "SQLite : la base a l'horloge de cette machine.")
    if probe.offset_seconds is None:
        return CheckResult(name, SKIPPED, "Base injoignable : horloge non comparée.")
    offset = probe.offset_seconds
    if abs(offset) > CLOCK_TOLERANCE_SECONDS:
        return CheckResult(
            name,
            WARNING,
            f"L'horloge du serveur PostgreSQL {'avance' if offset > 0 else 'retarde'} de {abs(offset):.0f} s "
            "sur celle de cette machine : synchronisez les deux par NTP.",
        )
    return CheckResult(name, OK, f"Horloges de la base et de cette machine d'accord (écart {abs(offset):.1f} s).")


# --- Mail, ProConnect, antivirus ---------------------------------------------------------------------------------


async def check_smtp(settings: Settings, seconds: float = DEFAULT_TIMEOUT_SECONDS) -> CheckResult:
    """Connect, EHLO, STARTTLS or TLS as configured, login when credentials are set; no mail is sent."""
    name = "smtp"
    where = f"{settings.smtp_host}:{settings.smtp_port}"
    if settings.smtp_starttls and settings.smtp_tls:
        return CheckResult(name, ERROR, "smtp_starttls et smtp_tls s'excluent : gardez-en un (465 : smtp_tls).")
    client = aiosmtplib.SMTP(
        hostname=settings.smtp_host,
        port=int(settings.smtp_port),
        timeout=seconds,
        use_tls=settings.smtp_tls,
        start_tls=settings.smtp_starttls,
    )
    step = "connexion"
    try:
        await client.connect()
        step = "EHLO"
        await client.ehlo()
        if settings.smtp_username:
            step = "authentification"
            await client.login(settings.smtp_username, settings.smtp_password)
        await client.quit()
    except aiosmtplib.SMTPAuthenticationError as exc:
        return CheckResult(
            name,
            ERROR,
            f"Serveur SMTP {where} : identifiants refusés ({exc.code}) ; vérifiez smtp_username et smtp_password.",
        )
    except (aiosmtplib.SMTPException, OSError) as exc:
        return CheckResult(
            name,
            ERROR,
            f"Serveur SMTP {where} injoignable ({step} : {exc}) ; vérifiez smtp_host, smtp_port, smtp_starttls, "
            "smtp_tls et le pare-feu.",
        )
    finally:
        client.close()
    security = "TLS" if settings.smtp_tls else "STARTTLS" if settings.smtp_starttls else "sans chiffrement"
    login = ", authentifié" if settings.smtp_username else ""
    return CheckResult(name, OK, f"Serveur SMTP {where} joignable ({security}{login}).")


async def check_proconnect(settings: Settings, seconds: float = DEFAULT_TIMEOUT_SECONDS) -> CheckResult:
    """The discovery document at {issuer}/.well-known/openid-configuration names the issuer and its endpoints."""
    name = "proconnect"
    if not settings.proconnect_enabled:
        return CheckResult(name, SKIPPED, "ProConnect désactivé (proconnect_enabled = false).")
    missing = [
        s for s in ("proconnect_issuer", "proconnect_client_id", "proconnect_client_secret") if not getattr(settings, s)
    ]
    if missing:
        return CheckResult(name, ERROR, f"ProConnect activé mais {', '.join(missing)} vide(s) : renseignez-les.")
    issuer = settings.proconnect_issuer.rstrip("/")
    url = f"{issuer}/.well-known/openid-configuration"
    try:
        async with httpx.AsyncClient(timeout=seconds, follow_redirects=False) as http:
            response = await http.get(url)
    except httpx.HTTPError as exc:
        return CheckResult(
            name,
            ERROR,
            f"Le fournisseur ProConnect ne répond pas ({url} : {type(exc).__name__}) ; vérifiez proconnect_issuer "
            "et l'accès sortant en https.",
        )
    if response.status_code != 200:
        return CheckResult(
            name, ERROR, f"{url} répond {response.status_code} : proconnect_issuer n'est pas le bon émetteur."
        )
    try:
        document = response.json()
    except ValueError:
        document = None
    if not isinstance(document, dict):
        return CheckResult(name, ERROR, f"{url} ne renvoie pas un document JSON : vérifiez proconnect_issuer.")
    announced = str(document.get("issuer", ""))
    if announced.rstrip("/") != issuer:
        return CheckResult(
            name, ERROR, f"Le fournisseur s'annonce « {announced} » et non « {issuer} » : corrigez proconnect_issuer."
        )
    absent = missing_endpoints(document)
    if absent:
        return CheckResult(name, ERROR, f"Le document de {url} ne donne pas {', '.join(absent)}.")
    if not document.get("end_session_endpoint"):
        return CheckResult(
            name, WARNING, "Le fournisseur ne donne pas d'end_session_endpoint : la déconnexion restera locale."
        )
    return CheckResult(name, OK, f"Fournisseur ProConnect joignable ({issuer}).")


async def check_clamd(settings: Settings, seconds: float = DEFAULT_TIMEOUT_SECONDS) -> CheckResult:
    socket_path = settings.clamd_socket
    if await scanner.ping(socket_path, seconds=seconds):
        return CheckResult("clamd", OK, f"clamd répond sur {socket_path}.")
    return CheckResult(
        "clamd",
        ERROR,
        f"clamd ne répond pas sur {socket_path} : les dépôts de documents seront refusés ; installez "
        "clamav-daemon et clamav-freshclam, et donnez accès au socket au compte de Coord (groupe clamav) ou "
        "corrigez clamd_socket.",
    )


# --- Running them ----------------------------------------------------------------------------------------------


async def _bounded(name: str, check: Awaitable[CheckResult], seconds: float) -> CheckResult:
    """A check that talks to a server: within `seconds` (and a margin), whatever happens inside."""
    try:
        return await asyncio.wait_for(check, seconds * 2 + 1)
    except TimeoutError:
        return CheckResult(name, ERROR, f"Pas de réponse en {seconds * 2 + 1:.0f} s.")
    except Exception as exc:  # a check must report, never crash the whole command
        return CheckResult(name, ERROR, f"Vérification impossible ({type(exc).__name__} : {exc}).")


async def run_checks(
    settings: Settings, *, workers: int = 1, seconds: float = DEFAULT_TIMEOUT_SECONDS
) -> list[CheckResult]:
    async def probe() -> DatabaseProbe:
        try:
            return await asyncio.wait_for(probe_database(settings, seconds), seconds * 2 + 1)
        except TimeoutError:
            return DatabaseProbe(f"pas de réponse en {seconds * 2 + 1:.0f} s")

    database, smtp, proconnect, clamd, ntp = await asyncio.gather(
        probe(),
        _bounded("smtp", check_smtp(settings, seconds), seconds),
        _bounded("proconnect", check_proconnect(settings, seconds), seconds),
        _bounded("clamd", check_clamd(settings, seconds), seconds),
        _bounded("clock_ntp", asyncio.to_thread(check_ntp, seconds), seconds),
    )
    migrations = await _bounded("migrations", check_migrations(settings, database, seconds), seconds)
    return [
        check_secret_key(settings),
        check_base_url(settings),
        check_trusted_proxies(settings),
        check_database(settings, database),
        migrations,
        check_database_engine(settings, workers),
        smtp,
        proconnect,
        ntp,
        check_database_clock(settings, database),
        check_organiser_email(settings),
        check_metrics_token(settings),
        check_demo_mode(settings),
        check_documents_dir(settings),
        clamd,
    ]


def failed(results: list[CheckResult]) -> bool:
    return any(r.status == ERROR for r in results)


def report(results: list[CheckResult]) -> str:
    """One line per check, then a summary, in French."""
    width = max(len(r.name) for r in results)
    lines = [f"{LABELS[r.status]:9}  {r.name:{width}}  {r.message}" for r in results]
    errors = sum(r.status == ERROR for r in results)
    warnings = sum(r.status == WARNING for r in results)
    if errors:
        lines.append(
            f"{errors} erreur(s), {warnings} avertissement(s) : corrigez les erreurs avant la mise en service."
        )
    elif warnings:
        lines.append(f"Aucune erreur, {warnings} avertissement(s) à examiner.")
    else:
        lines.append("Aucune erreur : la configuration est prête.")
    return "\n".join(lines)


def as_json(results: list[CheckResult]) -> str:
    return json.dumps({"ok": not failed(results), "checks": [asdict(r) for r in results]}, ensure_ascii=False, indent=2)


def cmd_doctor(args: argparse.Namespace) -> None:
    try:
        settings = load_settings()  # read now: the environment may differ from the process's first settings
    except ValueError as exc:
        results = [CheckResult("settings", ERROR, f"Configuration illisible : {exc}.")]
    else:
        results = asyncio.run(run_checks(settings, workers=args.workers, seconds=args.timeout))
    print(as_json(results) if args.json else report(results))
    if failed(results):
        raise SystemExit(1)


def add_doctor_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("doctor", help="check the deployment's configuration and the services it needs")
    p.add_argument("--json", action="store_true", help="print the results as JSON (for scripts)")
    p.add_argument("--workers", type=int, default=1, help="the number of web processes you run (coord serve --workers)")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_SECONDS, help="per network check, in seconds")
    p.set_defaults(func=cmd_doctor)
