"""Checks an .ics with every parser available here (see /work/shared/calendar-interop.md).

libical's iTIP restriction check runs under the system Python (`/usr/bin/python3`), where the
Debian packages gir1.2-ical-3.0 and python3-gi provide `gi.repository.ICalGLib`.
"""

from __future__ import annotations

import json
import subprocess

import icalendar
import pytest
import vobject
from ical.calendar_stream import IcsCalendarStream

SYSTEM_PYTHON = "/usr/bin/python3"
MAX_LINE_OCTETS = 75

_LIBICAL_SCRIPT = r"""
import json, sys
try:
    import gi
    gi.require_version("ICalGLib", "3.0")
    from gi.repository import ICalGLib
except Exception as exc:  # reported to the caller, which fails with an install hint
    print(json.dumps({"missing": repr(exc)}))
    sys.exit(0)

text = sys.stdin.read()
comp = ICalGLib.Component.new_from_string(text)
if comp is None:
    print(json.dumps({"errors": ["libical could not parse the calendar"]}))
    sys.exit(0)
ICalGLib.restriction_check(comp)
errors = []

def walk(component):
    prop = component.get_first_property(ICalGLib.PropertyKind.XLICERROR_PROPERTY)
    while prop is not None:
        kind = ICalGLib.Component.kind_to_string(component.isa())
        errors.append(kind + ": " + prop.get_xlicerror())
        prop = component.get_next_property(ICalGLib.PropertyKind.XLICERROR_PROPERTY)
    child = component.get_first_component(ICalGLib.ComponentKind.ANY_COMPONENT)
    while child is not None:
        walk(child)
        child = component.get_next_component(ICalGLib.ComponentKind.ANY_COMPONENT)

walk(comp)
print(json.dumps({"errors": errors}))
"""


def libical_errors(text: str) -> list[str]:
    """Every X-LIC-ERROR libical adds after its parse and iTIP restriction check."""
    try:
        done = subprocess.run(
            [SYSTEM_PYTHON, "-c", _LIBICAL_SCRIPT],
            input=text,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except FileNotFoundError:
        pytest.fail(f"{SYSTEM_PYTHON} not found: install python3 python3-gi gir1.2-ical-3.0")
    if done.returncode != 0:
        pytest.fail(f"libical check crashed:\n{done.stderr}")
    result = json.loads(done.stdout)
    if "missing" in result:
        pytest.fail(
            f"libical GObject bindings unavailable for {SYSTEM_PYTHON} ({result['missing']}); "
            "install them: apt-get install python3-gi gir1.2-ical-3.0"
        )
    return result["errors"]


def assert_lines(data: bytes) -> None:
    """CRLF line endings only, each line at most 75 octets (RFC 5545 §3.1)."""
    assert data.endswith(b"\r\n"), "the .ics must end with CRLF"
    assert b"\r\n" in data
    lines = data.split(b"\r\n")[:-1]
    for number, line in enumerate(lines, start=1):
        assert b"\r" not in line and b"\n" not in line, f"bare CR/LF on line {number}: {line!r}"
        assert len(line) <= MAX_LINE_OCTETS, f"line {number} is {len(line)} octets: {line!r}"


def assert_valid_ics(data: bytes, *, itip: bool = True) -> None:
    """Fail unless `data` passes libical (with the iTIP restriction check when `itip`),
    icalendar (every TZID has its VTIMEZONE), the strict `ical` package and vobject."""
    assert_lines(data)
    text = data.decode("utf-8")

    if itip:
        # Feeds too: RFC 5546 §3.2.1 wants ORGANIZER on every PUBLISH VEVENT (and VTODO).
        errors = libical_errors(text)
        assert errors == [], "libical:\n" + "\n".join(errors)

    calendar = icalendar.Calendar.from_ical(data)
    assert calendar.get_missing_tzids() == set(), "a TZID has no VTIMEZONE"

    IcsCalendarStream.calendar_from_ics(text)

    parsed = vobject.readOne(text, validate=True)
    parsed.validate(raiseException=True)
