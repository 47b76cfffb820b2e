"""The validators themselves must catch what real clients reject."""

from __future__ import annotations

import pytest

from coord.ics import build_cancel, build_feed, build_request
from tests.support.ics_validators import assert_valid_ics, libical_errors


def _remove_line(data: bytes, prefix: bytes) -> bytes:
    return b"\r\n".join(line for line in data.split(b"\r\n") if not line.startswith(prefix))


def test_request_without_attendee_fails_libical(make_event, attendees, now) -> None:
    data = build_request(make_event(), attendees[:1], now)
    broken = _remove_line(data, b"ATTENDEE")
    assert any("ATTENDEE" in e for e in libical_errors(broken.decode()))
    with pytest.raises(AssertionError):
        assert_valid_ics(broken)


def test_cancel_without_sequence_fails_libical(make_event, attendees, now) -> None:
    broken = _remove_line(build_cancel(make_event(sequence=1), attendees, now), b"SEQUENCE")
    assert any("SEQUENCE" in e for e in libical_errors(broken.decode()))


def test_missing_vtimezone_fails(make_event, attendees, now) -> None:
    data = build_request(make_event(), attendees, now)
    start = data.index(b"BEGIN:VTIMEZONE")
    end = data.index(b"END:VTIMEZONE\r\n") + len(b"END:VTIMEZONE\r\n")
    with pytest.raises(AssertionError, match="VTIMEZONE"):
        assert_valid_ics(data[:start] + data[end:])


def test_missing_dtstamp_fails(make_event, attendees, now) -> None:
    broken = _remove_line(build_request(make_event(), attendees, now), b"DTSTAMP")
    with pytest.raises(Exception):  # noqa: B017 - libical or vobject, whichever sees it first
        assert_valid_ics(broken)


def test_bare_lf_and_long_lines_fail(make_event, attendees, now) -> None:
    data = build_request(make_event(), attendees, now)
    with pytest.raises(AssertionError):
        assert_valid_ics(data.replace(b"\r\n", b"\n"))
    with pytest.raises(AssertionError, match="octets"):
        assert_valid_ics(data.replace(b"\r\n ", b""))


def test_feed_still_fails_on_other_itip_errors(make_event, now) -> None:
    data = build_feed("Flux", [make_event()], now)
    broken = _remove_line(data, b"DTSTART;TZID")
    with pytest.raises(AssertionError, match="libical"):
        assert_valid_ics(broken)
