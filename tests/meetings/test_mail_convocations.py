"""Partners receive one convocation each, over real SMTP, with an invitation their calendar accepts,
updates when the meeting moves, a cancellation when it is cancelled — and nothing twice."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from tests.conftest import run
from tests.meetings import test_mail_golden
from tests.meetings.test_meetings_api import local_in, local_working_in, new_meeting, seed_committee
from tests.support.ics_validators import assert_valid_ics

mail_settings = test_mail_golden.mail_settings  # the fixture, shared


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
    start = local_working_in(22)  # a plain move: a holiday would ask for confirmation
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
    assert "09 h 30" in body and "heure de la Guyane, UTC−3" in body
    data, _ = _calendar(message)
    assert_valid_ics(data)
    event = Calendar.from_ical(data).walk("VEVENT")[0]
    assert event.decoded("DTSTART").utcoffset() == dt.timedelta(hours=-3)
    assert meeting["department"] == "973"


# -- with meetings inserted directly (no API) ---------------------------------------------------


def _attendees(event: Any) -> list[Any]:
    value = event.get("ATTENDEE")
    return value if isinstance(value, list) else [value]


def test_every_invitation_lists_all_invitees_with_their_role_and_the_recipient(mail_settings, smtp_sink):
    from tests.meetings.test_mail_golden import PEOPLE, convene, seed_meeting

    meeting = seed_meeting()
    assert run(convene(meeting["id"])) == len(PEOPLE)
    assert run(convene(meeting["id"])) == 0  # a retried request queues nothing more
    _deliver(smtp_sink)
    assert len(smtp_sink.messages) == len(PEOPLE)
    expected_roles = {
        "chair": "CHAIR",
        "required": "REQ-PARTICIPANT",
        "optional": "OPT-PARTICIPANT",
        "info": "NON-PARTICIPANT",
    }
    for message in smtp_sink.messages:
        data, method = _calendar(message)
        assert method == "REQUEST"
        assert_valid_ics(data)
        event = Calendar.from_ical(data).walk("VEVENT")[0]
        assert str(event["ORGANIZER"]).lower() == f"mailto:{message['From'].addresses[0].addr_spec}".lower()
        attendees = {str(a).lower().removeprefix("mailto:"): a.params for a in _attendees(event)}
        assert set(attendees) == {p[2] for p in PEOPLE}
        assert message["To"].addresses[0].addr_spec in attendees
        for _first, _last, email, role in PEOPLE:
            params = attendees[email]
            assert params["ROLE"] == expected_roles[role]
            assert params["PARTSTAT"] == "NEEDS-ACTION" and params["RSVP"] == "TRUE"
        assert event["DTSTART"].params["TZID"] == "Europe/Paris"
        assert str(event["URL"]) == f"http://testserver.local/d/34/reunions/{meeting['id']}"
        assert "Suivi de la convention" in str(event["DESCRIPTION"])
        # The mail body carries what Outlook shows: place, video link, agenda, answer links.
        body = message.get_body(preferencelist=("plain",)).get_content()
        for needle in (
            "salle Jean Moulin",
            "webconf.numerique.gouv.fr",
            "4. Suivi de la convention",
            "?reponse=accepted",
            "?reponse=delegated",
            "données concernant des victimes",
        ):
            assert needle in body, needle
        assert message.get_body(preferencelist=("html",)) is not None


def test_a_rolled_back_change_sends_nothing_and_leaves_no_link(mail_settings):
    from coord.core.db import transaction
    from coord.links.tables import PartnerLink
    from coord.meetings import notify
    from tests.meetings.test_mail_golden import outbox_rows, seed_meeting

    meeting = seed_meeting()

    async def failing() -> None:
        async with transaction():
            await notify.queue_convocation(meeting["id"])
            raise RuntimeError("rollback")

    with pytest.raises(RuntimeError):
        run(failing())
    assert outbox_rows() == []
    assert run(PartnerLink.count()) == 0


def test_an_update_has_a_higher_sequence_and_resets_answers_to_the_old_version(mail_settings, smtp_sink):
    from coord.core.db import transaction
    from coord.meetings import notify
    from coord.meetings.answers import record_answer
    from coord.meetings.tables import Meeting
    from tests.meetings.test_mail_golden import PEOPLE, convene, seed_meeting

    meeting = seed_meeting(sequence=1)
    run(convene(meeting["id"]))
    first = meeting["invitations"][0]
    assert run(record_answer(first["id"], "ACCEPTED", source="imip", sequence=1)).status == "applied"
    _deliver(smtp_sink)
    smtp_sink.clear()
    # The meeting moves: a new SEQUENCE from which answers hold.
    run(
        Meeting.update({Meeting.sequence: 2, Meeting.answers_sequence: 2, Meeting.version: 3}).where(
            Meeting.id == meeting["id"]
        )
    )

    async def update() -> int:
        async with transaction():
            change = "Horaire modifié : mardi 12 mars 2030 → mercredi 13 mars 2030"
            return await notify.queue_convocation(meeting["id"], changes=[change], answers_reset=True)

    assert run(update()) == len(PEOPLE)
    _deliver(smtp_sink)
    assert len(smtp_sink.messages) == len(PEOPLE)
    for message in smtp_sink.messages:
        assert message["Subject"].startswith("Mise à jour : ")
        body = message.get_body(preferencelist=("plain",)).get_content()
        assert "Horaire modifié : mardi 12 mars 2030 → mercredi 13 mars 2030" in body
        assert "merci de répondre à nouveau" in body
        data, _ = _calendar(message)
        event = Calendar.from_ical(data).walk("VEVENT")[0]
        assert int(event["SEQUENCE"]) == 2
        params = {str(a).lower(): a.params for a in _attendees(event)}
        assert params[f"mailto:{first['email']}"]["PARTSTAT"] == "NEEDS-ACTION"  # asked again


def test_reminders_go_once_a_day_to_those_who_have_not_answered(mail_settings, smtp_sink):
    from coord.core.db import transaction
    from coord.meetings import notify
    from coord.meetings.answers import record_answer
    from tests.meetings.test_mail_golden import PEOPLE, convene, seed_meeting

    meeting = seed_meeting()
    run(convene(meeting["id"]))
    accepted, declined = meeting["invitations"][0], meeting["invitations"][1]
    run(record_answer(accepted["id"], "accepted", source="link"))
    run(record_answer(declined["id"], "declined", source="link"))

    async def remind() -> int:
        async with transaction():
            return await notify.queue_reminder(meeting["id"])

    assert run(remind()) == len(PEOPLE) - 2
    assert run(remind()) == 0
    _deliver(smtp_sink)
    reminders = [m for m in smtp_sink.messages if m["Subject"].startswith("Rappel : ")]
    assert sorted(m["To"].addresses[0].addr_spec for m in reminders) == sorted(p[2] for p in PEOPLE[2:])
    for message in reminders:
        data, method = _calendar(message)
        assert method == "REQUEST"
        assert_valid_ics(data)
        assert "Nous vous rappelons" in message.get_body(preferencelist=("plain",)).get_content()


def test_a_removed_invitee_gets_a_cancel_and_their_link_dies(mail_settings, smtp_sink, client):
    import datetime as _dt
    import re

    from coord.core.db import transaction
    from coord.meetings import notify
    from coord.meetings.tables import Invitation
    from tests.meetings.test_mail_golden import convene, outbox_rows, seed_meeting

    meeting = seed_meeting(sequence=3)
    run(convene(meeting["id"]))
    removed = meeting["invitations"][2]
    link = re.search(
        r"http://testserver\.local(/r/invitation/[^?\s]+)", outbox_rows(to_email=removed["email"])[0]["body_text"]
    ).group(1)
    assert client.get(link).status_code == 200

    async def remove() -> int:
        async with transaction():
            await Invitation.update({Invitation.removed_at: _dt.datetime.now(_dt.UTC)}).where(
                Invitation.id == removed["id"]
            )
            return await notify.queue_removal(removed["id"])

    assert run(remove()) == 1
    assert client.get(link).status_code == 403
    _deliver(smtp_sink)
    cancel = [m for m in smtp_sink.messages if m["Subject"].startswith("Vous n'êtes plus convié(e)")]
    assert [m["To"].addresses[0].addr_spec for m in cancel] == [removed["email"]]
    data, method = _calendar(cancel[0])
    assert method == "CANCEL"
    assert_valid_ics(data)
    event = Calendar.from_ical(data).walk("VEVENT")[0]
    assert int(event["SEQUENCE"]) == 4  # newer than the REQUEST they hold
    assert [str(a).lower() for a in _attendees(event)] == [f"mailto:{removed['email']}"]
    # Later convocations no longer list them.
    smtp_sink.clear()
    run(convene(meeting["id"]))  # same sequence/version: nothing new
    assert _deliver(smtp_sink).sent == 0


def test_a_cancellation_lists_every_invitee_and_carries_no_alarm(mail_settings, smtp_sink):
    from coord.core.db import transaction
    from coord.meetings import notify
    from coord.meetings.tables import Meeting
    from tests.meetings.test_mail_golden import PEOPLE, convene, seed_meeting

    meeting = seed_meeting(code="974", sequence=1)
    run(convene(meeting["id"]))
    run(Meeting.update({Meeting.status: "cancelled", Meeting.sequence: 2}).where(Meeting.id == meeting["id"]))

    async def cancel() -> int:
        async with transaction():
            return await notify.queue_cancellation(meeting["id"])

    assert run(cancel()) == len(PEOPLE)
    assert run(cancel()) == 0
    _deliver(smtp_sink)
    cancels = [m for m in smtp_sink.messages if m["Subject"].startswith("Annulation : ")]
    assert len(cancels) == len(PEOPLE)
    for message in cancels:
        data, method = _calendar(message)
        assert method == "CANCEL"
        assert_valid_ics(data)
        event = Calendar.from_ical(data).walk("VEVENT")[0]
        assert str(event["STATUS"]) == "CANCELLED" and int(event["SEQUENCE"]) == 2
        assert len(_attendees(event)) == len(PEOPLE)
        assert b"VALARM" not in data
        assert "heure de La Réunion, UTC+4" in message.get_body(preferencelist=("plain",)).get_content()
