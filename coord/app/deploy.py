"""`coord deploy render`: the systemd units and the nginx site of a production deployment.

The templates are in `config/deploy/` (`@{name}` placeholders: nginx's own `$variables` stay as they
are); this fills them in from the command's options and from the settings the limits must match:

- `client_max_body_size`: Coord's largest accepted body, a document upload (`documents_max_file_mb`
  MiB + the 256 KiB margin of `coord.documents.routes.UPLOAD_BODY_LIMIT`), rounded up to the MiB;
- the proxy timeouts: above clamd's (an upload waits for the scan) with room for the database;
- the upstream keep-alive: below uvicorn's, so nginx never reuses a connection uvicorn is closing.

See docs/deployment.md for the deployment these files describe.
"""

from __future__ import annotations

import argparse
import ipaddress
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from string import Template

from coord.app.factory import APP_BODY_LIMIT
from coord.calendar.ingest import MAX_MESSAGE_BYTES
from coord.core.settings import ROOT, Settings, get_settings
from coord.documents.routes import upload_body_limit as documents_upload_limit

TEMPLATES = ROOT / "config" / "deploy"
UNITS = ("coord-web.service", "coord-worker.service", "coord-imip.service")
NGINX_SITE = "nginx-coord.conf"
OUTPUTS = (*UNITS, NGINX_SITE)

MIB = 1024 * 1024
UVICORN_KEEPALIVE_SECONDS = 5  # uvicorn's default timeout_keep_alive (coord serve keeps it)
PROXY_TIMEOUT_MARGIN_SECONDS = 30
NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
USER = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")


class DeployTemplate(Template):
    delimiter = "@"


class RenderError(ValueError):
    """An option the files cannot be rendered with (the message is French, for the terminal)."""


def upload_body_limit(settings: Settings) -> int:
    return documents_upload_limit(settings.documents_max_file_mb)


def largest_body(settings: Settings) -> int:
    """The largest request body any route of Coord accepts, in bytes."""
    return max(upload_body_limit(settings), APP_BODY_LIMIT, MAX_MESSAGE_BYTES)


def client_max_body_size(settings: Settings) -> str:
    return f"{math.ceil(largest_body(settings) / MIB)}m"


def proxy_timeout_seconds(settings: Settings) -> int:
    return settings.clamd_timeout_seconds + PROXY_TIMEOUT_MARGIN_SECONDS


@dataclass(frozen=True)
class Options:
    server_name: str
    output: Path
    workers: int = 2
    user: str = "coord"
    group: str = ""
    prefix: str = "/opt/coord"
    host: str = "127.0.0.1"
    port: int = 8000
    imip_port: int = 2525
    environment_file: str = "/etc/coord/coord.env"
    certificate: str = ""
    key: str = ""
    https_port: int = 443
    http_port: int = 80
    listen_address: str = ""
    metrics_allow: tuple[str, ...] = ()


def _check(options: Options) -> None:
    if not NAME.match(options.server_name):
        raise RenderError(f"--server-name : nom d'hôte invalide ({options.server_name!r}).")
    if not USER.match(options.user) or (options.group and not USER.match(options.group)):
        raise RenderError("--user / --group : nom de compte système invalide.")
    for label, value in (
        ("--port", options.port),
        ("--imip-port", options.imip_port),
        ("--https-port", options.https_port),
        ("--http-port", options.http_port),
    ):
        if not 1 <= value <= 65535:
            raise RenderError(f"{label} : entre 1 et 65535.")
    if not 1 <= options.workers <= 32:
        raise RenderError("--workers : entre 1 et 32.")
    paths = [options.prefix, options.environment_file, options.certificate, options.key]
    for path in filter(None, paths):
        if not path.startswith("/") or any(c.isspace() or c in ";{}'\"$@\\" for c in path):
            raise RenderError(f"Chemin absolu sans espace ni caractère spécial attendu : {path!r}.")
    for address in (options.host, options.listen_address, *options.metrics_allow):
        if address:
            try:
                ipaddress.ip_network(address, strict=False)
            except ValueError as exc:
                raise RenderError(f"Adresse IP invalide : {address!r}.") from exc


def _listen(address: str, port: int, ssl: bool) -> str:
    suffix = " ssl http2" if ssl else ""
    if address:
        host = f"[{address}]" if ":" in address else address
        return f"    listen {host}:{port}{suffix};"
    return f"    listen {port}{suffix};\n    listen [::]:{port}{suffix};"


def _upstream(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def values(options: Options, settings: Settings) -> dict[str, str]:
    certificate = options.certificate or f"/etc/letsencrypt/live/{options.server_name}/fullchain.pem"
    key = options.key or f"/etc/letsencrypt/live/{options.server_name}/privkey.pem"
    hardening = DeployTemplate((TEMPLATES / "hardening.inc").read_text(encoding="utf-8"))
    metrics = [f"        allow {address};" for address in options.metrics_allow] + ["        deny all;"]
    prefix = options.prefix.rstrip("/")
    common = {
        "prefix": prefix or "/",
        "user": options.user,
        "group": options.group or options.user,
        "workers": str(options.workers),
        "host": options.host,
        "port": str(options.port),
        "imip_port": str(options.imip_port),
        "environment_file": options.environment_file,
        # npm (the design system's files, first start) and Python caches under var/, never $HOME.
        "common_environment": "\n".join(
            [
                f"Environment=HOME={prefix}/var",
                f"Environment=npm_config_cache={prefix}/var/cache/npm",
                "Environment=PYTHONDONTWRITEBYTECODE=1",
                # Every Coord process of the machine (web, worker, iMIP) writes its metrics there and a
                # scrape of /metrics sums them (coord.ops.metrics); on tmpfs, so a reboot empties it.
                "RuntimeDirectory=coord-metrics",
                "RuntimeDirectoryPreserve=yes",
                "Environment=PROMETHEUS_MULTIPROC_DIR=/run/coord-metrics",
                "Environment=COORD_METRICS_DIR=/run/coord-metrics",
            ]
        ),
    }
    common["hardening"] = hardening.substitute(common).rstrip("\n")
    # uvicorn's supervisor (--workers 2 or more) replaces its processes one by one on SIGHUP, each
    # replacement serving before the old one leaves; a single process would just stop.
    common["reload"] = (
        "# `systemctl reload coord-web`: uvicorn replaces its processes one by one, each replacement\n"
        "# serving before the old one leaves (an upgrade's code, without a gap).\n"
        "ExecReload=/bin/kill -HUP $MAINPID"
        if options.workers > 1
        else "# One process (--workers 1): no reload, `systemctl restart` instead."
    )
    return {
        **common,
        "server_name": options.server_name,
        "certificate": certificate,
        "key": key,
        "upstream": _upstream(options.host, options.port),
        "app_keepalive": str(UVICORN_KEEPALIVE_SECONDS),
        "upstream_keepalive": str(UVICORN_KEEPALIVE_SECONDS - 1),
        "listen_http": _listen(options.listen_address, options.http_port, ssl=False),
        "listen_https": _listen(options.listen_address, options.https_port, ssl=True),
        "https_port_suffix": "" if options.https_port == 443 else f":{options.https_port}",
        "largest_body": str(largest_body(settings)),
        "client_max_body_size": client_max_body_size(settings),
        "clamd_timeout": str(settings.clamd_timeout_seconds),
        "proxy_timeout": str(proxy_timeout_seconds(settings)),
        "metrics_access": "\n".join(metrics),
    }


def render(options: Options, settings: Settings | None = None) -> list[Path]:
    """Write the three units and the nginx site into `options.output`; the paths written."""
    _check(options)
    filled = values(options, settings or get_settings())
    options.output.mkdir(parents=True, exist_ok=True)
    written = []
    for name in OUTPUTS:
        text = DeployTemplate((TEMPLATES / name).read_text(encoding="utf-8")).substitute(filled)
        target = options.output / name
        target.write_text(text, encoding="utf-8")
        written.append(target)
    return written


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--server-name", required=True, help="the public host name (nginx server_name)")
    parser.add_argument("--output", required=True, help="directory the four files are written to")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="web processes (default: cores)")
    parser.add_argument("--user", default="coord", help="system account the services run as (default coord)")
    parser.add_argument("--group", default="", help="its group (default: same as --user)")
    parser.add_argument("--prefix", default="/opt/coord", help="Coord's directory, with .venv/ (default /opt/coord)")
    parser.add_argument("--host", default="127.0.0.1", help="address Coord listens on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port of coord serve (default 8000)")
    parser.add_argument("--imip-port", type=int, default=2525, help="LMTP port of coord imip listen (default 2525)")
    parser.add_argument("--environment-file", default="/etc/coord/coord.env", help="the COORD_* settings file")
    parser.add_argument("--certificate", default="", help="TLS certificate chain (default: Let's Encrypt's path)")
    parser.add_argument("--key", default="", help="TLS private key (default: Let's Encrypt's path)")
    parser.add_argument("--https-port", type=int, default=443)
    parser.add_argument("--http-port", type=int, default=80)
    parser.add_argument("--listen-address", default="", help="nginx listens on this address only (default: all)")
    parser.add_argument(
        "--metrics-allow",
        action="append",
        default=[],
        help="address or network allowed to read /metrics through nginx (repeatable; default: nobody)",
    )


def options_from(args: argparse.Namespace) -> Options:
    return Options(
        server_name=args.server_name,
        output=Path(args.output),
        workers=args.workers,
        user=args.user,
        group=args.group,
        prefix=args.prefix,
        host=args.host,
        port=args.port,
        imip_port=args.imip_port,
        environment_file=args.environment_file,
        certificate=args.certificate,
        key=args.key,
        https_port=args.https_port,
        http_port=args.http_port,
        listen_address=args.listen_address,
        metrics_allow=tuple(args.metrics_allow),
    )


def cmd_render(args: argparse.Namespace) -> None:
    options = options_from(args)
    try:
        written = render(options)
    except RenderError as exc:
        raise SystemExit(str(exc)) from exc
    for path in written:
        print(f"Écrit : {path}")
    port = "" if options.https_port == 443 else f":{options.https_port}"
    print(
        f"Dans {options.environment_file} : COORD_BASE_URL=https://{options.server_name}{port} et "
        "COORD_TRUSTED_PROXIES=<adresse de nginx vue par Coord> (127.0.0.1 sur la même machine)."
    )
