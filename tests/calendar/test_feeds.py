"""Subscription feeds: valid PUBLISH .ics at secret-token URLs, ETag/Last-Modified with 304s,
revocation (410), département isolation, DST and overseas times."""

from __future__ import annotations

import datetime as dt
import re
from email.utils import format_datetime
from typing import Any

import icalendar
import pytest

from tests.calendar.test_feed_publish import assert_feed_valid
from tests.calendar.test_ingest import (  # noqa: F401  (the `app` fixture registers the calendar routes)
    PAUL,
    add_committee,
    add_contact,
    add_meeting,
    app,
    department_id,
    invite,
    seed,
)
from tests.conftest import run

SOON = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=30)


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def create_feed(api: Any, kind: str, target_id: int) -> dict[str, Any]:
    response = api.post("/api/feeds", json={"kind": kind, "target_id": target_id})
    assert response.status_code == 201, response.text
    return response.json()


async def _department_with_meetings() -> dict[str, int]:
    dept = await department_id("34")
    committee = await add_committee(dept)
    other_committee = await add_committee(dept, "Cellule opérationnelle")
    ids = {
        "dept": dept,
        "committee": committee,
        "convened": await add_meeting(dept, committee, uid="m1@coord", starts_at=SOON, title="Séance plénière"),
        "cancelled": await add_meeting(
            dept,
            committee,
            uid="m2@coord",
            starts_at=SOON + dt.timedelta(days=7),
            status="cancelled",
            sequence=1,
            title="Séance reportée",
        ),
        "draft": await add_meeting(dept, committee, uid="m3@coord", starts_at=SOON, status="draft", title="Brouillon"),
        "old": await add_meeting(
            dept, committee, uid="m4@coord", starts_at=SOON - dt.timedelta(days=800), status="held", title="Ancienne"
        ),
        "other_committee": await add_meeting(dept, other_committee, uid="m5@coord", starts_at=SOON, title="Cellule"),
    }
    return ids


def test_department_feed_is_valid_publish_with_cancelled_meeting(api_as: Any, client: Any) -> None:
    api = api_as("prefecture", "34")
    ids = run(_department_with_meetings())
    feed = create_feed(api, "department", ids["dept"])
    assert feed["url"].startswith("http://testserver.local/r/calendrier/") and feed["url"].endswith(".ics")
    assert feed["webcal_url"].startswith("webcal://testserver.local/r/calendrier/")

    response = client.get(path_of(feed["url"]))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert response.headers["cache-control"] == "private, max-age=900"
    assert response.headers["etag"].startswith('"')
    data = response.content
    calendar = assert_feed_valid(data)
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert str(calendar["X-WR-CALNAME"]) == "Coord – Hérault (34)"
    events = {str(e["UID"]): e for e in calendar.events}
    assert set(events) == {"m1@coord", "m2@coord", "m5@coord"}  # no draft, nothing out of the window
    assert str(events["m2@coord"]["STATUS"]) == "CANCELLED"
    assert str(events["m2@coord"]["SUMMARY"]).startswith("Annulé")
    assert str(events["m1@coord"]["URL"]) == f"http://testserver.local/d/34/reunions/{ids['convened']}"
    for event in events.values():  # Coord's mailbox, never the agent's; nobody to answer for
        assert str(event["ORGANIZER"]) == "mailto:coord-test@prefecture.example.gouv.fr"
        assert "ATTENDEE" not in event


def test_committee_and_contact_feeds(api_as: Any, client: Any) -> None:
    api = api_as("prefecture", "34")
    ids = run(_department_with_meetings())
    committee_feed = create_feed(api, "committee", ids["committee"])
    calendar = assert_feed_valid(client.get(path_of(committee_feed["url"])).content)
    assert {str(e["UID"]) for e in calendar.events} == {"m1@coord", "m2@coord"}
    assert "Comité départemental TEH" in str(calendar["X-WR-CALNAME"])

    seeded = run(seed())  # the fixtures' meeting, with Paul invited
    contact_feed = create_feed(api, "contact", seeded.contacts[PAUL])
    response = client.get(path_of(contact_feed["url"]))
    calendar = assert_feed_valid(response.content)
    assert [str(e["UID"]) for e in calendar.events] == ["mtg-2026-0042@coord.example.gouv.fr"]
    assert "Paul Martin" in str(calendar["X-WR-CALNAME"])

    # Removed from the meeting: the contact's feed no longer shows it.
    from coord.meetings.tables import Invitation

    etag = response.headers["etag"]
    run(
        Invitation.update({Invitation.removed_at: dt.datetime.now(dt.UTC)}).where(
            Invitation.id == seeded.invitations[PAUL]
        )
    )
    again = client.get(path_of(contact_feed["url"]), headers={"If-None-Match": etag})
    assert again.status_code == 200
    assert icalendar.Calendar.from_ical(again.content).events == []


def test_conditional_requests_give_304(api_as: Any, client: Any) -> None:
    api = api_as("prefecture", "34")
    ids = run(_department_with_meetings())
    url = path_of(create_feed(api, "department", ids["dept"])["url"])
    first = client.get(url)
    etag, last_modified = first.headers["etag"], first.headers["last-modified"]
    assert client.get(url).content == first.content  # stable bytes → stable ETag

    not_modified = client.get(url, headers={"If-None-Match": etag})
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified.headers["etag"] == etag
    assert client.get(url, headers={"If-None-Match": f'"other", W/{etag}'}).status_code == 304
    assert client.get(url, headers={"If-Modified-Since": last_modified}).status_code == 304
    earlier = format_datetime(dt.datetime.now(dt.UTC) - dt.timedelta(days=3), usegmt=True)
    assert client.get(url, headers={"If-Modified-Since": earlier}).status_code == 200
    assert client.get(url, headers={"If-Modified-Since": "n'importe quoi"}).status_code == 200
    # If-None-Match wins over If-Modified-Since.
    assert client.get(url, headers={"If-None-Match": '"other"', "If-Modified-Since": last_modified}).status_code == 200

    # A change to a meeting changes both validators.
    from coord.meetings.tables import Meeting

    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    run(
        Meeting.update({Meeting.title: "Séance plénière (salle 2)", Meeting.updated_at: later}).where(
            Meeting.id == ids["convened"]
        )
    )
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert client.get(url, headers={"If-Modified-Since": last_modified}).status_code == 200


def test_revoked_tokens_give_410_and_unknown_ones_404(api_as: Any, client: Any) -> None:
    api = api_as("prefecture", "34")
    ids = run(_department_with_meetings())
    feed = create_feed(api, "department", ids["dept"])
    url = path_of(feed["url"])
    assert client.get(url).status_code == 200
    listed = api.get("/api/feeds", params={"department": "34"}).json()
    assert [f["id"] for f in listed] == [feed["id"]]
    assert listed[0]["url"] == feed["url"]

    assert api.delete(f"/api/feeds/{feed['id']}").status_code == 204
    gone = client.get(url)
    assert gone.status_code == 410
    assert "révoqué" in gone.text and "BEGIN:VCALENDAR" not in gone.text
    assert api.get("/api/feeds", params={"department": "34"}).json() == []
    assert api.delete(f"/api/feeds/{feed['id']}").status_code == 404
    for bad in ("/r/calendrier/nimportequoi.ics", "/r/calendrier/.ics", url[:-4], url.replace(".ics", "x.ics")):
        assert client.get(bad).status_code == 404, bad

    # An invitation link's token does not open a feed.
    from coord.links import service as links

    token = run(links.issue("invitation", 1, department_id=ids["dept"]))
    assert client.get(f"/r/calendrier/{token}.ics").status_code == 404


def test_another_departments_agent_cannot_create_or_revoke(api_as: Any) -> None:
    ids = run(_department_with_meetings())
    own = create_feed(api_as("prefecture", "34"), "committee", ids["committee"])
    other = api_as("prefecture", "93")
    response = other.post("/api/feeds", json={"kind": "committee", "target_id": ids["committee"]})
    assert response.status_code == 404
    assert other.post("/api/feeds", json={"kind": "department", "target_id": ids["dept"]}).status_code == 404
    assert other.delete(f"/api/feeds/{own['id']}").status_code == 404
    assert other.get("/api/feeds", params={"department": "34"}).status_code == 404
    observer = api_as("observer", "34")
    assert observer.post("/api/feeds", json={"kind": "committee", "target_id": ids["committee"]}).status_code == 403
    assert observer.get("/api/feeds", params={"department": "34"}).status_code == 403
    assert other.post("/api/feeds", json={"kind": "planete", "target_id": 1}).status_code == 422
    national = api_as("national", None)
    assert national.post("/api/feeds", json={"kind": "committee", "target_id": ids["committee"]}).status_code == 201


@pytest.mark.parametrize(
    ("code", "start_utc", "tzid"),
    [
        # Sunday 25 October 2026 is the end of summer time in Paris: 01:30 UTC is 02:30 CET,
        # the meeting runs across the change.
        ("34", dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC), "Europe/Paris"),
        ("973", dt.datetime(2026, 11, 3, 12, 0, tzinfo=dt.UTC), "America/Cayenne"),
    ],
)
def test_dst_and_overseas_instants(db: Any, code: str, start_utc: dt.datetime, tzid: str) -> None:
    from coord.calendar import feeds
    from tests.calendar.helpers import utc_via_vtimezone

    async def build() -> bytes:
        dept = await department_id(code)
        committee = await add_committee(dept)
        await add_meeting(dept, committee, uid=f"tz-{code}@coord", starts_at=start_utc, minutes=180)
        return (await feeds.department_feed(dept, now=start_utc - dt.timedelta(days=10))).body

    data = run(build())
    calendar = assert_feed_valid(data)
    (event,) = calendar.events
    assert event["DTSTART"].params["TZID"] == tzid
    assert event["DTSTART"].dt.astimezone(dt.UTC) == start_utc
    assert event["DTEND"].dt.astimezone(dt.UTC) == start_utc + dt.timedelta(minutes=180)
    assert utc_via_vtimezone(data) == start_utc
    assert utc_via_vtimezone(data, "DTEND") == start_utc + dt.timedelta(minutes=180)


def test_todo_providers_add_vtodos(db: Any) -> None:
    from coord.calendar import feeds
    from coord.ics import CalendarTodo

    async def provider(kind: str, target_id: int, department: dict[str, Any], start: Any, end: Any) -> list[Any]:
        return [
            CalendarTodo(
                uid=f"action-{kind}-{target_id}@coord", summary="Bilan", description="", due=dt.date(2026, 12, 1)
            )
        ]

    ids = run(_department_with_meetings())
    feeds.register_todo_provider(provider)
    try:
        data = run(feeds.department_feed(ids["dept"])).body
    finally:
        feeds.TODO_PROVIDERS.remove(provider)
    # A provider's to-do without organiser or start gets Coord's mailbox and a DTSTART.
    todos = assert_feed_valid(data).todos
    assert [str(t["SUMMARY"]) for t in todos] == ["Bilan"]


def test_feeds_page_creates_and_revokes(make_user: Any, web: Any) -> None:
    ids = run(_department_with_meetings())
    contact = run(add_contact(ids["dept"], "jeanne.roux@example.org", "Jeanne", "Roux"))
    user = make_user("prefecture", "34")
    web.login(user.email)
    page = web.get("/d/34/calendriers")
    assert page.status_code == 200, page.text
    assert "Calendriers à s'abonner" in page.text and "Cellule opérationnelle" in page.text

    created = web.post(
        "/d/34/calendriers", {"kind": "committee", "target_id": str(ids["committee"])}, follow_redirects=True
    )
    assert created.status_code == 200
    assert "webcal://testserver.local/r/calendrier/" in created.text
    assert web.post("/d/34/calendriers", {"kind": "contact", "target_id": str(contact)}).status_code in (200, 303)
    assert web.post("/d/34/calendriers", {"kind": "contact", "target_id": ""}).status_code == 422

    from coord.links.tables import PartnerLink

    links = run(PartnerLink.select().where(PartnerLink.purpose.is_in(["feed_committee", "feed_contact"])))
    assert len(links) == 2
    revoked = web.post(f"/d/34/calendriers/{links[0]['id']}/revoquer", follow_redirects=True)
    assert revoked.status_code == 200
    assert "révoqué" in revoked.text
    row = run(PartnerLink.select().where(PartnerLink.id == links[0]["id"]).first())
    assert row["revoked_at"] is not None

    # A committee of another département cannot be targeted from this page.
    foreign = run(add_committee(run(department_id("93")), "Comité du 93"))
    assert web.post("/d/34/calendriers", {"kind": "committee", "target_id": str(foreign)}).status_code == 404
