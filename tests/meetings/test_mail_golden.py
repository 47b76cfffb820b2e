"""Golden files: the convocation exactly as partners read it (text and HTML).

Regenerate after an intended change with `COORD_UPDATE_GOLDEN=1 pytest tests/meetings/test_mail_golden.py`
and review the diff. The meeting is inserted directly (fixed ids, dates and names), so the output
is the same on both engines and any day.

`seed_meeting` is also used by the other mail tests to build meetings without the API.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import run

GOLDEN = Path(__file__).resolve().parents[1] / "mail" / "golden"
UPDATE = os.environ.get("COORD_UPDATE_GOLDEN") == "1"

PEOPLE = [
    ("Claire", "Martin", "claire.martin@herault.gouv.fr", "chair"),
    ("Hugo", "Bernard", "hugo.bernard@justice.fr", "required"),
    ("Inès", "Petit", "ines.petit@herault.fr", "optional"),
    ("Louis", "Durand", "louis.durand@interieur.gouv.fr", "info"),
]
AGENDA = [
    ("Ouverture", "M. le préfet", 10),
    ("Approbation du compte rendu précédent", "", 5),
    ("Données départementales (agrégées, jamais nominatives)", "DDSP & groupement de gendarmerie", 30),
    ("Suivi de la convention de protection des mineurs", "Conseil départemental – ASE", 45),
    ("Questions diverses", "", 0),
]


async def seed_meeting_async(
    *,
    code: str = "34",
    start: dt.datetime = dt.datetime(2030, 3, 12, 9, 30),
    minutes: int = 150,
    people: list[tuple[str, str, str, str]] | None = None,
    status: str = "convened",
    sequence: int = 1,
    place: str = "Préfecture de l'Hérault, salle Jean Moulin\n34 place des Martyrs de la Résistance, Montpellier",
    video_url: str = "https://webconf.numerique.gouv.fr/coord-teh-34",
    title: str = "Réunion annuelle de coordination TEH <2030>",
    uid: str | None = None,
) -> dict[str, Any]:
    from coord.committees.tables import Committee
    from coord.meetings.tables import AgendaItem, Invitation, Meeting
    from coord.partners.tables import Contact, Organisation
    from coord.territory.tables import Department

    department = await Department.select().where(Department.code == code).first()
    zone = ZoneInfo(department["timezone"])
    starts = start.replace(tzinfo=zone) if start.tzinfo is None else start
    org = (
        await Organisation.insert(
            Organisation(department=department["id"], name="Préfecture", kind="prefecture")
        ).returning(Organisation.id)
    )[0]
    committee = (
        await Committee.insert(
            Committee(department=department["id"], name="CDPD – formation traite des êtres humains", kind="cdpd")
        ).returning(Committee.id)
    )[0]
    meeting = (
        await Meeting.insert(
            Meeting(
                department=department["id"],
                committee=committee["id"],
                title=title,
                kind="annuelle_teh",
                starts_at=starts.astimezone(dt.UTC),
                ends_at=(starts + dt.timedelta(minutes=minutes)).astimezone(dt.UTC),
                place=place,
                video_url=video_url,
                status=status,
                organiser_email="coord-test@prefecture.example.gouv.fr",
                organiser_name="Bureau de la prévention – Préfecture",
                uid=uid or f"{uuid.uuid4().hex}@prefecture.example.gouv.fr",
                sequence=sequence,
                version=2,
            )
        ).returning(Meeting.id)
    )[0]
    for position, (item, presenter, duration) in enumerate(AGENDA, start=1):
        await AgendaItem.insert(
            AgendaItem(
                department=department["id"],
                meeting=meeting["id"],
                position=position,
                title=item,
                presenter=presenter,
                duration_minutes=duration,
            )
        )
    invitations = []
    for first, last, email, role in people or PEOPLE:
        contact = (
            await Contact.insert(
                Contact(
                    department=department["id"], organisation=org["id"], first_name=first, last_name=last, email=email
                )
            ).returning(Contact.id)
        )[0]
        invitation = (
            await Invitation.insert(
                Invitation(department=department["id"], meeting=meeting["id"], contact=contact["id"], role=role)
            ).returning(Invitation.id)
        )[0]
        invitations.append({"id": invitation["id"], "contact": contact["id"], "email": email, "role": role})
    return {
        "id": meeting["id"],
        "department": department,
        "organisation": org["id"],
        "invitations": invitations,
    }


def seed_meeting(**kwargs: Any) -> dict[str, Any]:
    return run(seed_meeting_async(**kwargs))


async def convene(meeting_id: int) -> int:
    from coord.core.db import transaction
    from coord.meetings import notify

    async with transaction():
        return await notify.queue_convocation(meeting_id)


def outbox_rows(**where: Any) -> list[dict[str, Any]]:
    from coord.mail.tables import OutboxMessage

    query = OutboxMessage.select().order_by(OutboxMessage.id)
    for name, value in where.items():
        query = query.where(getattr(OutboxMessage, name) == value)
    return run(query)


@pytest.fixture
def mail_settings(settings: Any) -> Any:
    from coord.core.settings import use_settings

    use_settings(settings)
    return settings


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if UPDATE or not path.exists():
        if not UPDATE:
            pytest.fail(f"golden file {path} missing: run with COORD_UPDATE_GOLDEN=1 to create it")
        path.write_text(actual, encoding="utf-8")
        return
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"{name} changed; review and regenerate with COORD_UPDATE_GOLDEN=1"


@pytest.mark.parametrize(("code", "suffix"), [("34", ""), ("973", "_overseas")])
def test_convocation_matches_the_golden_files(mail_settings, code, suffix):
    meeting = seed_meeting(code=code, uid="golden-meeting@prefecture.example.gouv.fr")
    assert run(convene(meeting["id"])) == len(PEOPLE)
    row = outbox_rows(to_email=PEOPLE[1][2])[0]
    assert row["subject"].startswith("Convocation : Réunion annuelle de coordination TEH <2030> – mardi 12 mars 2030")
    check_golden(f"convocation{suffix}.txt", row["body_text"])
    check_golden(f"convocation{suffix}.html", row["body_html"])


def test_the_html_mail_escapes_what_users_typed(mail_settings):
    meeting = seed_meeting(title='<script>alert("x")</script> & co', place="<b>Salle</b>")
    run(convene(meeting["id"]))
    html = outbox_rows()[0]["body_html"]
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;Salle" in html
