#!/usr/bin/env python3
"""Set up everything the test suite needs, then run it: `python3 tests/run.py [pytest args]`.

On a fresh machine with only Python: creates `.venv`, installs Coord with its test extras, installs
the Debian packages the tests use (Chromium for the browser tests, libical's introspection bindings
for the iTIP validator), installs the loopback OpenID Connect provider's npm packages (`npm ci` in
tools/oidc-provider, on the machine's Node.js), starts the local PostgreSQL if it is down, and runs
pytest on SQLite and PostgreSQL. Each step is skipped when already done.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"
PY = VENV / "bin" / "python"
DEBIAN_PACKAGES = {
    "chromium": "/usr/bin/chromium",
    "clamav-daemon": "/usr/sbin/clamd",  # the uploads' virus scan (tests start their own clamd)
    "clamav": "/usr/bin/sigtool",
    "gir1.2-ical-3.0": None,
    "python3-gi": None,
    "wrk": "/usr/bin/wrk",  # the benchmark's load generator (`coord bench`, tests/ops/test_benchmark_runs.py)
    "nginx": "/usr/sbin/nginx",  # the reverse proxy of the deployment tests (tests/deploy/), never run as a service
    "openssl": "/usr/bin/openssl",  # the deployment guide's certificate commands
}


def step(message: str) -> None:
    print(f"==> {message}", flush=True)


def sh(*args: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), check=check, **kwargs)


def ensure_venv() -> None:
    if not PY.exists():
        step("creating .venv")
        sh(sys.executable, "-m", "venv", str(VENV))
    marker = VENV / ".coord-installed"
    stamp = (ROOT / "pyproject.toml").stat().st_mtime
    if marker.exists() and marker.read_text() == str(stamp):
        return
    step("installing Coord and its test dependencies")
    sh(str(PY), "-m", "pip", "install", "-q", "--upgrade", "pip")
    sh(str(PY), "-m", "pip", "install", "-q", "-e", ".[test]", cwd=ROOT)
    marker.write_text(str(stamp))


def _dpkg_installed(package: str) -> bool:
    result = sh("dpkg-query", "-W", "-f=${Status}", package, check=False, capture_output=True, text=True)
    return "install ok installed" in result.stdout


def ensure_debian_packages() -> None:
    if not shutil.which("dpkg-query"):
        step("not a Debian system: install Chromium and libical's GObject bindings yourself")
        return
    missing = [p for p in DEBIAN_PACKAGES if not _dpkg_installed(p)]
    if not missing:
        return
    step(f"installing Debian packages: {' '.join(missing)}")
    prefix = [] if os.geteuid() == 0 else ["sudo"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    sh(*prefix, "apt-get", "update", "-qq", env=env)
    with services_not_started(prefix):
        sh(*prefix, "apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing, env=env)


@contextlib.contextmanager
def services_not_started(prefix: list[str]):
    """Packages like nginx and clamav-daemon start their service on install: the tests start their
    own on loopback, so a `policy-rc.d` answering 101 ("not allowed") keeps them stopped."""
    policy = Path("/usr/sbin/policy-rc.d")
    if policy.exists():
        yield
        return
    sh(*prefix, "sh", "-c", f"printf '#!/bin/sh\\nexit 101\\n' > {policy} && chmod 755 {policy}")
    try:
        yield
    finally:
        sh(*prefix, "rm", "-f", str(policy))


def ensure_oidc_provider() -> None:
    """The ProConnect tests' provider: `npm ci` unless node_modules is newer than the lock file."""
    result = sh(str(PY), "-m", "coord.app.demo_idp", cwd=ROOT, check=False, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(result.stderr.strip() or "installing the loopback OpenID Connect provider failed")
    if "installed" in result.stdout:
        step("installed the loopback OpenID Connect provider (npm ci in tools/oidc-provider)")


def _set_up_step(code: str, done_word: str, what: str) -> None:
    """Run one set-up step of Coord's own code in the venv; say so when it did something."""
    result = sh(str(PY), "-c", code, cwd=ROOT, check=False, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(result.stderr.strip() or f"{what} failed")
    if done_word in result.stdout:
        step(what)


def ensure_npm_tool(name: str, *, ignore_scripts: bool = False) -> None:
    """`npm ci` in tools/<name> when its lock file is newer than its node_modules (coord.ops.npm_tools)."""
    code = (
        "from coord.ops.npm_tools import TOOLS_DIR, ensure_installed\n"
        f"print('installed' if ensure_installed(TOOLS_DIR / {name!r}, ignore_scripts={ignore_scripts}) else '')"
    )
    _set_up_step(code, "installed", f"installed tools/{name} (npm ci)")


def ensure_national_map() -> None:
    """The national map's outlines (var/cache/map): mapshaper from tools/map, built once."""
    code = "from coord.overview.map_build import ensure_map\nprint('built' if ensure_map() else '')"
    _set_up_step(code, "built", "built the national map's outlines (var/cache/map)")


def postgres_up() -> bool:
    return sh("pg_isready", "-h", "127.0.0.1", "-p", "5432", check=False, capture_output=True).returncode == 0


def ensure_postgres() -> None:
    if "postgres" not in os.environ.get("COORD_TEST_ENGINES", "sqlite,postgres"):
        return
    if shutil.which("pg_isready") and postgres_up():
        return
    step("starting PostgreSQL")
    versions = sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []
    if not versions:
        sys.exit(
            "PostgreSQL is not installed: install it (Debian: apt-get install postgresql) "
            "or set COORD_TEST_ENGINES=sqlite"
        )
    sh("pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start", check=False)
    for _ in range(30):
        if postgres_up():
            return
        time.sleep(1)
    sys.exit("PostgreSQL did not start on 127.0.0.1:5432")


def main() -> int:
    os.chdir(ROOT)
    ensure_venv()
    ensure_debian_packages()
    ensure_oidc_provider()
    ensure_npm_tool("dsfr", ignore_scripts=True)  # the State design system; its own scripts are for its developers
    ensure_npm_tool("axe")  # axe-core, for the accessibility browser tests
    ensure_national_map()
    ensure_postgres()
    step("running the test suite")
    return subprocess.call([str(PY), "-m", "pytest", *sys.argv[1:]], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main())
