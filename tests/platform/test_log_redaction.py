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
    # The error line and the access line of that request name the same request.
    assert errors[0]["request_id"] == access[3]["request_id"] and len(errors[0]["request_id"]) == 32

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
        ("GET /invitation/Zm9vYmFy-_x HTTP/1.1", "GET /invitation/*** HTTP/1.1"),
        ('"POST /mot-de-passe/Zm9vYmFy-_x HTTP/1.1" 303', '"POST /mot-de-passe/*** HTTP/1.1" 303'),
        ("POST /mot-de-passe-oublie HTTP/1.1", "POST /mot-de-passe-oublie HTTP/1.1"),
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


# --- Request ids, and no secret of any kind in the logs -------------------------------------------

NGINX_ID = "0123456789abcdef0123456789abcdef"  # what nginx's $request_id looks like
SIGN_IN_ID = "fedcba9876543210fedcba9876543210"


def _reset_link(email: str) -> str:
    import re

    from coord.mail.tables import OutboxMessage

    mail = run(
        OutboxMessage.select(OutboxMessage.body_text)
        .where((OutboxMessage.kind == "password_reset") & (OutboxMessage.to_email == email))
        .first()
    )
    match = re.search(r"/mot-de-passe/[A-Za-z0-9_-]+", mail["body_text"])
    assert match, mail["body_text"]
    return match.group(0)


def test_a_day_of_requests_leaves_request_ids_in_the_logs_and_the_journal_and_no_secret(app, make_user):
    """Everything a person or a partner sends that opens Coord (a password, a session cookie, an API
    token, a partner's link or feed, a reset or invitation link, a `?token=`) stays out of the logs,
    even at DEBUG level, while every line of a request, uvicorn's access line included, names the
    request, and the journal entry a request wrote names it too."""
    from coord.ops.logs import configure_logging, redact
    from tests.conftest import PASSWORD

    user = make_user("prefecture", "34")
    feed = run(_feed_token())
    partner_link = "WzQyLCJpbnZpdGF0aW9uIl0.c2lnbmF0dXJlLWRlLXRlc3Q"
    account_invitation = "invitation-de-compte-secrete-0123456789"
    query_token = "jeton-en-parametre-0123456789"
    answered: dict[str, str] = {}  # request id sent back -> "METHOD path"

    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    output = io.StringIO()
    configure_logging("DEBUG", json_lines=True, stream=output)
    try:
        with served_like_coord_serve(app) as url, httpx.Client(base_url=url) as browser:

            def call(method: str, path: str, **kwargs: Any) -> httpx.Response:
                response = browser.request(method, path, **kwargs)
                answered[response.headers["x-request-id"]] = f"{method} {path.split('?')[0]}"
                return response

            assert call("GET", "/connexion", headers={"X-Request-ID": NGINX_ID}).headers["x-request-id"] == NGINX_ID
            csrf = browser.cookies["coord_csrf"]
            signed_in = call(
                "POST",
                "/connexion",
                data={"email": user.email, "password": PASSWORD, "_csrf_token": csrf},
                headers={"X-Request-ID": SIGN_IN_ID},
            )
            assert signed_in.status_code == 303, signed_in.text
            session = browser.cookies["coord_session"]
            assert call("GET", "/journal").status_code == 200
            journal_csv = call("GET", "/journal/export.csv").text
            api = call("GET", "/api/audit", headers={"Authorization": f"Bearer {user.token}"})
            assert api.status_code == 200
            assert call("GET", f"/r/calendrier/{feed}.ics").status_code == 200
            assert call("GET", f"/r/invitation/{partner_link}?reponse=accepted").status_code == 403
            assert call("GET", f"/health?token={query_token}").status_code == 200
            assert call("GET", f"/invitation/{account_invitation}").status_code in (404, 410)
            browser.cookies.clear()
            csrf = call("GET", "/mot-de-passe-oublie").cookies.get("coord_csrf") or browser.cookies["coord_csrf"]
            call("POST", "/mot-de-passe-oublie", data={"email": user.email, "_csrf_token": csrf})
            reset = _reset_link(user.email)
            assert call("GET", reset).status_code == 200
            # A value the proxy should never send is not repeated: Coord answers with an id of its own.
            forged = call("GET", "/health", headers={"X-Request-ID": '"><script>alert(1)</script>'})
            assert len(forged.headers["x-request-id"]) == 32 and "script" not in forged.headers["x-request-id"]
            assert call("GET", "/page-qui-n-existe-pas").status_code == 404
            time.sleep(0.2)  # the access line of the last request
    finally:
        root.handlers[:], root.level = saved
    text = output.getvalue()

    secrets = {
        "password": PASSWORD,
        "session cookie": session,
        "API token": user.token,
        "calendar feed": feed,
        "partner's link": partner_link,
        "account invitation link": account_invitation,
        "password reset link": reset.rsplit("/", 1)[1],
        "token parameter": query_token,
    }
    for name, secret in secrets.items():
        assert secret not in text, f"the {name} reached the logs"

    lines = [json.loads(line) for line in text.splitlines()]
    access = [entry for entry in lines if entry["logger"] == "uvicorn.access"]
    assert len(access) == len(answered), text
    # Each access line names the request it reports, with the id the response carried.
    for entry in access:
        assert entry.get("request_id") in answered, entry
        method, path = answered[entry["request_id"]].split(" ", 1)
        assert f'"{method} {redact(path)}' in entry["message"], entry
    assert {e["request_id"] for e in access if '"POST /connexion' in e["message"]} == {SIGN_IN_ID}
    assert NGINX_ID in {e["request_id"] for e in access}
    assert not [e for e in lines if e.get("request_id") == '"><script>alert(1)</script>']

    # The journal entry of the sign-in names the request that made it, in the API and the export.
    sign_ins = [e for e in api.json()["items"] if e["action"] == "sign_in"]
    assert [e["request_id"] for e in sign_ins] == [SIGN_IN_ID]
    assert SIGN_IN_ID in journal_csv


def test_every_response_names_its_request(client):
    """Pages, errors and unknown paths alike answer with an X-Request-ID; a well-formed id from the
    proxy is kept, anything else replaced."""
    for path in ("/health", "/page-qui-n-existe-pas", "/api/audit", "/static/coord.css"):
        response = client.get(path)
        assert len(response.headers["x-request-id"]) == 32, path
    assert client.get("/health", headers={"X-Request-ID": NGINX_ID}).headers["x-request-id"] == NGINX_ID
    assert client.get("/nulle-part", headers={"X-Request-ID": "req-1.a:b"}).headers["x-request-id"] == "req-1.a:b"
    first, second = client.get("/health"), client.get("/health")
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
    for bad in ("a" * 129, "un id avec des espaces", "a/b", "id;x", "<b>", ""):
        returned = client.get("/health", headers={"X-Request-ID": bad}).headers["x-request-id"]
        assert returned != bad and len(returned) == 32


def test_outside_a_request_log_lines_and_journal_entries_have_no_request_id(db):
    """The worker and the command line serve no request: their lines and entries name none."""
    from coord.access import system_principal
    from coord.audit import log
    from coord.audit.tables import AuditEntry
    from coord.ops.logs import JsonFormatter, install_redaction

    install_redaction()
    record = logging.getLogger("coord.worker").makeRecord("coord.worker", logging.INFO, __file__, 1, "tick", (), None)
    assert "request_id" not in json.loads(JsonFormatter().format(record))
    run(log.record(system_principal("tâche planifiée (test)", None), "update", "plan", None, department_id=None))
    assert run(AuditEntry.select(AuditEntry.request_id)) == [{"request_id": None}]
