"""Prometheus metrics: the definitions every layer records into, and the exposition of a scrape.

In one process (tests, `coord serve` alone) the metrics live in prometheus_client's default registry.
With `coord serve --workers N`, the command sets PROMETHEUS_MULTIPROC_DIR before the workers start
(`prepare_multiprocess_dir`): prometheus_client then backs every value with a file per process in that
directory (the choice is made when prometheus_client is first imported, hence the environment
variable), and a scrape, whichever process answers it, sums the files of all of them
(`MultiProcessCollector`). Gauges say how: the pool's use is the sum over the live processes, the
tick's last success the latest of any.

What the database holds (the outbox) is not a process's value: it is read at scrape time, and
returned as metric families built here (`gauge_family`) by the layer that owns the table.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST

HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

HTTP_REQUESTS = Counter(
    "coord_http_requests",
    "HTTP requests answered, by route template, method and status class.",
    ["route", "method", "status"],
)
HTTP_DURATION = Histogram(
    "coord_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template, method and status class.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
MAILS_SENT = Counter("coord_mails_sent", "Mails of the outbox the SMTP server accepted.")
MAILS_FAILED = Counter(
    "coord_mails_failed",
    "Failed sending attempts of outbox mails: retried later, or abandoned (permanent refusal, "
    "message that cannot be built, too many attempts).",
    ["outcome"],
)
TICK_DURATION = Histogram(
    "coord_reminder_tick_duration_seconds",
    "Duration of the scheduler's reminder tick.",
    buckets=(0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0),
)
TICK_LAST_SUCCESS = Gauge(
    "coord_reminder_tick_last_success_timestamp_seconds",
    "Unix time at which the last reminder tick ended without error.",
    multiprocess_mode="max",
)
IMIP_REPLIES = Counter(
    "coord_imip_replies",
    "Calendar replies (iMIP REPLY) received, by outcome: applied, refused, ignored (stale), "
    "pending (filed for an agent to check).",
    ["outcome"],
)
DB_POOL = Gauge(
    "coord_db_pool_connections",
    "Database connections of the web processes' pools: used, idle and max (summed over the live processes).",
    ["state"],
    multiprocess_mode="livesum",
)
IMIP_OUTCOMES = {"applied": "applied", "rejected": "refused", "ignored": "ignored", "pending": "pending"}


def count_imip_reply(status: str) -> None:
    """Count one iMIP REPLY by its ingest status (`coord.calendar.ingest.IngestResult.status`)."""
    outcome = IMIP_OUTCOMES.get(status)
    if outcome is not None:
        IMIP_REPLIES.labels(outcome).inc()


def gauge_family(name: str, documentation: str, values: Iterable[tuple[Sequence[str], float]], labels=()) -> Metric:
    """A gauge computed at scrape time (`values`: label values and value)."""
    family = GaugeMetricFamily(name, documentation, labels=list(labels))
    for label_values, value in values:
        family.add_metric(list(label_values), value)
    return family


class _Families:
    def __init__(self, families: Sequence[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterable[Metric]:
        return self.families


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


_multiprocess_registry: CollectorRegistry | None = None


def exposition(extra: Sequence[Metric] = ()) -> bytes:
    """The text of a scrape: this process's metrics, or every process's in multi-process mode, and `extra`."""
    global _multiprocess_registry
    path = multiprocess_dir()
    if path:
        forget_dead_processes(path)
        if _multiprocess_registry is None:
            registry = CollectorRegistry()
            MultiProcessCollector(registry, path=path)
            _multiprocess_registry = registry
        text = generate_latest(_multiprocess_registry)
    else:
        text = generate_latest(REGISTRY)
    if extra:
        scraped = CollectorRegistry(auto_describe=False)
        scraped.register(_Families(extra))  # type: ignore[arg-type]
        text += generate_latest(scraped)
    return text


_PID_OF_FILE = re.compile(r"_(\d+)\.db$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _pid_of_file(name: str) -> int | None:
    """The process a multi-process file belongs to (`counter_1234.db`), None for any other file."""
    found = _PID_OF_FILE.search(name)
    return int(found.group(1)) if found else None


def forget_dead_processes(path: str) -> None:
    """Drop the live-gauge files of processes that ended (a worker uvicorn restarted after a crash):
    their pool is gone. Their counters' files stay, so totals never go backwards."""
    for name in glob.glob(os.path.join(path, "gauge_live*_*.db")):
        pid = _pid_of_file(name)
        if pid is not None and not _alive(pid):
            mark_process_dead(pid, path)


def prepare_multiprocess_dir(path: Path) -> None:
    """Before `coord serve --workers N` starts its workers: a directory holding no file of a process
    that ended (they belong to an earlier run) and PROMETHEUS_MULTIPROC_DIR pointing at it, which the
    workers inherit. Files of live processes (a `coord worker` sharing the directory) are kept."""
    path.mkdir(parents=True, exist_ok=True)
    for entry in path.iterdir():
        pid = _pid_of_file(entry.name)
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        elif pid is None or not _alive(pid) or pid == os.getpid():
            with contextlib.suppress(FileNotFoundError):
                entry.unlink()
    os.environ[MULTIPROC_ENV] = str(path)


def process_ended() -> None:
    """At a worker's clean exit: its live gauges (the pool's use) leave the sums."""
    path = multiprocess_dir()
    if path:
        mark_process_dead(os.getpid(), path)


def record_pool(engine: object) -> None:
    """This process's pool use in `coord_db_pool_connections`.

    PostgreSQL (asyncpg's pool, when `database_pool` is on): used, idle and max. SQLite
    (`PooledSQLiteEngine`): idle and max of the connections kept for single statements; a
    transaction opens a connection of its own outside the pool, so "used" has no meaning there and
    is not reported."""
    from piccolo.engine.postgres import PostgresEngine

    from coord.core.db import PooledSQLiteEngine

    if isinstance(engine, PostgresEngine):
        pool = engine.pool
        if pool is None:
            return
        size, idle = pool.get_size(), pool.get_idle_size()
        DB_POOL.labels("used").set(size - idle)
        DB_POOL.labels("idle").set(idle)
        DB_POOL.labels("max").set(pool.get_max_size())
    elif isinstance(engine, PooledSQLiteEngine):
        DB_POOL.labels("idle").set(len(engine._idle))
        DB_POOL.labels("max").set(engine._pool_size)
