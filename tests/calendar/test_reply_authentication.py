"""Who may change an invitee's answer by mail: a REPLY is applied only when its sender is the
attendee it names (From and envelope sender) or their delegate, or when the receiving mail server
Coord trusts reports a DKIM pass for the attendee's domain. Anything else is kept « à vérifier »
for an agent, who accepts it (it is then applied) or rejects it. Everything over the real listener.

The helpers here (listener, mail builder, inbox readers) are shared with test_inbound_mail.py and
test_counter_refresh.py.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import smtplib
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from typing import Any

import pytest

from tests.calendar.test_ingest import MARIE, PAUL, fixture, invitation, seed
from tests.conftest import run

RCPT = "coord-test@prefecture.example.gouv.fr"
TRUSTED = "mx.prefecture.example.gouv.fr"
INTRUDER = "intrus@example.fr"
DELEGATE = "adj.martin@gendarmerie.interieur.gouv.fr"


# -- shared helpers ----------------------------------------------------------------------------


@pytest.fixture
def imip_settings(settings: Any) -> Iterator[Any]:
    """The settings the listener reads (`current_settings()`), with the iMIP options; tests change
    them with `use(...)`. The previous ones are put back afterwards."""
    from coord.core.settings import current_settings, use_settings

    previous = current_settings()

    class Holder:
        value = settings

        def use(self, **changes: Any) -> Any:
            self.value = dataclasses.replace(settings, **changes)
            use_settings(self.value)
            return self.value

    holder = Holder()
    holder.use()
    yield holder
    use_settings(previous)


@pytest.fixture
def listener(db: Any, imip_settings: Any) -> Iterator[Any]:
    from coord.calendar.lmtp import ReplyListener

    with ReplyListener("127.0.0.1", 0) as running:
        yield running


@pytest.fixture
def lmtp_listener(db: Any, imip_settings: Any) -> Iterator[Any]:
    from coord.calendar.lmtp import ReplyListener

    with ReplyListener("127.0.0.1", 0, lmtp=True) as running:
        yield running


def deliver(listener: Any, data: bytes, *, envelope_from: str, lmtp: bool = False) -> tuple[int, str]:
    """Send one mail to the listener as a mail server would; returns the answer to DATA."""
    client_class = smtplib.LMTP if lmtp else smtplib.SMTP
    with client_class("127.0.0.1", listener.port, timeout=10) as client:
        client.ehlo_or_helo_if_needed() if not lmtp else client.ehlo()
        code, _ = client.mail(envelope_from)
        assert code == 250
        code, _ = client.rcpt(RCPT)
        assert code == 250
        try:
            code, answer = client.data(data)
        except smtplib.SMTPDataError as exc:
            return exc.smtp_code, exc.smtp_error.decode()
        return code, answer.decode()


def mail(
    *,
    sender: str,
    subject: str = "Accepté : Comité départemental TEH",
    text: str = "Marie Durand a accepté votre invitation.",
    calendar: bytes | None = None,
    method: str = "REPLY",
    headers: tuple[tuple[str, str], ...] = (),
    attachment: bytes | None = None,
) -> bytes:
    """A mail as a client sends it: `headers` first (Authentication-Results are added on top by each
    server, so the first given is the topmost), then From, To, Subject, Date, Message-ID."""
    message = EmailMessage(policy=SMTP)
    for name, value in headers:
        message[name] = value
    message["From"] = sender
    message["To"] = RCPT
    message["Subject"] = subject
    message["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    message["Message-ID"] = make_msgid(domain="client.example.fr")
    message.set_content(text)
    if calendar is not None:
        message.add_alternative(
            calendar, maintype="text", subtype="calendar", params={"method": method, "charset": "UTF-8"}
        )
    if attachment is not None:
        message.add_attachment(attachment, maintype="application", subtype="ics", filename="invite.ics")
    return message.as_bytes()


def dkim(authserv_id: str, result: str, domain: str) -> tuple[str, str]:
    return ("Authentication-Results", f"{authserv_id}; dkim={result} (2048-bit key) header.d={domain} header.s=s1")


async def inbox_rows(meeting_id: int) -> list[dict[str, Any]]:
    from coord.meetings.inbox_tables import InboxItem

    return await InboxItem.select().where(InboxItem.meeting == meeting_id).order_by(InboxItem.id)


async def audit_actions(entity: str) -> list[tuple[str, str]]:
    from coord.audit.tables import AuditEntry

    rows = await AuditEntry.select(AuditEntry.action, AuditEntry.actor).where(AuditEntry.entity == entity)
    return [(r["action"], r["actor"]) for r in rows]


def outlook_reply(**replace: str) -> bytes:
    data = fixture("outlook_fr_accepted.ics").decode()
    for old, new in replace.items():
        data = data.replace(old, new)
    return data.encode()


# -- the attendee themselves --------------------------------------------------------------------


def test_a_reply_sent_by_the_attendee_is_applied(listener: Any) -> None:
    seeded = run(seed())
    code, _ = deliver(listener, mail(sender=MARIE, calendar=outlook_reply()), envelope_from=MARIE)
    assert code == 250
    assert run(invitation(seeded.invitations[MARIE]))["answer"] == "accepted"
    assert run(inbox_rows(seeded.meeting_id)) == []


def test_a_reply_from_another_address_is_kept_for_an_agent_not_applied(listener: Any, api_as: Any) -> None:
    seeded = run(seed())
    # Anyone who saw the invitation knows its UID and Marie's address: they write a reply in her name.
    forged = mail(
        sender=INTRUDER, subject="Refusé", calendar=outlook_reply(**{"PARTSTAT=ACCEPTED": "PARTSTAT=DECLINED"})
    )
    code, answer = deliver(listener, forged, envelope_from=INTRUDER)
    assert code == 250, answer  # the mail was received: nothing for the sending server to retry
    assert run(invitation(seeded.invitations[MARIE]))["answer"] == "needs_action"

    items = api_as("prefecture", "34").get(f"/api/meetings/{seeded.meeting_id}/inbox").json()["items"]
    assert [(i["kind"], i["status"], i["verified"]) for i in items] == [("reply", "pending", False)]
    assert items[0]["sender"] == INTRUDER
    assert items[0]["attendee_email"] == MARIE
    assert items[0]["partstat"] == "DECLINED"
    assert INTRUDER in items[0]["note"]
    assert ("receive", "réception iMIP (smtp)") in run(audit_actions("inbox_item"))


def test_the_agent_accepts_a_reply_to_check_and_it_is_applied(listener: Any, api_as: Any) -> None:
    seeded = run(seed())
    deliver(listener, mail(sender=INTRUDER, calendar=outlook_reply()), envelope_from=INTRUDER)
    api = api_as("prefecture", "34")
    (item,) = api.get(f"/api/meetings/{seeded.meeting_id}/inbox").json()["items"]

    response = api.post(f"/api/meetings/{seeded.meeting_id}/inbox/{item['id']}/accept")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "accepted"
    row = run(invitation(seeded.invitations[MARIE]))
    assert row["answer"] == "accepted"
    assert row["answer_sequence"] == 2  # the reply's own SEQUENCE and DTSTAMP, as if received now
    assert row["answer_dtstamp"].isoformat() == "2026-09-20T08:15:12+00:00"
    assert "DDETS" in row["comment"]
    assert [a for a, _ in run(audit_actions("inbox_item"))] == ["receive", "accept"]

    # Decided once: a second decision is a conflict, not a second answer.
    again = api.post(f"/api/meetings/{seeded.meeting_id}/inbox/{item['id']}/reject")
    assert again.status_code == 409
    assert "déjà été traité" in again.json()["detail"]


def test_the_agent_rejects_a_reply_to_check_from_the_meeting_page(
    listener: Any, web: Any, make_user: Any, api_as: Any
) -> None:
    seeded = run(seed())
    deliver(listener, mail(sender=INTRUDER, calendar=outlook_reply()), envelope_from=INTRUDER)
    agent = make_user("prefecture", "34")
    web.login(agent.email)
    page = web.get(f"/d/34/reunions/{seeded.meeting_id}/courriers")
    assert page.status_code == 200
    assert "Réponse de calendrier à vérifier" in page.text
    assert "expéditeur non vérifié" in page.text
    assert "ne conserve jamais de données concernant des victimes" in page.text
    (item,) = run(inbox_rows(seeded.meeting_id))

    response = web.post(
        f"/d/34/reunions/{seeded.meeting_id}/courriers/{item['id']}/rejeter",
        {"retour": "reunion"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/d/34/reunions/{seeded.meeting_id}#courriers"
    assert run(invitation(seeded.invitations[MARIE]))["answer"] == "needs_action"
    (item,) = run(inbox_rows(seeded.meeting_id))
    assert item["status"] == "rejected"
    assert item["decided_by"] == agent.email
    assert ("reject", agent.email) in run(audit_actions("inbox_item"))
    # A form without the CSRF token is refused.
    assert web.http.post(f"/d/34/reunions/{seeded.meeting_id}/courriers/{item['id']}/accepter").status_code == 403


def test_only_the_meetings_managers_see_and_decide(listener: Any, api_as: Any) -> None:
    seeded = run(seed())
    deliver(listener, mail(sender=INTRUDER, calendar=outlook_reply()), envelope_from=INTRUDER)
    (item,) = run(inbox_rows(seeded.meeting_id))
    url = f"/api/meetings/{seeded.meeting_id}/inbox"
    assert api_as("observer", "34").get(url).status_code == 403
    assert api_as("observer", "34").post(f"{url}/{item['id']}/accept").status_code == 403
    # Another département's agent: the meeting does not exist for them.
    assert api_as("prefecture", "93").get(url).status_code == 404
    assert api_as("prefecture", "93").post(f"{url}/{item['id']}/accept").status_code == 404
    assert run(invitation(seeded.invitations[MARIE]))["answer"] == "needs_action"


def test_an_envelope_sender_other_than_the_attendee_keeps_the_reply_for_checking(listener: Any) -> None:
    seeded = run(seed())
    code, _ = deliver(listener, mail(sender=MARIE, calendar=outlook_reply()), envelope_from=INTRUDER)
    assert code == 250
    assert run(invitation(seeded.invitations[MARIE]))["answer"] == "needs_action"
    (item,) = run(inbox_rows(seeded.meeting_id))
    assert (item["kind"], item["status"], item["envelope_sender"]) == ("reply", "pending", INTRUDER)
    assert "enveloppe" in item["note"]


def test_a_bare_calendar_without_mail_headers_is_kept_for_checking(listener: Any) -> None:
    seeded = run(seed())
    code, _ = deliver(listener, fixture("outlook_fr_accepted.ics"), envelope_from=MARIE)
    assert code == 250
    assert run(invitation(seeded.invitations[MARIE]))["answer"] == "needs_action"
    (item,) = run(inbox_rows(seeded.meeting_id))
    assert (item["kind"], item["status"]) == ("reply", "pending")
    assert "sans en-têtes" in item["note"]


# -- the receiving server vouches (DKIM) ---------------------------------------------------------


def test_a_dkim_pass_from_the_trusted_server_applies_the_reply(listener: Any, imip_settings: Any) -> None:
    imip_settings.use(imip_trusted_authserv_id=TRUSTED)
    seeded = run(seed())
    # Exchange sends with a bounce address as envelope sender: only the signature vouches for it.
    signed = mail(
        sender=MARIE,
        calendar=outlook_reply(),
        headers=(dkim(TRUSTED, "pass", "interieur.gouv.fr"), ("Received", "from mx1.interieur.gouv.fr")),
    )
    code, _ = deliver(listener, signed, envelope_from="bounces+8f3a@mail.interieur.gouv.fr")
    assert code == 250
    assert run(invitation(seeded.invitations[MARIE]))["answer"] == "accepted"
    assert run(inbox_rows(seeded.meeting_id)) == []


def test_a_signature_of_a_parent_domain_vouches_too(listener: Any, imip_settings: Any) -> None:
    imip_settings.use(imip_trusted_authserv_id=TRUSTED)
    seeded = run(seed())
    paul = fixture("thunderbird_tentative.ics")
    signed = mail(
        sender="secretariat@interieur.gouv.fr", calendar=paul, headers=(dkim(TRUSTED, "pass", "interieur.gouv.fr"),)
    )
    assert deliver(listener, signed, envelope_from="secretariat@interieur.gouv.fr")[0] == 250
    assert run(invitation(seeded.invitations[PAUL]))["answer"] == "tentative"


@pytest.mark.parametrize(
    ("trusted", "header"),
    [
        ("", dkim(TRUSTED, "pass", "interieur.gouv.fr")),  # no server trusted (the default)
        (TRUSTED, dkim("mx.ailleurs.example", "pass", "interieur.gouv.fr")),  # another server says so
        (TRUSTED, dkim(TRUSTED, "pass", "example.org")),  # signed, but by another domain
        (TRUSTED, dkim(TRUSTED, "pass", "gouv.fr.example.org")),
        (TRUSTED, dkim(TRUSTED, "fail", "interieur.gouv.fr")),
        (TRUSTED, dkim(TRUSTED, "pass", "fr")),  # a top-level domain vouches for nobody
    ],
)
def test_a_dkim_result_that_does_not_vouch_keeps_the_reply_for_checking(
    listener: Any, imip_settings: Any, trusted: str, header: tuple[str, str]
) -> None:
    imip_settings.use(imip_trusted_authserv_id=trusted)
    seeded = run(seed())
    code, _ = deliver(
        listener, mail(sender=INTRUDER, calendar=outlook_reply(), headers=(header,)), envelope_from=INTRUDER
    )
    assert code == 250
    assert run(invitation(seeded.invitations[MARIE]))["answer"] == "needs_action"
    assert [i["status"] for i in run(inbox_rows(seeded.meeting_id))] == ["pending"]


def test_a_forged_authentication_results_below_the_trusted_servers_does_not_count(
    listener: Any, imip_settings: Any
) -> None:
    imip_settings.use(imip_trusted_authserv_id=TRUSTED)
    seeded = run(seed())
    # The sender wrote a header in the trusted server's name; the server added its own on top.
    forged = mail(
        sender=INTRUDER,
        calendar=outlook_reply(),
        headers=(dkim(TRUSTED, "none", "example.fr"), dkim(TRUSTED, "pass", "interieur.gouv.fr")),
    )
    assert deliver(listener, forged, envelope_from=INTRUDER)[0] == 250
    assert run(invitation(seeded.invitations[MARIE]))["answer"] == "needs_action"
    assert [i["status"] for i in run(inbox_rows(seeded.meeting_id))] == ["pending"]


# -- delegation ---------------------------------------------------------------------------------


def test_the_delegates_reply_for_the_delegating_attendee_is_applied(listener: Any) -> None:
    seeded = run(seed(sequence=3))
    delegated = fixture("thunderbird_delegated.ics")
    assert deliver(listener, mail(sender=PAUL, calendar=delegated), envelope_from=PAUL)[0] == 250
    assert run(invitation(seeded.invitations[PAUL]))["answer"] == "delegated"

    # The colleague Paul delegated to answers for Paul from their own mailbox.
    for_paul = (
        fixture("thunderbird_tentative.ics")
        .replace(b"SEQUENCE:2", b"SEQUENCE:3")
        .replace(b"DTSTAMP:20260920T090233Z", b"DTSTAMP:20260922T080000Z")  # after the delegation
    )
    code, _ = deliver(listener, mail(sender=DELEGATE, calendar=for_paul), envelope_from=DELEGATE)
    assert code == 250
    assert run(invitation(seeded.invitations[PAUL]))["answer"] == "tentative"
    assert run(inbox_rows(seeded.meeting_id)) == []


def test_through_the_api_an_agents_upload_is_trusted(api_as: Any) -> None:
    """An agent of the meeting's département posts the .ics a partner forwarded them: applied."""
    seeded = run(seed())
    response = api_as("prefecture", "34").post(
        "/api/imip/replies", content=fixture("outlook_fr_accepted.ics"), headers={"Content-Type": "text/calendar"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "applied"
    assert run(invitation(seeded.invitations[MARIE]))["answer"] == "accepted"


# -- reading Authentication-Results (RFC 8601) ---------------------------------------------------


def test_authentication_results_are_read_as_rfc_8601_writes_them() -> None:
    from coord.calendar.inbound_mail import parse_authentication_results

    parsed = parse_authentication_results(
        "mx.prefecture.example.gouv.fr 1; (checked at 10:02) spf=pass smtp.mailfrom=a@b.fr;\r\n"
        ' dkim = pass (good signature) header.d=Interieur.Gouv.FR header.s="sel;1";'
        " dkim/1=fail header.d=example.org; dmarc=pass header.from=interieur.gouv.fr"
    )
    assert parsed is not None
    assert parsed.authserv_id == "mx.prefecture.example.gouv.fr"
    assert [(r.method, r.result) for r in parsed.results] == [
        ("spf", "pass"),
        ("dkim", "pass"),
        ("dkim", "fail"),
        ("dmarc", "pass"),
    ]
    assert parsed.results[1].properties["header.d"] == "interieur.gouv.fr"
    none = parse_authentication_results("mx.example.fr; none")
    assert none is not None and none.results == ()
    assert parse_authentication_results("") is None
