"""`coord deploy render`, as docs/deployment.md runs it: the files nginx and systemd accept, with
limits that match Coord's."""

from __future__ import annotations

import inspect
import re
import shlex
import subprocess
from pathlib import Path

import pytest
import uvicorn

from coord.app import deploy
from coord.app.cli import build_parser, main
from coord.calendar.ingest import MAX_MESSAGE_BYTES
from coord.core.settings import Settings, get_settings
from coord.documents.routes import UPLOAD_BODY_LIMIT
from tests.deploy.support import (
    NGINX,
    ROOT,
    SYSTEMD_ANALYZE,
    guide_coord_commands,
    guide_render_command,
    nginx_command,
    nginx_main_conf,
    write_tls,
)
from tests.support.coord_server import coord_command


def _render_from_guide(tmp_path: Path, *overrides: str) -> Path:
    """The guide's render command, with the output (and the given options) pointed at the test's paths."""
    argv = guide_render_command()
    assert argv[:3] == ["coord", "deploy", "render"]
    out = tmp_path / "rendu"
    main([*argv[1:], "--output", str(out), *overrides])  # the command's own code, in this process
    assert sorted(p.name for p in out.iterdir()) == sorted(deploy.OUTPUTS)
    return out


def _body_bytes(site: str) -> int:
    match = re.search(r"^\s*client_max_body_size (\d+)m;", site, re.M)
    assert match, "no client_max_body_size in the nginx site"
    return int(match.group(1)) * 1024 * 1024


def _exec_start(unit: str) -> list[str]:
    line = next(line for line in unit.splitlines() if line.startswith("ExecStart="))
    return shlex.split(line.removeprefix("ExecStart="))


def test_the_guides_render_command_passes_nginx_and_systemd_checks(tmp_path):
    write_tls(tmp_path, "coord.example.gouv.fr")
    # The checkout stands for /opt/coord: ExecStart's program and the error pages' folder exist there.
    out = _render_from_guide(
        tmp_path,
        "--prefix",
        str(ROOT),
        "--certificate",
        str(tmp_path / "cert.pem"),
        "--key",
        str(tmp_path / "key.pem"),
    )
    site = (out / deploy.NGINX_SITE).read_text()

    checked = subprocess.run(
        [
            *nginx_command(tmp_path, nginx_main_conf(tmp_path, out / deploy.NGINX_SITE)),
            "-t",
            "-g",
            f"pid {tmp_path}/nginx.pid;",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.returncode == 0 and "syntax is ok" in checked.stderr, checked.stderr
    # (nginx 1.25+ prefers `http2 on;` to `listen ... http2`: that deprecation notice alone is tolerated.)
    warnings = [line for line in checked.stderr.splitlines() if "[warn]" in line and "http2" not in line]
    assert not warnings, checked.stderr

    units = [out / name for name in deploy.UNITS]
    verified = subprocess.run(
        [SYSTEMD_ANALYZE, "verify", "--man=no", *[f"./{u.name}" for u in units]],
        cwd=out,
        capture_output=True,
        text=True,
        timeout=60,
    )
    complaints = [line for line in verified.stderr.splitlines() if "coord-" in line]
    assert verified.returncode == 0 and not complaints, verified.stderr

    # The guide's options reached the files.
    web = (out / "coord-web.service").read_text()
    assert _exec_start(web) == [
        f"{ROOT}/.venv/bin/coord",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "8000",
        "--workers",
        "4",
    ]
    assert "server 127.0.0.1:8000;" in site and "server_name coord.example.gouv.fr;" in site


def test_the_rendered_files_say_what_the_guide_says(tmp_path):
    out = _render_from_guide(tmp_path)
    site = (out / deploy.NGINX_SITE).read_text()
    parser = build_parser()
    for name in deploy.UNITS:
        unit = (out / name).read_text()
        for line in (
            "User=coord",
            "Group=coord",
            "EnvironmentFile=/etc/coord/coord.env",
            "Restart=on-failure",
            "NoNewPrivileges=yes",
            "ProtectSystem=strict",
            "ReadWritePaths=/opt/coord/var /opt/coord/tools",
            "PrivateTmp=yes",
            "ProtectHome=yes",
            "WorkingDirectory=/opt/coord",
        ):
            assert line in unit.splitlines(), (name, line)
        program, *args = _exec_start(unit)
        assert program == "/opt/coord/.venv/bin/coord"
        parser.parse_args(args)  # a command Coord has, with options it knows
    assert "Environment=COORD_SCHEDULER_ENABLED=false" in (out / "coord-web.service").read_text()
    assert "ExecReload=/bin/kill -HUP $MAINPID" in (out / "coord-web.service").read_text().splitlines()
    assert _exec_start((out / "coord-worker.service").read_text())[1:] == ["worker"]
    assert _exec_start((out / "coord-imip.service").read_text())[1:3] == ["imip", "listen"]

    # TLS and the redirect.
    assert "ssl_protocols TLSv1.2 TLSv1.3;" in site
    assert "return 301 https://coord.example.gouv.fr$request_uri;" in site
    # Coord sends HSTS itself (base_url https): nginx must not add a second one.
    assert "strict-transport-security" not in site.lower().replace("# strict-transport-security", "")
    assert not re.search(r"add_header\s+Strict-Transport-Security", site, re.I)
    for header in (
        "proxy_set_header Host $host;",
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "proxy_set_header X-Forwarded-Proto $scheme;",
        "proxy_set_header X-Request-ID $request_id;",
    ):
        assert header in site
    # Bodies: nginx lets through everything a Coord route accepts.
    allowed = _body_bytes(site)
    assert allowed >= UPLOAD_BODY_LIMIT == deploy.upload_body_limit(get_settings())
    assert allowed >= max(deploy.APP_BODY_LIMIT, MAX_MESSAGE_BYTES)
    assert allowed - UPLOAD_BODY_LIMIT < 1024 * 1024  # and not much more
    # Timeouts: an upload's virus scan fits in the proxy's read timeout; nginx drops idle upstream
    # connections before uvicorn does.
    read_timeout = int(re.search(r"proxy_read_timeout (\d+)s;", site).group(1))
    assert read_timeout > get_settings().clamd_timeout_seconds
    uvicorn_keepalive = inspect.signature(uvicorn.Config).parameters["timeout_keep_alive"].default
    assert uvicorn_keepalive == deploy.UVICORN_KEEPALIVE_SECONDS
    assert int(re.search(r"keepalive_timeout (\d+)s;", site).group(1)) < uvicorn_keepalive
    # /metrics: nobody through the proxy unless --metrics-allow; the error pages exist.
    metrics = site[site.index("location = /metrics") :].split("}", 1)[0]
    assert "deny all;" in metrics and "allow" not in metrics.replace("deny all", "")
    for page in ("413.html", "indisponible.html"):
        assert (ROOT / "coord" / "web" / "static" / "errors" / page).is_file()
    assert "/opt/coord/coord/web/static/errors/" in site


def test_the_body_limit_follows_the_documents_setting(tmp_path):
    deploy.render(
        deploy.Options(
            server_name="coord.example.gouv.fr", output=tmp_path, workers=1, metrics_allow=("10.20.0.0/24",)
        ),
        Settings(documents_max_file_mb=40, clamd_timeout_seconds=90),
    )
    site = (tmp_path / deploy.NGINX_SITE).read_text()
    assert "client_max_body_size 41m;" in site  # 40 MiB + 256 KiB, rounded up
    assert "proxy_read_timeout 120s;" in site
    assert "allow 10.20.0.0/24;" in site
    assert "ExecReload" not in (tmp_path / "coord-web.service").read_text().replace("# One", "")


@pytest.mark.parametrize(
    "option", [["--server-name", "coord.example.gouv.fr;evil"], ["--prefix", "opt/coord"], ["--port", "0"]]
)
def test_bad_options_are_refused_in_french(tmp_path, option):
    with pytest.raises(SystemExit) as refused:
        main(["deploy", "render", "--server-name", "coord.example.gouv.fr", "--output", str(tmp_path), *option])
    assert any(word in str(refused.value) for word in ("invalide", "attendu", "entre"))
    assert not list(tmp_path.iterdir())


def test_the_command_runs_as_an_operator_types_it(tmp_path):
    done = coord_command("deploy", "render", "--server-name", "coord.example.gouv.fr", "--output", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "COORD_BASE_URL=https://coord.example.gouv.fr" in done.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(deploy.OUTPUTS)


def test_every_coord_command_of_the_guide_is_one_coord_has():
    commands = guide_coord_commands()
    names = {" ".join(c[:2]) for c in commands}
    for expected in ("deploy render", "migrate --check", "reference load", "doctor --workers", "user create"):
        assert any(n.startswith(expected.split()[0]) for n in names), expected
    assert ["migrate"] in commands and ["reference", "load"] in commands
    parser = build_parser()
    for args in commands:
        try:
            parser.parse_args(args)
        except SystemExit as exc:
            raise AssertionError(f"docs/deployment.md: `coord {' '.join(args)}` is not a valid command") from exc
    assert NGINX  # nginx is part of the test environment (tests/run.py installs it)
