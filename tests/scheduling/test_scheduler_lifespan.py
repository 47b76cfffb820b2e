"""The web process runs the scheduler when `scheduler_enabled` is on, and stops it with the app."""

from __future__ import annotations

import dataclasses
import time
from typing import Any


def test_the_web_app_delivers_the_outbox_and_ticks_with_its_scheduler(db, settings, smtp_sink):
    from litestar.testing import TestClient

    from coord.app.factory import create_app
    from coord.mail import outbox
    from tests.conftest import run

    enabled = dataclasses.replace(settings, scheduler_enabled=True, smtp_port=smtp_sink.port)
    app: Any = create_app(enabled, engine=db.engine)
    run(
        outbox.queue(
            dedupe_key="test:lifespan",
            kind="test",
            to_email="a@example.gouv.fr",
            to_name="A",
            subject="Essai",
            text="Bonjour",
        )
    )
    with TestClient(app, base_url="http://testserver.local"):
        scheduler = app.state.scheduler
        assert scheduler is not None and scheduler.scheduler.running
        jobs = {job.id for job in scheduler.scheduler.get_jobs()}
        assert jobs == {"coord-outbox", "coord-reminders", "coord-mail-retention", "coord-accounts-housekeeping"}
        deadline = time.monotonic() + 20
        while smtp_sink.received < 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert smtp_sink.received == 1
    assert scheduler.scheduler is None  # stopped with the app


def test_without_the_scheduler_the_web_app_sends_nothing_itself(db, settings):
    from litestar.testing import TestClient

    from coord.app.factory import create_app

    app: Any = create_app(settings, engine=db.engine)
    with TestClient(app, base_url="http://testserver.local"):
        assert app.state.scheduler is None


def test_stopping_the_app_mid_delivery_finishes_the_mail_being_sent_and_hands_the_others_back(db, settings, smtp_sink):
    """The web process stops its scheduler like `coord worker` does: the mail being handed to a slow
    server is finished and marked sent, the others return to the queue at once, none is left leased."""
    from litestar.testing import TestClient

    from coord.app.factory import create_app
    from coord.mail import outbox
    from tests.conftest import run
    from tests.scheduling.support import outbox_rows

    for n in range(20):
        run(
            outbox.queue(
                dedupe_key=f"test:slow:{n}",
                kind="test",
                to_email=f"a{n}@example.gouv.fr",
                to_name="A",
                subject="Essai",
                text="Bonjour",
            )
        )
    smtp_sink.data_status = lambda raw: time.sleep(0.5)  # twenty mails: ten seconds
    enabled = dataclasses.replace(settings, scheduler_enabled=True, smtp_port=smtp_sink.port)
    app: Any = create_app(enabled, engine=db.engine)
    with TestClient(app, base_url="http://testserver.local"):
        deadline = time.monotonic() + 20
        while smtp_sink.received < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert smtp_sink.received >= 1
    rows = outbox_rows()
    assert {r["status"] for r in rows} <= {"sent", "pending"}
    assert sum(r["status"] == "sent" for r in rows) == smtp_sink.received < len(rows)
