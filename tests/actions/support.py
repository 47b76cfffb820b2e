"""A Hérault committee with a held meeting and its decisions, the partners who will own actions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from coord.core.clock import local_today


def seed(api: Any, code: str = "34") -> dict[str, Any]:
    org = api.post(
        "/api/organisations",
        json={"name": f"Conseil départemental {code}", "kind": "conseil_departemental", "department": code},
    ).json()
    other_org = api.post(
        "/api/organisations", json={"name": f"Association {code}", "kind": "association", "department": code}
    ).json()
    contact = api.post(
        "/api/contacts",
        json={
            "organisation": org["id"],
            "first_name": "Isabelle",
            "last_name": "Moreau",
            "email": f"i.moreau{code}@cd.fr",
        },
    ).json()
    other = api.post(
        "/api/contacts",
        json={
            "organisation": other_org["id"],
            "first_name": "Fatou",
            "last_name": "Diallo",
            "email": f"f.diallo{code}@asso.fr",
        },
    ).json()
    committee = api.post(
        "/api/committees", json={"name": "CDPD – commission TEH", "kind": "cdpd_commission_teh", "department": code}
    ).json()
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
    meeting = api.post(
        "/api/meetings",
        json={
            "committee": committee["id"],
            "title": "Réunion annuelle TEH",
            "kind": "annuelle_teh",
            "place": "Préfecture",
            "starts_at": start.isoformat(),
            "ends_at": (start + dt.timedelta(hours=2)).isoformat(),
            "confirm_day": True,  # days counted from today may be a weekend
        },
    ).json()
    decisions = [
        api.post(f"/api/meetings/{meeting['id']}/decisions", json={"text": text}).json()
        for text in ("Former les éducateurs de l'ASE au repérage", "Signer la convention mineurs avant juin")
    ]
    for record in (org, other_org, contact, other, committee, meeting, *decisions):
        assert "id" in record, record
    return {
        "org": org,
        "other_org": other_org,
        "contact": contact,
        "other": other,
        "committee": committee,
        "meeting": meeting,
        "decisions": decisions,
    }


def due(days: int, timezone: str = "Europe/Paris") -> str:
    """A due date `days` after today in the département's zone (the Hérault's by default): the
    machine's own date is a day behind Paris between 22:00 and midnight UTC."""
    return (local_today(timezone) + dt.timedelta(days=days)).isoformat()


def owned_item(
    api: Any, world: dict[str, Any], title: str = "Former les éducateurs", days: int = 10, contact: str = "contact"
) -> dict[str, Any]:
    """An item of the seeded world's `contact` (or « other »), due in `days`."""
    response = api.post(
        "/api/actions", json={"title": title, "owner_contact": world[contact]["id"], "due_on": due(days)}
    )
    assert response.status_code == 201, response.text
    return response.json()


def link_token(url: str) -> str:
    """The token of a partner link URL."""
    return url.rsplit("/r/action/", 1)[1]
