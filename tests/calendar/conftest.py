"""Shared builders for the calendar tests (pure, no database)."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

# pytest runs with --import-mode=importlib, which puts nothing on sys.path: make `coord` and
# `tests.support` importable however pytest is launched.
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from coord.ics import CalendarAttendee, CalendarEvent, Person  # noqa: E402

NOW = datetime(2026, 9, 1, 7, 45, 12, tzinfo=UTC)
ORGANIZER = Person(email="coord-69@coord.example.gouv.fr", name="Coord Rhône")


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def attendees() -> list[CalendarAttendee]:
    return [
        CalendarAttendee("coord-69@coord.example.gouv.fr", "Coord Rhône", "CHAIR", "ACCEPTED"),
        CalendarAttendee("marie.durand@interieur.gouv.fr", "Marie Durand", "REQ-PARTICIPANT"),
        CalendarAttendee("ong@example.org", "Association d'aide", "OPT-PARTICIPANT"),
    ]


@pytest.fixture
def make_event() -> Callable[..., CalendarEvent]:
    def make(tzid: str = "Europe/Paris", **overrides: object) -> CalendarEvent:
        zone = ZoneInfo(tzid)
        event = CalendarEvent(
            uid="mtg-2026-0042@coord.example.gouv.fr",
            sequence=0,
            summary="Comité départemental TEH – séance plénière",
            description="Ordre du jour :\n1. Point de situation\n2. Plan d'action",
            start=datetime(2026, 10, 15, 9, 30, tzinfo=zone),
            end=datetime(2026, 10, 15, 11, 30, tzinfo=zone),
            tzid=tzid,
            organizer=ORGANIZER,
            location="Préfecture du Rhône, salle Rhône-Alpes",
            url="https://coord.example.gouv.fr/reunions/42",
            video_url="https://webconf.numerique.gouv.fr/teh-69-42",
            created=datetime(2026, 8, 20, 14, 0, tzinfo=UTC),
            last_modified=datetime(2026, 8, 31, 16, 0, tzinfo=UTC),
        )
        return dataclasses.replace(event, **overrides)  # type: ignore[arg-type]

    return make
