"""The loopback OpenID Connect provider configured like ProConnect (tools/oidc-provider), from Python.

The demo starts it so a newcomer can click « S'identifier avec ProConnect » and sign in as a demo
agent; the tests start it once per session to run Coord's ProConnect client against a real provider.
It is panva's certified `oidc-provider` on the machine's Node.js, installed from the npm registry with
`npm ci` from the committed lock file (`ensure_installed`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import secrets
import selectors
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx

from coord.core.settings import ROOT
from coord.ops import npm_tools

logger = logging.getLogger("coord.demo_idp")

TOOL_DIR = ROOT / "tools" / "oidc-provider"
START_TIMEOUT = 20.0
READY = re.compile(r"^ready (http://\S+)$")


class ProviderUnavailable(RuntimeError):
    """Node.js or npm is missing, the install failed, or the provider did not start."""


def ensure_installed(tool_dir: Path = TOOL_DIR) -> bool:
    """Install the provider's npm packages (`npm ci`) unless they are up to date; True if it ran."""
    try:
        return npm_tools.ensure_installed(tool_dir)
    except npm_tools.ToolUnavailable as error:
        raise ProviderUnavailable(str(error)) from error


class LoopbackProvider:
    """`node server.mjs` on loopback with one confidential client; a context manager.

    `accounts` gives the names the provider returns for known e-mails ({"email", "given_name",
    "usual_name"} each); any other e-mail gets names made from its local part. `control` enables the
    test endpoint POST /__control__ (never in the demo)."""

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        redirect_uris: Iterable[str],
        post_logout_redirect_uris: Iterable[str] = (),
        port: int = 0,
        accounts: Iterable[dict[str, str]] = (),
        control: bool = False,
        tool_dir: Path = TOOL_DIR,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uris = list(redirect_uris)
        self.post_logout_redirect_uris = list(post_logout_redirect_uris)
        self.port = port
        self.accounts = list(accounts)
        self.control = control
        self.tool_dir = tool_dir
        self.issuer = ""
        self._process: subprocess.Popen[str] | None = None
        self._workdir: tempfile.TemporaryDirectory[str] | None = None

    @property
    def origin(self) -> str:
        return self.issuer.removesuffix("/api/v2")

    def start(self) -> LoopbackProvider:
        node = shutil.which("node")
        if not node:
            raise ProviderUnavailable(
                "Node.js est introuvable : le fournisseur OpenID Connect de test ne peut démarrer."
            )
        ensure_installed(self.tool_dir)
        self._workdir = tempfile.TemporaryDirectory(prefix="coord-oidc-")
        work = Path(self._workdir.name)
        accounts = work / "accounts.json"
        accounts.write_text(json.dumps(self.accounts, ensure_ascii=False), encoding="utf-8")
        config = work / "provider.json"
        config.write_text(
            json.dumps(
                {
                    "port": self.port,
                    "client_id": self.client_id,
                    "client_secret": self.client_secret,
                    "redirect_uris": self.redirect_uris,
                    "post_logout_redirect_uris": self.post_logout_redirect_uris,
                    "accounts": str(accounts),
                    "control": self.control,
                }
            ),
            encoding="utf-8",
        )
        config.chmod(0o600)  # it holds the client secret
        stderr_path = work / "stderr.log"
        with stderr_path.open("w") as stderr:
            self._process = subprocess.Popen(
                [node, str(self.tool_dir / "server.mjs"), "--config", str(config), "--exit-with-stdin"],
                cwd=self.tool_dir,
                stdin=subprocess.PIPE,  # held open: the provider exits when this process is gone
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
            )
        try:
            self.issuer = self._wait_ready(stderr_path)
            self._check_discovery()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, stderr_path: Path) -> str:
        assert self._process and self._process.stdout
        deadline = time.monotonic() + START_TIMEOUT
        with selectors.DefaultSelector() as selector:
            selector.register(self._process.stdout, selectors.EVENT_READ)
            while (left := deadline - time.monotonic()) > 0:
                if selector.select(timeout=left):
                    line = self._process.stdout.readline()
                    if match := READY.match(line.strip()):
                        return match.group(1)
                    if not line:  # stdout closed: the process ended
                        break
                elif self._process.poll() is not None:
                    break
        errors = stderr_path.read_text(errors="replace")[-3000:]
        status = self._process.poll()
        state = f"code de sortie {status}" if status is not None else f"pas prêt après {START_TIMEOUT:.0f} s"
        raise ProviderUnavailable(f"le fournisseur OpenID Connect de test n'a pas démarré ({state}) :\n{errors}")

    def _check_discovery(self) -> None:
        url = f"{self.issuer}/.well-known/openid-configuration"
        document = httpx.get(url, timeout=5).raise_for_status().json()
        if document.get("issuer") != self.issuer:
            raise ProviderUnavailable(f"discovery of {url} names another issuer: {document.get('issuer')!r}")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=5)
            for stream in (process.stdin, process.stdout):
                if stream:
                    stream.close()
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None

    def __enter__(self) -> LoopbackProvider:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _names(full_name: str) -> tuple[str, str]:
    """« Claire Martin (MIPROF) » → ("Claire", "Martin"): what an identity provider would hold."""
    words = re.sub(r"\(.*?\)", "", full_name).split()
    if not words:
        return "", ""
    return words[0], " ".join(words[1:]) or words[0]


def demo_provider_settings(
    base_url: str, accounts: Iterable[tuple[str, str]], *, port: int = 0
) -> tuple[LoopbackProvider | None, dict[str, Any]]:
    """Start the demo's provider for (e-mail, full name) accounts; the settings that point Coord at it.

    Without Node.js (or if it fails to start) the demo runs without the ProConnect button: returns
    (None, {}) and logs a warning."""
    base = base_url.rstrip("/")
    redirect_url = f"{base}/connexion/proconnect/retour"
    known = []
    for email, full_name in accounts:
        given_name, usual_name = _names(full_name)
        known.append({"email": email, "given_name": given_name, "usual_name": usual_name})
    provider = LoopbackProvider(
        client_id="coord-demo",
        client_secret=secrets.token_urlsafe(32),
        redirect_uris=[redirect_url],
        post_logout_redirect_uris=[f"{base}/connexion"],
        port=port,
        accounts=known,
    )
    try:
        provider.start()
    except (ProviderUnavailable, OSError, httpx.HTTPError) as exc:
        logger.warning("ProConnect de démonstration indisponible, bouton masqué : %s", exc)
        return None, {}
    overrides = {
        "proconnect_enabled": True,
        "proconnect_issuer": provider.issuer,
        "proconnect_client_id": provider.client_id,
        "proconnect_client_secret": provider.client_secret,
        "proconnect_redirect_url": redirect_url,
    }
    return provider, overrides


@contextlib.contextmanager
def demo_proconnect(base_url: str, accounts: Iterable[tuple[str, str]]) -> Iterator[dict[str, Any]]:
    """`with demo_proconnect(url, accounts) as overrides:` the provider runs for the block's duration."""
    provider, overrides = demo_provider_settings(base_url, accounts)
    try:
        yield overrides
    finally:
        if provider is not None:
            provider.stop()


if __name__ == "__main__":  # `python -m coord.app.demo_idp`: install the npm packages (tests/run.py)
    try:
        print("npm packages installed" if ensure_installed() else "npm packages up to date")
    except ProviderUnavailable as exc:
        sys.exit(str(exc))
