"""A calendar app revalidating its subscription learns of every change it would show: action items
created, edited, moved to another status, abandoned or handed to someone else, an agenda point
removed; and of nothing else (304), another département's changes included.

Changes go through the real API. HTTP dates have whole seconds, so before each change the test lets
the wall clock reach the next second (`next_second`): that only waits, it asserts nothing on time.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import icalendar

from tests.actions.support import due, seed
from tests.calendar.test_feed_publish import assert_feed_valid
from tests.calendar.test_feeds import create_feed, path_of
from tests.calendar.test_ingest import department_id
from tests.conftest import run


def next_second() -> None:
    """Wait until the wall clock is in a later second than every Last-Modified already sent."""
    now = time.time()
    time.sleep(math.floor(now) + 1 - now + 0.01)


@dataclass(frozen=True)
class Seen:
    """What a calendar app keeps of its last download."""

    etag: str
    last_modified: str
    body: bytes

    @property
    def todos(self) -> dict[str, icalendar.Todo]:
        return {str(t["SUMMARY"]): t for t in icalendar.Calendar.from_ical(self.body).todos}


def download(client: Any, url: str) -> Seen:
    response = client.get(url)
    assert response.status_code == 200, response.text
    assert_feed_valid(response.content)
    return Seen(response.headers["etag"], response.headers["last-modified"], response.content)


def assert_unchanged(client: Any, url: str, seen: Seen) -> None:
    assert client.get(url, headers={"If-None-Match": seen.etag}).status_code == 304
    assert client.get(url, headers={"If-Modified-Since": seen.last_modified}).status_code == 304
    assert client.head(url, headers={"If-Modified-Since": seen.last_modified}).status_code == 304


def assert_changed(client: Any, url: str, seen: Seen) -> Seen:
    """Both validators moved on: the app's If-None-Match and If-Modified-Since both get the new feed."""
    by_etag = client.get(url, headers={"If-None-Match": seen.etag})
    assert by_etag.status_code == 200
    by_date = client.get(url, headers={"If-Modified-Since": seen.last_modified})
    assert by_date.status_code == 200
    assert by_date.content == by_etag.content != seen.body
    now = download(client, url)
    assert now.etag != seen.etag
    assert parsedate_to_datetime(now.last_modified) > parsedate_to_datetime(seen.last_modified)
    assert_unchanged(client, url, now)
    return now


def _feed_of_34(api: Any, kind: str, target_id: int) -> str:
    return path_of(create_feed(api, kind, target_id)["url"])


def test_every_change_of_an_action_item_reaches_the_department_feed(api_as: Any, client: Any) -> None:
    api = api_as("prefecture", "34")
    world = seed(api)
    url = _feed_of_34(api, "department", run(department_id("34")))
    seen = download(client, url)
    assert seen.todos == {}
    assert_unchanged(client, url, seen)

    next_second()
    item = api.post(
        "/api/actions",
        json={"title": "Former les éducateurs", "due_on": due(20), "owner_contact": world["contact"]["id"]},
    ).json()
    seen = assert_changed(client, url, seen)
    assert str(seen.todos["Action : Former les éducateurs"]["STATUS"]) == "NEEDS-ACTION"

    next_second()
    assert api.patch(f"/api/actions/{item['id']}", json={"title": "Former les éducateurs de l'ASE"}).status_code == 200
    seen = assert_changed(client, url, seen)
    assert list(seen.todos) == ["Action : Former les éducateurs de l'ASE"]

    for status, shown in (("en_cours", "IN-PROCESS"), ("fait", "COMPLETED")):
        next_second()
        assert api.post(f"/api/actions/{item['id']}/transition", json={"status": status}).status_code == 200
        seen = assert_changed(client, url, seen)
        assert str(seen.todos["Action : Former les éducateurs de l'ASE"]["STATUS"]) == shown

    next_second()
    reopened = api.post(f"/api/actions/{item['id']}/transition", json={"status": "a_faire", "reopen": True})
    assert reopened.status_code == 200, reopened.text
    seen = assert_changed(client, url, seen)
    next_second()
    assert api.post(f"/api/actions/{item['id']}/transition", json={"status": "abandonne"}).status_code == 200
    seen = assert_changed(client, url, seen)
    assert str(seen.todos["Action : Former les éducateurs de l'ASE"]["STATUS"]) == "CANCELLED"

    # A comment is not shown in the feed: nothing to download again.
    assert api.post(f"/api/actions/{item['id']}/comments", json={"comment": "Reporté"}).status_code == 201
    assert_unchanged(client, url, seen)


def test_an_item_handed_to_another_owner_leaves_the_first_owners_feed(api_as: Any, client: Any) -> None:
    api = api_as("prefecture", "34")
    world = seed(api)
    item = api.post(
        "/api/actions",
        json={"title": "Signer la convention", "due_on": due(15), "owner_contact": world["contact"]["id"]},
    ).json()
    first_owner = _feed_of_34(api, "contact", world["contact"]["id"])
    second_owner = _feed_of_34(api, "contact", world["other"]["id"])
    committee = _feed_of_34(api, "committee", world["committee"]["id"])
    seen = {url: download(client, url) for url in (first_owner, second_owner, committee)}
    assert list(seen[first_owner].todos) == ["Action : Signer la convention"]
    assert seen[second_owner].todos == {} and seen[committee].todos == {}

    next_second()
    handed = api.patch(
        f"/api/actions/{item['id']}",
        json={
            "owner_organisation": world["other_org"]["id"],
            "owner_contact": world["other"]["id"],
            "committee": world["committee"]["id"],
        },
    )
    assert handed.status_code == 200, handed.text
    # Gone from the first owner's feed: nothing shown there changed its time, yet both validators move.
    assert assert_changed(client, first_owner, seen[first_owner]).todos == {}
    assert list(assert_changed(client, second_owner, seen[second_owner]).todos) == ["Action : Signer la convention"]
    assert list(assert_changed(client, committee, seen[committee]).todos) == ["Action : Signer la convention"]


def test_an_agenda_point_removed_from_a_convened_meeting_reaches_the_feed(api_as: Any, client: Any) -> None:
    from tests.meetings.test_meetings_api import local_in, new_meeting, seed_committee

    api = api_as("prefecture", "34")
    committee = seed_committee(api)["committee"]
    meeting = new_meeting(api, committee["id"], local_in(20)).json()
    convened = api.post(f"/api/meetings/{meeting['id']}/convene", json={"version": meeting["version"]})
    assert convened.status_code == 200, convened.text
    items = api.get(f"/api/meetings/{meeting['id']}/agenda").json()["items"]
    url = _feed_of_34(api, "committee", committee["id"])
    seen = download(client, url)
    (event,) = icalendar.Calendar.from_ical(seen.body).events
    assert items[-1]["title"] in str(event["DESCRIPTION"])

    next_second()
    assert api.delete(f"/api/meetings/{meeting['id']}/agenda/{items[-1]['id']}").status_code == 204
    seen = assert_changed(client, url, seen)
    (event,) = icalendar.Calendar.from_ical(seen.body).events
    assert items[-1]["title"] not in str(event["DESCRIPTION"])


def test_changes_in_another_department_leave_the_feed_as_it_was(api_as: Any, client: Any) -> None:
    herault = api_as("prefecture", "34")
    world = seed(herault)
    herault.post("/api/actions", json={"title": "Former les éducateurs", "due_on": due(20)})
    url = _feed_of_34(herault, "department", run(department_id("34")))
    committee_url = _feed_of_34(herault, "committee", world["committee"]["id"])
    seen = {u: download(client, u) for u in (url, committee_url)}

    next_second()
    reunion = api_as("prefecture", "974")
    elsewhere = seed(reunion, "974")
    item = reunion.post(
        "/api/actions",
        json={
            "title": "Action réunionnaise",
            "due_on": due(20, "Indian/Reunion"),
            "committee": elsewhere["committee"]["id"],
        },
    ).json()
    assert reunion.post(f"/api/actions/{item['id']}/transition", json={"status": "en_cours"}).status_code == 200
    for u, before in seen.items():
        assert_unchanged(client, u, before)
        assert download(client, u) == before
