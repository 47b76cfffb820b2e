"""The benchmark's report: ratios, the targets with met / not met, and the text and Markdown tables."""

from __future__ import annotations

from typing import Any

ENGINE_NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
P99_TARGET_MS = 50.0
TARGET_CONNECTIONS = 16
HEALTH_VS_BARE = 0.5
LIMIT_FACTOR = 2.0
FLAT_FACTOR = 1.5
MEMORY_MB = 250.0


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    return round(numerator / denominator, 2) if numerator and denominator else None


def limit_comparison(coord: dict[str, Any], limit: dict[str, Any]) -> dict[str, Any]:
    """Coord's page next to its hand-written counterpart: p50 and req/s as a ratio of the limit's."""
    return {
        "route": coord["route"],
        "limit_route": limit["route"],
        "limit": limit,
        "coord_rps": coord["rps"],
        "coord_p50_ms": coord["p50_ms"],
        "p50_vs_limit": _ratio(coord["p50_ms"], limit["p50_ms"]),
        "rps_vs_limit": _ratio(coord["rps"], limit["rps"]),
    }


def _within_limit(row: dict[str, Any]) -> bool:
    p50, rps = row["p50_vs_limit"], row["rps_vs_limit"]
    return p50 is not None and rps is not None and p50 <= LIMIT_FACTOR and rps >= 1 / LIMIT_FACTOR


def _measured(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: engine for name, engine in results["engines"].items() if "runs" in engine}


def largest_process(results: dict[str, Any]) -> float | None:
    peaks = [
        engine.get(key)
        for engine in _measured(results).values()
        for key in ("peak_rss_mb", "worker_peak_rss_mb")
        if engine.get(key) is not None
    ]
    return max(peaks, default=None)


def _target(name: str, met: bool | None, figure: str) -> dict[str, Any]:
    return {"target": name, "met": met, "figure": figure}


def _engine_targets(name: str, engine: dict[str, Any], count: int) -> list[dict[str, Any]]:
    run = engine["runs"][str(count)]
    label = f"{ENGINE_NAMES[name]}, {count} connections"
    worst = max(run["routes"], key=lambda row: row["p99_ms"])
    found = [
        _target(
            f"p99 < {P99_TARGET_MS:g} ms for every main page and API route ({label})",
            worst["p99_ms"] < P99_TARGET_MS,
            f"slowest p99: {worst['route']} {worst['p99_ms']} ms",
        )
    ]
    health = next((row for row in run["routes"] if row["route"] == "/health"), None)
    if health is not None:
        ratio = health["vs_bare"]
        found.append(
            _target(
                f"/health >= {HEALTH_VS_BARE:.0%} of the bare route's req/s ({label})",
                ratio is not None and ratio >= HEALTH_VS_BARE,
                f"{health['rps']} req/s, {ratio:.0%} of the bare route's {run['bare']['rps']}"
                if ratio is not None
                else "no figure",
            )
        )
    limits = run["limits"]
    name_2x = f"Coord within {LIMIT_FACTOR:g}x of each hand-written limit, p50 and req/s ({label})"
    if limits:
        found.append(
            _target(
                name_2x,
                all(_within_limit(row) for row in limits),
                "; ".join(f"{row['route']} p50 {row['p50_vs_limit']}x, req/s {row['rps_vs_limit']}x" for row in limits),
            )
        )
    else:
        found.append(_target(name_2x, None, "no limit measured"))
    return found


def _flat(name: str, one: float | None, ten: float | None, unit: str) -> dict[str, Any]:
    title = f"{name} flat from 1 to 10 years of history (10y within {FLAT_FACTOR:g}x of 1y)"
    if not one or not ten:
        return _target(title, None, "not measured")
    return _target(title, ten <= one * FLAT_FACTOR, f"1y {one} {unit}, 10y {ten} {unit} ({ten / one:.2f}x)")


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Every target of the benchmark, met or not, with the figure that decides it."""
    counts = results["connections"]
    count = TARGET_CONNECTIONS if TARGET_CONNECTIONS in counts else max(counts)
    found = []
    for name, engine in results["engines"].items():
        if "runs" in engine:
            found.extend(_engine_targets(name, engine, count))
        else:
            found.append(_target(f"{ENGINE_NAMES[name]} measured", False, engine.get("skipped", "")))
    extra = results["extra"]
    found.append(_flat("Feed build", extra.get("feed_ms_1y"), extra.get("feed_ms_10y"), "ms"))
    found.append(_flat("Scheduler tick", extra.get("tick_ms_1y"), extra.get("tick_ms_10y"), "ms"))
    peak = results.get("peak_rss_mb")
    found.append(
        _target(
            f"peak memory per process < {MEMORY_MB:g} MB",
            None if peak is None else peak < MEMORY_MB,
            f"largest process: {peak} MB",
        )
    )
    return found


def _verdict(met: bool | None) -> str:
    return {True: "met", False: "NOT MET", None: "not measured"}[met]


# -- tables ----------------------------------------------------------------------------------

ROUTE_COLUMNS = ("route", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "errors", "vs bare")
LIMIT_COLUMNS = ("page", "Coord req/s", "limit req/s", "Coord p50 ms", "limit p50 ms", "p50 vs limit", "req/s vs limit")


def _route_cells(row: dict[str, Any], bare_rps: float) -> list[str]:
    ratio = row["rps"] / bare_rps if bare_rps else None
    return [
        row["route"],
        f"{row['rps']:,.0f}",
        f"{row['p50_ms']:.1f}",
        f"{row['p90_ms']:.1f}",
        f"{row['p99_ms']:.1f}",
        f"{row['max_ms']:.1f}",
        str(row["errors"]),
        "" if ratio is None else f"{ratio:.0%}" if ratio >= 0.1 else f"{ratio:.1%}",
    ]


def _limit_cells(row: dict[str, Any]) -> list[str]:
    limit = row["limit"]
    return [
        row["route"],
        f"{row['coord_rps']:,.0f}",
        f"{limit['rps']:,.0f}",
        f"{row['coord_p50_ms']:.1f}",
        f"{limit['p50_ms']:.1f}",
        "—" if row["p50_vs_limit"] is None else f"{row['p50_vs_limit']}x",
        "—" if row["rps_vs_limit"] is None else f"{row['rps_vs_limit']}x",
    ]


def _tables(results: dict[str, Any]) -> list[tuple[str, tuple[str, ...], list[list[str]]]]:
    """(title, columns, rows) of every table, in the order they are printed."""
    tables = []
    seconds = results["seconds_per_route"]
    for name, engine in results["engines"].items():
        if "runs" not in engine:
            continue
        setup = f"coord serve --workers {engine['web_processes']}"
        if engine["worker_process"]:
            setup += " + coord worker (figure of record)"
        for count, run in engine["runs"].items():
            title = f"{ENGINE_NAMES[name]}, {setup}, {count} connections, {seconds:g} s per route"
            bare = run["bare"]
            rows = [_route_cells({**bare, "route": f"bare Litestar ({bare['route']})"}, bare["rps"])]
            rows += [_route_cells(row, bare["rps"]) for row in run["routes"]]
            tables.append((title, ROUTE_COLUMNS, rows))
            if run["limits"]:
                limit_title = f"{ENGINE_NAMES[name]}, {count} connections: Coord next to hand-written SQL"
                tables.append((limit_title, LIMIT_COLUMNS, [_limit_cells(row) for row in run["limits"]]))
    return tables


def _measurements(results: dict[str, Any]) -> list[tuple[str, str]]:
    extra = results["extra"]
    lines = [
        ("generation of the SQLite database (s)", extra.get("generation_seconds")),
        ("copy into PostgreSQL (s)", results["engines"].get("postgres", {}).get("copy_seconds")),
        ("département feed build, 1 year / 10 years (ms)", _pair(extra, "feed_ms_1y", "feed_ms_10y")),
        ("département feed build, PostgreSQL 10 years (ms)", extra.get("feed_ms_10y_postgres")),
        ("scheduler tick, steady, 1 year / 10 years (ms)", _pair(extra, "tick_ms_1y", "tick_ms_10y")),
        (
            "first tick on a fresh database, 1 year / 10 years (ms)",
            _pair(extra, "tick_first_ms_1y", "tick_first_ms_10y"),
        ),
        (
            "scheduler tick on PostgreSQL, first / steady (ms)",
            _pair(extra, "tick_first_ms_postgres", "tick_ms_postgres"),
        ),
        (
            "mail fan-out through the outbox / raw SMTP client (mails/s)",
            _pair(extra, "fan_out_per_s", "raw_smtp_per_s"),
        ),
        ("peak memory of the largest process (MB)", results.get("peak_rss_mb")),
    ]
    return [(label, str(value)) for label, value in lines if value not in (None, "")]


def _pair(extra: dict[str, Any], first: str, second: str) -> str:
    if extra.get(first) is None and extra.get(second) is None:
        return ""
    return f"{extra.get(first)} / {extra.get(second)}"


def text(results: dict[str, Any]) -> str:
    out = [
        f"\nCoord benchmark, scale {results['scale']:g}, {results['date']}, {results['cpus']} CPUs ({results['rows']})"
    ]
    for title, columns, rows in _tables(results):
        widths = [max(len(str(cell)) for cell in column) for column in zip(columns, *rows, strict=True)]
        out.append(f"\n{title}")
        for cells in [list(columns), *rows]:
            first = f"{cells[0]:{widths[0]}}"
            out.append(
                "  ".join([first, *(f"{cell:>{width}}" for cell, width in zip(cells[1:], widths[1:], strict=True))])
            )
    out.append("")
    out.extend(f"{label}: {value}" for label, value in _measurements(results))
    out.append("\nTARGETS")
    out.extend(f"  [{_verdict(t['met'])}] {t['target']}: {t['figure']}" for t in results["targets"])
    return "\n".join(out)


def markdown(results: dict[str, Any]) -> str:
    out = [
        f"Coord benchmark, scale {results['scale']:g}, {results['date']}, {results['cpus']} CPUs, "
        f"{results['seconds_per_route']:g} s per route after {results['warmup_seconds']:g} s of warm-up."
    ]
    for title, columns, rows in _tables(results):
        out += ["", f"**{title}**", "", "| " + " | ".join(columns) + " |"]
        out.append("|" + "|".join(["---", *("---:" for _ in columns[1:])]) + "|")
        out += ["| " + " | ".join(cells) + " |" for cells in rows]
    out += ["", "| measurement | figure |", "|---|---:|"]
    out += [f"| {label} | {value} |" for label, value in _measurements(results)]
    out += ["", "**Targets**", ""]
    out += [f"- {_verdict(t['met'])}: {t['target']} — {t['figure']}" for t in results["targets"]]
    return "\n".join(out) + "\n"
