"""The rendered nginx site in front of `coord serve --workers 2` on PostgreSQL, over real TLS.

One nginx (from the guide's `coord deploy render` command, a trustme certificate for localhost) and
one `coord serve --workers 2` are started for the module and shared by its tests. Clients bind to
other loopback addresses (127.0.0.2, .3, .4): nginx reaches Coord from 127.0.0.1, the only trusted
proxy, so the address Coord must record is the client's own, whatever the client forges in
X-Forwarded-For (nginx appends the real peer, Coord takes the right-most untrusted hop).
"""

from __future__ import annotations

import os
import re
import signal
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from coord.app import deploy
from coord.app.cli import main
from coord.documents.routes import UPLOAD_BODY_LIMIT
from tests.conftest import PASSWORD, PG_ADMIN_DSN, _pg_admin, run
from tests.deploy.support import (
    ROOT,
    guide_render_command,
    nginx_command,
    nginx_globals,
    nginx_main_conf,
    wait_until,
    write_tls,
)
from tests.support.live_server import free_port

if "postgres" not in os.environ.get("COORD_TEST_ENGINES", "sqlite,postgres"):
    pytest.skip("the proxy suite runs on PostgreSQL (COORD_TEST_ENGINES excludes it)", allow_module_level=True)

FORGED = "203.0.113.9"
LOGIN_USER = "agent-proxy@prefecture.example.gouv.fr"
THROTTLED_USER = "agent-freine@prefecture.example.gouv.fr"
SECRET = "deploy-test-secret-key-0123456789-abcdefghijkl"


@dataclass
class Stack:
    https: str  # https://localhost:<nginx port>, Coord's base_url
    http: str  # nginx's plain http port
    direct: str  # http://127.0.0.1:<coord port>, bypassing nginx
    tls: ssl.SSLContext
    database_url: str
    server: subprocess.Popen
    body_limit: int  # nginx's client_max_body_size in bytes
    logs: Path
    access_log: Path  # nginx's, with $request_id


def _sql(url: str, query: str, *args: Any) -> list[dict[str, Any]]:
    async def fetch() -> list[dict[str, Any]]:
        import asyncpg

        conn = await asyncpg.connect(url)
        try:
            return [dict(r) for r in await conn.fetch(query, *args)]
        finally:
            await conn.close()

    return run(fetch())


def _prepare_database(url: str, env: dict[str, str]) -> None:
    """The guide's commands (migrate, reference load, user create), in one interpreter to save starts."""
    script = (
        "import sys\nfrom coord.app.cli import main\n"
        "main(['migrate'])\nmain(['reference', 'load'])\n"
        f"for email in {[LOGIN_USER, THROTTLED_USER]!r}:\n"
        "    main(['user', 'create', '--email', email, '--role', 'prefecture', '--department', '34',"
        f" '--password', {PASSWORD!r}])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    directory = tmp_path_factory.mktemp("deploy")
    https_port, http_port, coord_port = free_port(), free_port(), free_port()
    dbname = f"coord_deploy_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    run(_pg_admin(f'CREATE DATABASE "{dbname}"'))
    url = PG_ADMIN_DSN.rsplit("/", 1)[0] + "/" + dbname
    base_url = f"https://localhost:{https_port}"
    env = {
        **os.environ,
        "PICCOLO_CONF": "coord.app.piccolo_conf",
        "COORD_DATABASE_URL": url,
        "COORD_SECRET_KEY": SECRET,
        "COORD_BASE_URL": base_url,
        "COORD_TRUSTED_PROXIES": "127.0.0.1",
        "COORD_SCHEDULER_ENABLED": "false",  # as coord-web.service: the mails stay in the outbox
    }
    server = nginx = None
    logs = directory / "coord.log"
    try:
        with logs.open("wb") as log:
            server = subprocess.Popen(
                [sys.executable, "-m", "coord.app.cli", "serve", "--port", str(coord_port), "--workers", "2"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        # While the web processes start (they need the database, not its tables, to start), the guide's
        # migrate / reference load / user create run beside them.
        _prepare_database(url, env)
        ca = write_tls(directory, "localhost", "127.0.0.1")
        tls = ssl.create_default_context()
        ca.configure_trust(tls)
        # The guide's render command, pointed at this test's ports, paths and certificate.
        out = directory / "rendu"
        argv = guide_render_command()
        main(
            [
                *argv[1:],
                *("--output", str(out), "--server-name", "localhost", "--prefix", str(ROOT)),
                *("--port", str(coord_port), "--workers", "2", "--listen-address", "127.0.0.1"),
                *("--https-port", str(https_port), "--http-port", str(http_port)),
                *("--certificate", str(directory / "cert.pem"), "--key", str(directory / "key.pem")),
            ]
        )
        site = out / deploy.NGINX_SITE
        body_limit = int(re.search(r"client_max_body_size (\d+)m;", site.read_text()).group(1)) * 1024 * 1024
        conf = nginx_main_conf(directory, site)
        with (directory / "nginx.log").open("wb") as log:
            nginx = subprocess.Popen(
                nginx_command(directory, conf, "-g", nginx_globals(directory)), stdout=log, stderr=subprocess.STDOUT
            )

        def ready() -> bool:
            return httpx.get(f"{base_url}/ready", verify=tls, timeout=3).status_code == 200

        try:
            wait_until(ready, "coord serve behind nginx", server, seconds=120)
        except AssertionError as exc:
            tails = [(directory / name).read_text(errors="replace")[-3000:] for name in ("coord.log", "nginx.log")]
            raise AssertionError(f"{exc}\n{tails[0]}\n{tails[1]}") from None
        assert nginx.poll() is None, (directory / "nginx.log").read_text()
        yield Stack(
            base_url,
            f"http://localhost:{http_port}",
            f"http://127.0.0.1:{coord_port}",
            tls,
            url,
            server,
            body_limit,
            logs,
            directory / "access.log",
        )
    finally:
        for process, sig in ((nginx, signal.SIGTERM), (server, signal.SIGTERM)):
            if process is not None and process.poll() is None:
                process.send_signal(sig)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=10)
        run(_pg_admin(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))


def _client(stack: Stack, address: str, base: str | None = None) -> httpx.Client:
    """A browser on `address` (a loopback address of its own)."""
    transport = httpx.HTTPTransport(local_address=address, verify=stack.tls)
    return httpx.Client(base_url=base or stack.https, transport=transport, timeout=60)


def _csrf(client: httpx.Client) -> str:
    if "coord_csrf" not in client.cookies:
        client.get("/connexion").raise_for_status()
    return client.cookies["coord_csrf"]


def _login(client: httpx.Client, email: str, password: str, forged: str = FORGED) -> httpx.Response:
    return client.post(
        "/connexion",
        data={"email": email, "password": password, "_csrf_token": _csrf(client)},
        headers={"X-Forwarded-For": forged},
        follow_redirects=False,
    )


def _audit(stack: Stack, action: str, email: str) -> list[str]:
    rows = _sql(
        stack.database_url,
        "SELECT ip FROM audit_entry WHERE action = $1 AND (actor = $2 OR summary LIKE '%' || $2 || '%') ORDER BY id",
        action,
        email,
    )
    return [r["ip"] for r in rows]


def test_sign_in_over_https_secure_cookies_hsts_and_the_clients_real_address(stack):
    with _client(stack, "127.0.0.2") as browser:
        page = browser.get("/connexion")
        assert page.status_code == 200
        assert page.headers.get_list("strict-transport-security") == ["max-age=63072000; includeSubDomains"]
        signed_in = _login(browser, LOGIN_USER, PASSWORD)
        assert signed_in.status_code == 303, signed_in.text
        cookies = signed_in.headers.get_list("set-cookie") + page.headers.get_list("set-cookie")
        for name in ("coord_session", "coord_csrf"):
            cookie = next(c for c in cookies if c.startswith(f"{name}="))
            attributes = {part.strip().lower() for part in cookie.split(";")}
            assert {"secure", "httponly"} <= attributes, cookie
        # nginx's request id reached Coord: Coord answers with the id nginx logged, and the audit keeps it.
        request_id = signed_in.headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", request_id), request_id
        # nginx writes the line once the response is sent: the client may read the response first.
        wait_until(
            lambda: f"127.0.0.2 {request_id} " in stack.access_log.read_text(), "nginx's access log line", seconds=20
        )
        home = browser.get("/", follow_redirects=True)  # the Secure session cookie comes back over https
        assert home.status_code == 200 and not home.url.path.startswith("/connexion"), home.url
    # nginx appended the real peer to the forged header; Coord kept the right-most untrusted hop.
    assert _audit(stack, "sign_in", LOGIN_USER) == ["127.0.0.2"]
    entry = _sql(
        stack.database_url, "SELECT request_id FROM audit_entry WHERE action = 'sign_in' AND actor = $1", LOGIN_USER
    )
    assert [e["request_id"] for e in entry] == [request_id]
    sessions = _sql(stack.database_url, "SELECT ip FROM user_session")
    assert {r["ip"] for r in sessions} == {"127.0.0.2"}


def test_a_forged_header_sent_straight_to_coord_is_ignored(stack):
    email = "sonde-directe@example.gouv.fr"
    with _client(stack, "127.0.0.2", base=stack.direct) as direct:
        form = direct.get("/connexion")
        token = form.cookies["coord_csrf"]  # Secure: the client keeps it to itself over http, send it by hand
        refused = direct.post(
            "/connexion",
            data={"email": email, "password": "pas-le-bon-mot-de-passe", "_csrf_token": token},
            headers={"X-Forwarded-For": FORGED, "Cookie": f"coord_csrf={token}"},
            follow_redirects=False,
        )
    assert refused.status_code not in (303, 403), refused.status_code
    assert _audit(stack, "sign_in_failed", email) == ["127.0.0.2"]


def test_sign_in_throttling_counts_the_client_behind_the_proxy(stack):
    with _client(stack, "127.0.0.3") as a, _client(stack, "127.0.0.4") as b:
        statuses = []
        for attempt in range(12):
            # A different forged address each time: the client cannot escape its own count.
            answer = _login(a, THROTTLED_USER, "mauvais-mot-de-passe", forged=f"203.0.113.{attempt + 10}")
            statuses.append(answer.status_code)
            if answer.status_code == 429:
                assert "retry-after" in answer.headers
                break
        assert statuses[-1] == 429 and len(statuses) > 5, statuses
        assert 429 not in statuses[:5]  # login_max_failures (5) free attempts first
        # Another machine signing in to the same account right after is not slowed down.
        assert _login(b, THROTTLED_USER, "mauvais-mot-de-passe").status_code != 429
        assert _login(b, THROTTLED_USER, PASSWORD).status_code == 303
    failed = _audit(stack, "sign_in_failed", THROTTLED_USER)
    assert set(failed) == {"127.0.0.3", "127.0.0.4"} and failed.count("127.0.0.4") == 1
    assert set(_audit(stack, "sign_in_delayed", THROTTLED_USER)) == {"127.0.0.3"}
    attempts = _sql(stack.database_url, "SELECT DISTINCT ip FROM login_attempt")
    assert not any(r["ip"].startswith("203.0.113.") for r in attempts)


def test_mails_and_feeds_carry_the_public_https_address(stack):
    with _client(stack, "127.0.0.5") as browser:
        browser.get("/mot-de-passe-oublie").raise_for_status()
        asked = browser.post("/mot-de-passe-oublie", data={"email": LOGIN_USER, "_csrf_token": _csrf(browser)})
        assert asked.status_code == 200, asked.text
        mails = _sql(
            stack.database_url, "SELECT body_text, body_html FROM outbox_message WHERE to_email = $1", LOGIN_USER
        )
        assert mails, "no mail queued"
        links = re.findall(r"\S*/mot-de-passe/\S+", mails[-1]["body_text"])
        assert links and all(link.startswith(f"{stack.https}/mot-de-passe/") for link in links), links
        assert "127.0.0.1" not in mails[-1]["body_text"] + mails[-1]["body_html"]

        assert _login(browser, LOGIN_USER, PASSWORD).status_code == 303
        created = browser.post(
            "/d/34/calendriers", data={"kind": "department", "_csrf_token": _csrf(browser)}, follow_redirects=True
        )
        assert created.status_code == 200, created.text  # followed to the page
        feeds = re.findall(r'value="((?:https|webcal)://[^"]*/r/[^"]+)"', created.text)
        host = stack.https.removeprefix("https://")
        assert feeds and any(f.startswith(f"https://{host}/") for f in feeds), feeds
        assert all(f.startswith((f"https://{host}/", f"webcal://{host}/")) for f in feeds), feeds


def _multipart(size: int, token: str) -> tuple[bytes, str]:
    """A document upload form of exactly `size` bytes."""
    boundary = "coordtestlimite"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="_csrf_token"\r\n\r\n{token}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="annexe.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    data = b"%PDF-1.4\n" + b"0" * (size - len(head) - len(tail) - 9)
    body = head + data + tail
    assert len(body) == size
    return body, f"multipart/form-data; boundary={boundary}"


def test_uploads_at_coords_limit_pass_and_larger_ones_get_the_french_413(stack):
    assert stack.body_limit >= UPLOAD_BODY_LIMIT
    with _client(stack, "127.0.0.6") as browser:
        assert _login(browser, LOGIN_USER, PASSWORD).status_code == 303
        url = "/d/34/reunions/999999/documents/"
        body, kind = _multipart(UPLOAD_BODY_LIMIT, _csrf(browser))
        passed = browser.post(url, content=body, headers={"Content-Type": kind})
        # Coord answered (its headers are on every response of its own): not nginx's 413.
        assert "content-security-policy" in passed.headers, (passed.status_code, passed.text[:300])
        assert passed.status_code == 404, passed.status_code  # no such meeting: Coord's own French page
        body, kind = _multipart(stack.body_limit + 1, _csrf(browser))
        refused = browser.post(url, content=body, headers={"Content-Type": kind})
    assert refused.status_code == 413
    assert "content-security-policy" not in refused.headers  # nginx's page, Coord never saw the body
    assert refused.headers["content-type"].startswith("text/html")
    assert "Fichier trop volumineux" in refused.text and 'lang="fr"' in refused.text


def test_plain_http_is_redirected_to_https(stack):
    with httpx.Client(timeout=30) as client:
        answer = client.get(f"{stack.http}/d/34/instances?vue=liste", follow_redirects=False)
    assert answer.status_code == 301
    assert answer.headers["location"] == f"{stack.https}/d/34/instances?vue=liste"


def test_metrics_are_not_served_to_the_public(stack):
    with _client(stack, "127.0.0.2") as client:
        assert client.get("/metrics", headers={"Authorization": "Bearer x"}).status_code == 403


def _web_processes(pid: int) -> set[int]:
    """uvicorn's worker processes (spawned children of `coord serve`)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                command = (entry / "cmdline").read_bytes()
            except (OSError, IndexError, ValueError):
                continue
            if ppid == pid and b"spawn_main" in command:
                found.add(int(entry.name))
    return found


def test_reload_replaces_the_web_processes_one_by_one_without_a_gap(stack):
    """The guide's upgrade: `systemctl reload coord-web` (ExecReload sends SIGHUP) while pages are asked."""
    before = _web_processes(stack.server.pid)
    assert len(before) == 2, before
    stack.server.send_signal(signal.SIGHUP)
    statuses = []
    with _client(stack, "127.0.0.7") as client:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            statuses.append(client.get("/ready").status_code)
            now = _web_processes(stack.server.pid)
            if len(now) == 2 and not now & before:
                break
        else:
            raise AssertionError(f"the web processes were not all replaced: {before} -> {now}")
    assert stack.server.poll() is None
    assert set(statuses) == {200}, statuses
    assert len(statuses) > 2


def test_while_coord_is_down_nginx_shows_the_unavailable_page(stack):
    """Last of the module: it stops the shared `coord serve`."""
    stack.server.send_signal(signal.SIGTERM)
    assert stack.server.wait(timeout=30) == 0
    with _client(stack, "127.0.0.2") as client:
        answer = client.get("/connexion")
    assert answer.status_code == 502
    assert "Service indisponible" in answer.text and 'lang="fr"' in answer.text
