"""Settings from `config/coord.toml`, `config/local.toml` and `COORD_*` environment variables.

Later sources win: the shipped defaults, then the deployment's local file, then the environment.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tomllib
from dataclasses import dataclass, field, fields, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from coord.core.private_files import restrict, write_private

ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = Path(os.environ.get("COORD_CONFIG_DIR", ROOT / "config"))
# Where a development instance keeps the secret generated for an empty `secret_key`.
DEVELOPMENT_SECRET = ROOT / "var" / "secret_key"


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///var/coord.sqlite3"
    database_pool: bool = True
    base_url: str = "http://127.0.0.1:8000"
    secret_key: str = ""
    organiser_email: str = "coordination-teh@prefecture.example.gouv.fr"
    organiser_name: str = "Coordination départementale TEH"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    smtp_tls: bool = False
    login_max_failures: int = 5
    login_window_minutes: int = 15
    session_hours: int = 12
    # Addresses (IPs or CIDR networks, comma-separated) of the reverse proxies whose X-Forwarded-For
    # is believed; from anywhere else the header is ignored and the peer address is the client's.
    trusted_proxies: str = ""
    invitation_days: int = 7
    password_reset_minutes: int = 60
    api_token_days: int = 90
    # ProConnect (OpenID Connect): the issuer whose discovery document is at
    # {issuer}/.well-known/openid-configuration, e.g. https://auth.agentconnect.gouv.fr/api/v2.
    proconnect_enabled: bool = False
    proconnect_issuer: str = ""
    proconnect_client_id: str = ""
    proconnect_client_secret: str = ""
    proconnect_redirect_url: str = ""  # "": {base_url}/connexion/proconnect/retour
    scheduler_enabled: bool = True
    mail_retention_days: int = 90  # sent mails' content is cleared after this many days (0: kept)
    demo_mode: bool = False
    # Calendar replies by mail (coord.calendar.ingest): the authserv-id of the receiving mail server
    # whose Authentication-Results (dkim=pass) vouch for a sender ("": none trusted), and the mailbox
    # mails about no meeting are forwarded to ("": refused with a 550).
    imip_trusted_authserv_id: str = ""
    imip_forward_to: str = ""
    # Uploaded documents (coord.documents): "filesystem" (under documents_dir) or "database" (a blob
    # table, for several instances on PostgreSQL); every upload is scanned by clamd at clamd_socket.
    documents_storage: str = "filesystem"
    documents_dir: str = "var/documents"
    documents_max_file_mb: int = 10
    documents_max_owner_mb: int = 50
    clamd_socket: str = "/run/clamav/clamd.ctl"
    clamd_timeout_seconds: int = 30
    # Prometheus (coord.web.metrics): the bearer token of GET /metrics ("": metrics off, 404), and
    # the directory where the processes of `coord serve --workers N` write their values.
    metrics_token: str = ""
    metrics_dir: str = "var/metrics"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def sqlite_path(self) -> Path:
        raw = self.database_url.split(":///", 1)[1]
        path = Path(raw)
        return path if path.is_absolute() else ROOT / path

    @property
    def cookie_secure(self) -> bool:
        # Browsers drop Secure cookies over plain http except on localhost; tie it to the scheme.
        return self.base_url.startswith("https://")

    @property
    def mail_domain(self) -> str:
        return self.organiser_email.rsplit("@", 1)[-1]


def _coerce(name: str, raw: Any, default: Any) -> Any:
    if isinstance(default, bool):
        if isinstance(raw, bool):
            return raw
        return str(raw).strip().lower() in {"1", "true", "yes", "on", "oui"}
    if isinstance(default, int):
        try:
            return int(raw)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"setting {name}: expected an integer, got {raw!r}") from exc
    return str(raw)


def load_settings(config_dir: Path | None = None, env: dict[str, str] | None = None) -> Settings:
    config_dir = config_dir or CONFIG_DIR
    env = dict(os.environ) if env is None else env
    values: dict[str, Any] = {}
    for name in ("coord.toml", "local.toml"):
        path = config_dir / name
        if path.exists():
            values.update(tomllib.loads(path.read_text(encoding="utf-8")))
    defaults = Settings()
    known = {f.name: getattr(defaults, f.name) for f in fields(Settings) if f.name != "extra"}
    for name in known:
        env_value = env.get(f"COORD_{name.upper()}")
        if env_value is not None:
            values[name] = env_value
    kwargs = {name: _coerce(name, values[name], known[name]) for name in known if name in values}
    extra = {k: v for k, v in values.items() if k not in known}
    settings = Settings(**kwargs, extra=extra)
    if not settings.secret_key:
        settings = replace(settings, secret_key=_development_secret())
    return settings


def _development_secret(path: Path | None = None) -> str:
    """A random secret kept in var/ so sessions and links survive a restart of a dev instance.

    The file is 0600 from its creation (var/ 0700 if created here) and brought back to 0600 if it
    was loosened (coord.core.private_files)."""
    path = path or DEVELOPMENT_SECRET
    if not path.exists():
        with contextlib.suppress(FileExistsError):  # another process wrote it first: use theirs
            write_private(path, secrets.token_urlsafe(48))
    restrict(path)
    return path.read_text().strip()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()


_active: Settings | None = None


def use_settings(settings: Settings) -> None:
    """Make `settings` the ones services read (the app factory calls this; tests pass their own)."""
    global _active
    _active = settings


def current_settings() -> Settings:
    return _active or get_settings()
