"""A feed shows its own département's data only, whatever its link row names: the feed is read
within the link's département, so a link pointing across départements opens nothing."""

from __future__ import annotations

from typing import Any

import icalendar
import pytest

from tests.calendar.test_feeds import SOON
from tests.calendar.test_ingest import (  # noqa: F401  (the `app` fixture registers the calendar routes)
    add_committee,
    add_contact,
    add_meeting,
    app,
    department_id,
    invite,
)
from tests.conftest import run


async def _link(purpose: str, target_id: int, department: int) -> str:
    """A link row as Coord writes them, but naming a target of another département."""
    from coord.links import service as links

    return await links.issue(purpose, target_id, department_id=department, valid_for=None)


async def _two_departments() -> dict[str, int]:
    herault, seine = await department_id("34"), await department_id("93")
    committee_93 = await add_committee(seine, "Comité de la Seine-Saint-Denis")
    contact_93 = await add_contact(seine, "agent@seine-saint-denis.example.org", "Agent", "Séquano")
    meeting_93 = await add_meeting(seine, committee_93, uid="m-93@coord", starts_at=SOON, title="Réunion du 93")
    await invite(meeting_93, contact_93, seine)
    return {"34": herault, "93": seine, "committee_93": committee_93, "contact_93": contact_93}


@pytest.mark.parametrize(
    ("purpose", "target"),
    [("feed_department", "93"), ("feed_committee", "committee_93"), ("feed_contact", "contact_93")],
)
def test_a_link_of_the_herault_never_opens_another_departments_calendar(client: Any, purpose: str, target: str) -> None:
    ids = run(_two_departments())
    token = run(_link(purpose, ids[target], ids["34"]))
    for method in ("GET", "HEAD"):
        response = client.request(method, f"/r/calendrier/{token}.ics")
        assert response.status_code == 404, (method, response.status_code)
        assert "93" not in response.text and "Séquano" not in response.text
    # The same target through a link of its own département is published.
    own = run(_link(purpose, ids[target], ids["93"]))
    calendar = icalendar.Calendar.from_ical(client.get(f"/r/calendrier/{own}.ics").content)
    assert [str(e["SUMMARY"]) for e in calendar.events] == ["Réunion du 93"]


def test_a_link_naming_no_department_opens_nothing(client: Any) -> None:
    ids = run(_two_departments())
    token = run(_link("feed_department", ids["93"], None))  # type: ignore[arg-type]
    assert client.get(f"/r/calendrier/{token}.ics").status_code == 404
