"""iMIP REPLY ingestion: Outlook- and Thunderbird-shaped replies change the invitation's answer,
through the API endpoint (bare .ics or a whole mail); bad replies get a French reason, never a 500.

Meetings and invitations are inserted with Piccolo directly (the meetings service is built in
parallel); `seed()` and `calendar_app()` are shared with the feed and listener tests.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE_UID = "mtg-2026-0042@coord.example.gouv.fr"
MARIE = "marie.durand@interieur.gouv.fr"  # Outlook fixture (written MAILTO:Marie.Durand@...)
PAUL = "paul.martin@gendarmerie.interieur.gouv.fr"  # Thunderbird fixtures


# -- shared helpers ----------------------------------------------------------------------------


def register_calendar_routes(app: Any) -> Any:
    """Add the calendar routes the app does not have yet (the lead wires them in coord.app.routes)."""
    from coord.calendar import api, pages, subscription

    existing = {route.path for route in app.routes}
    for handler in [*api.ROUTES, *pages.ROUTES, *subscription.ROUTES]:
        if not set(handler.paths) & existing:
            app.register(handler)
    return app


@pytest.fixture
def app(db: Any, settings: Any) -> Any:
    from coord.app.factory import create_app

    return register_calendar_routes(create_app(settings, engine=db.engine))


@dataclass
class Seeded:
    department_id: int
    committee_id: int
    meeting_id: int
    contacts: dict[str, int] = field(default_factory=dict)  # email → contact id
    invitations: dict[str, int] = field(default_factory=dict)  # email → invitation id


async def department_id(code: str) -> int:
    from coord.territory.tables import Department

    row = await Department.select(Department.id).where(Department.code == code).first()
    assert row is not None, code
    return int(row["id"])


async def add_contact(dept: int, email: str, first: str = "Marie", last: str = "Durand") -> int:
    from coord.partners.tables import Contact, Organisation

    org = await Organisation.select(Organisation.id).where(Organisation.department == dept).first()
    if org is None:
        org = (
            await Organisation.insert(Organisation(department=dept, name="Police nationale", kind="police")).returning(
                Organisation.id
            )
        )[0]
    row = (
        await Contact.insert(
            Contact(department=dept, organisation=org["id"], first_name=first, last_name=last, email=email)
        ).returning(Contact.id)
    )[0]
    return int(row["id"])


async def add_committee(dept: int, name: str = "Comité départemental TEH") -> int:
    from coord.committees.tables import Committee

    existing = await Committee.select(Committee.id).where((Committee.department == dept) & (Committee.name == name))
    if existing:
        return int(existing[0]["id"])
    row = (await Committee.insert(Committee(department=dept, name=name, kind="cdpd")).returning(Committee.id))[0]
    return int(row["id"])


async def add_meeting(
    dept: int,
    committee: int,
    *,
    uid: str,
    starts_at: dt.datetime,
    minutes: int = 120,
    status: str = "convened",
    sequence: int = 0,
    title: str = "Comité départemental TEH – séance plénière",
    updated_at: dt.datetime | None = None,
) -> int:
    from coord.meetings.tables import Meeting

    now = dt.datetime.now(dt.UTC)
    row = (
        await Meeting.insert(
            Meeting(
                department=dept,
                committee=committee,
                title=title,
                starts_at=starts_at,
                ends_at=starts_at + dt.timedelta(minutes=minutes),
                place="Préfecture, salle 1",
                video_url="https://webconf.numerique.gouv.fr/teh",
                status=status,
                uid=uid,
                sequence=sequence,
                convened_at=None if status == "draft" else now,
                cancelled_at=now if status == "cancelled" else None,
                updated_at=updated_at or now,
            )
        ).returning(Meeting.id)
    )[0]
    return int(row["id"])


async def invite(meeting: int, contact: int, dept: int, *, sent_sequence: int | None = None) -> int:
    """An invitation; `sent_sequence`: the SEQUENCE of the last invitation mailed to them (None: never)."""
    from coord.meetings.tables import Invitation

    row = (
        await Invitation.insert(
            Invitation(department=dept, meeting=meeting, contact=contact, sent_sequence=sent_sequence)
        ).returning(Invitation.id)
    )[0]
    return int(row["id"])


async def seed(code: str = "34", *, uid: str = FIXTURE_UID, sequence: int = 2, status: str = "convened") -> Seeded:
    """A convened meeting with the fixtures' UID, Marie (Outlook) and Paul (Thunderbird) invited."""
    dept = await department_id(code)
    committee = await add_committee(dept)
    meeting = await add_meeting(
        dept,
        committee,
        uid=uid,
        starts_at=dt.datetime(2026, 10, 15, 7, 30, tzinfo=dt.UTC),
        sequence=sequence,
        status=status,
    )
    seeded = Seeded(dept, committee, meeting)
    # Stored with capitals: matching must not depend on case.
    for email, first, last in ((MARIE, "Marie", "Durand"), (PAUL, "Paul", "Martin")):
        contact = await add_contact(dept, email.replace("marie.durand", "Marie.Durand"), first, last)
        seeded.contacts[email] = contact
        sent = None if status == "draft" else sequence  # a convened meeting's invitees got its SEQUENCE
        seeded.invitations[email] = await invite(meeting, contact, dept, sent_sequence=sent)
    return seeded


async def invitation(invitation_id: int) -> dict[str, Any]:
    from coord.meetings.tables import Invitation

    row = await Invitation.select().where(Invitation.id == invitation_id).first()
    assert row is not None
    return row


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def as_mail(ics: bytes, *, sender: str = MARIE, subject: str = "Accepté : Comité départemental TEH") -> bytes:
    """A whole reply mail as Outlook sends it: text, then the calendar part with method=REPLY."""
    message = EmailMessage(policy=SMTP)
    message["From"] = sender
    message["To"] = "coord-test@prefecture.example.gouv.fr"
    message["Subject"] = subject
    message.set_content("Marie Durand a accepté votre invitation.")
    message.add_alternative(ics, maintype="text", subtype="calendar", params={"method": "REPLY", "charset": "UTF-8"})
    return message.as_bytes()


def post_reply(api: Any, body: bytes, content_type: str = "text/calendar") -> Any:
    return api.post("/api/imip/replies", content=body, headers={"Content-Type": content_type})


# -- through the endpoint ----------------------------------------------------------------------


def test_outlook_reply_accepts_through_the_endpoint(api_as: Any) -> None:
    api = api_as("prefecture", "34")
    seeded = run(seed())
    response = post_reply(api, fixture("outlook_fr_accepted.ics"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "applied"
    assert body["invitation_id"] == seeded.invitations[MARIE]
    row = run(invitation(seeded.invitations[MARIE]))
    assert row["answer"] == "accepted"
    assert row["answer_sequence"] == 2
    assert row["answer_dtstamp"] == dt.datetime(2026, 9, 20, 8, 15, 12, tzinfo=dt.UTC)
    assert "DDETS" in row["comment"]
    assert run(invitation(seeded.invitations[PAUL]))["answer"] == "needs_action"

    from coord.audit.tables import AuditEntry

    entries = run(AuditEntry.select().where(AuditEntry.entity == "imip_reply"))
    assert [(e["entity_id"], e["department"]) for e in entries] == [(seeded.invitations[MARIE], seeded.department_id)]


def test_thunderbird_reply_in_a_whole_mail_marks_tentative(api_as: Any) -> None:
    api = api_as("prefecture", "34")
    seeded = run(seed())
    mail = as_mail(fixture("thunderbird_tentative.ics"), sender=PAUL, subject="Provisoire : Comité")
    response = post_reply(api, mail, "message/rfc822")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "applied"
    assert run(invitation(seeded.invitations[PAUL]))["answer"] == "tentative"


def test_ics_attachment_with_a_generic_type_is_found(api_as: Any) -> None:
    api = api_as("national", None)
    seeded = run(seed())
    message = EmailMessage(policy=SMTP)
    message["From"] = MARIE
    message["To"] = "coord@example.gouv.fr"
    message["Subject"] = "=?utf-8?q?Accept=C3=A9?="
    message.set_content("Voir la pièce jointe.")
    message.add_attachment(
        fixture("outlook_fr_accepted.ics"), maintype="application", subtype="octet-stream", filename="invite.ics"
    )
    response = post_reply(api, message.as_bytes(), "message/rfc822")
    assert response.status_code == 200, response.text
    assert run(invitation(seeded.invitations[MARIE]))["answer"] == "accepted"


def test_delegation_creates_the_delegates_invitation_which_can_answer(api_as: Any) -> None:
    api = api_as("prefecture", "34")
    seeded = run(seed(sequence=3))  # the Thunderbird delegation answers SEQUENCE 3
    response = post_reply(api, fixture("thunderbird_delegated.ics"))
    assert response.status_code == 200, response.text
    assert run(invitation(seeded.invitations[PAUL]))["answer"] == "delegated"

    # The delegate (written with capitals in DELEGATED-TO) now answers from their own client.
    delegate_reply = (
        fixture("thunderbird_tentative.ics")
        .decode()
        .replace(PAUL, "adj.martin@gendarmerie.interieur.gouv.fr")
        .replace("SEQUENCE:2", "SEQUENCE:3")
    )
    response = post_reply(api, delegate_reply.encode())
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "applied"
    assert run(invitation(response.json()["invitation_id"]))["answer"] == "tentative"
    assert response.json()["invitation_id"] not in seeded.invitations.values()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"garbage", "calendrier"),
        (b"", "calendrier"),
        (b"BEGIN:VCALENDAR\r\nthis is not ical\r\n", "iCalendar"),
        (b"\xff\xfe\x00BEGIN:VCALENDAR", "calendrier"),
        ("bad_request_not_reply.ics", "REPLY attendue"),
        ("bad_two_attendees.ics", "plusieurs participants"),
        ("bad_missing_uid.ics", "UID absent"),
        ("bad_unknown_partstat.ics", "inconnue"),
        ("bad_no_vevent.ics", "aucun événement"),
        ("bad_garbage.ics", ""),
    ],
)
def test_malformed_replies_are_rejected_with_a_reason(api_as: Any, body: bytes | str, reason: str) -> None:
    api = api_as("prefecture", "34")
    seeded = run(seed())
    data = fixture(body) if isinstance(body, str) else body
    response = post_reply(api, data)
    assert response.status_code == 422, response.text
    payload = response.json()
    assert payload["status"] == "rejected"
    assert reason in payload["reason"]
    assert payload["reason"]
    assert all(run(invitation(i))["answer"] == "needs_action" for i in seeded.invitations.values())


def test_unmatched_replies_are_rejected(api_as: Any, caplog: pytest.LogCaptureFixture) -> None:
    api = api_as("prefecture", "34")
    seeded = run(seed())
    outlook = fixture("outlook_fr_accepted.ics").decode()

    unknown = post_reply(api, outlook.replace(FIXTURE_UID, "autre@ailleurs").encode())
    assert unknown.status_code == 422
    assert "UID inconnu" in unknown.json()["reason"]

    stranger = post_reply(api, outlook.replace("Marie.Durand@interieur.gouv.fr", "intrus@example.fr").encode())
    assert stranger.status_code == 422
    assert "intrus@example.fr n'est pas invitée" in stranger.json()["reason"]

    from coord.meetings.tables import Invitation

    run(
        Invitation.update({Invitation.removed_at: dt.datetime.now(dt.UTC)}).where(
            Invitation.id == seeded.invitations[MARIE]
        )
    )
    removed = post_reply(api, outlook.encode())
    assert removed.status_code == 422
    assert "ne fait plus partie des invités" in removed.json()["reason"]
    assert any("iMIP reply rejected" in r.getMessage() for r in caplog.records)


def test_reply_to_a_cancelled_meeting_is_rejected(api_as: Any) -> None:
    api = api_as("prefecture", "34")
    seeded = run(seed(status="cancelled"))
    response = post_reply(api, fixture("outlook_fr_accepted.ics"))
    assert response.status_code == 422
    assert "annulée" in response.json()["reason"]
    assert run(invitation(seeded.invitations[MARIE]))["answer"] == "needs_action"


def test_stale_replies_are_ignored(api_as: Any) -> None:
    api = api_as("prefecture", "34")
    seeded = run(seed(sequence=2))
    outlook = fixture("outlook_fr_accepted.ics").decode()
    declined_later = outlook.replace("PARTSTAT=ACCEPTED", "PARTSTAT=DECLINED").replace(
        "DTSTAMP:20260920T081512Z", "DTSTAMP:20260921T090000Z"
    )
    assert post_reply(api, declined_later.encode()).json()["status"] == "applied"

    # The earlier acceptance arrives late (same SEQUENCE, older DTSTAMP): the decline stands.
    late = post_reply(api, outlook.encode())
    assert late.status_code == 200
    assert late.json()["status"] == "ignored"
    assert run(invitation(seeded.invitations[MARIE]))["answer"] == "declined"

    # A reply to an older version of the meeting (before it moved) is ignored too.
    old_version = outlook.replace("SEQUENCE:2", "SEQUENCE:1").replace(
        "DTSTAMP:20260920T081512Z", "DTSTAMP:20261001T000000Z"
    )
    response = post_reply(api, old_version.encode())
    assert response.status_code == 200
    assert response.json()["status"] == "ignored"
    assert "version antérieure" in response.json()["reason"]
    assert run(invitation(seeded.invitations[MARIE]))["answer"] == "declined"


def test_department_isolation_and_permissions(api_as: Any) -> None:
    seeded = run(seed("34"))
    other = api_as("prefecture", "93")
    response = post_reply(other, fixture("outlook_fr_accepted.ics"))
    # Reported like an unknown meeting: the answer does not reveal that the meeting exists elsewhere.
    assert response.status_code == 422
    assert response.json()["status"] == "rejected"
    observer = api_as("observer", "34")
    assert post_reply(observer, fixture("outlook_fr_accepted.ics")).status_code == 403
    assert run(invitation(seeded.invitations[MARIE]))["answer"] == "needs_action"


def test_size_limit_and_no_token(api_as: Any, client: Any) -> None:
    api = api_as("prefecture", "34")
    run(seed())
    big = fixture("outlook_fr_accepted.ics") + b"X" * 1_100_000
    assert post_reply(api, big).status_code == 413
    assert client.post("/api/imip/replies", content=fixture("outlook_fr_accepted.ics")).status_code == 401


def test_ingest_reply_never_raises_on_content(db: Any) -> None:
    from coord.calendar.ingest import ingest_reply

    run(seed())
    for data in (b"", b"\x00" * 10, b"From: a\r\n\r\n", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "é".encode() * 10):
        result = run(ingest_reply(data, source="test"))
        assert result.status == "rejected"
        assert result.reason_fr
    applied = run(ingest_reply(as_mail(fixture("outlook_fr_accepted.ics")), source="test"))
    assert applied.status == "applied", applied
