"""On opening a département, an agent sees what needs them now, each item a link to act: the next
meetings and their answers, answers awaited, replies to verify, late action items, conventions to
sign or renew, and this year's measure-22 status. Nothing of another département shows."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any
from zoneinfo import ZoneInfo

from coord.core.clock import local_today
from tests.conftest import run
from tests.overview.support import counted_queries

TZ = "Europe/Paris"


def _in_days(days: int, hour: int = 10) -> dt.datetime:
    day = dt.datetime.now(ZoneInfo(TZ)).date() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour, 0))


def _meeting(api: Any, committee_id: int, title: str, days: int, kind: str = "ordinaire") -> dict[str, Any]:
    start = _in_days(days)
    response = api.post(
        "/api/meetings",
        json={
            "committee": committee_id,
            "title": title,
            "kind": kind,
            "starts_at": start.isoformat(),
            "ends_at": (start + dt.timedelta(hours=2)).isoformat(),
            "place": "Préfecture",
            "confirm_day": True,
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


def seed_department(api: Any, code: str, label: str) -> dict[str, Any]:
    """A committee of three members, a convened meeting in 8 days (one accepted, one declined, one
    awaited), a draft in 20 days, a reply to verify, a late item and an item on time, a convention in
    signature and one arriving at its end. `label` marks every title (the canary's « CANARI »)."""
    from coord.actions.tables import ActionItem
    from coord.conventions.tables import Convention
    from coord.meetings.inbox_tables import InboxItem
    from coord.meetings.tables import Invitation
    from coord.territory.tables import Department

    org = api.post("/api/organisations", json={"name": f"Préfecture {label}", "kind": "prefecture"}).json()
    contacts = [
        api.post(
            "/api/contacts",
            json={
                "organisation": org["id"],
                "first_name": first,
                "last_name": f"{last}{label}",
                "email": f"{first.lower()}.{code}@example.gouv.fr",
            },
        ).json()
        for first, last in (("Alice", "Accepte"), ("Denis", "Decline"), ("Agathe", "Attend"))
    ]
    committee = api.post("/api/committees", json={"name": f"CDPD {label}", "kind": "cdpd_pleniere"}).json()
    for i, contact in enumerate(contacts):
        role = "president" if i == 0 else "membre"
        assert (
            api.post(
                f"/api/committees/{committee['id']}/members", json={"contact": contact["id"], "role": role}
            ).status_code
            == 201
        )
    convened = _meeting(api, committee["id"], f"Réunion convoquée {label}", 8)
    response = api.post(f"/api/meetings/{convened['id']}/convene", json={})
    assert response.status_code == 200, response.text
    convened = response.json()
    draft = _meeting(api, committee["id"], f"Réunion en préparation {label}", 20)
    for contact, answer in zip(contacts, ("accepted", "declined"), strict=False):
        run(
            Invitation.update(
                {Invitation.answer: answer, Invitation.answer_sequence: convened["answers_sequence"]}
            ).where((Invitation.meeting == convened["id"]) & (Invitation.contact == contact["id"]))
        )
    department_id = run(Department.select(Department.id).where(Department.code == code).first())["id"]
    inbox = run(
        InboxItem.insert(
            InboxItem(
                department=department_id,
                meeting=convened["id"],
                kind="reply",
                status="pending",
                sender=f"inconnu.{code}@example.org",
                sender_name=f"Expéditeur {label}",
                subject="Accepté",
                attendee_email=contacts[2]["email"],
                partstat="ACCEPTED",
            )
        ).returning(InboxItem.id)
    )[0]["id"]
    late = api.post("/api/actions", json={"title": f"Action en retard {label}"}).json()
    on_time = api.post(
        "/api/actions",
        json={"title": f"Action à l'heure {label}", "due_on": (local_today(TZ) + dt.timedelta(days=9)).isoformat()},
    ).json()
    run(
        ActionItem.update({ActionItem.due_on: local_today(TZ) - dt.timedelta(days=3)}).where(
            ActionItem.id == late["id"]
        )
    )
    signing, expiring = (
        run(
            Convention.insert(
                Convention(
                    department=department_id,
                    model_code="protection-mineurs",
                    title=title,
                    status=status,
                    ends_on=ends_on,
                )
            ).returning(Convention.id)
        )[0]["id"]
        for title, status, ends_on in (
            (f"Convention à signer {label}", "in_signature", None),
            (f"Convention à reconduire {label}", "expiring", local_today(TZ) + dt.timedelta(days=40)),
        )
    )
    return {
        "convened": convened,
        "draft": draft,
        "inbox": inbox,
        "late": late,
        "on_time": on_time,
        "signing": signing,
        "expiring": expiring,
        "contacts": contacts,
    }


def _section(page: str, anchor: str) -> str:
    """The HTML of one section of the dashboard (by its id)."""
    match = re.search(rf'<section[^>]*id="{anchor}"[^>]*>(.*?)</section>', page, re.S)
    assert match, f"no section {anchor}"
    return match.group(1)


def _text(fragment: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", fragment))


def _row(section: str, attribute: str, record_id: int) -> str:
    match = re.search(rf'<tr {attribute}="{record_id}">(.*?)</tr>', section, re.S)
    assert match, f"no row {attribute}={record_id}"
    return match.group(1)


def test_the_home_of_a_department_lists_what_needs_the_agent_now(api_as, web, make_user):
    herault = seed_department(api_as("prefecture", "34"), "34", "Hérault")
    seed_department(api_as("prefecture", "30"), "30", "CANARI")
    agent = make_user("prefecture", "34")
    web.login(agent.email)
    response = web.get("/d/34")
    assert response.status_code == 200, response.text
    page = html.unescape(response.text)
    assert "CANARI" not in page  # nothing of the Gard

    # The next meetings, soonest first, with their answers.
    meetings = _section(page, "prochaines-reunions")
    convened_id, draft_id = herault["convened"]["id"], herault["draft"]["id"]
    assert meetings.index(f'data-meeting="{convened_id}"') < meetings.index(f'data-meeting="{draft_id}"')
    row = _row(meetings, "data-meeting", convened_id)
    assert f'href="/d/34/reunions/{convened_id}"' in row and "Convoquée" in row
    counts = {k: re.search(rf'class="answers-{k}">(\d+)<', row).group(1) for k in ("accepted", "declined", "awaiting")}
    assert counts == {"accepted": "1", "declined": "1", "awaiting": "1"}
    starts = dt.datetime.fromisoformat(herault["convened"]["starts_at"]).astimezone(ZoneInfo(TZ))
    assert f"à {starts.hour:02d} h {starts.minute:02d}" in row  # in the département's zone
    assert "En préparation" in _row(meetings, "data-meeting", draft_id)

    # Answers awaited: the one invitee who has not answered the convened meeting.
    awaited = _section(page, "reponses-attendues")
    assert "Agathe AttendHérault" in awaited and "Alice" not in awaited and "Denis" not in awaited
    assert f'href="/d/34/reunions/{convened_id}"' in awaited
    assert "1 invité(s) n'ont pas encore répondu à 1 réunion(s)" in awaited

    # The reply to verify, linked to the meeting's inbox.
    inbox = _section(page, "reponses-a-verifier")
    assert f'data-inbox="{herault["inbox"]}"' in inbox and f'href="/d/34/reunions/{convened_id}/courriers"' in inbox
    assert "Réponse à vérifier : Expéditeur Hérault" in _text(inbox)

    # Late items only, each linked, and the link to all of them.
    late = _section(page, "actions-en-retard")
    assert f'href="/d/34/actions/{herault["late"]["id"]}"' in late and "3 j de retard" in late
    assert "Action à l'heure" not in late
    assert 'href="/d/34/actions?overdue=1"' in late

    # Conventions to sign and to renew.
    conventions = _section(page, "conventions-a-suivre")
    assert f'href="/d/34/conventions/{herault["signing"]}"' in conventions
    assert "Convention à signer Hérault — Texte initial : 0 signature(s) sur 8" in _text(conventions)
    assert f'href="/d/34/conventions/{herault["expiring"]}"' in conventions
    assert "Convention à reconduire Hérault" in conventions and "à reconduire ou à renouveler" in conventions

    # This year's measure-22 status, as the cycle service computes it.
    from coord.scheduling.cycle import STATES

    cycle = _section(page, "cycle-mesure-22")
    assert 'href="/d/34/cycle"' in cycle
    assert f'id="cycle-state">{STATES[run(_cycle_state())]}<' in cycle

    # The links the home page always had.
    assert 'href="/d/34/instances"' in page and 'href="/d/34/partenaires"' in page
    assert 'href="/d/34/sites-pilotes"' in page


def test_an_agent_of_another_department_does_not_open_this_home(api_as, new_web, make_user):
    seed_department(api_as("prefecture", "34"), "34", "Hérault")
    intruder = new_web()
    intruder.login(make_user("prefecture", "30").email)
    refused = intruder.get("/d/34")
    assert refused.status_code == 404
    assert "Hérault" not in html.unescape(refused.text)
    assert "CDPD" not in refused.text and "Réunion" not in refused.text


async def _cycle_state() -> str:
    from coord.access import SYSTEM, Scope
    from coord.core import clock
    from coord.scheduling.service import department_cycle

    now = clock.now()
    return (await department_cycle(Scope(SYSTEM), "34", local_today(TZ, now).year, now))["state"]


def test_an_empty_department_says_so_in_french(web, make_user):
    observer = make_user("observer", "48")
    web.login(observer.email)
    response = web.get("/d/48")
    assert response.status_code == 200, response.text
    page = html.unescape(response.text)
    for empty in (
        "Aucune réunion prévue.",
        "Aucune réponse attendue pour les réunions convoquées des 30 prochains jours.",
        "Aucune réponse à vérifier.",
        "Aucune action en retard.",
        "Aucune convention en attente de signature.",
        "Aucune convention à renouveler.",
    ):
        assert empty in page, empty
    assert "Préparer une réunion" not in page  # an observer may not convene


def test_the_dashboard_costs_the_same_queries_for_one_or_many_records(api_as):
    """Each section reads a fixed number of queries: more meetings, items and conventions do not add any."""
    from coord.access import SYSTEM, Scope
    from coord.core import clock
    from coord.overview import dashboard

    api = api_as("prefecture", "34")
    seed_department(api, "34", "Un")

    def count_queries() -> int:
        return run(counted_queries(lambda: dashboard.dashboard(Scope(SYSTEM), "34", clock.now())))

    few = count_queries()
    assert few >= 10  # the counting sees the queries (each section reads some)
    seed_department(api_as("prefecture", "34"), "34", "Deux")
    assert count_queries() == few
