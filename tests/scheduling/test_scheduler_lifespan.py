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
        assert jobs == {"coord-outbox", "coord-reminders", "coord-mail-retention"}
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
