"""Due dates of action items appear in the calendar feeds as tasks every client accepts."""

from __future__ import annotations

import icalendar

from tests.actions.support import due, seed
from tests.support.ics_validators import assert_valid_ics


def test_the_department_feed_lists_items_due_as_valid_todos(api_as, client):
    api = api_as("prefecture", "34")
    world = seed(api)
    item = api.post(
        "/api/actions",
        json={"title": "Former les éducateurs", "due_on": due(20), "owner_contact": world["contact"]["id"]},
    ).json()
    api.post("/api/actions", json={"title": "Sans échéance"})
    from coord.territory.tables import Department
    from tests.conftest import run

    department_id = run(Department.select(Department.id).where(Department.code == "34").first())["id"]
    link = api.post("/api/feeds", json={"kind": "department", "target_id": department_id})
    assert link.status_code == 201, link.text
    token = link.json()["url"].rsplit("/r/calendrier/", 1)[1]
    body = client.get(f"/r/calendrier/{token}").content
    assert_valid_ics(body)
    todos = [c for c in icalendar.Calendar.from_ical(body).walk("VTODO")]
    assert [str(t["summary"]) for t in todos] == ["Action : Former les éducateurs"]
    assert todos[0]["due"].dt.isoformat() == item["due_on"]
    assert str(todos[0]["status"]) == "NEEDS-ACTION"
