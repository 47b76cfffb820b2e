"""Every meetings route, walked by an agent of another département: nothing leaks, nothing changes.

Same approach as tests/isolation: the routes are enumerated from the app, so a new meetings route is
covered the day it is added.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from tests.conftest import run
from tests.meetings.test_meetings_api import ensure_meeting_routes, new_meeting, seed_committee
from tests.support.meeting_extras import seed_meeting_extras

MARK = "SECRET34"


@pytest.fixture
def app(app: Any) -> Any:
    return ensure_meeting_routes(app)


def _seed(api: Any) -> dict[str, Any]:
    seed = seed_committee(api, members=2)
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    meeting = new_meeting(api, seed["committee"]["id"], start, title=f"Réunion {MARK}", place=MARK).json()
    base = f"/api/meetings/{meeting['id']}"
    item = api.post(f"{base}/agenda", json={"title": f"Point {MARK}"}).json()
    decision = api.post(f"{base}/decisions", json={"text": f"Décision {MARK}"}).json()
    invitation = api.get(f"{base}/invitations").json()["items"][0]
    return {
        "code": "34",
        "meeting_id": meeting["id"],
        "item_id": item["id"],
        "decision_id": decision["id"],
        "invitation_id": invitation["id"],
        **run(seed_meeting_extras("34", meeting["id"], seed["committee"]["id"], MARK)),
    }


def _fill(path: str, ids: dict[str, Any]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in ids:
            pytest.fail(f"route {path}: unknown path parameter {name!r}")
        return str(ids[name])

    return re.sub(r"\{(\w+)(?::\w+)?\}", value, path)


def test_an_agent_of_93_meets_only_404_on_every_meetings_route(app, client, web, make_user, api_as):
    owner = api_as("prefecture", "34")
    ids = _seed(owner)
    before = owner.get(f"/api/meetings/{ids['meeting_id']}").json()
    intruder = make_user("prefecture", "93")
    headers = {"Authorization": f"Bearer {intruder.token}"}
    web.login(intruder.email)
    checked = 0
    for route in app.routes:
        if not route.path.startswith(("/api/meetings", "/d/{code}/reunions", "/d/{code:str}/reunions")):
            continue
        for method in sorted(set(getattr(route, "methods", set())) - {"OPTIONS", "HEAD"}):
            path = _fill(route.path, ids)
            if path.startswith("/api/"):
                body = {"version": 1, "title": "x", "text": "x", "minutes": "x", "direction": "up", "role": "info"}
                response = client.request(
                    method,
                    path,
                    headers=headers,
                    params={"department": "34"},
                    json=body if method in {"POST", "PATCH", "PUT"} else None,
                )
            elif method == "GET":
                response = web.get(path)
            else:
                response = web.post(path, {"title": "intrus", "version": "1", "direction": "up"})
            checked += 1
            assert MARK not in response.text, f"{method} {path} leaked data ({response.status_code})"
            if path.startswith("/api/meetings/") or path.startswith("/d/34"):
                assert response.status_code in (400, 404), f"{method} {path} answered {response.status_code}"
            else:
                assert response.status_code < 500, f"{method} {path} answered {response.status_code}"
    assert checked > 40
    after = owner.get(f"/api/meetings/{ids['meeting_id']}").json()
    assert after == before
