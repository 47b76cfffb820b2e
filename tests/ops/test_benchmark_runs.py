"""`coord bench` keeps running in one command: a small-scale run serves every route without an error
and reports every measurement the README's performance table quotes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_small_benchmark_reports_every_route_and_measurement(tmp_path):
    output = tmp_path / "bench.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "coord.app.cli",
            "bench",
            "--scale",
            "0.02",
            "--seconds",
            "0.2",
            "--output",
            str(output),
        ],
        cwd=ROOT,
        env={**os.environ, "PICCOLO_CONF": "coord.app.piccolo_conf"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(output.read_text())
    from coord.bench.run import PAGES

    assert [r["route"] for r in report["routes"]][: len(PAGES)] == PAGES
    assert all(r["errors"] == 0 and r["requests"] > 0 for r in report["routes"]), report["routes"]
    assert report["server_workers"] >= 1 and report["peak_rss_mb"] > 0
    for key in ("fan_out_per_s", "raw_smtp_per_s", "feed_ms_1y", "feed_ms_10y", "tick_ms_1y", "tick_ms_10y"):
        assert report["extra"][key] > 0, key
    assert "p99 ms" in done.stdout and "JSON:" in done.stdout
