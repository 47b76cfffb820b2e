"""Agents learn what partners did without refreshing pages: a notification for each agent of the
département, an unread count in the header, a daily digest by mail for the kinds they choose."""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.actions.support import link_token, owned_item, seed
from tests.conftest import run
from tests.meetings import test_mail_golden
from tests.meetings.test_answer_links import _links
from tests.meetings.test_mail_convocations import _convened, _deliver

mail_settings = test_mail_golden.mail_settings  # the fixture, shared


def _feed() -> int:
    from coord.core import clock
    from coord.notifications.feed import run_feed

    return run(run_feed(clock.now()))


def _user_id(email: str) -> int:
    from coord.accounts.tables import User

    return run(User.select(User.id).where(User.email == email.lower()).first())["id"]


def _notifications(**where: Any) -> list[dict[str, Any]]:
    from coord.notifications.tables import Notification

    query = Notification.select().order_by(Notification.id)
    for name, value in where.items():
        query = query.where(getattr(Notification, name) == value)
    return run(query)


def _digest_morning() -> dt.datetime:
    """9:00 in Paris on the next working day of Hérault, in UTC."""
    from coord.territory.working_days import holiday_subdivision_for, next_working_day

    day = next_working_day(dt.date.today() + dt.timedelta(days=1), holiday_subdivision_for("34"))
    return dt.datetime.combine(day, dt.time(9, 0), ZoneInfo("Europe/Paris")).astimezone(dt.UTC)


@pytest.fixture
def hérault(make_user: Any, smtp_sink: Any, client: Any) -> dict[str, Any]:
    """A convened meeting of Hérault whose invitees got their mail; agents of Hérault and elsewhere."""
    from tests.conftest import ApiClient

    convener = make_user("prefecture", "34")
    api = ApiClient(client, convener.token)
    meeting = _convened(api)
    _deliver(smtp_sink)
    links = _links(smtp_sink)
    smtp_sink.clear()
    people = {
        "prefecture": make_user("prefecture", "34"),
        "coordinator": make_user("coordinator", "34"),
        "observer": make_user("observer", "34"),
        "elsewhere": make_user("prefecture", "13"),
        "coordinator_elsewhere": make_user("coordinator", "13"),
        "national": make_user("national", None),
    }
    return {"api": api, "meeting": meeting, "links": links, "people": people, "convener": convener.email}


def _answer(client: Any, world: dict[str, Any], answer: str = "accepted") -> str:
    email, path = next(iter(world["links"].items()))
    response = client.post(path, data={"answer": answer, "comment": "Je serai là"})
    assert response.status_code == 200, response.text
    return email


def test_a_partner_answer_by_link_tells_each_agent_of_the_département_once(hérault, client):
    email = _answer(client, hérault)
    assert _feed() > 0
    rows = _notifications(kind="answer")
    people = hérault["people"]
    expected = {_user_id(people["prefecture"].email), _user_id(people["coordinator"].email)}
    expected.add(_user_id(hérault["convener"]))
    assert sorted(r["recipient"] for r in rows) == sorted(expected)  # one each, nobody twice
    not_told = {_user_id(people[k].email) for k in ("observer", "elsewhere", "coordinator_elsewhere", "national")}
    assert not not_told & {r["recipient"] for r in _notifications()}
    text = rows[0]["text"]
    assert "J'accepte" in text and hérault["meeting"]["title"] in text and email not in text
    assert rows[0]["link"] == f"/d/34/reunions/{hérault['meeting']['id']}"
    # The job again, and again after a "restart" (nothing in memory): nothing more.
    assert _feed() == 0
    assert _feed() == 0
    assert len(_notifications()) == len(rows)


def test_a_second_instance_running_the_feed_at_the_same_time_adds_nothing(hérault, client):
    from coord.core import clock
    from coord.notifications.feed import run_feed

    _answer(client, hérault, "declined")

    async def both() -> list[int]:
        return list(await asyncio.gather(run_feed(clock.now()), run_feed(clock.now())))

    counts = run(both())
    assert sum(counts) == 3  # the three agents of Hérault, whichever instance wrote them
    assert len(_notifications(kind="answer")) == 3


def test_a_delegation_and_an_owner_updating_an_action_are_notified(hérault, client):
    path = next(iter(hérault["links"].values()))
    delegated = client.post(
        path, data={"answer": "delegated", "delegate_name": "Karim Saidi", "delegate_email": "karim.saidi@justice.fr"}
    )
    assert delegated.status_code == 200, delegated.text
    api = hérault["api"]
    world = seed(api)
    item = owned_item(api, world)
    token = link_token(api.post(f"/api/actions/{item['id']}/link").json()["url"])
    done = client.post(f"/r/action/{token}", data={"status": "fait", "comment": "Formation faite."})
    assert done.status_code == 200, done.text
    _feed()
    me = _user_id(hérault["people"]["coordinator"].email)
    kinds = {r["kind"]: r for r in _notifications(recipient=me)}
    assert "Karim Saidi" in kinds["delegation"]["text"]
    assert (
        kinds["action_update"]["text"]
        == "Isabelle Moreau a passé l'action « Former les éducateurs » à l'état « Fait »."
    )
    assert kinds["action_update"]["link"] == f"/d/34/actions/{item['id']}"
    # What agents do themselves is not notified to anyone.
    api.post(f"/api/actions/{item['id']}/comments", json={"comment": "Bravo"})
    before = len(_notifications())
    _feed()
    assert len(_notifications()) == before


def test_a_mail_refused_by_the_server_is_a_bounce_for_the_département(hérault, mail_settings):
    from coord.mail import outbox
    from coord.mail.dispatcher import deliver_all_now
    from coord.mail.smtp import SmtpSettings
    from coord.territory.tables import Department
    from tests.support.smtp_sink import SmtpSink

    department = run(Department.select(Department.id).where(Department.code == "34").first())
    run(
        outbox.queue(
            dedupe_key="bounce-test",
            kind="test",
            to_email="parti@example.org",
            to_name="",
            subject="Convocation du comité",
            text="…",
            department_id=department["id"],
            entity="meeting",
            entity_id=hérault["meeting"]["id"],
        )
    )
    with SmtpSink(host="127.0.0.1", port=0, rcpt_status=lambda a: "550 5.1.1 Adresse inconnue") as sink:
        run(deliver_all_now(smtp_settings=SmtpSettings(host="127.0.0.1", port=sink.port)))
    _feed()
    bounces = _notifications(kind="bounce")
    assert len(bounces) == 3
    assert "parti@example.org" in bounces[0]["text"] and "550" in bounces[0]["text"]
    assert bounces[0]["link"] == f"/d/34/reunions/{hérault['meeting']['id']}"
    assert _feed() == 0


def test_the_header_counts_unread_notifications_until_all_are_marked_read(hérault, client, web):
    _answer(client, hérault)
    api = hérault["api"]
    item = owned_item(api, seed(api))
    token = link_token(api.post(f"/api/actions/{item['id']}/link").json()["url"])
    assert client.post(f"/r/action/{token}", data={"progress": "40", "comment": "En route"}).status_code == 200
    _feed()
    agent = hérault["people"]["coordinator"]
    web.login(agent.email)
    header = _header(web.get("/d/34/reunions").text)
    assert "2 non lues" in header
    listing = web.get("/notifications")
    assert listing.status_code == 200
    assert "a porté l'avancement de l'action « Former les éducateurs » à 40 %" in html.unescape(listing.text)
    assert "Tout marquer comme lu" in listing.text
    incomplete = web.post("/notifications/tout-lu", {})
    assert incomplete.status_code == 422 and "Rechargez la page des notifications" in html.unescape(incomplete.text)
    newest = re.search(r'name="jusqu_a" value="(\d+)"', listing.text).group(1)
    marked = web.post("/notifications/tout-lu", {"jusqu_a": newest}, follow_redirects=True)
    assert marked.status_code == 200 and "2 notifications marquées comme lues" in marked.text
    assert "non lue" not in _header(marked.text)
    assert "non lue" not in _header(web.get("/d/34/reunions").text)


def _header(html: str) -> str:
    match = re.search(r"<header.*?</header>", html, re.S)
    assert match, "no header in the page"
    return match.group(0)


def test_following_a_notification_marks_it_read_and_leads_where_to_act(hérault, client, web):
    _answer(client, hérault)
    _feed()
    agent = hérault["people"]["prefecture"]
    mine = _notifications(recipient=_user_id(agent.email))[0]
    web.login(agent.email)
    followed = web.get(f"/notifications/{mine['id']}", follow_redirects=False)
    assert followed.status_code == 303 and followed.headers["location"] == mine["link"]
    assert _notifications(id=mine["id"])[0]["read_at"] is not None
    assert "non lue" not in _header(web.get("/notifications").text)


def test_nobody_reads_or_marks_another_agents_notifications(hérault, client, new_web, api_as):
    _answer(client, hérault)
    _feed()
    people = hérault["people"]
    target = _notifications(recipient=_user_id(people["prefecture"].email))[0]
    for intruder in (people["elsewhere"], people["coordinator"]):  # another département, a colleague
        browser = new_web()
        browser.login(intruder.email)
        assert browser.get(f"/notifications/{target['id']}", follow_redirects=False).status_code == 404
        assert browser.post(f"/notifications/{target['id']}/lu").status_code == 404
        assert f'href="/notifications/{target["id"]}"' not in browser.get("/notifications").text
        browser.post("/notifications/tout-lu", {"jusqu_a": target["id"]})
    from tests.conftest import ApiClient

    other = ApiClient(client, people["elsewhere"].token)
    assert other.get(f"/api/notifications/{target['id']}").status_code == 404
    assert other.post(f"/api/notifications/{target['id']}/read").status_code == 404
    assert other.get("/api/notifications").json()["total"] == 0
    assert _notifications(id=target["id"])[0]["read_at"] is None  # untouched by anyone else
    owner = ApiClient(client, people["prefecture"].token)
    assert owner.get("/api/notifications/unread-count").json() == {"unread": 1}
    assert other.post("/api/notifications/read-all", json={"up_to": target["id"]}).json() == {"marked": 0}
    assert owner.post("/api/notifications/read-all", json={}).status_code == 400
    assert owner.post("/api/notifications/read-all", json={"up_to": target["id"]}).json() == {"marked": 1}
    assert owner.get("/api/notifications/unread-count").json() == {"unread": 0}


def test_preferences_are_chosen_per_kind_with_french_messages(hérault, web, client):
    agent = hérault["people"]["coordinator"]
    web.login(agent.email)
    form = web.get("/notifications/preferences")
    assert form.status_code == 200 and "Réponses des partenaires aux invitations" in form.text
    assert "Dans Coord et dans le courriel quotidien" in form.text
    bad = web.post("/notifications/preferences", {"answer": "pigeon"})
    assert bad.status_code == 422 and "Choix inconnu" in bad.text and "Choisissez comment être prévenu" in bad.text
    choices = {k: "app" for k in _kinds()} | {"answer": "digest"}
    saved = web.post("/notifications/preferences", choices, follow_redirects=True)
    assert saved.status_code == 200 and "Vos choix sont enregistrés" in saved.text
    api = _api(client, agent)
    assert api.get("/api/notifications/preferences").json()["choices"]["answer"] == "digest"
    refused = api.put("/api/notifications/preferences", json={"choices": {"answer": "digest"}})
    assert refused.status_code == 422 and "signature" in refused.json()["errors"]


def _kinds() -> list[str]:
    from coord.notifications.kinds import KIND_LABELS

    return list(KIND_LABELS)


def _api(client: Any, account: Any) -> Any:
    from tests.conftest import ApiClient

    return ApiClient(client, account.token)


def test_the_daily_digest_carries_the_chosen_kinds_once_per_agent_and_day(hérault, client, smtp_sink, mail_settings):
    from coord.app.jobs import run_tick
    from coord.notifications.digest import queue_digests

    people = hérault["people"]
    digest_fan, app_only = people["coordinator"], people["prefecture"]
    fan_api = _api(client, digest_fan)
    assert (
        fan_api.put(
            "/api/notifications/preferences", json={"choices": {k: "app" for k in _kinds()} | {"answer": "digest"}}
        ).status_code
        == 200
    )
    _answer(client, hérault)
    api = hérault["api"]
    item = owned_item(api, seed(api))
    token = link_token(api.post(f"/api/actions/{item['id']}/link").json()["url"])
    assert client.post(f"/r/action/{token}", data={"comment": "Rendez-vous pris"}).status_code == 200
    morning = _digest_morning()
    saturday = morning + dt.timedelta(days=(5 - morning.weekday()) % 7)
    _feed()
    assert run(queue_digests(saturday.replace(hour=8))) == 0  # no digest on a weekend
    assert run(queue_digests(morning - dt.timedelta(hours=3))) == 0  # nor before 8:00
    # The scheduler's tick runs the feed and the digests: twice, and at two instances.
    first = run(run_tick(morning))
    assert first.jobs["notification_digests"] == 1

    async def twice() -> list[int]:
        return list(await asyncio.gather(queue_digests(morning), queue_digests(morning + dt.timedelta(hours=2))))

    assert run(twice()) == [0, 0]
    assert run(run_tick(morning + dt.timedelta(hours=5))).jobs["notification_digests"] == 0
    _deliver(smtp_sink)
    digests = [m for m in smtp_sink.messages if m["Subject"].startswith("Coord : ")]
    # One mail, to the agent who asked for it; who kept everything in the app gets none.
    assert [m["To"].addresses[0].addr_spec for m in digests] == [digest_fan.email]
    message = digests[0]
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert "Réponses des partenaires aux invitations" in body and "J'accepte" in body
    assert "Rendez-vous pris" not in body and "a commenté" not in body  # action updates stay in the app
    assert re.search(r"http://testserver\.local/notifications/\d+", body)
    assert "1 notification du" in message["Subject"]
    # The next day, a new answer goes in the next day's mail only.
    second_path = list(hérault["links"].values())[1]
    assert client.post(second_path, data={"answer": "declined"}).status_code == 200
    _feed()
    assert run(queue_digests(morning + dt.timedelta(hours=6))) == 0  # today's mail has left
    next_day = _next_working_morning(morning)
    assert run(queue_digests(next_day)) == 1
    assert run(queue_digests(next_day)) == 0
    app_only_rows = _notifications(recipient=_user_id(app_only.email))
    assert app_only_rows and all(r["digest"] == "" for r in app_only_rows)


def _next_working_morning(morning: dt.datetime) -> dt.datetime:
    from coord.territory.working_days import holiday_subdivision_for, next_working_day

    local = morning.astimezone(ZoneInfo("Europe/Paris"))
    day = next_working_day(local.date() + dt.timedelta(days=1), holiday_subdivision_for("34"))
    return dt.datetime.combine(day, dt.time(9, 0), ZoneInfo("Europe/Paris")).astimezone(dt.UTC)


def test_moving_a_kind_back_to_the_app_takes_it_out_of_the_next_digest(hérault, client):
    from coord.notifications.digest import queue_digests

    agent = hérault["people"]["coordinator"]
    api = _api(client, agent)
    everything = {k: "digest" for k in _kinds()}
    assert api.put("/api/notifications/preferences", json={"choices": everything}).status_code == 200
    _answer(client, hérault)
    _feed()
    assert [r["digest"] for r in _notifications(recipient=_user_id(agent.email))] == ["pending"]
    assert (
        api.put("/api/notifications/preferences", json={"choices": everything | {"answer": "app"}}).status_code == 200
    )
    assert [r["digest"] for r in _notifications(recipient=_user_id(agent.email))] == [""]
    assert run(queue_digests(_digest_morning())) == 0
