"""Every partner's calendar shows the current meeting, whatever happens to it: SEQUENCE per attendee
that only rises, updates that say what changed, answers tied to the version they answered."""

from __future__ import annotations

import datetime as dt
from typing import Any

from coord.core.errors import ValidationFailed
from tests.conftest import run
from tests.meetings.support import convened_meeting, invitations, of, received


def _later(meeting: dict[str, Any], days: int = 1) -> dict[str, Any]:
    from coord.territory.working_days import next_working_day

    start = dt.datetime.fromisoformat(meeting["local_start"])
    day = next_working_day(start.date() + dt.timedelta(days=days - 1), "34")
    new_start = dt.datetime.combine(day, start.time())
    return {
        "starts_at": new_start.replace(tzinfo=None).isoformat(),
        "ends_at": (new_start + dt.timedelta(hours=2)).replace(tzinfo=None).isoformat(),
    }


def test_an_invitee_removed_then_invited_again_gets_a_cancel_then_a_newer_request(api_as):
    api = api_as("prefecture", "34")
    meeting, _ = convened_meeting(api)
    url = f"/api/meetings/{meeting['id']}/invitations"
    guest = invitations(api, meeting["id"])["membre2@example.gouv.fr"]
    assert api.delete(f"{url}/{guest['id']}").status_code == 204
    # Nothing else changed in between: the re-invitation is still a new mail, above the CANCEL.
    back = api.post(url, json={"contact": guest["contact"], "role": "required"})
    assert back.status_code == 201, back.text
    mails = of(received(meeting["id"], validate=True), "membre2@example.gouv.fr")
    assert [(m.method, m.sequence) for m in mails] == [("REQUEST", 1), ("CANCEL", 2), ("REQUEST", 3)]
    # Removing one invitee is not cancelling the meeting: no STATUS:CANCELLED (RFC 5546 §3.2.5).
    assert mails[1].status is None and list(mails[1].attendees) == ["membre2@example.gouv.fr"]
    assert "Vous êtes convié(e)" in mails[2].body
    # The others were not disturbed.
    assert [m.sequence for m in of(received(meeting["id"]), "membre0@example.gouv.fr")] == [1]


def test_a_new_title_or_agenda_updates_calendars_and_keeps_answers(api_as):
    from coord.meetings.answers import record_answer

    api = api_as("prefecture", "34")
    meeting, _ = convened_meeting(api)
    url = f"/api/meetings/{meeting['id']}"
    first = invitations(api, meeting["id"])["membre0@example.gouv.fr"]
    assert run(record_answer(first["id"], "ACCEPTED", source="imip", sequence=1)).status == "applied"
    retitled = api.patch(url, json={"version": meeting["version"], "title": "CDPD – séance TEH 2027"}).json()
    assert retitled["sequence"] == 2
    item = api.post(f"{url}/agenda", json={"title": "Point sur la convention mineurs", "duration_minutes": 20})
    assert item.status_code == 201, item.text
    mails = of(received(meeting["id"], validate=True), "membre0@example.gouv.fr")
    assert [m.sequence for m in mails] == [1, 2, 3]
    assert mails[1].summary == "CDPD – séance TEH 2027"
    assert "Intitulé modifié : « Réunion annuelle TEH » → « CDPD – séance TEH 2027 »" in mails[1].body
    assert "Ordre du jour modifié : point « Point sur la convention mineurs » ajouté" in mails[2].body
    assert "Votre réponse reste enregistrée" in mails[2].body
    # The answer holds and every calendar shows it.
    assert mails[2].attendees["membre0@example.gouv.fr"]["PARTSTAT"] == "ACCEPTED"
    assert invitations(api, meeting["id"])["membre0@example.gouv.fr"]["answer"] == "accepted"


def test_after_a_move_page_api_reminders_and_calendar_all_ask_again(api_as, web, make_user):
    from coord.meetings.answers import record_answer

    api = api_as("prefecture", "34")
    meeting, _ = convened_meeting(api)
    url = f"/api/meetings/{meeting['id']}"
    first = invitations(api, meeting["id"])["membre0@example.gouv.fr"]
    assert run(record_answer(first["id"], "ACCEPTED", source="imip", sequence=1)).status == "applied"
    moved = api.patch(url, json={"version": meeting["version"], **_later(meeting, 2)})
    assert moved.status_code == 200, moved.text
    update = of(received(meeting["id"], validate=True), "membre0@example.gouv.fr")[-1]
    assert update.attendees["membre0@example.gouv.fr"]["PARTSTAT"] == "NEEDS-ACTION"
    assert "Horaire modifié : " in update.body and "merci de répondre à nouveau" in update.body
    shown = invitations(api, meeting["id"])["membre0@example.gouv.fr"]
    assert shown["answer"] == "needs_action" and shown["outdated_answer"] == "accepted"
    assert "À confirmer (avait répondu « Accepté »" in shown["answer_label"]
    agent = make_user("prefecture", "34")
    web.login(agent.email)
    assert "À confirmer (avait répondu « Accepté »" in web.get(f"/d/34/reunions/{meeting['id']}").text
    # The reminder goes to them too, as to everyone who has not answered the new time.
    assert api.post(f"{url}/remind").json()["queued"] == 3
    # A late REPLY to the old time does not count; one to the new time does.
    old = run(record_answer(first["id"], "DECLINED", source="imip", sequence=1))
    assert old.status == "ignored" and "version antérieure" in old.reason
    assert run(record_answer(first["id"], "ACCEPTED", source="imip", sequence=2)).status == "applied"
    assert invitations(api, meeting["id"])["membre0@example.gouv.fr"]["answer"] == "accepted"


def test_a_reply_citing_a_version_never_sent_is_refused(api_as):
    from coord.meetings.answers import record_answer

    api = api_as("prefecture", "34")
    meeting, _ = convened_meeting(api)
    first = invitations(api, meeting["id"])["membre0@example.gouv.fr"]
    try:
        run(record_answer(first["id"], "DECLINED", source="imip", sequence=7))
    except ValidationFailed as exc:
        assert "n'a pas été envoyée" in exc.errors["answer"]
    else:
        raise AssertionError("a REPLY to SEQUENCE 7 must be refused")
    # ... and the real answer to the current version is still taken afterwards.
    assert run(record_answer(first["id"], "ACCEPTED", source="imip", sequence=1)).status == "applied"
    assert invitations(api, meeting["id"])["membre0@example.gouv.fr"]["answer"] == "accepted"


def test_one_delegate_at_a_time_named_in_the_calendar_and_the_audit(api_as):
    from coord.audit.tables import AuditEntry
    from coord.meetings.answers import record_answer

    api = api_as("prefecture", "34")
    meeting, _ = convened_meeting(api)
    first = invitations(api, meeting["id"])["membre0@example.gouv.fr"]

    def delegate(email: str, name: str) -> None:
        result = run(record_answer(first["id"], "delegated", source="link", delegate_email=email, delegate_name=name))
        assert result.status == "applied"

    delegate("adjointe@example.gouv.fr", "Claire Adjointe")
    delegate("suppleant@example.gouv.fr", "Paul Suppléant")
    shown = invitations(api, meeting["id"])
    assert "adjointe@example.gouv.fr" not in shown  # the earlier delegate is withdrawn
    assert shown["suppleant@example.gouv.fr"]["delegated_from_name"] == "Prénom0 Nom0"
    assert shown["membre0@example.gouv.fr"]["delegate_name"] == "Paul Suppléant"
    mails = received(meeting["id"], validate=True)
    withdrawn = of(mails, "adjointe@example.gouv.fr")
    assert [m.method for m in withdrawn] == ["REQUEST", "CANCEL"]
    assert withdrawn[1].sequence > withdrawn[0].sequence and withdrawn[1].status is None
    request = of(mails, "suppleant@example.gouv.fr")[-1]
    assert request.attendees["suppleant@example.gouv.fr"]["DELEGATED-FROM"] == "mailto:membre0@example.gouv.fr"
    assert request.attendees["membre0@example.gouv.fr"]["DELEGATED-TO"] == "mailto:suppleant@example.gouv.fr"
    assert request.attendees["membre0@example.gouv.fr"]["PARTSTAT"] == "DELEGATED"
    summaries = run(
        AuditEntry.select(AuditEntry.summary)
        .where((AuditEntry.entity == "invitation") & (AuditEntry.entity_id == first["id"]))
        .order_by(AuditEntry.id)
    )
    assert summaries[-1]["summary"] == (
        "Délégation de Prénom0 Nom0 à Paul Suppléant (suppleant@example.gouv.fr) ; "
        "délégation à adjointe@example.gouv.fr retirée"
    )
    # Taking the meeting back withdraws the delegate too.
    assert run(record_answer(first["id"], "accepted", source="link")).status == "applied"
    assert "suppleant@example.gouv.fr" not in invitations(api, meeting["id"])
    assert of(received(meeting["id"]), "suppleant@example.gouv.fr")[-1].method == "CANCEL"


def test_a_delegate_cannot_be_someone_already_invited(api_as):
    from coord.meetings.answers import record_answer

    api = api_as("prefecture", "34")
    meeting, _ = convened_meeting(api)
    first = invitations(api, meeting["id"])["membre0@example.gouv.fr"]
    try:
        run(
            record_answer(
                first["id"], "delegated", source="link", delegate_email="membre1@example.gouv.fr", delegate_name="X"
            )
        )
    except ValidationFailed as exc:
        assert "déjà invité(e)" in exc.errors["email"]
    else:
        raise AssertionError("delegating to an invitee must be refused")
