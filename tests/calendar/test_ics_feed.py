"""Subscription feeds (METHOD:PUBLISH)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from coord.ics import CalendarTodo, build_feed
from tests.calendar.conftest import ORGANIZER
from tests.calendar.helpers import parse, unfolded_lines
from tests.calendar.test_feed_publish import assert_feed_valid
from tests.support.ics_validators import assert_valid_ics

TODOS = [
    CalendarTodo(
        uid="action-17@coord.example.gouv.fr",
        summary="Transmettre le bilan annuel",
        description="Bilan des signalements 2026",
        due=date(2026, 11, 30),
        url="https://coord.example.gouv.fr/actions/17",
    ),
    CalendarTodo(
        "action-18@coord.example.gouv.fr",
        "Former les agents",
        "",
        date(2026, 12, 15),
        status="COMPLETED",
    ),
]


@pytest.fixture
def feed(make_event, now) -> bytes:
    reunion = ZoneInfo("Indian/Reunion")
    events = [
        make_event(),
        make_event(uid="mtg-43@coord.example.gouv.fr", sequence=2, status="CANCELLED"),
        make_event(
            "Indian/Reunion",
            uid="mtg-44@coord.example.gouv.fr",
            start=datetime(2026, 11, 5, 14, 0, tzinfo=reunion),
            end=datetime(2026, 11, 5, 16, 0, tzinfo=reunion),
        ),
    ]
    return build_feed("Réunions TEH – Rhône", events, now, todos=TODOS)


def test_feed_is_valid(feed) -> None:
    assert_valid_ics(feed)
    assert_feed_valid(feed, organiser=ORGANIZER.email)  # libical, component by component


def test_feed_header(feed) -> None:
    calendar = parse(feed)
    lines = unfolded_lines(feed)
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert str(calendar["X-WR-CALNAME"]) == "Réunions TEH – Rhône"
    assert str(calendar["NAME"]) == "Réunions TEH – Rhône"
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT4H" in lines
    assert "X-PUBLISHED-TTL:PT4H" in lines
    assert calendar["REFRESH-INTERVAL"].dt == timedelta(hours=4)
    assert sorted(str(tz["TZID"]) for tz in calendar.timezones) == [
        "Europe/Paris",
        "Indian/Reunion",
    ]


def test_feed_components_have_an_organizer_but_no_attendee_or_alarm(feed) -> None:
    """RFC 5546 wants an ORGANIZER in PUBLISH; without ATTENDEE no client has anyone to reply for.
    The to-dos, which have none of their own, take the events' organiser."""
    assert b"ATTENDEE" not in feed
    assert b"VALARM" not in feed
    calendar = parse(feed)
    for component in [*calendar.events, *calendar.todos]:
        assert str(component["ORGANIZER"]) == f"mailto:{ORGANIZER.email}"
        assert component["ORGANIZER"].params["CN"] == ORGANIZER.name
    for event in calendar.events:
        assert "URL" in event
        assert "https://coord.example.gouv.fr/reunions/42" in str(event["DESCRIPTION"])
        assert "webconf.numerique.gouv.fr" in str(event["DESCRIPTION"])


def test_cancelled_meeting_is_kept_and_labelled(feed) -> None:
    by_uid = {str(e["UID"]): e for e in parse(feed).events}
    assert len(by_uid) == 3
    cancelled = by_uid["mtg-43@coord.example.gouv.fr"]
    assert str(cancelled["STATUS"]) == "CANCELLED"
    assert str(cancelled["SUMMARY"]) == "Annulé : Comité départemental TEH – séance plénière"
    assert int(cancelled["SEQUENCE"]) == 2
    assert str(by_uid["mtg-2026-0042@coord.example.gouv.fr"]["STATUS"]) == "CONFIRMED"


def test_action_items_are_todos_with_a_due_date(feed) -> None:
    todos = {str(t["UID"]): t for t in parse(feed).todos}
    first = todos["action-17@coord.example.gouv.fr"]
    assert first["DUE"].dt == date(2026, 11, 30)
    assert "DUE;VALUE=DATE:20261130" in unfolded_lines(feed)
    assert str(first["STATUS"]) == "NEEDS-ACTION"
    assert str(first["URL"]) == "https://coord.example.gouv.fr/actions/17"
    assert str(todos["action-18@coord.example.gouv.fr"]["STATUS"]) == "COMPLETED"


def test_empty_feed_is_valid(now) -> None:
    data = build_feed("Réunions TEH", [], now)
    assert_valid_ics(data)
    assert parse(data).events == []


def test_unknown_todo_status_is_refused(now) -> None:
    todo = CalendarTodo("t@x", "A", "", date(2026, 1, 1), status="DONE")
    with pytest.raises(ValueError):
        build_feed("F", [], now, todos=[todo])
