"""The minutes reach the members: published once, mailed with the decisions and the minutes' PDF to
every invitee still invited, over real SMTP; a correction goes out once as a « compte rendu rectifié »;
the PDF can also be downloaded from the meeting's page."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from coord.core.clock import FrozenClock
from tests.conftest import ApiClient, run
from tests.meetings.test_mail_convocations import _deliver
from tests.meetings.test_mail_golden import outbox_rows
from tests.meetings.test_meetings_api import new_meeting, seed_committee

MINUTES = "Le comité a examiné les chiffres départementaux agrégés et le suivi de la convention mineurs."
DECISIONS = ("Adopter le plan d'action départemental 2027.", "Signer l'avenant à la convention mineurs.")


@pytest.fixture
def clock() -> Iterator[FrozenClock]:
    from coord.core.clock import use_clock

    frozen = FrozenClock(dt.datetime.now(dt.UTC))
    use_clock(frozen)
    yield frozen
    use_clock(None)


@pytest.fixture
def agent(make_user: Any, web: Any, client: Any) -> ApiClient:
    """A prefecture agent of the Hérault, logged in the browser and holding an API token."""
    account = make_user("prefecture", "34")
    web.login(account.email)
    return ApiClient(client, account.token)


def working_day_at(days: int, tz: str = "Europe/Paris", hour: int = 9, weekday: int | None = None) -> dt.datetime:
    """The local time `hour`:30 on the first working day at least `days` days ahead (on `weekday`
    if given): meetings are planned on working days."""
    from coord.territory.working_days import is_working_day

    day = dt.datetime.now(ZoneInfo(tz)).date() + dt.timedelta(days=days)
    while not is_working_day(day, None) or (weekday is not None and day.weekday() != weekday):
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(hour, 30))


def held_meeting(
    api: Any, clock: FrozenClock, members: int = 4, weekday: int | None = None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A meeting of `members` voting members, convened, the clock one hour after its start."""
    seed = seed_committee(api, members=members)
    start = working_day_at(20, weekday=weekday)
    meeting = new_meeting(api, seed["committee"]["id"], start).json()
    response = api.post(f"/api/meetings/{meeting['id']}/convene")
    assert response.status_code == 200, response.text
    clock.set(start.replace(tzinfo=ZoneInfo("Europe/Paris")) + dt.timedelta(hours=1))
    invitations = api.get(f"/api/meetings/{meeting['id']}/invitations").json()["items"]
    return response.json(), invitations


def mark(api: Any, meeting_id: int, invitation_id: int, **body: Any) -> None:
    response = api.patch(f"/api/meetings/{meeting_id}/invitations/{invitation_id}", json=body)
    assert response.status_code == 200, response.text


def write_minutes(api: Any, meeting_id: int, text: str = MINUTES, decisions: tuple[str, ...] = DECISIONS) -> None:
    base = f"/api/meetings/{meeting_id}"
    version = api.get(base).json()["meeting"]["version"]
    assert api.put(f"{base}/minutes", json={"minutes": text, "version": version}).status_code == 200
    for decision in decisions:
        assert api.post(f"{base}/decisions", json={"text": decision}).status_code == 201


def publish(api: Any, meeting_id: int) -> dict[str, Any]:
    response = api.post(f"/api/meetings/{meeting_id}/minutes/publish")
    assert response.status_code == 200, response.text
    return response.json()


def pdf_text(content: bytes) -> str:
    """The text of a PDF, with runs of whitespace made single spaces (table cells wrap lines)."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(content))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() or "" for page in reader.pages))


def pdf_attachments(message: EmailMessage) -> list[tuple[str, bytes]]:
    return [
        (part.get_filename() or "", part.get_payload(decode=True))
        for part in message.iter_attachments()
        if part.get_content_type() == "application/pdf"
    ]


def plain(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return body.get_content()


def minutes_editions(api: Any, meeting_id: int) -> list[str]:
    """The audit log's publications of the meeting's minutes, oldest first."""
    items = api.get("/api/audit", params={"entity": "minutes", "entity_id": meeting_id}).json()["items"]
    return [i["action"] for i in reversed(items)]


def test_publishing_mails_the_minutes_decisions_and_pdf_to_every_invitee_still_invited(api_as, clock, smtp_sink):
    api = api_as("prefecture", "34")
    meeting, inv = held_meeting(api, clock, members=4)
    mid = meeting["id"]
    chair, proxy, removed, deactivated = inv
    assert api.delete(f"/api/meetings/{mid}/invitations/{removed['id']}").status_code == 204
    response = api.patch(f"/api/contacts/{deactivated['contact']}", json={"active": False})
    assert response.status_code == 200, response.text
    mark(api, mid, chair["id"], attendance="present")
    mark(api, mid, proxy["id"], attendance="represented", represented_by=chair["id"])
    write_minutes(api, mid)
    _deliver(smtp_sink)  # the convocations and the removed invitee's cancellation
    smtp_sink.clear()

    published = publish(api, mid)
    assert published["status"] == "held" and published["minutes_published_at"]
    report = _deliver(smtp_sink)

    assert report.sent == 2
    assert sorted(r for env in smtp_sink.envelopes for r in env.rcpt_tos) == sorted([chair["email"], proxy["email"]])
    for message in smtp_sink.messages:
        assert message["Subject"].startswith("Compte rendu : Réunion annuelle TEH – ")
        body = plain(message)
        assert "RELEVÉ DE DÉCISIONS" in body and MINUTES in body
        assert f"1. {DECISIONS[0]}" in body and f"2. {DECISIONS[1]}" in body
        assert f"{proxy['name']} (Préfecture) : représenté(e), mandat donné à {chair['name']}" in body
        html = message.get_body(preferencelist=("html",))
        assert html is not None and DECISIONS[1].replace("'", "&#39;") in html.get_content()
        [(filename, content)] = pdf_attachments(message)
        assert filename == f"compte-rendu-34-{mid}.pdf" and content.startswith(b"%PDF")
        text = pdf_text(content)
        assert "Compte rendu" in text and "Projet" not in text and "Publié le" in text
        assert DECISIONS[0] in text and DECISIONS[1] in text and "chiffres départementaux agrégés" in text
        assert chair["name"] in text and f"mandat donné à {chair['name']}" in text
        assert "Quorum : atteint (2 présent(s) ou représenté(s) pour 2 requis)" in text
        assert removed["name"] not in text  # no longer invited


def test_publishing_twice_or_retrying_sends_nothing_twice(api_as, clock, smtp_sink):
    api = api_as("prefecture", "34")
    meeting, inv = held_meeting(api, clock, members=3)
    mid = meeting["id"]
    mark(api, mid, inv[0]["id"], attendance="present")
    write_minutes(api, mid)

    first = publish(api, mid)
    again = publish(api, mid)  # a double click, a retried request, « Publier à nouveau » without correction

    assert again["minutes_published_at"] == first["minutes_published_at"]
    assert len(outbox_rows(kind="minutes")) == 3
    assert _deliver(smtp_sink).sent >= 3
    assert publish(api, mid)["version"] == first["version"]
    assert _deliver(smtp_sink).sent == 0
    recipients = [
        r
        for mail in smtp_sink.mails
        if mail.message["Subject"].startswith("Compte rendu")
        for r in mail.envelope.rcpt_tos
    ]
    assert sorted(recipients) == sorted(i["email"] for i in inv)
    assert minutes_editions(api, mid) == ["publish"]


def test_a_correction_after_publication_goes_out_once_as_a_rectified_minutes(api_as, clock, smtp_sink):
    api = api_as("prefecture", "34")
    meeting, inv = held_meeting(api, clock, members=2)
    mid = meeting["id"]
    mark(api, mid, inv[0]["id"], attendance="present")
    write_minutes(api, mid)
    publish(api, mid)
    _deliver(smtp_sink)
    smtp_sink.clear()

    decision = api.get(f"/api/meetings/{mid}/decisions").json()[1]
    corrected = "Signer l'avenant n° 2 à la convention mineurs avant juin."
    response = api.patch(f"/api/meetings/{mid}/decisions/{decision['id']}", json={"text": corrected})
    assert response.status_code == 200, response.text
    assert _deliver(smtp_sink).sent == 0  # a correction is sent when it is published
    log = api.get("/api/audit", params={"entity": "decision", "entity_id": decision["id"]}).json()["items"]
    assert log[0]["summary"].startswith("Correction après publication : décision n° 2")

    publish(api, mid)
    publish(api, mid)
    assert _deliver(smtp_sink).sent == 2
    assert sorted(r for env in smtp_sink.envelopes for r in env.rcpt_tos) == sorted(i["email"] for i in inv)
    for message in smtp_sink.messages:
        assert message["Subject"].startswith("Compte rendu rectifié : Réunion annuelle TEH – ")
        assert "a été rectifié" in plain(message) and corrected in plain(message)
        [(filename, content)] = pdf_attachments(message)
        assert filename == f"compte-rendu-34-{mid}-v2.pdf"
        text = pdf_text(content)
        assert "Compte rendu rectifié" in text and "Version rectifiée n° 2" in text
        assert corrected in text and DECISIONS[1] not in text

    # A second correction (the text this time) is a third edition, sent once too.
    smtp_sink.clear()
    version = api.get(f"/api/meetings/{mid}").json()["meeting"]["version"]
    response = api.put(f"/api/meetings/{mid}/minutes", json={"minutes": MINUTES + " Rectifié.", "version": version})
    assert response.status_code == 200, response.text
    publish(api, mid)
    publish(api, mid)
    assert _deliver(smtp_sink).sent == 2
    assert all(pdf_attachments(m)[0][0].endswith("-v3.pdf") for m in smtp_sink.messages)
    assert minutes_editions(api, mid) == ["publish", "rectify", "rectify"]


def test_an_smtp_outage_delays_the_minutes_but_loses_and_duplicates_nothing(api_as, clock, smtp_sink):
    from coord.mail.tables import OutboxMessage

    api = api_as("prefecture", "34")
    meeting, inv = held_meeting(api, clock, members=2)
    mid = meeting["id"]
    write_minutes(api, mid)
    _deliver(smtp_sink)
    smtp_sink.clear()
    publish(api, mid)
    smtp_sink.stop()
    assert _deliver(smtp_sink).retried == 2
    run(OutboxMessage.update({OutboxMessage.next_attempt_at: dt.datetime.now(dt.UTC)}).where(OutboxMessage.id > 0))
    smtp_sink.start()

    assert _deliver(smtp_sink).sent == 2
    assert _deliver(smtp_sink).sent == 0
    recipients = [r for env in smtp_sink.envelopes for r in env.rcpt_tos]
    assert sorted(recipients) == sorted(i["email"] for i in inv)
    for message in smtp_sink.messages:
        [(_, content)] = pdf_attachments(message)
        assert DECISIONS[0] in pdf_text(content)


def test_the_minutes_pdf_is_downloaded_from_the_meeting_page(web, agent, clock, make_user, new_web):
    meeting, inv = held_meeting(agent, clock, members=2)
    mid = meeting["id"]
    base = f"/d/34/reunions/{mid}"
    assert f'href="{base}/imprimer/compte-rendu.pdf"' in web.get(base).text
    write_minutes(agent, mid)
    mark(agent, mid, inv[0]["id"], attendance="present")
    mark(agent, mid, inv[1]["id"], attendance="excused")

    draft = web.get(f"{base}/imprimer/compte-rendu.pdf")
    assert draft.status_code == 200 and draft.headers["content-type"].startswith("application/pdf")
    assert f'filename="compte-rendu-34-{mid}.pdf"' in draft.headers["content-disposition"]
    assert "Projet de compte rendu" in pdf_text(draft.content)
    printable = web.get(f"{base}/imprimer/compte-rendu")
    assert printable.status_code == 200 and "Projet de compte rendu" in printable.text
    assert f"Excusé(e)s : {inv[1]['name']}" in printable.text and DECISIONS[0].replace("'", "&#39;") in printable.text

    publish(agent, mid)
    text = pdf_text(web.get(f"{base}/imprimer/compte-rendu.pdf").content)
    assert "Projet" not in text and "Publié le" in text and DECISIONS[1] in text

    version = agent.get(f"/api/meetings/{mid}").json()["meeting"]["version"]
    agent.put(f"/api/meetings/{mid}/minutes", json={"minutes": "Texte corrigé.", "version": version})
    text = pdf_text(web.get(f"{base}/imprimer/compte-rendu.pdf").content)
    assert "Projet de compte rendu rectifié" in text and "Texte corrigé." in text

    # Another département's agent finds nothing there.
    intruder = new_web()
    intruder.login(make_user("prefecture", "93").email)
    assert intruder.get(f"{base}/imprimer/compte-rendu.pdf").status_code == 404
    assert intruder.get(f"/d/93/reunions/{mid}/imprimer/compte-rendu").status_code == 404
