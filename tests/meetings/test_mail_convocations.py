"""Partners receive one convocation each, over real SMTP, with an invitation their calendar accepts,
updates when the meeting moves, a cancellation when it is cancelled — and nothing twice."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar

from tests.conftest import run
from tests.meetings.test_meetings_api import local_in, new_meeting, seed_committee
from tests.support.ics_validators import assert_valid_ics


def _deliver(sink: Any) -> Any:
    from coord.mail.dispatcher import deliver_all_now
    from coord.mail.smtp import SmtpSettings

    return run(deliver_all_now(smtp_settings=SmtpSettings(host="127.0.0.1", port=sink.port)))


def _convened(api: Any, days: int = 20, tz: str = "Europe/Paris") -> dict[str, Any]:
    seed = seed_committee(api, members=3)
    meeting = new_meeting(api, seed["committee"]["id"], local_in(days, tz=tz)).json()
    response = api.post(f"/api/meetings/{meeting['id']}/convene", json={"version": meeting["version"]})
    assert response.status_code in (200, 201), response.text
    return response.json()


def _calendar(message: Any) -> tuple[bytes, str]:
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            return part.get_payload(decode=True), part.get_param("method")
    raise AssertionError("no text/calendar part")


def test_each_invitee_gets_one_convocation_with_a_valid_invitation(api_as, smtp_sink):
    api = api_as("prefecture", "34")
    meeting = _convened(api)
    invitees = api.get(f"/api/meetings/{meeting['id']}/invitations").json()["items"]
    report = _deliver(smtp_sink)
    assert report.sent == len(invitees) >= 3
    recipients = sorted(rcpt for env in smtp_sink.envelopes for rcpt in env.rcpt_tos)
    assert recipients == sorted(i["email"] for i in invitees)
    for message in smtp_sink.messages:
        assert message.get_content_type() == "multipart/mixed"
        assert message["Subject"].startswith("Convocation : ")
        assert message["From"].addresses[0].addr_spec == "coord-test@prefecture.example.gouv.fr"
        body = message.get_body(preferencelist=("plain",)).get_content()
        assert "ORDRE DU JOUR" in body and "/r/invitation/" in body
        assert "Ouverture" in body
        data, method = _calendar(message)
        assert method == "REQUEST"
        assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
        assert_valid_ics(data)
        event = Calendar.from_ical(data).walk("VEVENT")[0]
        assert str(event["UID"]) == meeting["uid"]
        to = message["To"].addresses[0].addr_spec
        attendees = [
            str(a).lower()
            for a in (event.get("ATTENDEE") if isinstance(event.get("ATTENDEE"), list) else [event.get("ATTENDEE")])
        ]
        assert f"mailto:{to}" in attendees
    assert _deliver(smtp_sink).sent == 0  # nothing sent twice


def test_moving_the_meeting_sends_an_update_with_a_higher_sequence(api_as, smtp_sink):
    api = api_as("prefecture", "34")
    meeting = _convened(api)
    _deliver(smtp_sink)
    smtp_sink.clear()
    start = local_in(22)
    response = api.patch(
        f"/api/meetings/{meeting['id']}",
        json={
            "version": meeting["version"],
            "starts_at": start.isoformat(),
            "ends_at": (start + dt.timedelta(hours=2)).isoformat(),
        },
    )
    assert response.status_code == 200, response.text
    _deliver(smtp_sink)
    assert smtp_sink.messages
    for message in smtp_sink.messages:
        assert message["Subject"].startswith("Mise à jour : ")
        data, _ = _calendar(message)
        assert_valid_ics(data)
        event = Calendar.from_ical(data).walk("VEVENT")[0]
        assert int(event["SEQUENCE"]) > meeting["sequence"]
        expected = start.replace(tzinfo=ZoneInfo("Europe/Paris")) if start.tzinfo is None else start
        assert event.decoded("DTSTART").astimezone(dt.UTC) == expected.astimezone(dt.UTC)


def test_cancelling_sends_a_cancel_that_removes_the_event(api_as, smtp_sink):
    api = api_as("prefecture", "34")
    meeting = _convened(api)
    _deliver(smtp_sink)
    smtp_sink.clear()
    response = api.post(f"/api/meetings/{meeting['id']}/cancel", json={"version": meeting["version"]})
    assert response.status_code in (200, 201), response.text
    _deliver(smtp_sink)
    assert smtp_sink.messages
    for message in smtp_sink.messages:
        data, method = _calendar(message)
        assert method == "CANCEL"
        assert_valid_ics(data)
        event = Calendar.from_ical(data).walk("VEVENT")[0]
        assert str(event["STATUS"]) == "CANCELLED"
        assert "VALARM" not in data.decode()


def test_an_smtp_outage_loses_nothing_and_duplicates_nothing(api_as, smtp_sink, db):
    from coord.mail.tables import OutboxMessage

    api = api_as("prefecture", "34")
    meeting = _convened(api, tz="Europe/Paris")
    expected = len(api.get(f"/api/meetings/{meeting['id']}/invitations").json()["items"])
    port = smtp_sink.port
    smtp_sink.stop()
    report = _deliver(smtp_sink)
    assert report.sent == 0 and report.retried == expected
    rows = run(OutboxMessage.select(OutboxMessage.status, OutboxMessage.attempts, OutboxMessage.next_attempt_at))
    assert all(r["status"] == "pending" and r["attempts"] == 1 for r in rows)
    # Once the back-off has passed and the server is back, every invitee gets exactly one message.
    run(OutboxMessage.update({OutboxMessage.next_attempt_at: dt.datetime.now(dt.UTC)}).where(OutboxMessage.id > 0))
    smtp_sink.start()
    assert smtp_sink.port == port
    assert _deliver(smtp_sink).sent == expected
    assert _deliver(smtp_sink).sent == 0
    recipients = [rcpt for env in smtp_sink.envelopes for rcpt in env.rcpt_tos]
    assert len(recipients) == len(set(recipients)) == expected


def test_a_crashed_senders_rows_are_sent_once_after_its_lease(api_as, smtp_sink, db):
    from coord.mail import outbox

    api = api_as("prefecture", "34")
    meeting = _convened(api)
    expected = len(api.get(f"/api/meetings/{meeting['id']}/invitations").json()["items"])
    now = dt.datetime.now(dt.UTC)
    claimed = run(outbox.claim_due("crashed-worker", now))  # claimed, then the worker died
    assert len(claimed) == expected
    assert _deliver(smtp_sink).sent == 0  # still leased to the dead worker
    from coord.mail.dispatcher import deliver_due
    from coord.mail.smtp import SmtpSettings

    later = now + outbox.LEASE + dt.timedelta(seconds=1)
    report = run(deliver_due(later, worker_id="new-worker", smtp_settings=SmtpSettings(port=smtp_sink.port)))
    assert report.sent == expected
    assert len(smtp_sink.messages) == expected


def test_a_meeting_overseas_is_announced_in_local_time(api_as, smtp_sink):
    api = api_as("prefecture", "973")
    meeting = _convened(api, tz="America/Cayenne")
    _deliver(smtp_sink)
    message = smtp_sink.messages[0]
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert "09 h 30" in body and "America/Cayenne" in body
    data, _ = _calendar(message)
    assert_valid_ics(data)
    event = Calendar.from_ical(data).walk("VEVENT")[0]
    assert event.decoded("DTSTART").utcoffset() == dt.timedelta(hours=-3)
    assert meeting["department"] == "973"
