"""Benchmark rows for action items: about 100 a year per département over the history, most of the
old ones closed, the recent ones open, a few overdue; most carry out a measure of the national plan."""

from __future__ import annotations

import datetime as dt
import random
import sqlite3

ITEMS_PER_DEPARTMENT_YEAR = 100
STATUSES_OLD = ("fait", "fait", "fait", "abandonne")
STATUSES_RECENT = ("a_faire", "en_cours", "bloque", "fait")
SHARE_WITH_MEASURE = 0.6


def generate(db: sqlite3.Connection, rng: random.Random, scale: float, now: dt.datetime) -> dict[str, int]:
    contacts: dict[int, list[tuple[int, int]]] = {}
    for contact, department, organisation in db.execute("SELECT id, department, organisation FROM contact"):
        contacts.setdefault(department, []).append((contact, organisation))
    meetings: dict[int, list[tuple[int, int, str]]] = {}
    for meeting, department, committee, starts in db.execute(
        "SELECT id, department, committee, starts_at FROM meeting WHERE status = 'held'"
    ):
        meetings.setdefault(department, []).append((meeting, committee, starts))
    plan_measures = [row[0] for row in db.execute("SELECT id FROM measure")]
    stamp = now.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S+00:00")
    per_year = max(1, round(ITEMS_PER_DEPARTMENT_YEAR * min(scale, 1)))
    rows = []
    for department, held in meetings.items():
        people = contacts.get(department) or [(None, None)]
        count = per_year * max(1, len({m[2][:4] for m in held}))
        for number in range(count):
            meeting, committee, starts = held[number % len(held)]
            created = dt.date.fromisoformat(starts[:10])
            due = created + dt.timedelta(days=rng.randint(30, 240))
            recent = (now.date() - created).days < 365
            status = rng.choice(STATUSES_RECENT if recent else STATUSES_OLD)
            contact, organisation = people[number % len(people)]
            measure = rng.choice(plan_measures) if plan_measures and rng.random() < SHARE_WITH_MEASURE else None
            rows.append(
                (
                    department,
                    committee,
                    meeting,
                    organisation,
                    contact,
                    f"Action {department}-{number}",
                    "",
                    due.isoformat(),
                    status,
                    100 if status == "fait" else rng.randint(0, 90),
                    "normale",
                    "",
                    1,
                    due.isoformat() if status == "fait" else None,
                    created.isoformat(),
                    stamp,
                    stamp,
                    measure,
                )
            )
    db.executemany(
        "INSERT INTO action_item (department, committee, meeting, owner_organisation, owner_contact, title, "
        "description, due_on, status, progress, priority, tags, version, done_on, created_on, created_at, "
        "updated_at, measure) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        rows,
    )
    return {"action_items": len(rows)}
