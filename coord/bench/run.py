"""`coord bench`: build a national-scale database, serve it on each engine, load it with `wrk`, print figures.

Per engine (SQLite, then the same rows copied into PostgreSQL) and per connection count, it loads the
main pages and API routes of `coord serve --workers N` next to a bare Litestar route served by
uvicorn with the same worker count (the framework's ceiling: every route is reported as a ratio of
it), and right after the heaviest pages the same pages built by hand-written SQL
(`coord.bench.limits`, so the report shows what the ORM and framework cost). The PostgreSQL run also
has a `coord worker` running beside the server, as a deployment does: it is the figure of record.
Then the in-process figures: the calendar feed build and the scheduler tick with one and ten years of
history, the mail fan-out rate next to a raw SMTP client's, and the peak memory of the largest
process. The targets of the benchmark are printed with met / not met; the tables are written as JSON
and as Markdown (for the README).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from coord.bench import load, measures, report, wrk
from coord.bench.bare import ROUTE as BARE_ROUTE
from coord.bench.generate import generate_sqlite
from coord.bench.measures import Tick
from coord.bench.net import free_port
from coord.bench.postgres import prepare_postgres
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
# The heaviest pages and their hand-written counterpart in coord.bench.limits (no login there).
LIMITS = {
    "/d/34/actions": "/limit/d/34/actions",
    "/d/34/actions?vue=tableau": "/limit/d/34/actions?vue=tableau",
    "/actions": "/limit/actions",
}
ENGINES = ("sqlite", "postgres")
EMAIL = "bench@coord.test"
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


def _env(url: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "COORD_DATABASE_URL": url,
        "PICCOLO_CONF": "coord.app.piccolo_conf",
        "COORD_SCHEDULER_ENABLED": "false",
        **extra,
    }


def _peak_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


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


def _largest_peak(process: subprocess.Popen[bytes]) -> float | None:
    """The peak memory of the largest process of a tree (uvicorn's workers are children)."""
    peaks = [p for p in map(_peak_rss_mb, [process.pid, *_children(process.pid)]) if p is not None]
    return max(peaks, default=None)


def database_path(directory: Path, scale: float, years: int = 10) -> Path:
    return directory / f"bench-{scale:g}-{years}y.sqlite3"


def prepare(directory: Path, scale: float, years: int = 10, *, reuse: bool = False) -> tuple[str, dict[str, int]]:
    """The benchmark's SQLite database of `scale` and `years` of history in `directory`, generated
    afresh; with `reuse`, the one a previous run generated there, if complete (its row counts are
    written beside it last)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = database_path(directory, scale, years)
    url = f"sqlite:///{path}"
    counts_file = path.with_suffix(".counts.json")
    if reuse and path.exists() and counts_file.exists():
        return url, json.loads(counts_file.read_text())
    counts_file.unlink(missing_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    env = _env(url)
    _coord(env, "migrate")
    _coord(env, "reference", "load")
    counts = generate_sqlite(path, scale=scale, years=years)
    _coord(env, "user", "create", "--email", EMAIL, "--password", PASSWORD, "--role", "national")
    counts_file.write_text(json.dumps(counts))
    return url, counts


def copy_database(source: Path, target: Path) -> Path:
    """An SQLite database copied page by page (consistent even with a WAL beside it), over `target`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    with contextlib.closing(sqlite3.connect(source)) as origin, contextlib.closing(sqlite3.connect(target)) as copy:
        origin.backup(copy)
    return target


def working_copy(url: str) -> str:
    """A copy of a generated database for one run: the load and the measurements write to it
    (sessions, ticks, queued mails), so the generated file stays as generated for `--reuse`."""
    source = Path(url.removeprefix("sqlite:///"))
    return f"sqlite:///{copy_database(source, source.with_name(f'{source.stem}-run.sqlite3'))}"


def _start(stack: contextlib.ExitStack, command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """A process writing to `log`, stopped when `stack` closes."""
    log.parent.mkdir(parents=True, exist_ok=True)
    output = stack.enter_context(log.open("wb"))
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)

    def stop() -> None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    stack.callback(stop)
    return process


def _wait(process: subprocess.Popen[bytes], ready_url: str, log: Path) -> None:
    try:
        load.wait_until_up(ready_url, process, log.stem)
    except RuntimeError as exc:
        raise RuntimeError(f"{exc}\n{log}:\n{log.read_text(errors='replace')[-3000:]}") from exc


def _uvicorn(app: str, port: int, workers: int, *options: str) -> list[str]:
    """uvicorn's command line, which imports the app only in its workers. `coord serve --workers N`
    runs the same server (`production_app`, proxy headers), but each of its workers first imports
    the whole CLI, and on a busy machine that outlasts uvicorn's 5 s start-up health check, so the
    workers are killed and respawned forever; here the check waits a minute."""
    return [
        sys.executable,
        *("-m", "uvicorn", app, *options, "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)),
        "--timeout-worker-healthcheck=60",
    ]


def _credentials(route: str, cookie: str, token: str) -> dict[str, str]:
    return {"token": token} if route.startswith("/api/") else {"cookie": cookie}


def _headers(credentials: dict[str, str]) -> dict[str, str]:
    if "token" in credentials:
        return {"Authorization": f"Bearer {credentials['token']}"}
    return {"Cookie": credentials["cookie"]} if credentials.get("cookie") else {}


def _measure(
    base_url: str, route: str, credentials: dict[str, str], *, connections: int, seconds: float, warmup: float
) -> dict[str, Any]:
    url = base_url + route
    if warmup > 0:
        wrk.run(url, connections=connections, seconds=warmup, **credentials)
    figures = wrk.run(url, connections=connections, seconds=seconds, **credentials)
    for _ in range(3):  # a short run on a busy machine may end before any request does: run longer
        if figures["requests"]:
            break
        seconds *= 2
        figures = wrk.run(url, connections=connections, seconds=seconds, **credentials)
    return {"route": route, **figures}


def load_engine(
    engine: str,
    url: str,
    *,
    workers: int,
    connections: list[int],
    seconds: float,
    warmup: float,
    with_worker: bool,
    smtp_port: int,
    logs: Path,
) -> dict[str, Any]:
    """Serve `url` and load every route at each connection count; with the bare and limit routes."""
    port, bare_port, limits_port = free_port(), free_port(), free_port()
    base, bare_base, limits_base = (f"http://127.0.0.1:{p}" for p in (port, bare_port, limits_port))
    env = _env(url, COORD_BASE_URL=base, COORD_SMTP_HOST="127.0.0.1", COORD_SMTP_PORT=str(smtp_port))
    started_at = time.perf_counter()
    token = _coord(env, "token", "create", "--email", EMAIL)
    routes = PAGES + EXTRA_ROUTES
    serve = _uvicorn("coord.app.factory:production_app", port, workers, "--factory", "--proxy-headers")
    quiet = ("--log-level", "warning", "--no-access-log")
    result: dict[str, Any] = {"web_processes": workers, "worker_process": with_worker, "runs": {}}
    with contextlib.ExitStack() as stack:
        # Started together, they import their apps while the others do: then each is waited for.
        servers = [(serve, base + "/health", logs / f"coord-serve-{engine}.log")]
        servers.append(
            (_uvicorn("coord.bench.bare:app", bare_port, workers, *quiet), bare_base + BARE_ROUTE, logs / "bare.log")
        )
        limits_app = _uvicorn("coord.bench.limits:app", limits_port, workers, *quiet)
        servers.append((limits_app, limits_base + "/limit/actions", logs / f"limits-{engine}.log"))
        started = [(_start(stack, command, env, log), ready, log) for command, ready, log in servers]
        server = started[0][0]
        worker = None
        if with_worker:
            worker_command = [sys.executable, "-m", "coord.app.cli", "worker"]
            worker = _start(stack, worker_command, env, logs / f"coord-worker-{engine}.log")
        for process, ready, log in started:
            _wait(process, ready, log)
        began = time.perf_counter()
        print(f"    servers up in {began - started_at:.0f} s", flush=True)
        cookie = load.session_cookie(base, EMAIL, PASSWORD)
        # wrk counts a redirect (to the login page, say) as a success: every route must answer 200 first.
        checks = [(route, _headers(_credentials(route, cookie, token))) for route in routes]
        statuses = load.statuses(base, checks, repeat=2 * workers)
        statuses.update(load.statuses(limits_base, [(limit, {}) for limit in LIMITS.values()], repeat=2 * workers))
        result["statuses"] = statuses
        print(f"    every route checked in {time.perf_counter() - began:.0f} s", flush=True)
        for count in connections:
            options = {"connections": count, "seconds": seconds, "warmup": warmup}
            bare = _measure(bare_base, BARE_ROUTE, {}, **options)
            rows, limits = [], []
            for route in routes:
                row = _measure(base, route, _credentials(route, cookie, token), **options)
                row["status"] = statuses[route]
                row["vs_bare"] = round(row["rps"] / bare["rps"], 4) if bare["rps"] else None
                rows.append(row)
                if route in LIMITS:
                    limit = _measure(limits_base, LIMITS[route], {}, **options)
                    limit["status"] = statuses[LIMITS[route]]
                    limits.append(report.limit_comparison(row, limit))
            result["runs"][str(count)] = {"bare": bare, "routes": rows, "limits": limits}
            print(f"    {count} connections: every route loaded ({time.perf_counter() - began:.0f} s)", flush=True)
        result["peak_rss_mb"] = _largest_peak(server)
        if worker is not None:
            result["worker_peak_rss_mb"] = _peak_rss_mb(worker.pid)
    return result


def _connections(text: str) -> list[int]:
    counts = [int(part) for part in text.split(",") if part.strip()]
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("--connections : des entiers positifs séparés par des virgules, ex. 4,16")
    return counts


def _engines(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names or set(names) - set(ENGINES):
        raise argparse.ArgumentTypeError("--engines : sqlite, postgres ou sqlite,postgres")
    return names


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="coord bench")
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = national scale (101 départements, 10 years)")
    parser.add_argument("--connections", type=_connections, default=[4, 16], help="wrk connections (default 4,16)")
    parser.add_argument("--seconds", type=float, default=4.0, help="seconds of load per route (default 4)")
    parser.add_argument("--warmup", type=float, help="seconds of warm-up per route (default: a quarter, at most 1)")
    parser.add_argument("--engines", type=_engines, default=list(ENGINES), help="sqlite,postgres (default both)")
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="web processes of the server under test (default: one per core)",
    )
    parser.add_argument("--directory", default=str(ROOT / "var" / "bench"), help="where the SQLite databases go")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="start from the databases a previous run generated in --directory (each run works on a copy)",
    )
    parser.add_argument("--pg-database", default="coord_bench", help="PostgreSQL database (dropped and recreated)")
    parser.add_argument("--output", default=str(ROOT / "var" / "bench" / "latest.json"))
    args = parser.parse_args(argv)
    if args.warmup is None:
        args.warmup = min(1.0, args.seconds / 4)
    return args


def _step(message: str, started: float) -> None:
    print(f"==> {message} ({time.perf_counter() - started:.0f} s since the start)", flush=True)


def main(argv: list[str] | None = None, *, tick: Tick | None = None) -> None:
    """`tick` is the scheduler's whole reminder tick (the composition root's), timed when given."""
    args = parse_args(argv)
    wrk.ensure_wrk()
    directory = Path(args.directory)
    started = time.perf_counter()
    generated, counts = prepare(directory, args.scale, reuse=args.reuse)
    extra: dict[str, Any] = {"generation_seconds": round(time.perf_counter() - started, 1), "reused": args.reuse}
    generated_1y, _ = prepare(directory, args.scale, years=1, reuse=args.reuse)
    url, url_1y = working_copy(generated), working_copy(generated_1y)
    _step("SQLite databases ready (10 years, 1 year)", started)
    engines: dict[str, Any] = {}
    load_options = {
        "workers": args.workers,
        "connections": args.connections,
        "seconds": args.seconds,
        "warmup": args.warmup,
        "logs": directory / "logs",
    }
    with measures.smtp_sink() as smtp_port:
        if "sqlite" in args.engines:
            _step("SQLite: load", started)
            engines["sqlite"] = load_engine("sqlite", url, with_worker=False, smtp_port=smtp_port, **load_options)
        if "postgres" in args.engines:
            _step("PostgreSQL: copy of the SQLite database", started)
            pg_url, copy_seconds = prepare_postgres(Path(generated.removeprefix("sqlite:///")), args.pg_database)
            catch_up = measures.catch_up(pg_url, tick, smtp_port)
            extra.update({f"{key}_postgres": value for key, value in catch_up.items()})
            extra.update({f"{k}_10y_postgres": v for k, v in measures.feed_build(pg_url).items()})
            _step("PostgreSQL: load, with a coord worker running", started)
            engines["postgres"] = load_engine("postgres", pg_url, with_worker=True, smtp_port=smtp_port, **load_options)
            engines["postgres"]["copy_seconds"] = round(copy_seconds, 1)
    # In-process figures run after the servers have stopped, so they do not compete with them.
    _step("in-process measurements (SQLite)", started)
    extra.update(measures.mail_fan_out(url))  # first: the ticks below queue mails of their own
    extra.update(measures.history_comparison(url_1y, url, tick))
    for measurement in EXTRA_MEASUREMENTS:
        extra.update(measurement(url, args.scale))
    results = {
        "scale": args.scale,
        "rows": counts,
        "engines": engines,
        "extra": extra,
        "connections": args.connections,
        "server_workers": args.workers,
        "seconds_per_route": args.seconds,
        "warmup_seconds": args.warmup,
        "date": time.strftime("%Y-%m-%d"),
        "cpus": os.cpu_count(),
    }
    results["peak_rss_mb"] = report.largest_process(results)
    results["targets"] = report.targets(results)
    print(report.text(results))
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    markdown = output.with_suffix(".md")
    markdown.write_text(report.markdown(results))
    print(f"\nJSON: {output}\nMarkdown: {markdown}")


if __name__ == "__main__":
    main()
