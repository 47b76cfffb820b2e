"""The benchmark's load generator: `wrk` (compiled, so it does not measure itself as a Python client
on the same cores would), driven by `auth.lua` for the credentials and the JSON summary."""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
from pathlib import Path
from typing import Any

WRK = "wrk"
SCRIPT = Path(__file__).with_name("auth.lua")
MARKER = "COORD_BENCH_JSON "


def ensure_wrk() -> str:
    """The path of `wrk`, installed with apt-get when missing (as tests/run.py installs Chromium)."""
    found = shutil.which(WRK)
    if found:
        return found
    if shutil.which("apt-get"):
        prefix = [] if os.geteuid() == 0 else ["sudo"]
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        print("==> installing the Debian package wrk (the benchmark's load generator)", flush=True)
        subprocess.run([*prefix, "apt-get", "update", "-qq"], env=env, check=False)
        subprocess.run(
            [*prefix, "apt-get", "install", "-y", "-qq", "--no-install-recommends", WRK], env=env, check=False
        )
        found = shutil.which(WRK)
        if found:
            return found
    raise SystemExit(
        "coord bench : wrk est introuvable et n'a pas pu être installé (Debian : apt-get install wrk ; "
        "ailleurs : https://github.com/wg/wrk). / wrk is missing and could not be installed."
    )


def run(
    url: str,
    *,
    connections: int,
    seconds: float,
    cookie: str = "",
    token: str = "",
    timeout_seconds: float = 10.0,
) -> dict[str, Any]:
    """Keep `connections` requests in flight on `url` for `seconds`; latency percentiles in ms.

    `errors` counts responses of status 400 and above plus socket errors (connect, read, write,
    timeout); redirects are successes, so callers check beforehand that a page answers 200.
    """
    env = {**os.environ, "COORD_BENCH_COOKIE": cookie, "COORD_BENCH_TOKEN": token}
    whole = max(1, math.ceil(seconds))
    command = [
        ensure_wrk(),
        f"--threads={min(connections, 2)}",
        f"--connections={connections}",
        f"--duration={whole}s",
        f"--timeout={math.ceil(timeout_seconds)}s",
        f"--script={SCRIPT}",
        url,
    ]
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        if whole != seconds:
            # wrk's --duration takes whole seconds; SIGINT ends its run early and it still reports,
            # with the duration it really ran.
            try:
                process.wait(timeout=seconds)
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGINT)
        try:
            stdout, stderr = process.communicate(timeout=whole + 60)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
    lines = [line for line in stdout.splitlines() if line.startswith(MARKER)]
    if process.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed on {url}:\n{stdout}\n{stderr}")
    figures = json.loads(lines[-1][len(MARKER) :])
    figures["errors"] = figures["status_errors"] + figures["socket_errors"]
    return figures
