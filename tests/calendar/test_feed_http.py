"""What calendar apps get from a feed URL over HTTP: HEAD answered like GET without a body (apps
probe with it), 404 for a URL Coord never issued, 410 Gone for a revoked or expired one, in French."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
from itsdangerous import URLSafeSerializer

from tests.calendar.test_feed_publish import assert_feed_valid
from tests.calendar.test_feeds import SOON, create_feed, path_of
from tests.calendar.test_ingest import (  # noqa: F401  (the `app` fixture registers the calendar routes)
    add_committee,
    add_meeting,
    app,
    department_id,
)
from tests.conftest import run

# What a HEAD must repeat of the GET (Date and the like aside).
SAME_HEADERS = (
    "content-type",
    "content-length",
    "etag",
    "last-modified",
    "cache-control",
    "content-disposition",
    "x-content-type-options",
    "referrer-policy",
)


async def _department_with_a_meeting(code: str = "34") -> int:
    dept = await department_id(code)
    committee = await add_committee(dept)
    await add_meeting(dept, committee, uid=f"head-{code}@coord", starts_at=SOON, title="Séance plénière")
    return dept


def _same_headers(get: Any, head: Any) -> None:
    for name in SAME_HEADERS:
        assert head.headers.get(name) == get.headers.get(name), name


def test_head_on_a_feed_gives_the_headers_of_get_and_no_body(api_as: Any, client: Any) -> None:
    url = path_of(create_feed(api_as("prefecture", "34"), "department", run(_department_with_a_meeting()))["url"])
    get = client.get(url)
    assert get.status_code == 200
    assert_feed_valid(get.content)

    head = client.head(url)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(get.content))
    assert head.headers["content-type"] == "text/calendar; charset=utf-8"
    _same_headers(get, head)

    # Conditional HEAD, as an app revalidating its copy.
    etag, last_modified = get.headers["etag"], get.headers["last-modified"]
    for headers in ({"If-None-Match": etag}, {"If-Modified-Since": last_modified}):
        assert client.head(url, headers=headers).status_code == 304
        assert client.get(url, headers=headers).status_code == 304
    not_modified = client.head(url, headers={"If-None-Match": etag})
    assert not_modified.content == b"" and not_modified.headers["etag"] == etag


def test_a_revoked_feed_is_gone_with_a_french_reason_for_get_and_head(api_as: Any, client: Any) -> None:
    api = api_as("prefecture", "34")
    feed = create_feed(api, "department", run(_department_with_a_meeting()))
    url = path_of(feed["url"])
    assert api.delete(f"/api/feeds/{feed['id']}").status_code == 204

    gone = client.get(url)
    assert gone.status_code == 410
    assert gone.headers["content-type"] == "text/plain; charset=utf-8"
    assert "lien d'abonnement a été révoqué" in gone.text and "préfecture" in gone.text
    assert "BEGIN:VCALENDAR" not in gone.text and "Séance" not in gone.text
    head = client.head(url)
    assert head.status_code == 410 and head.content == b""
    _same_headers(gone, head)
    # Gone is gone: a conditional request does not turn it into a 304.
    assert client.get(url, headers={"If-None-Match": "*"}).status_code == 410


def test_an_expired_feed_link_is_gone(client: Any) -> None:
    from coord.links import service as links

    dept = run(_department_with_a_meeting())
    issued = dt.datetime.now(dt.UTC) - dt.timedelta(days=10)
    token = run(links.issue("feed_department", dept, department_id=dept, valid_for=dt.timedelta(days=1), now=issued))
    gone = client.get(f"/r/calendrier/{token}.ics")
    assert gone.status_code == 410
    assert "a expiré" in gone.text and "BEGIN:VCALENDAR" not in gone.text
    assert client.head(f"/r/calendrier/{token}.ics").status_code == 410


def test_unknown_and_forged_feed_urls_are_not_found(api_as: Any, client: Any) -> None:
    from coord.links import service as links

    dept = run(_department_with_a_meeting())
    feed = create_feed(api_as("prefecture", "34"), "department", dept)
    link_id = feed["id"]
    forged = URLSafeSerializer("une-autre-cle", salt=links.SALT).dumps([link_id, "feed_department"])
    never_issued = links.token_for(link_id + 1000, "feed_department")
    of_an_invitation = run(links.issue("invitation", 1, department_id=dept))
    relabelled = links.token_for(link_id, "feed_committee")  # a real link, signed as another kind of feed
    for path in (
        f"/r/calendrier/{forged}.ics",
        f"/r/calendrier/{never_issued}.ics",
        f"/r/calendrier/{of_an_invitation}.ics",
        f"/r/calendrier/{relabelled}.ics",
        "/r/calendrier/nimportequoi.ics",
        path_of(feed["url"]).removesuffix(".ics"),
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "introuvable" in response.text and "BEGIN:VCALENDAR" not in response.text
        head = client.head(path)
        assert head.status_code == 404 and head.content == b"", path
    assert client.get(path_of(feed["url"])).status_code == 200  # the real one still works


def test_head_over_a_real_http_server(api_as: Any, live_url: str) -> None:
    """Through uvicorn, as calendar apps reach it: the HEAD answer has the GET's length and no body."""
    url = path_of(create_feed(api_as("prefecture", "34"), "department", run(_department_with_a_meeting()))["url"])
    with httpx.Client(base_url=live_url) as http:
        get = http.get(url)
        head = http.head(url)
        assert (get.status_code, head.status_code) == (200, 200)
        assert head.content == b"" and head.headers["content-length"] == str(len(get.content))
        _same_headers(get, head)
        assert http.head(url, headers={"If-None-Match": get.headers["etag"]}).status_code == 304
