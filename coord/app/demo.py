"""A realistic demo dataset (fictional people, real institutions' kinds) for newcomers to click through."""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Any

from coord.access import SYSTEM, Scope
from coord.accounts.service import create_user
from coord.accounts.tables import User
from coord.actions import service as actions
from coord.actions.tables import ActionItem
from coord.committees import service as committees
from coord.conventions import service as conventions
from coord.core.db import transaction
from coord.core.pagination import PageRequest
from coord.meetings import minutes
from coord.meetings import service as meetings
from coord.meetings.tables import Decision, Meeting
from coord.partners import service as partners
from coord.partners.tables import Contact, Organisation
from coord.pilot_sites import service as pilot_sites
from coord.pilot_sites.tables import PilotSite
from coord.plans.tables import Plan
from coord.territory.tables import Department
from coord.territory.working_days import is_working_day, next_working_day

DEMO_PASSWORD = "Coord-demo-2026"  # noqa: S105 (printed on purpose for the demo)

DEMO_USERS = [
    ("national@demo.coord.fr", "Claire Martin (MIPROF)", "national", None),
    ("prefecture34@demo.coord.fr", "Julien Roux (préfecture de l'Hérault)", "prefecture", "34"),
    ("coordinateur34@demo.coord.fr", "Sonia Benali (coordinatrice locale)", "coordinator", "34"),
    ("observateur34@demo.coord.fr", "Marc Petit (observateur)", "observer", "34"),
    ("prefecture93@demo.coord.fr", "Nadia Haddad (préfecture de la Seine-Saint-Denis)", "prefecture", "93"),
    ("prefecture57@demo.coord.fr", "Thomas Weber (préfecture de la Moselle)", "prefecture", "57"),
    ("prefecture973@demo.coord.fr", "Line Joseph (préfecture de la Guyane)", "prefecture", "973"),
]

ACCOUNT_REFERENT = "prefecture34@demo.coord.fr"

# (name, kind, acronym, [(first, last, function)])
PARTNERS: list[tuple[str, str, str, list[tuple[str, str, str]]]] = [
    (
        "Préfecture",
        "prefecture",
        "",
        [("Anne", "Lefèvre", "Directrice de cabinet"), ("Paul", "Garnier", "Chef du bureau de la prévention")],
    ),
    (
        "Parquet du tribunal judiciaire",
        "parquet",
        "TJ",
        [("Hélène", "Dubois", "Procureure de la République"), ("Karim", "Saïdi", "Substitut référent traite")],
    ),
    (
        "Conseil départemental – Aide sociale à l'enfance",
        "conseil_departemental",
        "ASE",
        [("Isabelle", "Moreau", "Directrice enfance famille")],
    ),
    (
        "Direction territoriale de la protection judiciaire de la jeunesse",
        "pjj",
        "DTPJJ",
        [("Olivier", "Blanc", "Directeur territorial")],
    ),
    (
        "Direction départementale de la police nationale",
        "police",
        "DDPN",
        [("Sophie", "Girard", "Cheffe de la sûreté départementale")],
    ),
    ("Groupement de gendarmerie départementale", "gendarmerie", "GGD", [("Luc", "Fontaine", "Commandant en second")]),
    (
        "Direction des services départementaux de l'Éducation nationale",
        "education_nationale",
        "DSDEN",
        [("Marie", "Chevalier", "Conseillère technique du DASEN")],
    ),
    (
        "Direction départementale de l'emploi, du travail et des solidarités",
        "ddets",
        "DDETS",
        [("Yann", "Le Gall", "Responsable de l'inspection du travail")],
    ),
    (
        "Association d'aide aux victimes de la traite",
        "association",
        "",
        [("Fatou", "Diallo", "Coordinatrice du pôle traite")],
    ),
    ("Ordre des avocats", "barreau", "", [("Pierre", "Lambert", "Bâtonnier")]),
]

DEPARTMENTS = ["34", "93", "57", "973"]
MAIL_DOMAINS = {
    "prefecture": "interieur.gouv.fr",
    "parquet": "justice.fr",
    "pjj": "justice.fr",
    "police": "interieur.gouv.fr",
    "gendarmerie": "gendarmerie.interieur.gouv.fr",
    "education_nationale": "ac-exemple.fr",
    "ddets": "ddets.gouv.fr",
    "conseil_departemental": "cd.exemple.fr",
    "association": "asso-exemple.org",
    "barreau": "avocats-exemple.fr",
}


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in ascii_text.lower() if c.isalnum() or c == "-").strip("-")


async def demo_loaded() -> bool:
    return await User.exists().where(User.email == DEMO_USERS[0][0])


async def load_demo() -> dict[str, Any]:
    scope = Scope(SYSTEM)
    for email, name, role, dept in DEMO_USERS:
        await create_user(
            scope,
            {
                "email": email,
                "full_name": name,
                "role": role,
                "password": DEMO_PASSWORD,
                "department": dept or "",
                # The Hérault's prefecture agent is its account referent: invites and manages colleagues.
                "manages_accounts": email == ACCOUNT_REFERENT,
            },
        )
    contacts_by_dept: dict[str, dict[str, int]] = {}
    for code in DEPARTMENTS:
        contacts_by_dept[code] = {}
        for org_name, kind, acronym, people in PARTNERS:
            org = await partners.create_organisation(
                scope,
                {
                    "department": code,
                    "name": org_name,
                    "kind": kind,
                    "acronym": acronym,
                },
            )
            for first, last, function in people:
                email = f"{_slug(first)}.{_slug(last)}-{code}@{MAIL_DOMAINS.get(kind, 'exemple.fr')}"
                contact = await partners.create_contact(
                    scope,
                    {
                        "organisation": org["id"],
                        "first_name": first,
                        "last_name": last,
                        "function": function,
                        "email": email,
                        "phone": "01 23 45 67 89",
                    },
                )
                contacts_by_dept[code][kind + ":" + last] = contact["id"]
        await _committees(scope, code, contacts_by_dept[code])
    await _pilot_site(scope)
    await _convention(scope)
    await _meetings(scope)
    return {"users": len(DEMO_USERS), "departements": len(DEPARTMENTS)}


async def _committees(scope: Scope, code: str, contacts: dict[str, int]) -> None:
    chair = next(v for k, v in contacts.items() if k.startswith("prefecture:"))
    cdpd = await committees.create_committee(
        scope,
        {
            "department": code,
            "name": "CDPD – formation plénière",
            "kind": "cdpd_pleniere",
            "chair": chair,
            "description": (
                "Conseil départemental de prévention de la délinquance ; "
                "une séance par an consacrée à la traite (mesure 22)."
            ),
        },
    )
    commission = await committees.create_committee(
        scope,
        {
            "department": code,
            "name": "Commission prostitution et traite des êtres humains",
            "kind": "cdpd_commission_teh",
            "chair": chair,
            "description": "Commission spécialisée du CDPD, étendue aux mineurs.",
        },
    )
    for key, contact_id in contacts.items():
        role = "president" if contact_id == chair else "membre"
        await committees.add_member(scope, cdpd["id"], {"contact": contact_id, "role": role})
        if key.split(":")[0] in {
            "prefecture",
            "parquet",
            "conseil_departemental",
            "pjj",
            "police",
            "gendarmerie",
            "association",
            "education_nationale",
        }:
            await committees.add_member(scope, commission["id"], {"contact": contact_id, "role": role})


async def _pilot_site(scope: Scope) -> None:
    plan = await Plan.select(Plan.id).where(Plan.code == "2019-2021").first()
    if plan is None:
        async with transaction():
            await Plan.insert(
                Plan(
                    code="2019-2021",
                    title="Deuxième plan d'action national contre la traite des êtres humains 2019-2021",
                    start_year=2019,
                    end_year=2021,
                )
            )
    await pilot_sites.create_pilot_site(
        scope,
        {
            "department": "34",
            "plan": "2019-2021",
            "scheme": "protection_mineurs",
            "designated_on": dt.date(2019, 10, 18).isoformat(),
            "status": "actif",
            "notes": "Extension du dispositif parisien de protection des mineurs victimes par convention locale.",
        },
    )
    await pilot_sites.create_pilot_site(
        scope,
        {
            "department": "93",
            "plan": "2019-2021",
            "scheme": "coordination",
            "designated_on": dt.date(2019, 10, 18).isoformat(),
            "status": "actif",
            "notes": "",
        },
    )


# The minors' protection convention of the Hérault pilot site: who signs it, as whom.
CONVENTION_SIGNATORIES = {
    "prefecture": "prefet",
    "parquet": "procureur",
    "conseil_departemental": "president_cd",
    "pjj": "dt_pjj",
    "education_nationale": "dasen",
    "police": "police",
    "gendarmerie": "gendarmerie",
    "association": "association",
}
SIGNED_ALREADY = {"prefet", "procureur", "president_cd", "dt_pjj"}


async def _convention(scope: Scope) -> None:
    """Half signed: four signatures recorded, the signature links of the others sent."""
    herault = await Department.select(Department.id).where(Department.code == "34").first()
    site = await scope.within(herault["id"]).select(PilotSite, PilotSite.id).first()
    convention = await conventions.create_convention(
        scope,
        {
            "department": "34",
            "model": "protection-mineurs",
            "pilot_site": site["id"] if site else None,
            "title": "Convention locale de protection des mineurs victimes de traite – Hérault",
            "notes": "Rédigée en comité de pilotage ; signatures recueillies en parallèle.",
        },
    )
    organisations = await scope.within(herault["id"]).select(Organisation, Organisation.id, Organisation.kind)
    for organisation in organisations:
        role = CONVENTION_SIGNATORIES.get(organisation["kind"])
        if role is None:
            continue
        contact = await Contact.select(Contact.id).where(Contact.organisation == organisation["id"]).first()
        signatory = await conventions.add_signatory(
            scope,
            convention["id"],
            {"organisation": organisation["id"], "role": role, "contact": contact["id"] if contact else None},
        )
        if role in SIGNED_ALREADY:
            await conventions.record_signature(SYSTEM, signatory["id"], dt.date.today().isoformat())
        else:
            await conventions.send_request(scope, convention["id"], signatory["id"])


async def _meetings(scope: Scope) -> None:
    """Last year's measure-22 meeting (held, minutes and decisions) and this year's, to be convened."""
    today = dt.date.today()
    committee = (await committees.list_committees(scope, PageRequest(1, 1), department="34", kind="cdpd_pleniere"))[0][
        0
    ]
    past = await meetings.create_meeting(
        scope,
        {
            "committee": committee["id"],
            "title": "CDPD – séance annuelle consacrée à la traite des êtres humains",
            "kind": "annuelle_teh",
            "date": (today - dt.timedelta(days=35)).isoformat(),
            "start_time": "09:30",
            "end_time": "12:00",
            "place": "Préfecture de l'Hérault, salle Jean Moulin, Montpellier",
            "confirm_day": True,  # whatever day it fell on, it was held
        },
    )
    # The past meeting is recorded as already held: its convocation went out before Coord was used.
    await Meeting.update({Meeting.status: "held"}).where(Meeting.id == past["id"])
    await minutes.update_minutes(
        scope,
        past["id"],
        {
            "minutes": "Séance ouverte par la directrice de cabinet. Données départementales présentées de façon "
            "agrégée. Point d'étape sur la convention locale de protection des mineurs.",
            "version": (await meetings.get_meeting(scope, past["id"]))["version"],
        },
    )
    for text in (
        "Organiser une formation commune au repérage des victimes pour les agents de première ligne.",
        "Recueillir les signatures manquantes de la convention de protection des mineurs avant l'été.",
        "Désigner un référent traite dans chaque commissariat et brigade du département.",
    ):
        await minutes.add_decision(scope, past["id"], {"text": text})
    await _actions(scope, past["id"], today)
    upcoming = today + dt.timedelta(days=30)
    if not is_working_day(upcoming, "34"):
        upcoming = next_working_day(upcoming, "34")
    await meetings.create_meeting(
        scope,
        {
            "committee": committee["id"],
            "title": "CDPD – séance annuelle consacrée à la traite des êtres humains",
            "kind": "annuelle_teh",
            "date": upcoming.isoformat(),
            "start_time": "09:30",
            "end_time": "12:00",
            "place": "Préfecture de l'Hérault, salle Jean Moulin, Montpellier",
            "video_url": "https://webconf.numerique.gouv.fr/coord-demo-34",
        },
    )


async def _actions(scope: Scope, meeting_id: int, today: dt.date) -> None:
    """The held meeting's decisions as action items: one in progress, one overdue, one done."""
    herault = scope.within(await scope.department("34"))

    async def owner(kind: str) -> int | None:
        row = (
            await Contact.select(Contact.id)
            .where(
                Contact.organisation.is_in(
                    herault.select(Organisation, Organisation.id).where(Organisation.kind == kind)
                )
            )
            .first()
        )
        return row["id"] if row else None

    decisions = await Decision.select().where(Decision.meeting == meeting_id).order_by(Decision.position)
    plan = [("ddets", 60, "en_cours"), ("prefecture", 20, None), ("police", 45, "fait")]
    for decision, (kind, days, status) in zip(decisions, plan, strict=False):
        [item] = await actions.create_from_decisions(
            scope,
            meeting_id,
            {
                "decisions": [decision["id"]],
                "owner_contact": await owner(kind),
                "due_on": (today + dt.timedelta(days=days)).isoformat(),
            },
        )
        if status:
            await actions.transition(scope, item["id"], {"status": status, "comment": "Point fait en séance."})
    # One item decided at the meeting five weeks ago and already late, as happens.
    late = await ActionItem.select(ActionItem.id).where(ActionItem.status == "a_faire").first()
    if late:
        await ActionItem.update(
            {ActionItem.created_on: today - dt.timedelta(days=35), ActionItem.due_on: today - dt.timedelta(days=5)}
        ).where(ActionItem.id == late["id"])
