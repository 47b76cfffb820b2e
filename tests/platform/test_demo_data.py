"""The demo a newcomer clicks through: every demo account logs in and the main pages show its data."""

from __future__ import annotations

import re

from tests.conftest import run


def _load_demo() -> str:
    from coord.app.demo import DEMO_PASSWORD, load_demo

    run(load_demo())
    return DEMO_PASSWORD


def test_the_herault_prefecture_agent_finds_meetings_partners_and_the_convention(db, web):
    password = _load_demo()
    web.login("prefecture34@demo.coord.fr", password)
    for path, expected in (
        ("/d/34", "Hérault"),
        ("/d/34/partenaires", "Parquet"),
        ("/d/34/instances", "CDPD"),
        ("/d/34/reunions", "Réunion"),
        ("/d/34/conventions", "protection des mineurs"),
        ("/journal", "Convention"),
        ("/d/34/actions", "dont 2 ouvertes et <strong>1 en retard</strong>"),
        ("/d/34/cycle", "Cycle"),
    ):
        page = web.get(path)
        assert page.status_code == 200, path
        assert expected in page.text, path
    listing = web.get("/d/34/conventions").text
    convention = re.search(r'href="(/d/34/conventions/\d+)"', listing)
    assert convention, "the demo convention is listed"
    detail = web.get(convention.group(1)).text
    assert "Procureur de la République" in detail
    assert "signée" in detail.lower() or "signé" in detail.lower()


def test_every_demo_account_logs_in_and_reaches_its_home(db, web):
    from coord.app.demo import DEMO_USERS

    password = _load_demo()
    for email, _name, role, department in DEMO_USERS:
        web.http.cookies.clear()  # a fresh browser for each account
        web.login(email, password)
        home = web.get("/d/" + department if department else "/departements")
        assert home.status_code == 200, (email, role)
    web.http.cookies.clear()
    web.login("national@demo.coord.fr", password)
    coverage = web.get("/conventions/couverture")
    assert coverage.status_code == 200 and "Hérault" in coverage.text
