"""The legal rules of a convocation hold whatever the agent does: five days' notice unless urgent (with
its reason), never into the past, the agenda frozen once held, weekends and public holidays confirmed."""

from __future__ import annotations

import datetime as dt

from tests.meetings.support import convened_meeting
from tests.meetings.test_meetings_api import local_in, local_working_in, new_meeting, seed_committee


def _slot(day: dt.date, hour: int = 9) -> dict[str, str]:
    start = dt.datetime.combine(day, dt.time(hour, 30))
    return {"starts_at": start.isoformat(), "ends_at": (start + dt.timedelta(hours=2)).isoformat()}


def _working_day_in(days: int, code: str = "34") -> dt.date:
    return local_working_in(days, code).date()


def test_moving_a_convened_meeting_inside_five_days_needs_the_urgency_and_its_reason(api_as):
    api = api_as("prefecture", "34")
    meeting, _ = convened_meeting(api)
    url = f"/api/meetings/{meeting['id']}"
    soon = {**_slot(local_in(2).date()), "confirm_day": True}
    refused = api.patch(url, json={"version": meeting["version"], **soon})
    assert refused.status_code == 422 and "cinq jours" in refused.json()["errors"]["starts_at"]
    no_reason = api.patch(url, json={"version": meeting["version"], **soon, "urgent": True})
    assert no_reason.status_code == 422 and "motif" in no_reason.json()["errors"]["urgency_reason"]
    assert api.get(url).json()["meeting"]["starts_at"] == meeting["starts_at"]  # nothing changed
    moved = api.patch(
        url, json={"version": meeting["version"], **soon, "urgent": True, "urgency_reason": "Saisine du parquet"}
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["urgent"] is True and moved.json()["urgency_reason"] == "Saisine du parquet"


def test_no_meeting_is_moved_into_the_past(api_as):
    api = api_as("prefecture", "34")
    meeting, seed = convened_meeting(api)
    draft = new_meeting(api, seed["committee"]["id"], local_in(20)).json()
    past = {**_slot(local_in(-3).date()), "confirm_day": True}
    response = api.patch(f"/api/meetings/{draft['id']}", json={"version": draft["version"], **past})
    assert response.status_code == 422 and "passé" in response.json()["errors"]["starts_at"]
    response = api.patch(f"/api/meetings/{meeting['id']}", json={"version": meeting["version"], **past})
    assert response.status_code == 422 and "passé" in response.json()["errors"]["starts_at"]


def test_a_held_meetings_agenda_is_frozen(api_as):
    from coord.meetings.tables import Meeting
    from tests.conftest import run

    api = api_as("prefecture", "34")
    meeting, _ = convened_meeting(api)
    run(Meeting.update({Meeting.status: "held"}).where(Meeting.id == meeting["id"]))
    url = f"/api/meetings/{meeting['id']}/agenda"
    response = api.post(url, json={"title": "Point ajouté après coup"})
    assert response.status_code == 409 and "compte rendu" in response.json()["detail"]
    item = api.get(url).json()["items"][0]
    assert api.patch(f"{url}/{item['id']}", json={"title": "Corrigé"}).status_code == 409
    assert api.delete(f"{url}/{item['id']}").status_code == 409


def test_a_weekend_or_a_public_holiday_of_the_department_asks_for_confirmation(api_as):
    api = api_as("prefecture", "34")
    seed = seed_committee(api)
    new_year = dt.date(local_in(0).year + 1, 1, 1)
    at = dt.datetime.combine(new_year, dt.time(9, 30))
    refused = new_meeting(api, seed["committee"]["id"], at, confirm_day=False)
    assert refused.status_code == 422
    assert "jour férié dans ce département (Jour de l'an)" in refused.json()["errors"]["starts_at"]
    sunday = _working_day_in(30)
    sunday += dt.timedelta(days=6 - sunday.weekday())
    at = dt.datetime.combine(sunday, dt.time(9, 30))
    refused = new_meeting(api, seed["committee"]["id"], at, confirm_day=False)
    assert refused.status_code == 422 and "week-end" in refused.json()["errors"]["starts_at"]
    confirmed = new_meeting(api, seed["committee"]["id"], dt.datetime.combine(sunday, dt.time(9, 30)))
    assert confirmed.status_code == 201, confirmed.text


def test_an_overseas_departments_own_holiday_asks_for_confirmation(api_as):
    api = api_as("prefecture", "974")
    seed = seed_committee(api)
    # 20 December: abolition of slavery in La Réunion, a working day in mainland France.
    year = local_in(0, tz="Indian/Reunion").year
    day = dt.date(year, 12, 20) if dt.date(year, 12, 20) > local_in(2).date() else dt.date(year + 1, 12, 20)
    start = dt.datetime.combine(day, dt.time(9, 30))
    refused = new_meeting(api, seed["committee"]["id"], start, confirm_day=False)
    if day.weekday() < 5:
        assert "jour férié dans ce département" in refused.json()["errors"]["starts_at"]
    assert refused.status_code == 422


def test_the_form_offers_the_confirmation_when_the_day_is_not_worked(web, make_user, api_as):
    api = api_as("prefecture", "34")
    seed = seed_committee(api)
    agent = make_user("prefecture", "34")
    web.login(agent.email)
    new_year = dt.date(local_in(0).year + 1, 1, 1)
    form = {
        "committee": str(seed["committee"]["id"]),
        "title": "Réunion de janvier",
        "kind": "ordinaire",
        "date": new_year.isoformat(),
        "start_time": "09:30",
        "end_time": "11:00",
        "place": "Préfecture",
    }
    page = web.post("/d/34/reunions/nouvelle", form, follow_redirects=False)
    assert page.status_code == 422 and "jour férié dans ce département" in page.text
    assert 'name="confirm_day"' in page.text
    done = web.post("/d/34/reunions/nouvelle", {**form, "confirm_day": "true"}, follow_redirects=False)
    assert done.status_code == 303, done.text
