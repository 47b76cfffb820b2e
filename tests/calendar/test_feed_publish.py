"""Published feeds pass every parser here, libical's iTIP restriction check on each component
included: ORGANIZER (Coord's mailbox) on every VEVENT and VTODO, no ATTENDEE, a DTSTART on every
to-do. `assert_feed_valid` is shared with the other feed tests.

libical stops its restriction check at the first component that fails it, so a feed is checked one
component at a time (each with the calendar's properties and time zones), and without the
exemption `assert_valid_ics` grants feeds for a missing ORGANIZER.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest

from coord.ics import CalendarTodo, Person, build_feed
from tests.calendar.helpers import parse
from tests.support.ics_validators import SYSTEM_PYTHON, assert_valid_ics, libical_errors

ORGANISER = "coord-test@prefecture.example.gouv.fr"  # tests/conftest.py's settings

_LIBICAL_EACH = r"""
import json, sys
import gi
gi.require_version("ICalGLib", "3.0")
from gi.repository import ICalGLib

def errors_of(text):
    comp = ICalGLib.Component.new_from_string(text)
    if comp is None:
        return ["libical could not parse the calendar"]
    ICalGLib.restriction_check(comp)
    found = []
    def walk(component):
        prop = component.get_first_property(ICalGLib.PropertyKind.XLICERROR_PROPERTY)
        while prop is not None:
            found.append(ICalGLib.Component.kind_to_string(component.isa()) + ": " + prop.get_xlicerror())
            prop = component.get_next_property(ICalGLib.PropertyKind.XLICERROR_PROPERTY)
        child = component.get_first_component(ICalGLib.ComponentKind.ANY_COMPONENT)
        while child is not None:
            walk(child)
            child = component.get_next_component(ICalGLib.ComponentKind.ANY_COMPONENT)
    walk(comp)
    return found

print(json.dumps([errors_of(text) for text in json.load(sys.stdin)]))
"""


def split_components(data: bytes) -> list[tuple[str, str]]:
    """(UID, a calendar holding only that VEVENT or VTODO) for each one of the feed, with the
    feed's own properties and every VTIMEZONE."""
    lines = data.decode().split("\r\n")[:-1]
    header: list[str] = []
    timezones: list[str] = []
    parts: list[tuple[str, list[str]]] = []
    current: list[str] | None = None
    kind = ""
    for line in lines:
        if current is None and line in ("BEGIN:VTIMEZONE", "BEGIN:VEVENT", "BEGIN:VTODO"):
            kind, current = line.removeprefix("BEGIN:"), []
        if current is not None:
            current.append(line)
            if line == f"END:{kind}":
                if kind == "VTIMEZONE":
                    timezones.extend(current)
                else:
                    parts.append((kind, current))
                current = None
        elif line != "END:VCALENDAR":
            header.append(line)
    result = []
    for _, part in parts:
        uid = next(line.removeprefix("UID:") for line in part if line.startswith("UID:"))
        result.append((uid, "\r\n".join([*header, *timezones, *part, "END:VCALENDAR", ""])))
    return result


def libical_errors_per_component(data: bytes) -> dict[str, list[str]]:
    """libical's errors for each VEVENT and VTODO checked on its own: {UID: errors}."""
    components = split_components(data)
    done = subprocess.run(
        [SYSTEM_PYTHON, "-c", _LIBICAL_EACH],
        input=json.dumps([text for _, text in components]),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return {uid: errors for (uid, _), errors in zip(components, json.loads(done.stdout), strict=True)}


def assert_feed_valid(data: bytes, organiser: str = ORGANISER) -> icalendar.Calendar:
    """Every parser accepts the feed; libical finds nothing in any component, ORGANIZER included;
    each component names Coord's mailbox as organiser and no attendee."""
    assert_valid_ics(data)
    assert libical_errors(data.decode()) == []  # the whole feed, without the PUBLISH exemption
    errors = {uid: found for uid, found in libical_errors_per_component(data).items() if found}
    assert errors == {}, errors
    calendar = parse(data)
    assert str(calendar["METHOD"]) == "PUBLISH"
    for component in [*calendar.events, *calendar.todos]:
        assert str(component["ORGANIZER"]) == f"mailto:{organiser}", component["UID"]
        assert "ATTENDEE" not in component, component["UID"]
        assert "VALARM" not in [c.name for c in component.subcomponents]
    return calendar


# -- the builder alone -----------------------------------------------------------------------

COORD = Person(ORGANISER, "Coordination départementale TEH")
TODAY = dt.date(2026, 9, 1)


def _todo(uid: str, **overrides: Any) -> CalendarTodo:
    values: dict[str, Any] = {
        "uid": uid,
        "summary": "Action : transmettre le bilan",
        "description": "Responsable : DDETS",
        "due": dt.date(2026, 11, 30),
        "start": TODAY,
        "priority": 5,
        **overrides,
    }
    return CalendarTodo(**values)


def test_a_feed_of_meetings_and_todos_of_every_status_passes_libical_component_by_component(make_event, now) -> None:
    reunion = ZoneInfo("Indian/Reunion")
    events = [
        make_event(organizer=COORD),
        make_event(uid="mtg-43@coord.example.gouv.fr", sequence=2, status="CANCELLED", organizer=COORD),
        make_event(
            "Indian/Reunion",
            uid="mtg-44@coord.example.gouv.fr",
            start=dt.datetime(2026, 11, 5, 14, 0, tzinfo=reunion),
            end=dt.datetime(2026, 11, 5, 16, 0, tzinfo=reunion),
            organizer=COORD,
        ),
    ]
    todos = [
        _todo(f"action-{status.lower()}@coord.example.gouv.fr", status=status)
        for status in ("NEEDS-ACTION", "IN-PROCESS", "COMPLETED", "CANCELLED")
    ]
    data = build_feed("Réunions TEH – La Réunion", events, now, todos=todos, organizer=COORD)
    calendar = assert_feed_valid(data)
    assert len(calendar.events) == 3 and len(calendar.todos) == 4
    assert set(libical_errors_per_component(data)) == {
        "mtg-2026-0042@coord.example.gouv.fr",
        "mtg-43@coord.example.gouv.fr",
        "mtg-44@coord.example.gouv.fr",
        *(str(t["UID"]) for t in calendar.todos),
    }


def test_a_feed_of_todos_only_passes_libical(now) -> None:
    data = build_feed("Actions", [], now, todos=[_todo("a-1@coord"), _todo("a-2@coord", priority=1)], organizer=COORD)
    calendar = assert_feed_valid(data)
    assert [int(t["PRIORITY"]) for t in calendar.todos] == [5, 1]


def test_an_item_due_the_day_it_was_created_starts_the_day_before(now) -> None:
    """PUBLISH wants a DTSTART on a VTODO and RFC 5545 a DUE after it."""
    todos = [_todo("same-day@coord", due=TODAY, start=TODAY), _todo("no-start@coord", due=TODAY, start=None)]
    calendar = assert_feed_valid(build_feed("Actions", [], now, todos=todos, organizer=COORD))
    for todo in calendar.todos:
        assert todo["DUE"].dt == TODAY
        assert todo["DTSTART"].dt == TODAY - dt.timedelta(days=1)
    created_earlier = parse(build_feed("Actions", [], now, todos=[_todo("t@coord")], organizer=COORD)).todos[0]
    assert created_earlier["DTSTART"].dt == TODAY


def test_a_todo_keeps_its_own_organizer_and_needs_one(now) -> None:
    own = Person("autre@prefecture.example.gouv.fr", "Autre")
    data = build_feed("Actions", [], now, todos=[_todo("t@coord", organizer=own)], organizer=COORD)
    assert str(parse(data).todos[0]["ORGANIZER"]) == "mailto:autre@prefecture.example.gouv.fr"
    with pytest.raises(ValueError, match="organizer"):
        build_feed("Actions", [], now, todos=[_todo("t@coord")])


def test_a_feed_without_organizer_fails_the_strict_check(make_event, now) -> None:
    """The check itself: a VTODO without ORGANIZER after a valid VEVENT is caught."""
    data = build_feed("Flux", [make_event(organizer=COORD)], now, todos=[_todo("t@coord")], organizer=COORD)
    events, todo = data.split(b"BEGIN:VTODO")
    unfolded = todo.replace(b"\r\n ", b"").split(b"\r\n")
    broken = events + b"BEGIN:VTODO" + b"\r\n".join(line for line in unfolded if not line.startswith(b"ORGANIZER"))
    errors = libical_errors_per_component(broken)
    assert errors["mtg-2026-0042@coord.example.gouv.fr"] == []
    assert any("ORGANIZER" in e for e in errors["t@coord"])
    assert any("VTODO" in e and "ORGANIZER" in e for e in libical_errors(broken.decode()))
