"""`coord bench` keeps running in one command: a small-scale run loads every route with wrk on each
engine without an error, next to the bare framework route and the hand-written pages, and reports
every measurement and target the README's performance section quotes. Figures are never asserted:
speed is what the benchmark prints."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from coord.bench.postgres import drop_database
from tests.ops.conftest import SMALL_SCALE, BenchDatabases

ROOT = Path(__file__).resolve().parents[2]


def test_a_small_benchmark_loads_every_route_on_each_engine_and_says_which_targets_are_met(
    bench_databases: BenchDatabases, tmp_path
):
    from coord.bench.run import LIMITS, PAGES

    engines = [e for e in os.environ.get("COORD_TEST_ENGINES", "sqlite,postgres").split(",") if e]
    output = tmp_path / "bench.json"
    database = f"coord_bench_test_{os.getpid()}"  # the suite may run beside another suite or a real benchmark
    command = [sys.executable, "-m", "coord.app.cli", "bench", "--seconds", "0.3"]
    command += ["--warmup", "0.1", "--connections", "4", "--engines", ",".join(engines)]
    # The session's generated databases: the run works on copies of its own and leaves them as they are.
    command += ["--scale", str(SMALL_SCALE), "--directory", str(bench_databases.directory), "--reuse"]
    command += ["--pg-database", database, "--output", str(output)]
    try:
        done = subprocess.run(
            command,
            cwd=ROOT,
            env={**os.environ, "PICCOLO_CONF": "coord.app.piccolo_conf"},
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        if "postgres" in engines:
            drop_database(database)  # where `coord bench` made it
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(output.read_text())

    assert sorted(report["engines"]) == sorted(engines)
    for name in engines:
        engine = report["engines"][name]
        run = engine["runs"]["4"]
        assert [r["route"] for r in run["routes"]][: len(PAGES)] == PAGES
        # Logged in (a page would otherwise redirect to the login form, which wrk counts as a success).
        assert all(r["status"] == 200 for r in run["routes"]), run["routes"]
        assert all(r["errors"] == 0 and r["requests"] > 0 for r in run["routes"]), run["routes"]
        assert all(r["p50_ms"] <= r["p90_ms"] <= r["p99_ms"] <= r["max_ms"] for r in run["routes"])
        assert run["bare"]["errors"] == 0 and run["bare"]["requests"] > 0
        assert all(r["vs_bare"] > 0 for r in run["routes"])
        assert [r["route"] for r in run["limits"]] == list(LIMITS)
        for row in run["limits"]:
            assert row["limit"]["status"] == 200 and row["limit"]["errors"] == 0 and row["limit"]["requests"] > 0
            assert row["p50_vs_limit"] > 0 and row["rps_vs_limit"] > 0
        assert engine["peak_rss_mb"] > 0
    if "postgres" in engines:
        postgres = report["engines"]["postgres"]
        assert postgres["worker_process"] and postgres["worker_peak_rss_mb"] > 0 and postgres["copy_seconds"] > 0

    for key in ("fan_out_per_s", "raw_smtp_per_s", "feed_ms_1y", "feed_ms_10y", "tick_ms_1y", "tick_ms_10y"):
        assert report["extra"][key] > 0, key
    targets = {t["target"]: t for t in report["targets"]}
    assert all(t["met"] in (True, False) for t in targets.values()), targets
    assert any(name.startswith("/health >= 50% of the bare route") for name in targets)
    assert any(name.startswith("Coord within 2x of each hand-written limit") for name in targets)
    assert any(name.startswith("peak memory per process") for name in targets)
    assert "TARGETS" in done.stdout and "vs bare" in done.stdout and "JSON:" in done.stdout
    markdown = output.with_suffix(".md").read_text()
    assert "| route | req/s | p50 ms | p90 ms | p99 ms | max ms | errors | vs bare |" in markdown
    assert "**Targets**" in markdown
