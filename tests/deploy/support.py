"""Helpers of the deployment tests: the guide's commands, nginx in a prefix directory."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "deployment.md"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SYSTEMD_ANALYZE = shutil.which("systemd-analyze") or "/usr/bin/systemd-analyze"
RENDER_MARKER = "<!-- deployment-test: render -->"
FENCE = re.compile(r"^```(?:sh|bash)?\n(.*?)^```", re.S | re.M)


def guide_text() -> str:
    return GUIDE.read_text(encoding="utf-8")


def guide_render_command() -> list[str]:
    """The `coord deploy render ...` command of the guide's marked block, as argv."""
    text = guide_text()
    assert RENDER_MARKER in text, f"{GUIDE}: no {RENDER_MARKER} block"
    block = FENCE.search(text, text.index(RENDER_MARKER))
    assert block, "no fenced block after the render marker"
    lines = block.group(1).replace("\\\n", " ").splitlines()
    commands = [shlex.split(line, comments=True) for line in lines if line.strip().startswith("coord deploy render")]
    assert len(commands) == 1, f"one `coord deploy render` line expected in the marked block, found {commands}"
    return commands[0]


def guide_coord_commands() -> list[list[str]]:
    """Every `coord ...` command line of the guide's shell blocks, as argv without the program."""
    found = []
    for block in FENCE.finditer(guide_text()):
        for line in block.group(1).replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            while words[:1] == ["sudo"]:  # sudo -E -u coord ...
                words = words[1:]
                while words and words[0].startswith("-"):
                    words = words[2:] if words[0] == "-u" else words[1:]
            if words and (words[0] == "coord" or words[0].endswith("/.venv/bin/coord")):
                found.append(words[1:])
    return found


def write_tls(directory: Path, *names: str):  # -> trustme.CA
    """A trustme CA and a certificate for `names`, written as cert.pem and key.pem."""
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert(*names)
    cert.cert_chain_pems[0].write_to_path(str(directory / "cert.pem"))
    for extra in cert.cert_chain_pems[1:]:
        with open(directory / "cert.pem", "ab") as out:
            out.write(extra.bytes())
    cert.private_key_pem.write_to_path(str(directory / "key.pem"))
    return ca


def nginx_main_conf(directory: Path, site: Path) -> Path:
    """A minimal nginx.conf around the rendered site: every path inside `directory`."""
    temp = directory / "temp"
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (temp / name).mkdir(parents=True, exist_ok=True)
    user = "user root root;\n" if os.geteuid() == 0 else ""  # as root, workers would be nobody's
    conf = directory / "nginx.conf"
    conf.write_text(
        f"""{user}worker_processes 1;
events {{ worker_connections 128; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    log_format coord '$remote_addr $request_id "$request" $status';
    access_log {directory}/access.log coord;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {site};
}}
""",
        encoding="utf-8",
    )
    return conf


def nginx_command(directory: Path, conf: Path, *extra: str) -> list[str]:
    return [NGINX, "-e", "stderr", "-p", str(directory), "-c", str(conf), *extra]


def nginx_globals(directory: Path) -> str:
    return f"daemon off; pid {directory}/nginx.pid;"


def wait_until(check: Callable[[], bool], what: str, process: subprocess.Popen | None = None, seconds: float = 90):
    """Poll `check` until it holds; fail early if `process` exits."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"{what}: the process exited with {process.returncode}")
        try:
            if check():
                return
        except (OSError, httpx.HTTPError):  # not listening yet
            pass
        time.sleep(0.2)
    raise AssertionError(f"{what}: not ready after {seconds} s")
