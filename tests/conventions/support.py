"""What the conventions' tests share: a département's agent and organisations, the minors'
protection convention with its eight signatories, signatures, the outbox, signature links."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from coord.access import Principal, Scope
from coord.access.roles import Role
from coord.conventions import service
from coord.mail.tables import OutboxMessage
from coord.partners.tables import Contact, Organisation
from coord.territory.tables import Department
from tests.conftest import run

UTC = dt.UTC
T0 = dt.datetime(2026, 1, 10, 9, 0, tzinfo=UTC)

# The minors' protection convention: one organisation per required role (kind, role).
MINORS = [
    ("prefecture", "prefet", "Préfecture de l'Hérault"),
    ("parquet", "procureur", "Parquet de Montpellier"),
    ("conseil_departemental", "president_cd", "Conseil départemental de l'Hérault"),
    ("pjj", "dt_pjj", "DT PJJ Hérault"),
    ("education_nationale", "dasen", "DSDEN de l'Hérault"),
    ("police", "police", "DDSP de l'Hérault"),
    ("gendarmerie", "gendarmerie", "Groupement de gendarmerie de l'Hérault"),
    ("association", "association", "Association Aide Mineurs 34"),
]


class Dept:
    def __init__(self, code: str) -> None:
        row = run(Department.select().where(Department.code == code).first())
        self.id: int = row["id"]
        self.code = code
        self.scope = Scope(
            Principal(
                user_id=None,
                email=f"agent@pref{code}.gouv.fr",
                full_name="Agent",
                role=Role.PREFECTURE,
                department_id=self.id,
                department_code=code,
            )
        )
        self.counter = 0
        self.names: set[str] = set()

    def organisation(self, kind: str, name: str) -> tuple[int, int]:
        """An organisation with one contact; returns (organisation id, contact id). A name already
        given (a second convention of the same model) gets a number: names are unique."""
        self.counter += 1
        if name in self.names:
            name = f"{name} ({self.counter})"
        self.names.add(name)
        org = run(
            Organisation.insert(Organisation(department=self.id, name=name, kind=kind)).returning(Organisation.id)
        )[0]["id"]
        contact = run(
            Contact.insert(
                Contact(
                    department=self.id,
                    organisation=org,
                    first_name="Claire",
                    last_name=f"Signataire{self.counter}",
                    email=f"signataire{self.counter}@{kind}.example.fr",
                )
            ).returning(Contact.id)
        )[0]["id"]
        return org, contact


def minors_convention(dept: Dept, **extra: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    convention = run(
        service.create_convention(
            dept.scope, {"model": "protection-mineurs", "title": "Protection des mineurs 34", **extra}
        )
    )
    signatories = []
    for kind, role, name in MINORS:
        org, contact = dept.organisation(kind, name)
        signatories.append(
            run(
                service.add_signatory(
                    dept.scope,
                    convention["id"],
                    {"organisation": org, "contact": contact, "role": role, "signer_name": f"Signataire {role}"},
                )
            )
        )
    return convention, signatories


def sign(dept: Dept, convention_id: int, signatory_id: int, day: dt.date, now: dt.datetime) -> dict[str, Any]:
    return run(service.sign(dept.scope, convention_id, signatory_id, {"signed_on": day.isoformat()}, now=now))


def signed_minors_convention(
    dept: Dept, day: dt.date, now: dt.datetime, **extra: Any
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The minors' convention signed by its eight required roles on `day`: in force."""
    convention, signatories = minors_convention(dept, **extra)
    for s in signatories:
        convention = sign(dept, convention["id"], s["id"], day, now)
    assert convention["status"] == "in_force"
    return convention, signatories


def outbox(kind: str | None = None) -> list[dict[str, Any]]:
    query = OutboxMessage.select().order_by(OutboxMessage.id)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    return run(query)


def link_from_mail(signatory_id: int) -> str:
    rows = [r for r in outbox("convention_signature") if r["dedupe_key"].endswith(f":{signatory_id}")]
    match = re.search(r"/r/signature/(\S+)", rows[-1]["body_text"])
    assert match
    return match.group(1)
