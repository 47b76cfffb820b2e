"""In-process measurements of the benchmark: feed build time, mail fan-out, scheduler tick.

Each runs against a prepared benchmark database (see `run.prepare`). Feed and tick times are taken
on databases holding one and ten years of history, so the report shows whether they stay flat as
history grows; fan-out is compared with a raw SMTP client sending the same messages to the same
loopback server in the same run.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import aiosmtplib
from piccolo.engine.postgres import PostgresEngine

from coord.bench.net import free_port
from coord.calendar.feeds import department_feed
from coord.core import clock
from coord.core.db import current_engine, engine_for, transaction, use_engine
from coord.core.settings import load_settings, use_settings
from coord.mail import outbox
from coord.mail.dispatcher import deliver_all_now, outgoing_mail
from coord.mail.message import build_message
from coord.mail.smtp import SmtpSettings
from coord.mail.tables import OutboxMessage
from coord.territory.tables import Department

FAN_OUT_MAILS = 400
REPEATS = 7


def _bind(url: str) -> None:
    """Point the settings and every table at the benchmark database."""
    settings = load_settings(env={**os.environ, "COORD_DATABASE_URL": url, "COORD_SCHEDULER_ENABLED": "false"})
    use_settings(settings)
    use_engine(engine_for(settings))


@contextlib.asynccontextmanager
async def _pool() -> AsyncIterator[None]:
    """On PostgreSQL, a connection pool as the server and the worker have (else one connection a query)."""
    engine = current_engine()
    if not isinstance(engine, PostgresEngine):
        yield
        return
    await engine.start_connection_pool(min_size=1, max_size=4)
    try:
        yield
    finally:
        await engine.close_connection_pool()


def _run(action: Callable[[], Awaitable[Any]]) -> Any:
    async def pooled() -> Any:
        async with _pool():
            return await action()

    return asyncio.run(pooled())


async def _median_ms(action: Callable[[], Awaitable[Any]], repeats: int = REPEATS) -> float:
    await action()  # warm caches and the connection pool
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        await action()
        samples.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(samples), 2)


# -- calendar feed ---------------------------------------------------------------------------


async def _feed_ms(code: str) -> tuple[float, int]:
    row = await Department.select(Department.id).where(Department.code == code).first()
    document = await department_feed(row["id"])
    return await _median_ms(lambda: department_feed(row["id"])), document.count


def feed_build(url: str, code: str = "34") -> dict[str, Any]:
    _bind(url)
    ms, events = _run(lambda: _feed_ms(code))
    return {"feed_ms": ms, "feed_events": events}


# -- scheduler tick --------------------------------------------------------------------------


Tick = Callable[[dt.datetime], Awaitable[Any]]


def scheduler_tick(url: str, tick: Tick | None) -> dict[str, Any]:
    if tick is None:
        return {}
    _bind(url)
    now = clock.now()

    async def measure() -> tuple[float, float]:
        started = time.perf_counter()
        await tick(now)  # the first tick queues what is due
        first = round((time.perf_counter() - started) * 1000, 2)
        return first, await _median_ms(lambda: tick(now))  # later ticks find it queued already

    first, steady = _run(measure)
    return {"tick_first_ms": first, "tick_ms": steady}


# -- mail fan-out ----------------------------------------------------------------------------


async def _queue_bench_mails(count: int) -> None:
    body = "Madame, Monsieur,\n\n" + "Ordre du jour de la réunion annuelle de coordination.\n" * 40
    stamp = time.time_ns()
    async with transaction():
        for number in range(count):
            await outbox.queue(
                dedupe_key=f"bench:{stamp}:{number}",
                kind="bench",
                to_email=f"membre{number}@exemple.gouv.fr",
                to_name=f"Membre {number}",
                subject=f"Convocation {number}",
                text=body,
                html=f"<p>{body}</p>",
            )


async def _rows(count: int) -> list[dict[str, Any]]:
    return await OutboxMessage.select().where(OutboxMessage.kind == "bench").order_by(OutboxMessage.id).limit(count)


@contextlib.contextmanager
def smtp_sink() -> Iterator[int]:
    """An aiosmtpd server discarding what it receives, in its own process like a real relay (in
    this process it would compete with the sender for the interpreter lock)."""

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Sink", "-l", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            time.sleep(0.1)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=10)


async def _fan_out(count: int) -> dict[str, Any]:
    await _queue_bench_mails(count)
    messages = [build_message(outgoing_mail(row)) for row in await _rows(count)]
    with smtp_sink() as port:
        started = time.perf_counter()
        report = await deliver_all_now(smtp_settings=SmtpSettings(port=port))
        outbox_seconds = time.perf_counter() - started
        started = time.perf_counter()
        async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port) as client:
            for message in messages:
                await client.send_message(message)
        raw_seconds = time.perf_counter() - started
    outbox_rate = report.sent / outbox_seconds
    raw_rate = len(messages) / raw_seconds
    return {
        "fan_out_mails": report.sent,
        "fan_out_per_s": round(outbox_rate, 1),
        "raw_smtp_per_s": round(raw_rate, 1),
        "fan_out_vs_raw": round(outbox_rate / raw_rate, 2),
    }


def mail_fan_out(url: str, count: int = FAN_OUT_MAILS) -> dict[str, Any]:
    _bind(url)
    return _run(lambda: _fan_out(count))


def catch_up(url: str, tick: Tick | None, smtp_port: int) -> dict[str, Any]:
    """The first tick of a fresh database and the delivery of what it queues, done before a
    `coord worker` starts beside the loaded server, so it does steady work rather than a catch-up."""
    _bind(url)
    now = clock.now()

    async def run() -> dict[str, Any]:
        figures: dict[str, Any] = {}
        if tick is not None:
            started = time.perf_counter()
            await tick(now)
            figures["tick_first_ms"] = round((time.perf_counter() - started) * 1000, 2)
            figures["tick_ms"] = await _median_ms(lambda: tick(now), repeats=3)
        report = await deliver_all_now(smtp_settings=SmtpSettings(port=smtp_port))
        return {**figures, "catch_up_mails": report.sent}

    return _run(run)


def history_comparison(url_1y: str, url_10y: str, tick: Tick | None = None) -> dict[str, Any]:
    """Feed and tick times with one and ten years of history (flat is the target)."""
    figures: dict[str, Any] = {}
    for label, url in (("1y", url_1y), ("10y", url_10y)):
        for key, value in {**feed_build(url), **scheduler_tick(url, tick)}.items():
            figures[f"{key}_{label}"] = value
    return figures
