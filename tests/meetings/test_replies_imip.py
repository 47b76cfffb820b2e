"""Partners who click Accept in Outlook or Thunderbird: the REPLY they send back changes the answer,
through the API upload and through the SMTP/LMTP listener (sent from the invitee's own address);
bad replies get a reason, never a 500; a mail about no meeting is refused by the listener."""

from __future__ import annotations

import re
import smtplib
from pathlib import Path
from typing import Any

from tests.conftest import run
from tests.meetings.test_mail_convocations import _convened

FIXTURES = Path(__file__).resolve().parents[1] / "calendar" / "fixtures"


def _reply(name: str, uid: str, email: str, sequence: int = 1) -> bytes:
    """A fixture reply for this meeting and invitee, answering the SEQUENCE they were sent."""
    text = (FIXTURES / name).read_text(encoding="utf-8")
    text = text.replace("mtg-2026-0042@coord.example.gouv.fr", uid)
    text = re.sub(r"SEQUENCE:\d+", f"SEQUENCE:{sequence}", text)
    for original in ("Marie.Durand@interieur.gouv.fr", "paul.martin@gendarmerie.interieur.gouv.fr"):
        text = text.replace(original, email)
    return text.encode()


def _setup(api: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    meeting = _convened(api)
    return meeting, api.get(f"/api/meetings/{meeting['id']}/invitations").json()["items"]


def _answer(api: Any, meeting_id: int, invitation_id: int) -> str:
    items = api.get(f"/api/meetings/{meeting_id}/invitations").json()["items"]
    return next(i["answer"] for i in items if i["id"] == invitation_id)


def test_an_outlook_reply_marks_the_invitation_accepted(api_as):
    api = api_as("prefecture", "34")
    meeting, invitations = _setup(api)
    target = invitations[0]
    body = _reply("outlook_fr_accepted.ics", meeting["uid"], target["email"].upper(), meeting["sequence"])
    response = api.post("/api/imip/replies", content=body, headers={"Content-Type": "text/calendar"})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "applied"
    assert _answer(api, meeting["id"], target["id"]) == "accepted"


def test_a_thunderbird_reply_inside_a_whole_email_marks_tentative(api_as):
    api = api_as("prefecture", "34")
    meeting, invitations = _setup(api)
    target = invitations[1]
    ics = _reply("thunderbird_tentative.ics", meeting["uid"], target["email"], meeting["sequence"])
    mail = (
        b"From: " + target["email"].encode() + b"\r\nTo: coord@prefecture.example.gouv.fr\r\n"
        b"Subject: =?utf-8?q?Provisoire?=\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/calendar; method=REPLY; charset=UTF-8\r\n\r\n" + ics
    )
    response = api.post("/api/imip/replies", content=mail, headers={"Content-Type": "message/rfc822"})
    assert response.status_code == 200, response.text
    assert _answer(api, meeting["id"], target["id"]) == "tentative"


def test_bad_replies_are_rejected_with_a_reason(api_as):
    api = api_as("prefecture", "34")
    meeting, invitations = _setup(api)
    cases = {
        b"garbage": "calendrier",
        (FIXTURES / "bad_request_not_reply.ics").read_bytes(): "",
        _reply("outlook_fr_accepted.ics", "inconnu@nowhere", invitations[0]["email"]): "Aucune réunion",
        _reply("outlook_fr_accepted.ics", meeting["uid"], "stranger@example.fr"): "n'est pas invité",
    }
    for body, reason in cases.items():
        response = api.post("/api/imip/replies", content=body, headers={"Content-Type": "text/calendar"})
        assert response.status_code == 422, response.text
        assert response.json()["status"] == "rejected"
        assert reason in response.json()["reason"]
    assert all(
        i["answer"] == "needs_action" for i in api.get(f"/api/meetings/{meeting['id']}/invitations").json()["items"]
    )


def test_another_departments_agent_cannot_answer_for_this_one(api_as):
    api = api_as("prefecture", "34")
    meeting, invitations = _setup(api)
    body = _reply("outlook_fr_accepted.ics", meeting["uid"], invitations[0]["email"])
    response = api_as("prefecture", "93").post(
        "/api/imip/replies", content=body, headers={"Content-Type": "text/calendar"}
    )
    assert response.status_code == 422
    assert _answer(api, meeting["id"], invitations[0]["id"]) == "needs_action"


def test_the_smtp_listener_takes_replies_and_refuses_a_mail_about_no_meeting(api_as):
    from coord.calendar.lmtp import ReplyListener

    api = api_as("prefecture", "34")
    meeting, invitations = _setup(api)
    target = invitations[0]
    listener = ReplyListener("127.0.0.1", 0)
    listener.start()
    try:
        ics = _reply("outlook_fr_accepted.ics", meeting["uid"], target["email"], meeting["sequence"])
        mail = (
            b"From: " + target["email"].encode() + b"\r\nTo: coord@prefecture.example.gouv.fr\r\n"
            b"Subject: Accepte\r\nMIME-Version: 1.0\r\nContent-Type: text/calendar; method=REPLY\r\n\r\n" + ics
        )
        mail = mail.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")  # on the wire, lines end in CRLF
        with smtplib.SMTP("127.0.0.1", listener.port, timeout=10) as client:
            client.sendmail(target["email"], ["coord@prefecture.example.gouv.fr"], mail)
            try:
                client.sendmail(target["email"], ["coord@prefecture.example.gouv.fr"], b"Subject: x\r\n\r\nrien")
                raise AssertionError("garbage accepted")
            except smtplib.SMTPDataError as exc:
                assert exc.smtp_code == 550
                assert b"5.1.1" in exc.smtp_error
    finally:
        listener.stop()
    assert _answer(api, meeting["id"], target["id"]) == "accepted"
    _ = run
