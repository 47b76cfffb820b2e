"""National-scale synthetic data: 101 départements, ten years of history.

Scale 1.0 gives about 10,000 contacts, 25,000 meetings and 700,000 invitations (plus whatever the
other domains add through `EXTRA_GENERATORS`). Rows are written with bulk inserts straight into a
database that `coord migrate` and `coord reference load` prepared; nothing here is used by the
service itself.
"""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from coord.actions import bench as actions_bench
from coord.conventions import bench as conventions_bench
from coord.core import clock

YEARS = 10
CONTACTS_PER_DEPARTMENT = 100
MEETINGS_PER_DEPARTMENT_YEAR = 25
INVITEES_PER_MEETING = 28
KINDS = [
    "prefecture",
    "parquet",
    "conseil_departemental",
    "pjj",
    "police",
    "gendarmerie",
    "education_nationale",
    "ddets",
    "ars",
    "hopital",
    "ofii",
    "barreau",
    "association",
    "autre",
]
COMMITTEE_KINDS = ["cdpd_pleniere", "cdpd_commission_teh", "groupe_mineurs", "clav", "codaf"]


@dataclass
class Counts:
    organisations: int = 0
    contacts: int = 0
    committees: int = 0
    meetings: int = 0
    invitations: int = 0
    agenda_items: int = 0


# Domain modules with a `generate(connection, rng, scale, now) -> counts` function, run in this order.
DOMAIN_GENERATORS = (conventions_bench.generate, actions_bench.generate)
# Other domains register `fn(connection, rng, scale, now) -> dict[str, int]` here to add their rows.
EXTRA_GENERATORS: list[Callable[[sqlite3.Connection, random.Random, float, dt.datetime], dict[str, int]]] = []


def _ts(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S+00:00")


def generate_sqlite(
    path: Path, *, scale: float = 1.0, years: int = YEARS, seed: int = 7, now: dt.datetime | None = None
) -> dict[str, int]:
    """Fill `path` with `years` of history per département (the benchmark compares 1 and 10 years)."""
    now = now or clock.now()
    rng = random.Random(seed)
    counts = Counts()
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    departments = [row[0] for row in db.execute("SELECT id FROM department ORDER BY id")]
    created = _ts(now)
    contacts_per_dept = max(5, int(CONTACTS_PER_DEPARTMENT * scale))
    meetings_per_year = max(1, int(MEETINGS_PER_DEPARTMENT_YEAR * scale))
    org_rows, contact_rows, committee_rows, member_rows = [], [], [], []
    meeting_rows, invitation_rows, agenda_rows = [], [], []
    org_id = contact_id = committee_id = meeting_id = 0
    for dept in departments:
        dept_contacts = []
        dept_orgs = []
        for k, kind in enumerate(KINDS):
            org_id += 1
            dept_orgs.append(org_id)
            org_rows.append(
                (
                    org_id,
                    dept,
                    f"{kind.replace('_', ' ').title()} {dept}-{k}",
                    kind,
                    "",
                    "",
                    "",
                    "",
                    "",
                    created,
                    created,
                )
            )
        for c in range(contacts_per_dept):
            contact_id += 1
            dept_contacts.append(contact_id)
            contact_rows.append(
                (
                    contact_id,
                    dept,
                    dept_orgs[c % len(dept_orgs)],
                    f"Prénom{c}",
                    f"Nom{c:03d}",
                    "Référent",
                    f"contact{contact_id}@exemple.gouv.fr",
                    "",
                    1,
                    created,
                    created,
                )
            )
        dept_committees = []
        for kind in COMMITTEE_KINDS:
            committee_id += 1
            dept_committees.append(committee_id)
            committee_rows.append((committee_id, dept, f"{kind} {dept}", kind, None, "", 1, created, created))
            for contact in rng.sample(dept_contacts, min(len(dept_contacts), 20)):
                member_rows.append((dept, committee_id, contact, "membre", created))
        for year_back in range(years):
            for m in range(meetings_per_year):
                meeting_id += 1
                start = now - dt.timedelta(days=365 * year_back + rng.randint(0, 364)) + dt.timedelta(days=30)
                start = start.replace(hour=8, minute=30, second=0, microsecond=0)
                status = "held" if start < now else rng.choice(["draft", "convened"])
                meeting_rows.append(
                    (
                        meeting_id,
                        dept,
                        dept_committees[m % len(dept_committees)],
                        f"Réunion {m + 1}",
                        "ordinaire",
                        _ts(start),
                        _ts(start + dt.timedelta(hours=2)),
                        "Préfecture",
                        "",
                        status,
                        "coord@exemple.gouv.fr",
                        "Coord",
                        f"{uuid.UUID(int=rng.getrandbits(128))}@bench",
                        0,
                        1,
                        0,
                        1,
                        None,
                        "",
                        None,
                        _ts(start - dt.timedelta(days=15)),
                        None,
                        created,
                        created,
                    )
                )
                for position in range(3):
                    agenda_rows.append((dept, meeting_id, position, f"Point {position + 1}", "", 30, None, ""))
                invitees = rng.sample(
                    dept_contacts, min(len(dept_contacts), max(3, int(INVITEES_PER_MEETING * min(scale, 1) or 3)))
                )
                for contact in invitees:
                    answer = rng.choice(["accepted", "declined", "needs_action", "tentative"])
                    invitation_rows.append(
                        (
                            dept,
                            meeting_id,
                            contact,
                            "required",
                            answer,
                            None,
                            None,
                            None,
                            None,
                            "",
                            "unknown",
                            None,
                            None,
                            created,
                        )
                    )
    db.executemany(
        "INSERT INTO organisation (id, department, name, kind, acronym, address, email, phone, notes, "
        "created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        org_rows,
    )
    db.executemany(
        "INSERT INTO contact (id, department, organisation, first_name, last_name, function, email, phone, "
        "active, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        contact_rows,
    )
    db.executemany(
        "INSERT INTO committee (id, department, name, kind, chair, description, active, created_at, "
        "updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
        committee_rows,
    )
    db.executemany(
        "INSERT INTO committee_member (department, committee, contact, role, created_at) VALUES (?,?,?,?,?)",
        member_rows,
    )
    db.executemany(
        "INSERT INTO meeting (id, department, committee, title, kind, starts_at, ends_at, place, video_url, "
        "status, organiser_email, organiser_name, uid, sequence, version, urgent, quorum_required, "
        "reconvened_from, minutes, minutes_published_at, convened_at, cancelled_at, created_at, updated_at) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        meeting_rows,
    )
    db.executemany(
        "INSERT INTO agenda_item (department, meeting, position, title, presenter, duration_minutes, "
        "measure, notes) VALUES (?,?,?,?,?,?,?,?)",
        agenda_rows,
    )
    db.executemany(
        "INSERT INTO invitation (department, meeting, contact, role, answer, answered_at, answer_sequence, "
        "answer_dtstamp, delegate, comment, attendance, represented_by, removed_at, created_at) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        invitation_rows,
    )
    counts.organisations, counts.contacts, counts.committees = len(org_rows), len(contact_rows), len(committee_rows)
    counts.meetings, counts.invitations, counts.agenda_items = len(meeting_rows), len(invitation_rows), len(agenda_rows)
    result = dict(vars(counts))
    for generate_domain in DOMAIN_GENERATORS:
        result.update(generate_domain(db, rng, scale, now))
    for generator in EXTRA_GENERATORS:
        result.update(generator(db, rng, scale, now))
    db.commit()
    db.execute("ANALYZE")
    db.close()
    return result
