"""The operations team scrapes /metrics with Prometheus: requests by route, the outbox, the mails
sent and failed, the reminder tick, and with several web processes the sum of all of them."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import run
from tests.meetings.test_mail_convocations import _convened, _deliver
from tests.support.coord_server import ROOT, coord_env, coord_serve
from tests.support.live_server import free_port

TOKEN = "jeton-de-supervision-0123456789"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def settings(settings: Any) -> Any:
    """The suite's settings, metrics on."""
    return dataclasses.replace(settings, metrics_token=TOKEN)


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _parse(text: str) -> Samples:
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def scrape(client: Any) -> tuple[str, Samples]:
    response = client.get("/metrics", headers=BEARER)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text, _parse(response.text)


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def requests_of(samples: Samples, route: str, method: str = "GET", status: str = "2xx") -> float:
    return value(samples, "coord_http_requests_total", route=route, method=method, status=status)


def test_a_scrape_with_the_token_is_prometheus_text_with_every_family(client):
    client.get("/health")
    text, samples = scrape(client)
    names = {family.name for family in text_string_to_metric_families(text)}
    assert {
        "coord_http_requests",
        "coord_http_request_duration_seconds",
        "coord_outbox_messages",
        "coord_outbox_oldest_pending_age_seconds",
        "coord_mails_sent",
        "coord_mails_failed",
        "coord_reminder_tick_duration_seconds",
        "coord_reminder_tick_last_success_timestamp_seconds",
        "coord_imip_replies",
        "coord_db_pool_connections",
    } <= names
    assert requests_of(samples, "/health") >= 1
    assert value(samples, "coord_http_request_duration_seconds_count", route="/health", method="GET", status="2xx") >= 1
    for status in ("pending", "sending", "failed"):
        assert (("coord_outbox_messages", frozenset({("status", status)}))) in samples


def test_without_the_right_token_the_scrape_is_refused_without_detail(client):
    for headers in ({}, {"Authorization": "Bearer mauvais"}, {"Authorization": f"Basic {TOKEN}"}):
        response = client.get("/metrics", headers=headers)
        assert response.status_code == 401 and response.content == b""
        assert "set-cookie" not in response.headers  # no session, no CSRF cookie
    assert client.get("/metrics", headers=BEARER).headers.get("set-cookie") is None
    assert "/metrics" not in client.get("/schema/openapi.json").json()["paths"]


def test_without_a_token_configured_metrics_are_off(db, settings):
    from litestar.testing import TestClient

    from coord.app.factory import create_app

    app = create_app(dataclasses.replace(settings, metrics_token=""), engine=db.engine)
    with TestClient(app, base_url="http://testserver.local") as client:
        assert client.get("/metrics", headers=BEARER).status_code == 404
        assert client.get("/metrics").status_code == 404


def test_requests_show_under_their_route_never_their_path(api_as, smtp_sink, client):
    api = api_as("prefecture", "34")
    meeting = _convened(api)
    _deliver(smtp_sink)
    body = smtp_sink.messages[0].get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"http://testserver\.local(/r/invitation/\S+)", body).group(1)
    token = link.rsplit("/", 1)[1]
    _, before = scrape(client)
    assert client.get(link).status_code == 200
    assert api.get(f"/api/meetings/{meeting['id']}").status_code == 200
    assert client.get("/nulle-part/abc987xyz").status_code == 404
    text, after = scrape(client)
    partner_routes = {dict(labels)["route"] for name, labels in after if name == "coord_http_requests_total"}
    # Other tests of the session may have visited the invitation's sub-pages: each is a template too.
    partner_routes = {route for route in partner_routes if route.startswith("/r/invitation/")}
    assert "/r/invitation/{token}" in partner_routes
    assert all(route.startswith("/r/invitation/{token}") for route in partner_routes), partner_routes
    assert requests_of(after, "/r/invitation/{token}") == requests_of(before, "/r/invitation/{token}") + 1
    route = "/api/meetings/{meeting_id}"
    assert requests_of(after, route) == requests_of(before, route) + 1
    assert requests_of(after, "other", status="4xx") == requests_of(before, "other", status="4xx") + 1
    assert token not in text and "abc987xyz" not in text and f"/api/meetings/{meeting['id']}" not in text
    # The scrapes themselves are not counted.
    assert not any(dict(labels).get("route") == "/metrics" for _, labels in after)


def test_a_convocation_fills_the_outbox_then_counts_as_sent(api_as, smtp_sink, client):
    api = api_as("prefecture", "34")
    _, before = scrape(client)
    meeting = _convened(api)
    invitees = len(api.get(f"/api/meetings/{meeting['id']}/invitations").json()["items"])
    _, queued = scrape(client)
    pending = value(queued, "coord_outbox_messages", status="pending")
    assert pending >= invitees >= 3
    assert pending == value(before, "coord_outbox_messages", status="pending") + invitees
    assert value(queued, "coord_outbox_oldest_pending_age_seconds") >= 0
    report = _deliver(smtp_sink)
    _, sent = scrape(client)
    assert report.sent == invitees
    assert value(sent, "coord_outbox_messages", status="pending") == 0
    assert value(sent, "coord_outbox_oldest_pending_age_seconds") == 0
    assert value(sent, "coord_mails_sent_total") == value(before, "coord_mails_sent_total") + invitees


def test_an_smtp_server_down_counts_failed_attempts_and_the_mails_keep_waiting(api_as, client):
    from coord.mail.dispatcher import deliver_all_now
    from coord.mail.smtp import SmtpSettings

    api = api_as("prefecture", "34")
    meeting = _convened(api)
    invitees = len(api.get(f"/api/meetings/{meeting['id']}/invitations").json()["items"])
    _, before = scrape(client)
    closed = SmtpSettings(host="127.0.0.1", port=free_port())  # a free port: nothing listens there
    report = run(deliver_all_now(smtp_settings=closed))
    _, after = scrape(client)
    assert report.retried == invitees and report.sent == 0
    failed = ("coord_mails_failed_total", {"outcome": "retried"})
    assert value(after, failed[0], **failed[1]) == value(before, failed[0], **failed[1]) + invitees
    assert value(after, "coord_mails_sent_total") == value(before, "coord_mails_sent_total")
    assert value(after, "coord_outbox_messages", status="pending") >= invitees
    # Tried once, the mails count as waiting since they were queued, whatever their next try.
    assert value(after, "coord_outbox_oldest_pending_age_seconds") > 0


def test_calendar_replies_count_as_applied_or_refused(api_as, client):
    from tests.meetings.test_replies_imip import _reply, _setup

    api = api_as("prefecture", "34")
    meeting, invitations = _setup(api)
    _, before = scrape(client)
    accepted = _reply("outlook_fr_accepted.ics", meeting["uid"], invitations[0]["email"], meeting["sequence"])
    stranger = _reply("outlook_fr_accepted.ics", meeting["uid"], "inconnu@example.fr", meeting["sequence"])
    calendar = {"Content-Type": "text/calendar"}
    assert api.post("/api/imip/replies", content=accepted, headers=calendar).json()["status"] == "applied"
    assert api.post("/api/imip/replies", content=stranger, headers=calendar).json()["status"] == "rejected"
    _, after = scrape(client)
    for outcome in ("applied", "refused"):
        replies = value(after, "coord_imip_replies_total", outcome=outcome)
        assert replies == value(before, "coord_imip_replies_total", outcome=outcome) + 1, outcome


def test_a_reminder_tick_is_timed_and_marks_its_success(client):
    from coord.app.jobs import periodic_jobs

    _, before = scrape(client)
    started = time.time()
    tick = next(job for job in periodic_jobs(tick_seconds=60.0) if job.id == "coord-reminders")
    run(tick.run())
    _, after = scrape(client)
    count = "coord_reminder_tick_duration_seconds_count"
    assert value(after, count) == value(before, count) + 1
    assert value(after, "coord_reminder_tick_last_success_timestamp_seconds") >= started


# -- several web processes ------------------------------------------------------------------------


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    url = f"sqlite:///{tmp_path / 'coord.sqlite3'}"
    migrated = subprocess.run(  # the schema only: /health and /ready need no reference data
        [sys.executable, "-m", "coord.app.cli", "migrate"],
        cwd=ROOT,
        env=coord_env(url),
        capture_output=True,
        timeout=180,
    )
    assert migrated.returncode == 0, migrated.stderr
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_999999999.db").write_bytes(b"left by a process of an earlier run")
    with coord_serve(url, workers=2, COORD_METRICS_TOKEN=TOKEN, COORD_METRICS_DIR=str(metrics_dir)) as (base, _):
        yield base, metrics_dir


def _health_per_process(metrics_dir: Path) -> dict[str, float]:
    """What each process's own file says it served on /health (the files prometheus_client writes)."""
    from prometheus_client.multiprocess import MultiProcessCollector

    served = {}
    for path in metrics_dir.glob("counter_*.db"):
        total = 0.0
        for family in MultiProcessCollector.merge([str(path)], accumulate=False):
            for sample in family.samples:
                if sample.name == "coord_http_requests_total" and sample.labels.get("route") == "/health":
                    total += sample.value
        served[path.name] = total
    return served


def _both_served(metrics_dir: Path) -> bool:
    return sum(1 for n in _health_per_process(metrics_dir).values() if n > 0) >= 2


def test_with_two_web_processes_a_scrape_sums_both(two_workers):
    base, metrics_dir = two_workers
    assert not (metrics_dir / "counter_999999999.db").exists()  # an earlier run's file is cleared
    sent = 0
    # A new connection per request, so either process may accept it; go on until both have served
    # some (the kernel decides who accepts: no fixed share is assumed).
    with httpx.Client(base_url=base, timeout=10, limits=httpx.Limits(max_keepalive_connections=0)) as web:
        while sent < 2000:
            for _ in range(20):
                assert web.get("/health").status_code == 200
                sent += 1
            if _both_served(metrics_dir):
                break
        assert _both_served(metrics_dir), "one process served nothing"
        samples = {}
        for _ in range(4):  # scrapes too are answered by either process: each sees the sum
            response = web.get("/metrics", headers=BEARER)
            assert response.status_code == 200
            samples = _parse(response.text)
            assert requests_of(samples, "/health") == sent
        assert web.get("/metrics").status_code == 401
    assert os.path.isdir(metrics_dir)
