"""An invitee's calendar asks for the invitation again (REFRESH): it gets the current one, at the
address Coord knows, once a day at most. An invitee proposes another time (COUNTER): the agents see
the proposal and accept it (the meeting moves, every invitee gets the update) or decline it (a
DECLINECOUNTER goes back to that invitee). Everything over the real SMTP listener and SMTP sink.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import icalendar

from tests.calendar.test_reply_authentication import (
    audit_actions,
    deliver,
    imip_settings,
    inbox_rows,
    listener,
    mail,
)
from tests.conftest import run
from tests.meetings.test_mail_convocations import _calendar, _convened, _deliver
from tests.support.ics_validators import assert_valid_ics, libical_errors

__all__ = ["imip_settings", "listener"]  # fixtures

PARIS = ZoneInfo("Europe/Paris")
ORGANIZER = "coord-test@prefecture.example.gouv.fr"
# libical's iTIP table for DECLINECOUNTER predates RFC 5546, which asks for the ATTENDEE and the
# SEQUENCE echoed (§3.2.8): these two findings, and only these, are expected.
LIBICAL_DECLINECOUNTER = {
    "VEVENT: Failed iTIP restrictions for ATTENDEE property. Expected 0 instances of the property and got 1",
    "VEVENT: Failed iTIP restrictions for SEQUENCE property. Expected 0 instances of the property and got 1",
}


def _setup(api: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    meeting = _convened(api)
    invitations = api.get(f"/api/meetings/{meeting['id']}/invitations").json()["items"]
    member = sorted(invitations, key=lambda i: i["email"])[1]
    return meeting, member


def _proposal(meeting: dict[str, Any]) -> tuple[dt.datetime, dt.datetime]:
    """The next working day in the Hérault, 14:00 to 16:00 in Paris."""
    from coord.territory.working_days import next_working_day

    day = next_working_day(dt.datetime.fromisoformat(meeting["starts_at"]).astimezone(PARIS).date(), "34")
    start = dt.datetime.combine(day, dt.time(14, 0), tzinfo=PARIS)
    return start, start + dt.timedelta(hours=2)


def counter_ics(meeting: dict[str, Any], attendee: str, start: dt.datetime, end: dt.datetime) -> bytes:
    """A COUNTER as Outlook sends it (« Proposer un nouvel horaire »): Windows zone name, its own
    VTIMEZONE from 1601, upper-case MAILTO."""
    wall = "%Y%m%dT%H%M%S"
    lines = [
        "BEGIN:VCALENDAR",
        "METHOD:COUNTER",
        "PRODID:Microsoft Exchange Server 2010",
        "VERSION:2.0",
        "BEGIN:VTIMEZONE",
        "TZID:Romance Standard Time",
        "BEGIN:STANDARD",
        "DTSTART:16010101T030000",
        "TZOFFSETFROM:+0200",
        "TZOFFSETTO:+0100",
        "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10",
        "END:STANDARD",
        "BEGIN:DAYLIGHT",
        "DTSTART:16010101T020000",
        "TZOFFSETFROM:+0100",
        "TZOFFSETTO:+0200",
        "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3",
        "END:DAYLIGHT",
        "END:VTIMEZONE",
        "BEGIN:VEVENT",
        f"ATTENDEE;PARTSTAT=TENTATIVE;CN=Invité:MAILTO:{attendee.upper()}",
        "COMMENT;LANGUAGE=fr-FR:Le matin je suis au tribunal\\, l'après-midi me convient.",
        f"SUMMARY;LANGUAGE=fr-FR:Nouvel horaire proposé : {meeting['title']}",
        f"DTSTART;TZID=Romance Standard Time:{start.astimezone(PARIS).strftime(wall)}",
        f"DTEND;TZID=Romance Standard Time:{end.astimezone(PARIS).strftime(wall)}",
        f"UID:{meeting['uid']}",
        "DTSTAMP:20260921T100000Z",
        f"SEQUENCE:{meeting['sequence']}",
        "LOCATION;LANGUAGE=fr-FR:Salle du tribunal",
        f"ORGANIZER:MAILTO:{ORGANIZER}",
        "END:VEVENT",
        "END:VCALENDAR",
        "",
    ]
    return "\r\n".join(lines).encode()


def refresh_ics(meeting: dict[str, Any], attendee: str) -> bytes:
    lines = [
        "BEGIN:VCALENDAR",
        "PRODID:-//Mozilla.org/NONSGML Mozilla Calendar V1.1//EN",
        "VERSION:2.0",
        "METHOD:REFRESH",
        "BEGIN:VEVENT",
        f"UID:{meeting['uid']}",
        "DTSTAMP:20260921T100000Z",
        f"ORGANIZER:mailto:{ORGANIZER}",
        f"ATTENDEE:mailto:{attendee}",
        "END:VEVENT",
        "END:VCALENDAR",
        "",
    ]
    return "\r\n".join(lines).encode()


async def _outbox(kind: str) -> list[dict[str, Any]]:
    from coord.mail.tables import OutboxMessage

    return await OutboxMessage.select().where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)


def _send_counter(listener: Any, meeting: dict[str, Any], member: dict[str, Any], sender: str) -> tuple[int, str]:
    start, end = _proposal(meeting)
    ics = counter_ics(meeting, member["email"], start, end)
    return deliver(
        listener,
        mail(sender=sender, subject="Nouvel horaire proposé", text="Proposition", calendar=ics, method="COUNTER"),
        envelope_from=sender,
    )


# -- REFRESH ------------------------------------------------------------------------------------


def test_a_refresh_gets_the_current_invitation_at_the_stored_address_once_a_day(
    listener: Any, api_as: Any, smtp_sink: Any
) -> None:
    api = api_as("prefecture", "34")
    meeting, member = _setup(api)
    _deliver(smtp_sink)
    smtp_sink.clear()
    # The request comes from another address (an alias, or anyone): the invitation goes to the
    # address Coord has for the invitee, never to the sender.
    asking = mail(
        sender="alias.partenaire@example.org",
        subject="Actualiser",
        text="",
        calendar=refresh_ics(meeting, member["email"].upper()),
        method="REFRESH",
    )
    assert deliver(listener, asking, envelope_from="alias.partenaire@example.org")[0] == 250
    assert deliver(listener, asking, envelope_from="alias.partenaire@example.org")[0] == 250  # same day: once
    rows = run(_outbox("refresh"))
    assert [r["to_email"] for r in rows] == [member["email"]]
    assert ("refresh", "réception iMIP (smtp)") in run(audit_actions("invitation"))

    assert _deliver(smtp_sink).sent == 1
    (message,) = smtp_sink.messages
    assert [r for env in smtp_sink.envelopes for r in env.rcpt_tos] == [member["email"]]
    data, method = _calendar(message)
    assert method == "REQUEST"
    assert_valid_ics(data)
    event = icalendar.Calendar.from_ical(data).walk("VEVENT")[0]
    assert str(event["UID"]) == meeting["uid"]
    assert event["DTSTART"].dt == dt.datetime.fromisoformat(meeting["starts_at"])


def test_a_refresh_from_someone_not_invited_sends_nothing(listener: Any, api_as: Any) -> None:
    api = api_as("prefecture", "34")
    meeting, _ = _setup(api)
    asking = mail(
        sender="curieux@example.org",
        subject="Actualiser",
        text="",
        calendar=refresh_ics(meeting, "curieux@example.org"),
        method="REFRESH",
    )
    assert deliver(listener, asking, envelope_from="curieux@example.org")[0] == 250
    assert run(_outbox("refresh")) == []
    (item,) = run(inbox_rows(meeting["id"]))
    assert item["kind"] == "message"
    assert "n'est pas invitée" in item["note"]


# -- COUNTER ------------------------------------------------------------------------------------


def test_a_proposal_of_another_time_is_shown_to_the_agents(listener: Any, api_as: Any) -> None:
    api = api_as("prefecture", "34")
    meeting, member = _setup(api)
    code, _ = _send_counter(listener, meeting, member, member["email"])
    assert code == 250
    (item,) = api.get(f"/api/meetings/{meeting['id']}/inbox").json()["items"]
    start, end = _proposal(meeting)
    assert (item["kind"], item["status"], item["verified"]) == ("counter", "pending", True)
    assert item["invitation"] == member["id"]
    assert dt.datetime.fromisoformat(item["proposed_start"]) == start
    assert dt.datetime.fromisoformat(item["proposed_end"]) == end
    assert item["proposed_location"] == "Salle du tribunal"
    assert "l'après-midi me convient" in item["comment"]
    # Nothing moved yet.
    assert api.get(f"/api/meetings/{meeting['id']}").json()["meeting"]["starts_at"] == meeting["starts_at"]


def test_a_proposal_from_another_address_is_flagged_unverified(
    listener: Any, api_as: Any, web: Any, make_user: Any
) -> None:
    api = api_as("prefecture", "34")
    meeting, member = _setup(api)
    assert _send_counter(listener, meeting, member, "inconnu@example.org")[0] == 250
    (item,) = run(inbox_rows(meeting["id"]))
    assert (item["kind"], item["verified"]) == ("counter", False)
    web.login(make_user("prefecture", "34").email)
    page = web.get(f"/d/34/reunions/{meeting['id']}/courriers")
    assert "un autre horaire" in page.text
    assert "expéditeur non vérifié" in page.text
    assert "Accepter et déplacer la réunion" in page.text


def test_accepting_the_proposal_moves_the_meeting_and_every_invitee_gets_the_update(
    listener: Any, api_as: Any, web: Any, make_user: Any, smtp_sink: Any
) -> None:
    api = api_as("prefecture", "34")
    meeting, member = _setup(api)
    invitees = api.get(f"/api/meetings/{meeting['id']}/invitations").json()["items"]
    _deliver(smtp_sink)
    smtp_sink.clear()
    _send_counter(listener, meeting, member, member["email"])
    (item,) = run(inbox_rows(meeting["id"]))

    agent = make_user("prefecture", "34")
    web.login(agent.email)
    response = web.post(
        f"/d/34/reunions/{meeting['id']}/courriers/{item['id']}/accepter",
        {"version": str(meeting["version"]), "retour": "reunion"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/d/34/reunions/{meeting['id']}#courriers"
    start, end = _proposal(meeting)
    moved = api.get(f"/api/meetings/{meeting['id']}").json()["meeting"]
    assert dt.datetime.fromisoformat(moved["starts_at"]) == start
    assert dt.datetime.fromisoformat(moved["ends_at"]) == end
    assert moved["sequence"] > meeting["sequence"]
    assert run(inbox_rows(meeting["id"]))[0]["status"] == "accepted"
    assert ("accept", agent.email) in run(audit_actions("inbox_item"))

    # The usual update: one REQUEST per invitee with the new time.
    _deliver(smtp_sink)
    recipients = sorted(r for env in smtp_sink.envelopes for r in env.rcpt_tos)
    assert recipients == sorted(i["email"] for i in invitees)
    for message in smtp_sink.messages:
        data, method = _calendar(message)
        assert method == "REQUEST"
        assert_valid_ics(data)
        assert icalendar.Calendar.from_ical(data).walk("VEVENT")[0]["DTSTART"].dt == start


def test_accepting_a_proposal_on_a_meeting_changed_meanwhile_is_a_conflict(listener: Any, api_as: Any) -> None:
    api = api_as("prefecture", "34")
    meeting, member = _setup(api)
    _send_counter(listener, meeting, member, member["email"])
    (item,) = run(inbox_rows(meeting["id"]))
    changed = api.patch(f"/api/meetings/{meeting['id']}", json={"title": "Réunion TEH", "version": meeting["version"]})
    assert changed.status_code == 200, changed.text

    url = f"/api/meetings/{meeting['id']}/inbox/{item['id']}/accept"
    response = api.post(url, json={"version": meeting["version"]})
    assert response.status_code == 409
    assert run(inbox_rows(meeting["id"]))[0]["status"] == "pending"
    assert api.get(f"/api/meetings/{meeting['id']}").json()["meeting"]["starts_at"] == meeting["starts_at"]


def test_declining_the_proposal_sends_a_declinecounter_to_that_invitee(
    listener: Any, api_as: Any, smtp_sink: Any
) -> None:
    api = api_as("prefecture", "34")
    meeting, member = _setup(api)
    _deliver(smtp_sink)
    smtp_sink.clear()
    _send_counter(listener, meeting, member, "inconnu@example.org")  # whoever sent it
    (item,) = run(inbox_rows(meeting["id"]))

    response = api.post(
        f"/api/meetings/{meeting['id']}/inbox/{item['id']}/decline",
        json={"comment": "L'horaire est fixé par le préfet."},
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "declined"
    assert api.get(f"/api/meetings/{meeting['id']}").json()["meeting"]["starts_at"] == meeting["starts_at"]
    assert [r["to_email"] for r in run(_outbox("declinecounter"))] == [member["email"]]
    decisions = [(a, who) for a, who in run(audit_actions("inbox_item")) if a == "decline"]
    assert len(decisions) == 1 and decisions[0][1].startswith("prefecture")  # the agent, by name

    assert _deliver(smtp_sink).sent == 1
    (message,) = smtp_sink.messages
    assert message["To"].addresses[0].addr_spec == member["email"]
    assert "n'est pas retenue" in message.get_body(preferencelist=("plain",)).get_content()
    data, method = _calendar(message)
    assert method == "DECLINECOUNTER"
    event = icalendar.Calendar.from_ical(data).walk("VEVENT")[0]
    assert str(event["UID"]) == meeting["uid"]
    assert int(event["SEQUENCE"]) == meeting["sequence"]
    assert str(event["ATTENDEE"]).lower() == f"mailto:{member['email']}"
    assert "fixé par le préfet" in str(event["COMMENT"])
    assert set(libical_errors(data.decode())) <= LIBICAL_DECLINECOUNTER
    assert_valid_ics(data, itip=False)  # icalendar, ical and vobject


def test_a_proposal_for_a_cancelled_meeting_is_shown_as_a_message(listener: Any, api_as: Any) -> None:
    api = api_as("prefecture", "34")
    meeting, member = _setup(api)
    assert api.post(f"/api/meetings/{meeting['id']}/cancel", json={}).status_code == 200
    cancelled = api.get(f"/api/meetings/{meeting['id']}").json()["meeting"]
    assert _send_counter(listener, cancelled, member, member["email"])[0] == 250
    (item,) = run(inbox_rows(meeting["id"]))
    assert item["kind"] == "message"
    assert "annulée" in item["note"]
