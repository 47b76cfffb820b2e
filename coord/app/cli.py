"""The `coord` command: serve, worker, migrate, reference data, demo, users, tokens, import/export."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import uvicorn
from piccolo.apps.migrations.commands.forwards import run_forwards

from coord.access import SYSTEM, Scope
from coord.accounts import admin as accounts_admin
from coord.accounts.invitations import check_password
from coord.accounts.service import create_token, create_user
from coord.accounts.tables import User
from coord.app.demo import (
    DEMO_PASSWORD,
    DEMO_USERS,
    DEMO_WEB_PORT,
    SMTP_PORT_ENV,
    demo_loaded,
    demo_ports_problem,
    load_demo,
)
from coord.app.demo_idp import demo_proconnect
from coord.app.deploy import add_arguments as deploy_arguments
from coord.app.deploy import cmd_render as cmd_deploy_render
from coord.app.doctor import add_doctor_parser
from coord.app.factory import create_app
from coord.app.jobs import periodic_jobs, run_tick
from coord.app.migration_status import cmd_migrate_check
from coord.app.reference import import_plan, load_all
from coord.bench.run import main as bench
from coord.calendar.lmtp import serve_forever
from coord.conventions.tasks import remind
from coord.core.db import current_engine, prepare_sqlite
from coord.core.errors import CoordError, NotFound, ValidationFailed
from coord.core.settings import ROOT, get_settings
from coord.ops.backup import BackupError, backup_sqlite, restore_sqlite
from coord.ops.clamd import start_local
from coord.ops.logs import configure_logging
from coord.ops.metrics import prepare_multiprocess_dir
from coord.ops.npm_tools import TOOLS_DIR, ToolUnavailable, ensure_installed
from coord.overview.map_build import MapUnavailable, ensure_map
from coord.partners import csv_io
from coord.plans.importer import PlanFileError
from coord.worker.process import dry_run, run_worker
from coord.worker.scheduler import PeriodicJob

os.environ.setdefault("PICCOLO_CONF", "coord.app.piccolo_conf")


def _run(coro: Awaitable[Any]) -> Any:
    return asyncio.run(coro)  # type: ignore[arg-type]


async def migrate() -> None:
    await prepare_sqlite(current_engine())
    result = await run_forwards(app_name="all")
    if not result.success:
        raise SystemExit(f"migration failed: {result.message}")


def cmd_migrate(args: argparse.Namespace) -> None:
    if args.check:
        cmd_migrate_check(args)
        return
    _run(migrate())
    print("Base de données à jour.")


def cmd_reference_load(args: argparse.Namespace) -> None:
    counts = _run(load_all())
    print(", ".join(f"{v} {k}" for k, v in counts.items()) + " chargés.")


def cmd_plan_import(args: argparse.Namespace) -> None:
    try:
        code, created, count = _run(import_plan(Path(args.file)))
    except PlanFileError as exc:
        raise SystemExit(str(exc)) from exc
    print(f"Plan {code} {'créé' if created else 'mis à jour'} : {count} mesures.")


PASSWORD_TRIES = 3  # at the prompt, a refused password is asked again this many times in all


def _refusal(exc: CoordError) -> SystemExit:
    """A French message for the terminal: the fields' errors, or the error's message."""
    if isinstance(exc, ValidationFailed):
        return SystemExit("\n".join(f"{k} : {v}" for k, v in exc.errors.items()))
    return SystemExit(exc.message)


def _prompted_password(email: str, name: str) -> str:
    """Asked at the terminal without echo, twice; a password the policy refuses is asked again."""
    for _ in range(PASSWORD_TRIES):
        first = getpass.getpass(f"Mot de passe pour {email} : ")
        if problem := check_password(first, (email, name)):
            print(problem, file=sys.stderr)
            continue
        if getpass.getpass("Confirmez le mot de passe : ") == first:
            return first
        print("Les deux mots de passe saisis ne sont pas identiques.", file=sys.stderr)
    raise SystemExit("Aucun mot de passe retenu : compte non créé.")


def _password_of(args: argparse.Namespace) -> str:
    """From --password (scripts), one line of standard input (--password-stdin) or the prompt."""
    if args.password is not None:
        return str(args.password)
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if sys.stdin.isatty():
        return _prompted_password(args.email.strip().lower(), args.name or "")
    raise SystemExit(
        "Mot de passe manquant : lancez la commande dans un terminal pour le saisir, ou donnez-le sur "
        "l'entrée standard avec --password-stdin."
    )


def cmd_user_create(args: argparse.Namespace) -> None:
    password = _password_of(args)
    try:
        user = _run(
            create_user(
                Scope(SYSTEM),
                {
                    "email": args.email,
                    "password": password,
                    "role": args.role,
                    "department": args.department or "",
                    "full_name": args.name or "",
                },
            )
        )
    except ValidationFailed as exc:
        raise _refusal(exc) from exc
    print(f"Compte créé : {user['email']} ({user['role']}{', ' + user['department'] if user['department'] else ''}).")


def cmd_user_deactivate(args: argparse.Namespace) -> None:
    email = args.email.strip().lower()

    async def run() -> dict[str, Any]:
        row = await User.select(User.id).where(User.email == email).first()
        if row is None:
            raise NotFound(f"Aucun compte pour {email}.")
        return await accounts_admin.set_active(Scope(SYSTEM), row["id"], False)

    try:
        _run(run())
    except CoordError as exc:
        raise _refusal(exc) from exc
    print(f"Compte désactivé : {email} (sessions terminées, jetons d'API révoqués).")


def cmd_user_invite(args: argparse.Namespace) -> None:
    data = {
        "email": args.email,
        "role": args.role,
        "department": args.department or "",
        "manages_accounts": args.manages_accounts,
        "full_name": args.name or "",
    }
    try:
        invitation = _run(accounts_admin.invite(Scope(SYSTEM), data, base_url=get_settings().base_url))
    except CoordError as exc:
        raise _refusal(exc) from exc
    print(
        f"Invitation de {invitation['email']} mise en file d'attente : le courriel part avec le prochain envoi "
        "de `coord worker` (ou du service web, s'il fait tourner le planificateur)."
    )
    if args.show_link:
        print(invitation["link"])


def cmd_token_create(args: argparse.Namespace) -> None:
    try:
        print(_run(create_token(args.email, args.name or "", days=args.days)))
    except NotFound as exc:
        raise SystemExit(exc.message) from exc


def _department_scope(code: str) -> Callable[[], Awaitable[tuple[Any, dict[str, Any]]]]:
    async def resolve() -> tuple[Any, dict[str, Any]]:
        scope = Scope(SYSTEM)
        return scope, await scope.department(code)

    return resolve


def cmd_partners_import(args: argparse.Namespace) -> None:
    data = Path(args.file).read_bytes()

    async def run() -> csv_io.ImportResult:
        scope, dept = await _department_scope(args.department)()
        return await csv_io.import_partners(scope, dept["id"], csv_io.decode(data), dry_run=args.dry_run)

    result = _run(run())
    print(
        f"{result.organisations_created} organisation(s), {result.contacts_created} contact(s)"
        f"{' (simulation)' if result.dry_run else ''} ; {len(result.rejected)} ligne(s) rejetée(s)."
    )
    for row in result.rejected:
        print(f"  ligne {row['line']} : {row['reason']}")


def cmd_partners_export(args: argparse.Namespace) -> None:
    async def run() -> str:
        scope, dept = await _department_scope(args.department)()
        return await csv_io.export_partners(scope, dept["id"])

    text = _run(run())
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"Exporté vers {args.output}.")


MAX_WEB_WORKERS = 32


def _proxy_headers(trusted_proxies: str) -> dict[str, Any]:
    """uvicorn believes X-Forwarded-For/-Proto from the same peers as `coord.web.client_ip` (the
    `trusted_proxies` setting), not from its own default (127.0.0.1): with no trusted proxy, nobody
    may set the client's address, not even a process on the machine."""
    return {"proxy_headers": bool(trusted_proxies.strip()), "forwarded_allow_ips": trusted_proxies.strip() or None}


def serve(
    host: str, port: int, *, demo: bool = False, workers: int = 1, overrides: dict[str, Any] | None = None
) -> None:
    """Serve the app; with `workers` > 1, in that many processes sharing the port (one per core)."""
    if not 1 <= workers <= MAX_WEB_WORKERS:
        raise SystemExit(f"--workers : entre 1 et {MAX_WEB_WORKERS}.")
    if workers > 1:
        settings = get_settings()
        if settings.is_sqlite and settings.scheduler_enabled:
            # One scheduler per process would compete for SQLite's single writer every tick.
            raise SystemExit(
                "Avec SQLite et plusieurs processus web, le planificateur tourne à part : lancez "
                "`COORD_SCHEDULER_ENABLED=false coord serve --workers N` et, à côté, `coord worker`."
            )
        configure_logging(json_lines=True)
        # Each worker writes its metrics there and a scrape sums them (coord.ops.metrics); the
        # workers are spawned, so they import prometheus_client with the variable already set.
        prepare_multiprocess_dir(ROOT / settings.metrics_dir)
        uvicorn.run(
            "coord.app.factory:production_app",
            factory=True,
            workers=workers,
            host=host,
            port=port,
            log_config=None,
            **_proxy_headers(settings.trusted_proxies),
            # A spawned worker imports the whole command (this module) before it can answer the
            # supervisor's ping: on a loaded machine that takes longer than uvicorn's 5 s, and the
            # supervisor killed and respawned its workers over and over.
            timeout_worker_healthcheck=60,
        )
        return
    configure_logging(json_lines=not demo)
    settings = get_settings()
    settings = replace(settings, **overrides) if overrides else settings
    app = create_app(settings, demo=demo)
    uvicorn.run(app, host=host, port=port, log_config=None, **_proxy_headers(settings.trusted_proxies))


def cmd_backup(args: argparse.Namespace) -> None:
    settings = get_settings()
    if not settings.is_sqlite:
        raise SystemExit("PostgreSQL : utilisez pg_dump (voir README, « Exploitation »).")
    try:
        target = backup_sqlite(settings.sqlite_path, Path(args.output) if args.output else None)
    except BackupError as exc:
        raise SystemExit(str(exc)) from exc
    print(f"Sauvegarde écrite : {target}")


def cmd_restore(args: argparse.Namespace) -> None:
    settings = get_settings()
    if not settings.is_sqlite:
        raise SystemExit("PostgreSQL : utilisez pg_restore (voir README, « Exploitation »).")
    try:
        kept = restore_sqlite(Path(args.file), settings.sqlite_path)
    except BackupError as exc:
        raise SystemExit(str(exc)) from exc
    print(f"Base restaurée depuis {args.file} ; l'ancienne base est conservée dans {kept}.")


def ensure_design_system() -> None:
    """The State design system's files (tools/dsfr, from npm): installed on first start, then kept."""
    try:
        if ensure_installed(TOOLS_DIR / "dsfr", ignore_scripts=True):
            print("Système de design de l'État (DSFR) installé dans tools/dsfr.", flush=True)
    except ToolUnavailable as exc:
        raise SystemExit(f"Impossible d'installer le système de design de l'État (DSFR) : {exc}") from exc


def ensure_national_map() -> None:
    """The outlines of the national map (var/cache/map): built on first start, then kept."""
    try:
        if ensure_map():
            print("Carte des départements construite dans var/cache/map.", flush=True)
    except MapUnavailable as exc:
        raise SystemExit(f"Impossible de construire la carte des départements : {exc}") from exc


def cmd_serve(args: argparse.Namespace) -> None:
    ensure_design_system()
    ensure_national_map()
    serve(args.host, args.port, workers=args.workers)


def cmd_demo(args: argparse.Namespace) -> None:
    smtp_port = args.smtp_port if args.smtp_port is not None else get_settings().smtp_port
    if not 1 <= smtp_port <= 65535 or not 1 <= args.port <= 65535:
        raise SystemExit("Les ports vont de 1 à 65535.")
    # Before anything else: a demo whose SMTP sink cannot listen would send its mails to whatever
    # holds the port.
    if problem := demo_ports_problem(args.host, args.port, smtp_port):
        raise SystemExit(problem)
    ensure_design_system()
    ensure_national_map()

    async def prepare() -> None:
        await migrate()
        await load_all()
        if not await demo_loaded():
            await load_demo()

    _run(prepare())
    url = f"http://{args.host}:{args.port}"
    # The loopback ProConnect of the demo (tools/oidc-provider, Node.js): without Node, no button.
    with demo_proconnect(url, [(email, name) for email, name, _role, _dept in DEMO_USERS]) as overrides:
        print("\n" + "=" * 72)
        print(f"Coord (démonstration) : {url}")
        print(f"Mot de passe de tous les comptes : {DEMO_PASSWORD}")
        for email, _name, role, dept in DEMO_USERS:
            print(f"  {email:34} {role:12} {dept or 'tous'}")
        if overrides:
            print("ProConnect (démonstration) : « S'identifier avec ProConnect », puis une adresse ci-dessus.")
        print("=" * 72 + "\n", flush=True)
        print(f"Courriels captés par le puits SMTP (127.0.0.1:{smtp_port}) : {url}/demo/courriels", flush=True)
        # The demo's own clamd (EICAR signature only): without clamd installed, uploads are refused.
        scanner = start_local(ROOT / "var" / "clamd")
        if scanner is None:
            print("clamd n'est pas installé : les dépôts de documents seront refusés (antivirus indisponible).")
        try:
            serve(
                args.host,
                args.port,
                demo=True,
                overrides={
                    **overrides,
                    "smtp_host": "127.0.0.1",
                    "smtp_port": smtp_port,
                    **({"clamd_socket": str(scanner.socket_path)} if scanner else {}),
                },
            )
        finally:
            if scanner is not None:
                scanner.stop()


def cmd_imip_listen(args: argparse.Namespace) -> None:
    configure_logging()
    _run(serve_forever(args.host, args.port, lmtp=args.lmtp))


def cmd_conventions_remind(args: argparse.Namespace) -> None:
    result = remind()
    print(f"{result['queued']} rappel(s) mis en file d'attente.")


def _worker_jobs(tick_seconds: float) -> list[PeriodicJob]:
    return periodic_jobs(tick_seconds=tick_seconds)


def cmd_worker(args: argparse.Namespace) -> None:
    if args.dry_run:
        print(_run(dry_run(args.at)))
        return
    if args.at:
        raise SystemExit("--at ne s'utilise qu'avec --dry-run.")
    _run(
        run_worker(
            _worker_jobs, outbox_seconds=args.outbox_seconds, tick_seconds=args.tick_seconds, lease_seconds=args.lease
        )
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="coord", description="Coordination départementale de la lutte contre la traite."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="start the web service")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1, help="web processes (one per core; default 1)")
    p.set_defaults(func=cmd_serve)

    smtp_default = get_settings().smtp_port
    p = sub.add_parser(
        "demo",
        help="migrate, load reference and demo data, start the service",
        description="Démonstration : migre la base, charge les données de démonstration et démarre le service.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(
            "Ports utilisés :\n"
            f"  site web            --port (défaut {DEMO_WEB_PORT}), sur --host\n"
            f"  puits SMTP          --smtp-port ou {SMTP_PORT_ENV} (défaut {smtp_default}), sur 127.0.0.1 :\n"
            "                      capte les courriels de la démonstration, lisibles sur /demo/courriels\n"
            "  ProConnect (démo)   fournisseur OIDC local si Node.js est installé : un port libre choisi au\n"
            "                      démarrage, sur 127.0.0.1\n"
            "La démonstration refuse de démarrer si le port du site ou du puits SMTP est déjà pris."
        ),
    )
    p.add_argument("--host", default="127.0.0.1", help="adresse du site web (défaut 127.0.0.1)")
    p.add_argument("--port", type=int, default=DEMO_WEB_PORT, help=f"port du site web (défaut {DEMO_WEB_PORT})")
    p.add_argument(
        "--smtp-port",
        type=int,
        default=None,
        help=f"port du puits SMTP qui capte les courriels (défaut {smtp_default}, ou {SMTP_PORT_ENV})",
    )
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("worker", help="run the scheduler alone: outbox delivery and reminder ticks")
    p.add_argument("--dry-run", action="store_true", help="print what would be sent, send and queue nothing")
    p.add_argument("--at", help="with --dry-run: the instant to plan for (ISO 8601, e.g. 2026-10-01T08:00+02:00)")
    p.add_argument("--outbox-seconds", type=float, help="outbox delivery interval (default: [cycle] outbox_seconds)")
    p.add_argument("--tick-seconds", type=float, help="reminder tick interval (default: [cycle] tick_minutes)")
    p.add_argument("--lease", type=float, default=300.0, help="outbox lease in seconds (default 300)")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("migrate", help="create or upgrade the database schema")
    p.add_argument("--check", action="store_true", help="list the pending migrations (exit 1 if any), apply nothing")
    p.set_defaults(func=cmd_migrate)
    add_doctor_parser(sub)
    sub.add_parser("bench", help="national-scale benchmark (coord bench --help)")

    p = sub.add_parser("backup", help="online backup of the SQLite database")
    p.add_argument("--output", help="backup file (default: var/backups/coord-<time>.sqlite3)")
    p.set_defaults(func=cmd_backup)
    p = sub.add_parser("restore", help="restore the SQLite database from a backup (service stopped)")
    p.add_argument("file")
    p.set_defaults(func=cmd_restore)

    ref = sub.add_parser("reference", help="reference data").add_subparsers(dest="sub", required=True)
    ref.add_parser("load", help="load départements, institution kinds and shipped plans").set_defaults(
        func=cmd_reference_load
    )

    plan = sub.add_parser("plan", help="national plans").add_subparsers(dest="sub", required=True)
    p = plan.add_parser("import", help="import a plan from a TOML or CSV file")
    p.add_argument("file")
    p.set_defaults(func=cmd_plan_import)

    conventions = sub.add_parser("conventions", help="partnership conventions").add_subparsers(
        dest="sub", required=True
    )
    conventions.add_parser("remind", help="apply date-driven status changes and queue due reminders").set_defaults(
        func=cmd_conventions_remind
    )

    deploy = sub.add_parser("deploy", help="production files").add_subparsers(dest="sub", required=True)
    p = deploy.add_parser("render", help="write the systemd units and the nginx site (docs/deployment.md)")
    deploy_arguments(p)
    p.set_defaults(func=cmd_deploy_render)

    imip = sub.add_parser("imip", help="calendar replies").add_subparsers(dest="sub", required=True)
    p = imip.add_parser("listen", help="receive calendar replies by SMTP or LMTP")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=2525)
    p.add_argument("--lmtp", action="store_true")
    p.set_defaults(func=cmd_imip_listen)

    user = sub.add_parser("user", help="accounts").add_subparsers(dest="sub", required=True)
    p = user.add_parser("create", help="create an account (password asked at the prompt by default)")
    p.add_argument("--email", required=True)
    given = p.add_mutually_exclusive_group()
    given.add_argument("--password", help="for scripts only: the command line is visible to other users")
    given.add_argument("--password-stdin", action="store_true", help="read the password from one line of stdin")
    p.add_argument("--role", required=True, choices=["national", "prefecture", "coordinator", "observer"])
    p.add_argument("--department")
    p.add_argument("--name")
    p.set_defaults(func=cmd_user_create)
    p = user.add_parser("deactivate", help="deactivate an account: its sessions end, its API tokens are revoked")
    p.add_argument("email")
    p.set_defaults(func=cmd_user_deactivate)
    p = user.add_parser("invite", help="mail an invitation (one-time link) to create an account")
    p.add_argument("email")
    p.add_argument("--role", required=True, help="national, prefecture, coordinator or observer")
    p.add_argument("--department", help="the département's code (none for a national account)")
    p.add_argument("--manages-accounts", action="store_true", help="may manage the accounts of the département")
    p.add_argument("--name", help="the person's full name")
    p.add_argument("--show-link", action="store_true", help="also print the link (when mail is not set up yet)")
    p.set_defaults(func=cmd_user_invite)

    token = sub.add_parser("token", help="API tokens").add_subparsers(dest="sub", required=True)
    p = token.add_parser("create", help="create a bearer token for an account (printed once)")
    p.add_argument("--email", required=True)
    p.add_argument("--name")
    p.add_argument("--days", type=int, help="expire after this many days")
    p.set_defaults(func=cmd_token_create)

    partners = sub.add_parser("partners", help="partner organisations and contacts").add_subparsers(
        dest="sub", required=True
    )
    p = partners.add_parser("import", help="import a CSV file into a département")
    p.add_argument("--department", required=True)
    p.add_argument("--dry-run", action="store_true")
    p.add_argument("file")
    p.set_defaults(func=cmd_partners_import)
    p = partners.add_parser("export", help="export a département's partners as CSV")
    p.add_argument("--department", required=True)
    p.add_argument("--output", default="-")
    p.set_defaults(func=cmd_partners_export)
    return parser


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["bench"]:  # its own options; see coord/bench/run.py
        bench(argv[1:], tick=run_tick)
        return
    args = build_parser().parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
