"""`coord bench`: build a national-scale database, serve it, load it from a second process, print figures.

Figures: p50/p99 latency and requests per second of the main pages and API routes next to a minimal
route of the same server (`/health`: the framework's ceiling on this machine, so the ratio means
something), the time to build a département's calendar feed, mail fan-out rate to a loopback SMTP
server next to a raw SMTP client's rate, the scheduler tick time with 1x and 10x history, and the
server's peak memory. Results are printed as a table and written as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from coord.bench import measures
from coord.bench.generate import generate_sqlite
from coord.bench.measures import Tick
from coord.bench.net import free_port
from coord.core.settings import ROOT

PAGES = [
    "/health",
    "/d/34",
    "/d/34/partenaires",
    "/d/34/contacts",
    "/d/34/instances",
    "/departements",
    "/api/departments",
    "/api/organisations?department=34",
    "/api/contacts?department=34",
    "/api/committees?department=34",
    "/d/34/conventions",
    "/conventions/couverture",
    "/d/34/actions",
    "/d/34/actions?vue=tableau",
    "/api/actions?department=34",
    "/actions",
    "/d/34/cycle",
    "/cycle",
]
PASSWORD = "Banc-d-essai-2026"  # noqa: S105 (a throwaway account in a throwaway database)

# Other domains add measurements: fn(database_url, scale) -> dict[str, Any].
EXTRA_MEASUREMENTS: list[Callable[[str, float], dict[str, Any]]] = []
EXTRA_ROUTES: list[str] = []


def _coord(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "coord.app.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900
    )
    if result.returncode != 0:
        raise RuntimeError(f"coord {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout.strip()


def _peak_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def prepare(directory: Path, scale: float, years: int = 10) -> tuple[str, dict[str, int]]:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"bench-{scale:g}-{years}y.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    env = {**os.environ, "COORD_DATABASE_URL": url, "PICCOLO_CONF": "coord.app.piccolo_conf"}
    _coord(env, "migrate")
    _coord(env, "reference", "load")
    counts = generate_sqlite(path, scale=scale, years=years)
    _coord(env, "user", "create", "--email", "bench@coord.test", "--password", PASSWORD, "--role", "national")
    return url, counts


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return found


def serve_and_load(
    url: str, *, concurrency: int, seconds: float, workers: int = 1
) -> tuple[list[dict[str, Any]], float | None]:
    """Load the routes on `coord serve --workers N`; also the peak memory of its largest process."""
    port = free_port()
    env = {
        **os.environ,
        "COORD_DATABASE_URL": url,
        "PICCOLO_CONF": "coord.app.piccolo_conf",
        "COORD_SCHEDULER_ENABLED": "false",
        "COORD_BASE_URL": f"http://127.0.0.1:{port}",
    }
    token = _coord(env, "token", "create", "--email", "bench@coord.test")
    server = subprocess.Popen(
        [sys.executable, "-m", "coord.app.cli", "serve", "--port", str(port), "--workers", str(workers)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        import httpx  # a test dependency: only the benchmark's load generator needs it

        for _ in range(100):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        config = {
            "base_url": f"http://127.0.0.1:{port}",
            "token": token,
            "email": "bench@coord.test",
            "password": PASSWORD,
            "routes": PAGES + EXTRA_ROUTES,
            "concurrency": concurrency,
            "seconds": seconds,
        }
        load = subprocess.run(
            [sys.executable, "-m", "coord.bench.load", json.dumps(config)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=1800,
        )
        if load.returncode != 0:
            raise RuntimeError(load.stderr)
        peaks = [p for p in map(_peak_rss_mb, [server.pid, *_children(server.pid)]) if p is not None]
        return json.loads(load.stdout), max(peaks, default=None)
    finally:
        server.terminate()
        server.wait(timeout=30)


def print_table(report: dict[str, Any]) -> None:
    print(f"\nCoord benchmark, scale {report['scale']} ({report['rows']})")
    print(f"{'route':42} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'vs /health':>10}")
    ceiling = next((r["rps"] for r in report["routes"] if r["route"] == "/health"), None)
    for r in report["routes"]:
        ratio = f"{r['rps'] / ceiling:.0%}" if ceiling else ""
        print(f"{r['route']:42} {r['rps']:>8} {r['p50_ms']:>8} {r['p99_ms']:>8} {r['errors']:>7} {ratio:>10}")
    print(
        f"server: {report['server_workers']} process(es), {report['concurrency']} clients; "
        f"peak memory of the largest process: {report['peak_rss_mb']} MB"
    )
    for key, value in report.get("extra", {}).items():
        print(f"{key}: {value}")


def main(argv: list[str] | None = None, *, tick: Tick | None = None) -> None:
    """`tick` is the scheduler's whole reminder tick (the composition root's), timed when given."""
    parser = argparse.ArgumentParser(prog="coord bench")
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = national scale (101 départements, 10 years)")
    parser.add_argument("--concurrency", type=int, default=4, help="clients in flight (default 4)")
    parser.add_argument("--seconds", type=float, default=4.0, help="seconds of load per route (default 4)")
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="web processes of the server under test (default: one per core)",
    )
    parser.add_argument("--output", default=str(ROOT / "var" / "bench" / "latest.json"))
    args = parser.parse_args(argv)
    started = time.perf_counter()
    url, counts = prepare(ROOT / "var" / "bench", args.scale)
    generation = round(time.perf_counter() - started, 1)
    url_1y, _ = prepare(ROOT / "var" / "bench", args.scale, years=1)
    routes, peak = serve_and_load(url, concurrency=args.concurrency, seconds=args.seconds, workers=args.workers)
    extra: dict[str, Any] = {"generation_seconds": generation}
    # In-process figures run after the server has stopped, so they do not compete with it.
    extra.update(measures.mail_fan_out(url))  # first: the ticks below queue mails of their own
    extra.update(measures.history_comparison(url_1y, url, tick))
    for measurement in EXTRA_MEASUREMENTS:
        extra.update(measurement(url, args.scale))
    report = {
        "scale": args.scale,
        "rows": counts,
        "routes": routes,
        "peak_rss_mb": peak,
        "extra": extra,
        "concurrency": args.concurrency,
        "server_workers": args.workers,
        "seconds_per_route": args.seconds,
    }
    print_table(report)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print(f"\nJSON: {args.output}")


if __name__ == "__main__":
    main()
