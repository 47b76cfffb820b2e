"""A realistic demo dataset (fictional people, real institutions' kinds) for newcomers to click through."""

from __future__ import annotations

import datetime as dt
import socket
import unicodedata
import zlib
from typing import Any
from zoneinfo import ZoneInfo

from coord.access import SYSTEM, Scope
from coord.accounts.service import create_user
from coord.accounts.tables import User
from coord.actions import service as actions
from coord.actions.tables import ActionItem
from coord.committees import service as committees
from coord.committees.tables import Committee
from coord.conventions import lifecycle
from coord.conventions import service as conventions
from coord.conventions.lifecycle import add_months
from coord.conventions.tables import Convention
from coord.core import clock
from coord.core.clock import local_today
from coord.core.db import transaction
from coord.core.pagination import PageRequest
from coord.core.settings import current_settings
from coord.documents.demo_seed import seed_meeting_annexes
from coord.meetings import minutes
from coord.meetings import service as meetings
from coord.meetings.tables import Decision, Meeting
from coord.partners import service as partners
from coord.partners.tables import Contact, Organisation
from coord.pilot_sites import service as pilot_sites
from coord.pilot_sites.tables import PilotSite
from coord.plans.tables import Plan
from coord.polls.demo_seed import seed_poll
from coord.scheduling.config import cycle_config
from coord.scheduling.dates import meeting_window
from coord.series.demo_seed import seed_series
from coord.territory.tables import Department
from coord.territory.working_days import is_working_day, next_working_day

# -- the ports of `coord demo` ---------------------------------------------------------------------
DEMO_WEB_PORT = 8000
SMTP_PORT_ENV = "COORD_SMTP_PORT"


def port_is_free(host: str, port: int) -> bool:
    """Whether a server could listen on host:port now (a bind test, as uvicorn and the SMTP sink
    bind: SO_REUSEADDR lets a port left in TIME_WAIT by a stopped demo pass, not a listening one)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        return False
    family, kind, proto, _name, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError:
            return False
    return True


def demo_ports_problem(host: str, web_port: int, smtp_port: int) -> str | None:
    """The French message that stops `coord demo` when one of its ports is taken, else None. Without
    this check the demo ran on with its SMTP sink off, and its mails went to whatever held the port."""
    problems = []
    if not port_is_free(host, web_port):
        problems.append(
            f"Le port {web_port} (site web de la démonstration, sur {host}) est déjà utilisé par un autre programme. "
            f"Choisissez-en un autre avec `coord demo --port {web_port + 1}`."
        )
    if smtp_port == web_port:
        problems.append(f"Le site web et le puits SMTP ne peuvent pas partager le port {web_port}.")
    elif not port_is_free("127.0.0.1", smtp_port):
        problems.append(
            f"Le port {smtp_port} (puits SMTP de la démonstration, qui capte ses courriels sur 127.0.0.1) est déjà "
            "utilisé par un autre programme : la démonstration ne démarre pas, sinon ses courriels partiraient vers "
            f"ce programme. Choisissez un autre port avec `coord demo --smtp-port {smtp_port + 1}` ou la variable "
            f"d'environnement {SMTP_PORT_ENV}={smtp_port + 1}, ou arrêtez le programme qui occupe le port."
        )
    return "\n".join(problems) or None


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
    await seed_series(scope)  # a quarterly series of the Hérault's CDPD
    await seed_poll(scope)  # a date poll in progress for the Hérault's commission
    await _national_spread(clock.now())
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
        if contact_id == chair:
            continue  # naming the chair seated them as the committees' president
        role = "membre"
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
            await conventions.record_signature(SYSTEM, signatory["id"], local_today("Europe/Paris").isoformat())
        else:
            await conventions.send_request(scope, convention["id"], signatory["id"])


async def _meetings(scope: Scope) -> None:
    """Last year's measure-22 meeting (held, minutes and decisions) and this year's, to be convened."""
    today = local_today("Europe/Paris")
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
    annual = await meetings.create_meeting(
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
    herault = await Department.select(Department.id).where(Department.code == "34").first()
    await seed_meeting_annexes(scope, annual, herault["id"])  # its convocation's annexes (small PDFs)


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


# -- France as the national coordination sees it ---------------------------------------------------
# Every other département gets its plenary CDPD and this year's measure-22 meeting in one of the
# states the cycle derives (coord/scheduling/cycle.py), so the national map is a realistic mix. Bulk
# inserts: ninety-odd départements through the services would slow `coord demo` down for nothing.
# Shares of the départements, in order, by a stable rank on their code (not random per run).
NATIONAL_SHARES = (("held", 0.62), ("convened", 0.15), ("planned", 0.15), ("late", 1.0))
MEETING_TITLE = "CDPD – séance annuelle consacrée à la traite des êtres humains"
SCHEME_TITLES = {"protection_mineurs": "protection des mineurs", "coordination": "coordination"}
SPREAD_ACTIONS = (
    "Former les agents d'accueil au repérage des victimes.",
    "Mettre à jour l'annuaire des partenaires du protocole traite.",
    "Organiser une réunion avec les associations d'hébergement.",
    "Diffuser le guide de signalement aux établissements scolaires.",
)


def _rank(code: str) -> int:
    return zlib.crc32(f"coord-demo-{code}".encode())


def _assign(codes: list[str]) -> dict[str, str]:
    """The target state of each département: by its stable rank, the first NATIONAL_SHARES held, the
    next convened, then planned, the rest late."""
    ordered = sorted(codes, key=_rank)
    states: dict[str, str] = {}
    start = 0
    for state, share in NATIONAL_SHARES:
        end = len(ordered) if share >= 1 else start + round(share * len(ordered))
        for code in ordered[start:end]:
            states[code] = state
        start = end
    return states


def _working_day(first: dt.date, last: dt.date, preferred: dt.date, subdivision: str | None) -> dt.date | None:
    """A working day in [first, last], the closest to `preferred` (later first), or None."""
    if first > last:
        return None
    preferred = min(max(preferred, first), last)
    for offset in range((last - first).days + 1):
        for day in (preferred + dt.timedelta(days=offset), preferred - dt.timedelta(days=offset)):
            if first <= day <= last and is_working_day(day, subdivision):
                return day
    return None


def _meeting_plan(state: str, code: str, today: dt.date, subdivision: str | None) -> tuple[str, dt.date | None]:
    """(state, day) for a département: the day of its meeting this year, and the state it can really
    have on `today` (a planned meeting needs a free day six days ahead this year, a held one a past
    day: near New Year's Day the state falls back to the closest one possible)."""
    year_start, year_end = dt.date(today.year, 1, 1), dt.date(today.year, 12, 31)
    spread = _rank(code) % 97
    yesterday = today - dt.timedelta(days=1)
    order = {"held": ("held",), "convened": ("convened", "held"), "planned": ("planned", "convened", "held")}
    for candidate in order.get(state, ()):
        if candidate == "held":
            day = _working_day(year_start, yesterday, today - dt.timedelta(days=8 + spread), subdivision)
        elif candidate == "convened":
            day = _working_day(
                today + dt.timedelta(days=1), year_end, today + dt.timedelta(days=6 + spread % 25), subdivision
            )
        else:
            day = _working_day(
                today + dt.timedelta(days=6), year_end, today + dt.timedelta(days=20 + spread % 40), subdivision
            )
        if day is not None:
            return candidate, day
    return "late", None


async def _national_spread(now: dt.datetime) -> None:
    departments = {
        d["code"]: d
        for d in await Department.select(
            Department.id, Department.code, Department.name, Department.timezone, Department.holiday_subdivision
        )
        if d["code"] not in DEPARTMENTS
    }
    if not departments:
        return
    settings = current_settings()
    async with transaction():
        created = await Committee.insert(
            *(
                Committee(
                    department=d["id"],
                    name="CDPD – formation plénière",
                    kind="cdpd_pleniere",
                    description="Conseil départemental de prévention de la délinquance.",
                )
                for d in departments.values()
            )
        ).returning(Committee.id, Committee.department)
        committee_of = {row["department"]: row["id"] for row in created}
        meetings_rows: list[Meeting] = []
        held: list[tuple[dict[str, Any], dt.date]] = []
        for code, target in _assign(sorted(departments)).items():
            department = departments[code]
            zone = ZoneInfo(department["timezone"])
            today = local_today(department["timezone"], now)
            subdivision = department["holiday_subdivision"] or code
            state, day = _meeting_plan(target, code, today, subdivision)
            if state == "late":
                day = _late_day(code, today, subdivision)
                if day is None:
                    continue  # no meeting at all: late once the window closed
                state = "late_minutes" if _rank(code) % 2 else "late_unconvened"
            assert day is not None
            starts = dt.datetime.combine(day, dt.time(9, 30), tzinfo=zone).astimezone(dt.UTC)
            values: dict[str, Any] = {"status": "draft", "convened_at": None, "minutes_published_at": None}
            if state in ("held", "late_minutes"):
                values["status"] = "held"
                values["convened_at"] = starts - dt.timedelta(days=15)
                # Minutes a week after the meeting; a few recent meetings' minutes are still being written.
                published = starts + dt.timedelta(days=7)
                drafting = now - starts < dt.timedelta(days=21) and _rank(code) % 3 == 0
                if state == "held" and published <= now and not drafting:
                    values["minutes_published_at"] = published
                held.append((department, day))
            elif state == "convened":
                values["status"] = "convened"
                values["convened_at"] = min(now - dt.timedelta(hours=1), starts - dt.timedelta(days=15))
            meetings_rows.append(
                Meeting(
                    department=department["id"],
                    committee=committee_of[department["id"]],
                    title=MEETING_TITLE,
                    kind="annuelle_teh",
                    starts_at=starts,
                    ends_at=starts + dt.timedelta(minutes=150),
                    place=f"Préfecture – {department['name']}, salle du conseil",
                    organiser_email=settings.organiser_email,
                    organiser_name=settings.organiser_name,
                    uid=f"demo-{code}-{day.year}@{settings.mail_domain}",
                    minutes="Séance annuelle tenue ; relevé de décisions joint."
                    if values["minutes_published_at"]
                    else "",
                    **values,
                )
            )
        if meetings_rows:
            inserted = await Meeting.insert(*meetings_rows).returning(Meeting.id, Meeting.department)
            meeting_of = {row["department"]: row["id"] for row in inserted}
            await _spread_actions(held, meeting_of, committee_of, now)
        await _spread_pilot_sites(list(departments.values()), now)


def _late_day(code: str, today: dt.date, subdivision: str | None) -> dt.date | None:
    """The past day of a late département's meeting (held without minutes, or never convened), or
    None when there is none this year or when no meeting at all tells the story (the window closed)."""
    config = cycle_config()
    window_closed = today > meeting_window(today.year, config.rule(config.primary_kind, 0))[1]
    if window_closed and _rank(code) % 3 == 0:
        return None
    return _working_day(
        dt.date(today.year, 1, 1),
        today - dt.timedelta(days=35),
        today - dt.timedelta(days=40 + _rank(code) % 60),
        subdivision,
    )


async def _spread_actions(
    held: list[tuple[dict[str, Any], dt.date]],
    meeting_of: dict[int, int],
    committee_of: dict[int, int],
    now: dt.datetime,
) -> None:
    """The held meetings' action items: some départements well advanced, some started, some late."""
    rows: list[ActionItem] = []
    for department, day in held:
        today = local_today(department["timezone"], now)
        pattern = _rank(department["code"]) % 4
        if pattern == 3:
            continue  # no action recorded yet
        for index, title in enumerate(SPREAD_ACTIONS):
            done = index < (3 if pattern == 0 else 1)
            late = pattern == 2 and index == len(SPREAD_ACTIONS) - 1 and today > day + dt.timedelta(days=1)
            due = day + dt.timedelta(days=1) if late else max(today, day) + dt.timedelta(days=30 + 15 * index)
            rows.append(
                ActionItem(
                    department=department["id"],
                    committee=committee_of[department["id"]],
                    meeting=meeting_of[department["id"]],
                    title=title,
                    status="fait" if done else ("a_faire" if late else "en_cours"),
                    progress=100 if done else 0,
                    due_on=due,
                    done_on=min(today, day + dt.timedelta(days=10 * (index + 1))) if done else None,
                    created_on=day,
                )
            )
    if rows:
        await ActionItem.insert(*rows)


async def _spread_pilot_sites(departments: list[dict[str, Any]], now: dt.datetime) -> None:
    """One pilot site in a département out of three, two in a few: covered by a convention in force,
    in signature, or without one yet."""
    plan = await Plan.select(Plan.id).where(Plan.code == "2019-2021").first()
    chosen = [d for d in departments if _rank(d["code"]) % 3 == 0]
    sites = [
        PilotSite(
            department=d["id"],
            plan=plan["id"],
            scheme=scheme,
            designated_on=dt.date(2019, 10, 18),
            status="actif",
        )
        for d in chosen
        for scheme in (("protection_mineurs", "coordination") if _rank(d["code"]) % 4 == 0 else ("protection_mineurs",))
    ]
    if not sites:
        return
    inserted = await PilotSite.insert(*sites).returning(PilotSite.id, PilotSite.department, PilotSite.scheme)
    names = {d["id"]: d["name"] for d in departments}
    ranks = {d["id"]: _rank(d["code"]) for d in departments}
    conventions_rows = []
    for site in inserted:
        kind = (ranks[site["department"]] // 7) % 5  # 0 to 2: in force; 3: in signature; 4: none yet
        if kind == 4 or (site["scheme"] == "coordination" and kind != 0):
            continue
        model = "protection-mineurs" if site["scheme"] == "protection_mineurs" else "clav-partenariat"
        today = local_today("Europe/Paris", now)
        signed = dt.date(today.year - 1 - ranks[site["department"]] % 2, 3 + ranks[site["department"]] % 8, 15)
        in_force = kind < 3
        settled = (
            lifecycle.settle(
                {"status": "in_force", "ends_on": add_months(signed, 36), "effective_from": signed, "period": 1},
                conventions.models().get(model),
                today,
            )
            if in_force
            else {"status": "in_signature"}
        )
        conventions_rows.append(
            Convention(
                department=site["department"],
                pilot_site=site["id"],
                model_code=model,
                title=f"Convention locale ({SCHEME_TITLES[site['scheme']]}) – {names[site['department']]}",
                signed_on=signed if in_force else None,
                **settled,
            )
        )
    if conventions_rows:
        await Convention.insert(*conventions_rows)
