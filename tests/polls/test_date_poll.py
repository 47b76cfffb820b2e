"""« Trouver une date »: the agent offers slots of a draft meeting, invitees answer by the link in
their mail, the agent picks the slot that suits the key members and convenes; and every bad input
gets a French message with nothing stored."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from coord.territory.working_days import add_working_days, next_working_day
from tests.conftest import run
from tests.meetings.test_meetings_api import ensure_meeting_routes, local_in, new_meeting, seed_committee

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def app(app: Any) -> Any:
    return ensure_meeting_routes(app)


@pytest.fixture
def agent(make_user: Any, web: Any, client: Any, settings: Any) -> Any:
    from coord.core.settings import use_settings
    from tests.conftest import ApiClient

    use_settings(settings)
    account = make_user("prefecture", "34")
    web.login(account.email)
    return ApiClient(client, account.token)


def _deliver(sink: Any) -> Any:
    from coord.mail.dispatcher import deliver_all_now
    from coord.mail.smtp import SmtpSettings

    return run(deliver_all_now(smtp_settings=SmtpSettings(host="127.0.0.1", port=sink.port)))


def _day(days: int) -> dt.date:
    return next_working_day(local_in(days).date(), "34")


def _draft(agent: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    seed = seed_committee(agent, members=3)
    meeting = new_meeting(agent, seed["committee"]["id"], local_in(60)).json()
    return seed, meeting


def _form(slots: list[tuple[dt.date, str, int]], deadline: dt.date, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"deadline_date": deadline.isoformat(), "deadline_time": "18:00", "reminder_days": "2"}
    for n, (day, at, minutes) in enumerate(slots):
        data |= {f"slot_date_{n}": day.isoformat(), f"slot_time_{n}": at, f"slot_duration_{n}": str(minutes)}
    return data | extra


def _polls_of(meeting_id: int) -> list[dict[str, Any]]:
    from coord.polls.tables import DatePoll

    return run(DatePoll.select().where(DatePoll.meeting == meeting_id))


def _links(sink: Any) -> dict[str, str]:
    out = {}
    for message in sink.messages:
        body = message.get_body(preferencelist=("plain",)).get_content()
        match = re.search(r"https?://\S+/r/sondage/\S+", body)
        if match:
            out[message["To"].addresses[0].addr_spec] = match.group(0).split("/r/sondage/")[1]
    return out


def test_a_poll_from_its_creation_to_the_chosen_date_and_the_convocation(web, agent, smtp_sink, new_web):
    seed, meeting = _draft(agent)
    key = seed["contacts"][0]
    base = f"/d/34/reunions/{meeting['id']}"
    panel = web.get(base)
    assert "Trouver une date" in unescape(panel.text) and f"{base}/sondage/nouveau" in unescape(panel.text)
    form = web.get(f"{base}/sondage/nouveau")
    assert form.status_code == 200 and "Suggestions" in unescape(form.text) and "Europe/Paris" in unescape(form.text)
    first, second = _day(30), _day(33)
    response = web.post(
        f"{base}/sondage/nouveau",
        _form([(first, "09:30", 120), (second, "14:00", 90)], _day(10), **{f"key_{key['id']}": "on"}),
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    poll = _polls_of(meeting["id"])[0]
    assert poll["status"] == "open"

    _deliver(smtp_sink)
    tokens = _links(smtp_sink)
    assert set(tokens) == {c["email"] for c in seed["contacts"]}
    subjects = {m["Subject"] for m in smtp_sink.messages}
    assert subjects == {f"Trouver une date : {meeting['title']}"}

    partner = new_web()  # no account: the link alone opens the page
    page = partner.get(f"/r/sondage/{tokens[key['email']]}")
    assert page.status_code == 200 and "Oui" in unescape(page.text) and "Si besoin" in unescape(page.text)
    slot_ids = [int(x) for x in dict.fromkeys(re.findall(r'name="slot_(\d+)"', page.text))]
    assert len(slot_ids) == 2
    a, b = slot_ids
    # The key member cannot come to the first slot; then changes one answer before the deadline.
    done = partner.http.post(f"/r/sondage/{tokens[key['email']]}", data={f"slot_{a}": "no", f"slot_{b}": "maybe"})
    assert done.status_code == 200 and "vos réponses sont enregistrées" in unescape(done.text)
    done = partner.http.post(f"/r/sondage/{tokens[key['email']]}", data={f"slot_{a}": "no", f"slot_{b}": "yes"})
    assert done.status_code == 200
    other = seed["contacts"][1]["email"]
    partner.http.post(f"/r/sondage/{tokens[other]}", data={f"slot_{a}": "yes", f"slot_{b}": "yes"})
    # An incomplete answer is refused and changes nothing.
    third = seed["contacts"][2]["email"]
    refused = partner.http.post(f"/r/sondage/{tokens[third]}", data={f"slot_{a}": "yes"})
    assert refused.status_code == 422 and "Répondez oui, si besoin ou non" in unescape(refused.text)

    table = web.get(f"{base}/sondage/{poll['id']}")
    assert table.status_code == 200
    assert "Écarté : un membre indispensable a répondu non" in unescape(table.text)
    assert "2 réponse(s) sur 3" in unescape(table.text) and "Oui 2 · Si besoin 0 · Non 0" in unescape(table.text)
    assert "indispensable" in unescape(table.text)

    # Picking a slot of another poll is refused.
    other_meeting = new_meeting(agent, seed["committee"]["id"], local_in(62)).json()
    web.post(f"/d/34/reunions/{other_meeting['id']}/sondage/nouveau", _form([(first, "10:00", 60)], _day(10)))
    foreign = run(_slot_ids(_polls_of(other_meeting["id"])[0]["id"]))[0]
    wrong = web.post(f"{base}/sondage/{poll['id']}/retenir", {"slot": str(foreign), "mode": "convoquer"})
    assert "n'appartient pas à ce sondage" in unescape(wrong.text)
    assert _polls_of(meeting["id"])[0]["status"] == "open"

    chosen = web.post(f"{base}/sondage/{poll['id']}/retenir", {"slot": str(b), "mode": "convoquer"})
    assert chosen.status_code == 200 and "Envoyez maintenant la convocation" in unescape(chosen.text)
    assert f'action="{base}/convoquer"' in unescape(chosen.text)
    dated = agent.get(f"/api/meetings/{meeting['id']}").json()
    dated = dated.get("meeting", dated)
    assert dt.datetime.fromisoformat(dated["starts_at"]).astimezone(PARIS) == dt.datetime.combine(
        second, dt.time(14, 0), PARIS
    )
    assert dated["duration_minutes"] == 90 and dated["version"] == meeting["version"] + 1
    assert _polls_of(meeting["id"])[0]["status"] == "closed"
    revoked = partner.get(f"/r/sondage/{tokens[third]}")
    assert revoked.status_code == 403 and "révoqué" in unescape(revoked.text)

    smtp_sink.clear()
    convened = web.post(f"{base}/convoquer", {})
    assert convened.status_code == 200
    _deliver(smtp_sink)
    convocations = [m for m in smtp_sink.messages if m["Subject"].startswith("Convocation : ")]
    assert sorted(m["To"].addresses[0].addr_spec for m in convocations) == sorted(c["email"] for c in seed["contacts"])

    from coord.audit.tables import AuditEntry

    actions = run(
        AuditEntry.select(AuditEntry.action).where(
            (AuditEntry.entity == "date_poll") & (AuditEntry.entity_id == poll["id"])
        )
    )
    assert sorted(r["action"] for r in actions) == ["answer", "answer", "answer", "close", "create"]


async def _slot_ids(poll_id: int) -> list[int]:
    from coord.polls.tables import PollSlot

    return [r["id"] for r in await PollSlot.select(PollSlot.id).where(PollSlot.poll == poll_id)]


def test_announcing_the_date_without_convening_mails_date_retenue(web, agent, smtp_sink):
    _seed, meeting = _draft(agent)
    base = f"/d/34/reunions/{meeting['id']}"
    web.post(f"{base}/sondage/nouveau", _form([(_day(30), "09:30", 60)], _day(10)))
    poll = _polls_of(meeting["id"])[0]
    slot = run(_slot_ids(poll["id"]))[0]
    _deliver(smtp_sink)
    smtp_sink.clear()
    page = web.post(f"{base}/sondage/{poll['id']}/retenir", {"slot": str(slot), "mode": "annoncer"})
    assert "chaque participant en est prévenu" in unescape(page.text)
    _deliver(smtp_sink)
    assert {m["Subject"] for m in smtp_sink.messages} == {f"Date retenue : {meeting['title']}"}
    body = smtp_sink.messages[0].get_body(preferencelist=("plain",)).get_content()
    assert "aura lieu le" in body


def test_each_bad_input_is_refused_in_french_and_stores_nothing(web, agent):
    _, meeting = _draft(agent)
    url = f"/d/34/reunions/{meeting['id']}/sondage/nouveau"
    saturday = local_in(30).date()
    while saturday.weekday() != 5:
        saturday += dt.timedelta(days=1)
    yesterday = local_in(-1).date()
    cases = [
        (_form([], _day(10)), "Proposez au moins un créneau"),
        (_form([(yesterday, "10:00", 60)], _day(10)), "ce créneau est déjà passé"),
        (_form([(_day(30), "10:00", 0)], _day(10)), "la fin doit être postérieure au début"),
        (_form([(saturday, "10:00", 60)], _day(10)), "tombe un week-end"),
        (_form([(_day(30), "10:00", 60)], yesterday), "La date limite de réponse est déjà passée"),
        (_form([(_day(30), "10:00", 60)], _day(40)), "doit précéder le premier créneau"),
    ]
    for data, message in cases:
        response = web.post(url, data)
        assert response.status_code == 422, (message, response.text[:300])
        assert message in unescape(response.text)
    assert _polls_of(meeting["id"]) == []
    # A weekend slot is allowed once confirmed; a second open poll is not.
    assert web.post(url, _form([(saturday, "10:00", 60)], _day(10), confirm_days="on")).status_code == 200
    assert len(_polls_of(meeting["id"])) == 1
    second = web.post(url, _form([(_day(30), "10:00", 60)], _day(10)))
    assert "Un sondage est déjà en cours" in unescape(second.text)
    assert len(_polls_of(meeting["id"])) == 1


def test_no_poll_without_invitees_nor_on_a_convened_meeting(web, agent):
    seed = seed_committee(agent, members=2)
    convened = new_meeting(agent, seed["committee"]["id"], local_in(40)).json()
    agent.post(f"/api/meetings/{convened['id']}/convene", json={"version": convened["version"]})
    response = web.post(f"/d/34/reunions/{convened['id']}/sondage/nouveau", _form([(_day(50), "10:00", 60)], _day(10)))
    assert "réunion en préparation" in unescape(response.text)
    assert _polls_of(convened["id"]) == []
    lonely = new_meeting(agent, seed["committee"]["id"], local_in(45)).json()
    for invitation in agent.get(f"/api/meetings/{lonely['id']}/invitations").json()["items"]:
        web.post(f"/d/34/reunions/{lonely['id']}/invites/{invitation['id']}/retirer", {})
    response = web.post(f"/d/34/reunions/{lonely['id']}/sondage/nouveau", _form([(_day(50), "10:00", 60)], _day(10)))
    assert response.status_code == 422 and "pas encore d'invités" in unescape(response.text)
    assert _polls_of(lonely["id"]) == []


def test_answers_after_the_deadline_and_forged_links_change_nothing(web, agent, smtp_sink, new_web):
    from coord.polls.tables import DatePoll, PollAnswer

    _, meeting = _draft(agent)
    web.post(f"/d/34/reunions/{meeting['id']}/sondage/nouveau", _form([(_day(30), "10:00", 60)], _day(10)))
    poll = _polls_of(meeting["id"])[0]
    slot = run(_slot_ids(poll["id"]))[0]
    _deliver(smtp_sink)
    token = next(iter(_links(smtp_sink).values()))
    partner = new_web()
    forged = partner.get(f"/r/sondage/{token[:-3]}xyz")
    assert forged.status_code == 403 and "n'est pas valide" in unescape(forged.text)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    run(DatePoll.update({DatePoll.deadline: past}).where(DatePoll.id == poll["id"]))
    late = partner.http.post(f"/r/sondage/{token}", data={f"slot_{slot}": "yes"})
    assert late.status_code == 409 and "Ce sondage est clos" in unescape(late.text)
    assert run(PollAnswer.count()) == 0


def test_the_reminder_goes_once_to_those_who_have_not_answered_never_on_a_weekend(web, agent, smtp_sink, new_web):
    from coord.polls.tasks import due_poll_reminders

    seed, meeting = _draft(agent)
    deadline = _day(12)
    web.post(f"/d/34/reunions/{meeting['id']}/sondage/nouveau", _form([(_day(30), "10:00", 60)], deadline))
    poll = _polls_of(meeting["id"])[0]
    slot = run(_slot_ids(poll["id"]))[0]
    _deliver(smtp_sink)
    tokens = _links(smtp_sink)
    answered = seed["contacts"][0]["email"]
    new_web().http.post(f"/r/sondage/{tokens[answered]}", data={f"slot_{slot}": "yes"})
    reminder_day = add_working_days(deadline, -2, "34")
    too_early = dt.datetime.combine(reminder_day - dt.timedelta(days=1), dt.time(10), PARIS)
    if too_early.weekday() < 5:
        assert run(due_poll_reminders(too_early)) == 0
    saturday = dt.datetime.combine(reminder_day, dt.time(10), PARIS)
    while saturday.weekday() != 5:
        saturday += dt.timedelta(days=1)
    if saturday.date() < deadline:
        assert run(due_poll_reminders(saturday)) == 0
    at = dt.datetime.combine(reminder_day, dt.time(10), PARIS)
    assert run(due_poll_reminders(at)) == 2
    assert run(due_poll_reminders(at + dt.timedelta(hours=1))) == 0  # once
    smtp_sink.clear()
    _deliver(smtp_sink)
    assert sorted(m["To"].addresses[0].addr_spec for m in smtp_sink.messages) == sorted(
        c["email"] for c in seed["contacts"][1:]
    )
    assert all(m["Subject"].startswith("Rappel") for m in smtp_sink.messages)


def test_the_departments_home_lists_the_open_poll_with_how_many_answered(web, agent, smtp_sink, new_web):
    seed, meeting = _draft(agent)
    base = f"/d/34/reunions/{meeting['id']}"
    assert "Aucun sondage de date en cours" in unescape(web.get("/d/34").text)
    web.post(f"{base}/sondage/nouveau", _form([(_day(30), "10:00", 60), (_day(33), "14:00", 60)], _day(10)))
    poll = _polls_of(meeting["id"])[0]
    _deliver(smtp_sink)
    token = next(iter(_links(smtp_sink).values()))
    slots = run(_slot_ids(poll["id"]))
    new_web().http.post(f"/r/sondage/{token}", data={f"slot_{s}": "yes" for s in slots})

    home = unescape(web.get("/d/34").text)
    section = home.split('id="sondages-de-date"')[1].split("</section>")[0]
    assert meeting["title"] in section and f"{base}/sondage/{poll['id']}" in section
    assert f"1 réponse(s) sur {len(seed['contacts'])}" in section and "(Europe/Paris)" in section
