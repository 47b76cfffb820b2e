"""Helpers shared by the cycle tests: seed a département's CDPD and read the outbox."""

from __future__ import annotations

from collections import Counter
from typing import Any

from tests.conftest import run


def seed_cdpd(api: Any, code: str, members: int = 2) -> dict[str, Any]:
    """A CDPD plenary committee with `members` contacts (the first one presides)."""
    org = api.post("/api/organisations", json={"name": f"Préfecture {code}", "kind": "prefecture"}).json()
    contacts = []
    for i in range(members):
        response = api.post(
            "/api/contacts",
            json={
                "organisation": org["id"],
                "first_name": f"Membre{i}",
                "last_name": f"Cdpd{code}",
                "email": f"membre{i}-{code}@example.gouv.fr",
            },
        )
        assert response.status_code == 201, response.text
        contacts.append(response.json())
    committee = api.post("/api/committees", json={"name": f"CDPD {code}", "kind": "cdpd_pleniere"}).json()
    for i, contact in enumerate(contacts):
        role = "president" if i == 0 else "membre"
        response = api.post(f"/api/committees/{committee['id']}/members", json={"contact": contact["id"], "role": role})
        assert response.status_code == 201, response.text
    return {"organisation": org, "contacts": contacts, "committee": committee}


def outbox_rows(**where: Any) -> list[dict[str, Any]]:
    from coord.mail.tables import OutboxMessage

    query = OutboxMessage.select().order_by(OutboxMessage.id)
    for name, value in where.items():
        query = query.where(getattr(OutboxMessage, name) == value)
    return run(query)


def kinds_of(rows: list[dict[str, Any]]) -> Counter[str]:
    """Counts by reminder kind; invitee reminders are told apart by their dedupe key's last part."""
    counted: Counter[str] = Counter()
    for row in rows:
        kind = row["kind"]
        if kind == "reminder":
            kind = f"reminder:{row['dedupe_key'].rsplit(':', 1)[-1]}"
        counted[kind] += 1
    return counted
