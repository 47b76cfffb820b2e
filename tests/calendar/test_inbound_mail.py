"""Partners who simply answer the convocation by mail are never bounced: their answer, an
out-of-office or a question reaches the agents as a message on the meeting it concerns (found by the
convocation it answers, or by the calendar it carries). A mail about no meeting goes to the forward
mailbox, and is refused only when there is none. Everything over the real SMTP listener.
"""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from typing import Any

from tests.calendar.test_reply_authentication import (
    audit_actions,
    deliver,
    imip_settings,
    inbox_rows,
    listener,
    lmtp_listener,
)
from tests.conftest import run
from tests.meetings.test_mail_convocations import _convened, _deliver

__all__ = ["imip_settings", "listener", "lmtp_listener"]  # fixtures

RCPT = "coord-test@prefecture.example.gouv.fr"
FORWARD = "bureau-prevention@prefecture.example.gouv.fr"


async def _convocation(meeting_id: int, email: str) -> dict[str, Any]:
    """The convocation Coord mailed to `email` (its Message-ID is what an answer refers to)."""
    from coord.mail.tables import OutboxMessage

    row = (
        await OutboxMessage.select()
        .where((OutboxMessage.entity_id == meeting_id) & (OutboxMessage.to_email == email))
        .first()
    )
    assert row is not None
    return row


async def _outbox(kind: str) -> list[dict[str, Any]]:
    from coord.mail.tables import OutboxMessage

    return await OutboxMessage.select().where(OutboxMessage.kind == kind)


def _answer(
    *,
    sender: str,
    subject: str,
    text: str,
    in_reply_to: str = "",
    message_id: str = "<reponse-1@partenaire.example.gouv.fr>",
    extra: tuple[tuple[str, str], ...] = (),
    attachment: bytes | None = None,
) -> bytes:
    message = EmailMessage(policy=SMTP)
    message["From"] = sender
    message["To"] = RCPT
    message["Subject"] = subject
    message["Date"] = format_datetime(dt.datetime(2026, 9, 21, 8, 30, tzinfo=dt.UTC))
    message["Message-ID"] = message_id
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = f"<autre@ailleurs.example> {in_reply_to}"
    for name, value in extra:
        message[name] = value
    message.set_content(text)
    if attachment is not None:
        message.add_attachment(attachment, maintype="application", subtype="pdf", filename="note.pdf")
    return message.as_bytes()


def _member(api: Any, meeting: dict[str, Any], index: int = 1) -> dict[str, Any]:
    invitations = api.get(f"/api/meetings/{meeting['id']}/invitations").json()["items"]
    return sorted(invitations, key=lambda i: i["email"])[index]


# -- a plain answer to the convocation ------------------------------------------------------------


def test_a_plain_answer_to_the_convocation_is_accepted_and_shown_on_the_meeting(
    listener: Any, api_as: Any, web: Any, make_user: Any
) -> None:
    api = api_as("prefecture", "34")
    meeting = _convened(api)
    member = _member(api, meeting)
    convocation = run(_convocation(meeting["id"], member["email"]))
    answer = _answer(
        sender=f"{member['name']} <{member['email']}>",
        subject="RE: Convocation : Réunion annuelle TEH",
        text="Bonjour,\n\nJe serai représenté par mon adjointe.\n\nCordialement",
        in_reply_to=convocation["message_id"],
        attachment=b"%PDF-1.4 ...",
    )
    code, _ = deliver(listener, answer, envelope_from=member["email"])
    assert code == 250

    (item,) = api.get(f"/api/meetings/{meeting['id']}/inbox").json()["items"]
    assert (item["kind"], item["status"], item["automatic"]) == ("message", "new", False)
    assert item["sender"] == member["email"]
    assert item["sender_name"] == member["name"]
    assert item["subject"] == "RE: Convocation : Réunion annuelle TEH"
    assert "représenté par mon adjointe" in item["body"]
    assert item["invitation"] == member["id"]
    assert item["sent_at"].startswith("2026-09-21T08:30")
    assert "PDF" not in item["body"]  # attachments are never kept
    assert [a for a, _ in run(audit_actions("inbox_item"))] == ["receive"]

    # The agents see it, with the reminder that the tool never stores data about victims.
    agent = make_user("prefecture", "34")
    web.login(agent.email)
    page = web.get(f"/d/34/reunions/{meeting['id']}/courriers")
    assert page.status_code == 200
    assert "représenté par mon adjointe" in page.text
    assert "ne conserve jamais de données concernant des victimes" in page.text

    # Once dealt with, it is filed away.
    response = web.post(f"/d/34/reunions/{meeting['id']}/courriers/{item['id']}/classer", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/d/34/reunions/{meeting['id']}/courriers"
    assert run(inbox_rows(meeting["id"]))[0]["status"] == "archived"
    assert ("archive", agent.email) in run(audit_actions("inbox_item"))


def test_a_mail_delivered_twice_is_listed_once(listener: Any, api_as: Any) -> None:
    api = api_as("prefecture", "34")
    meeting = _convened(api)
    member = _member(api, meeting)
    convocation = run(_convocation(meeting["id"], member["email"]))
    answer = _answer(
        sender=member["email"], subject="RE: Convocation", text="Présent.", in_reply_to=convocation["message_id"]
    )
    assert deliver(listener, answer, envelope_from=member["email"])[0] == 250
    assert deliver(listener, answer, envelope_from=member["email"])[0] == 250
    assert len(run(inbox_rows(meeting["id"]))) == 1


def test_an_out_of_office_is_accepted_and_shown_as_automatic(lmtp_listener: Any, api_as: Any) -> None:
    api = api_as("prefecture", "34")
    meeting = _convened(api)
    member = _member(api, meeting, 2)
    convocation = run(_convocation(meeting["id"], member["email"]))
    out_of_office = _answer(
        sender=member["email"],
        subject="Réponse automatique : Convocation : Réunion annuelle TEH",
        text="Je suis absent jusqu'au 30 septembre.",
        in_reply_to=convocation["message_id"],
        extra=(("Auto-Submitted", "auto-replied"),),
    )
    code, _ = deliver(lmtp_listener, out_of_office, envelope_from="", lmtp=True)  # MAIL FROM:<>
    assert code == 250
    (item,) = api.get(f"/api/meetings/{meeting['id']}/inbox").json()["items"]
    assert (item["kind"], item["automatic"]) == ("message", True)
    assert "absent jusqu'au 30 septembre" in item["body"]


def test_an_out_of_office_about_no_meeting_is_accepted_and_dropped(listener: Any, imip_settings: Any) -> None:
    imip_settings.use(imip_forward_to=FORWARD)
    out_of_office = _answer(
        sender="absent@example.gouv.fr",
        subject="Absence du bureau",
        text="Je suis absent.",
        extra=(("Auto-Submitted", "auto-replied"),),
    )
    assert deliver(listener, out_of_office, envelope_from="")[0] == 250
    assert run(_outbox("inbound_forward")) == []  # no noise in the forward mailbox, no loop


def test_a_mail_carrying_the_meetings_calendar_is_shown_on_it(listener: Any, api_as: Any) -> None:
    """A colleague forwards the invitation with a question: no In-Reply-To, but its .ics has the UID."""
    api = api_as("prefecture", "34")
    meeting = _convened(api)
    convocation = run(_convocation(meeting["id"], _member(api, meeting)["email"]))
    message = EmailMessage(policy=SMTP)
    message["From"] = "collegue@example.gouv.fr"
    message["To"] = RCPT
    message["Subject"] = "TR: Convocation — puis-je venir à la place de ma collègue ?"
    message.set_content("Bonjour, puis-je venir à sa place ?")
    message.add_attachment(
        convocation["calendar"].encode(), maintype="application", subtype="ics", filename="invite.ics"
    )
    assert deliver(listener, message.as_bytes(), envelope_from="collegue@example.gouv.fr")[0] == 250
    (item,) = run(inbox_rows(meeting["id"]))
    assert (item["kind"], item["sender"], item["invitation"]) == ("message", "collegue@example.gouv.fr", None)
    assert "à sa place" in item["body"]


# -- mails about no meeting -----------------------------------------------------------------------


def test_a_mail_about_no_meeting_is_forwarded_to_the_configured_mailbox(
    listener: Any, imip_settings: Any, db: Any, smtp_sink: Any
) -> None:
    imip_settings.use(imip_forward_to=FORWARD)
    question = _answer(
        sender="Jean Partenaire <jean@association.example.org>",
        subject="Question sur la convention",
        text="Bonjour, où en est la signature de la convention ?",
        attachment=b"%PDF-1.4 ...",
    )
    code, _ = deliver(listener, question, envelope_from="jean@association.example.org")
    assert code == 250
    (row,) = run(_outbox("inbound_forward"))
    assert row["to_email"] == FORWARD
    assert "Question sur la convention" in row["subject"]

    report = _deliver(smtp_sink)
    assert report.sent == 1
    (forwarded,) = smtp_sink.messages
    assert forwarded["To"].addresses[0].addr_spec == FORWARD
    body = forwarded.get_body(preferencelist=("plain",)).get_content()
    assert "jean@association.example.org" in body
    assert "où en est la signature de la convention" in body
    assert not [p for p in forwarded.walk() if p.get_content_type() == "application/pdf"]


def test_without_a_forward_mailbox_a_mail_about_no_meeting_is_refused(listener: Any) -> None:
    question = _answer(sender="jean@association.example.org", subject="Question", text="Bonjour ?")
    code, answer = deliver(listener, question, envelope_from="jean@association.example.org")
    assert code == 550
    assert answer.startswith("5.1.1")
    assert "Ce message ne concerne aucune reunion de Coord" in answer
    assert run(_outbox("inbound_forward")) == []


# -- personal data --------------------------------------------------------------------------------


def test_erasing_the_sender_rewrites_the_messages_they_sent(listener: Any, api_as: Any) -> None:
    api = api_as("prefecture", "34")
    meeting = _convened(api)
    member = _member(api, meeting)
    convocation = run(_convocation(meeting["id"], member["email"]))
    text = f"Bonjour, {member['name']} sera absent. Joignable au 04 67 00 00 00 ou {member['email']}."
    answer = _answer(
        sender=member["email"], subject="RE: Convocation", text=text, in_reply_to=convocation["message_id"]
    )
    assert deliver(listener, answer, envelope_from=member["email"])[0] == 250

    response = api.post(f"/api/contacts/{member['contact']}/erase")
    assert response.status_code == 200, response.text
    (item,) = run(inbox_rows(meeting["id"]))
    assert member["email"] not in item["sender"] + item["body"]
    assert member["name"] not in item["body"]
    assert "Contact effacé" in item["body"]
