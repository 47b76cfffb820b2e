"""The token of a partner's link or calendar feed is a credential: it never reaches a log line,
neither uvicorn's access log (`coord serve`), nor Coord's error log, nor a traceback."""

from __future__ import annotations

import io
import json
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from tests.conftest import run


@contextmanager
def coord_logging() -> Iterator[io.StringIO]:
    """`coord serve`'s logging (JSON lines) into a buffer; the previous configuration afterwards."""
    from coord.ops.logs import configure_logging

    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    buffer = io.StringIO()
    configure_logging(json_lines=True, stream=buffer)
    try:
        yield buffer
    finally:
        root.handlers[:], root.level = saved


@contextmanager
def served_like_coord_serve(app: Any) -> Iterator[str]:
    """uvicorn as `coord serve` runs it: its own log configuration off, access log on."""
    import uvicorn

    from tests.support.live_server import free_port

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


async def _feed_token() -> str:
    from coord.links import service as links
    from coord.territory.tables import Department

    department = await Department.select(Department.id).where(Department.code == "34").first()
    return await links.issue("feed_department", department["id"], department_id=department["id"], valid_for=None)


def test_tokens_never_reach_the_access_log_nor_the_error_log(app, monkeypatch, caplog):
    from coord.calendar import subscription

    token = run(_feed_token())
    invitation = "WzQyLCJpbnZpdGF0aW9uIl0.c2lnbmF0dXJlLWRlLXRlc3Q"
    caplog.set_level(logging.INFO)
    with coord_logging() as output, served_like_coord_serve(app) as url:
        assert httpx.get(f"{url}/r/calendrier/{token}.ics").status_code == 200
        assert httpx.get(f"{url}/r/invitation/{invitation}?reponse=accepted").status_code == 403
        assert httpx.get(f"{url}/health?token=jeton-en-parametre").status_code == 200

        async def broken(feed_token: str) -> Any:
            raise RuntimeError(f"cannot build the feed of /r/calendrier/{feed_token}")

        monkeypatch.setattr(subscription.feeds, "feed_for_token", broken)
        assert httpx.get(f"{url}/r/calendrier/{token}.ics").status_code == 500
        time.sleep(0.2)  # the access line of the last request
    text = output.getvalue()

    lines = [json.loads(line) for line in text.splitlines()]
    access = [entry for entry in lines if entry["logger"] == "uvicorn.access"]
    assert len(access) == 4, text
    assert '"GET /r/calendrier/***.ics HTTP/1.1" 200' in access[0]["message"]
    assert '"GET /r/invitation/***?reponse=accepted HTTP/1.1" 403' in access[1]["message"]
    assert '"GET /health?token=*** HTTP/1.1" 200' in access[2]["message"]
    errors = [entry for entry in lines if entry["logger"] == "coord.web"]
    assert errors and errors[0]["message"] == "unhandled error on GET /r/calendrier/***.ics"
    assert "cannot build the feed of /r/calendrier/***" in errors[0]["exception"]

    for secret in (token, invitation, "jeton-en-parametre"):
        assert secret not in text
        # Every record, whatever handler gets it (here pytest's capture), is masked from its creation.
        for record in caplog.records:
            assert secret not in record.getMessage() and secret not in (record.exc_text or "")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("GET /r/action/WzEsImFjdGlvbiJd.AbC-_d HTTP/1.1", "GET /r/action/*** HTTP/1.1"),
        ("webcal://coord.gouv.fr/r/calendrier/WzEsImZlZWQiXQ.x.ics", "webcal://coord.gouv.fr/r/calendrier/***.ics"),
        ("/connexion?suivant=%2Fr%2Fsignature%2FWzEsInNpZyJd.x", "/connexion?suivant=%2Fr%2Fsignature%2F***"),
        ("/api/x?page=2&token=abc&per_page=5", "/api/x?page=2&token=***&per_page=5"),
        ("GET /d/34/reunions/12 HTTP/1.1", "GET /d/34/reunions/12 HTTP/1.1"),
        ("/static/coord.css", "/static/coord.css"),
    ],
)
def test_what_is_masked(line, expected):
    from coord.ops.logs import redact

    assert redact(line) == expected


def test_extra_fields_are_masked_too():
    from coord.ops.logs import JsonFormatter, install_redaction

    install_redaction()
    record = logging.getLogger("coord.test").makeRecord(
        "coord.test",
        logging.INFO,
        __file__,
        1,
        "opened %s",
        ("/r/signature/WzEsInNpZyJd.x",),
        None,
        extra={"path": "/r/invitation/WzEsImludiJd.y"},
    )
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "opened /r/signature/***" and entry["path"] == "/r/invitation/***"
