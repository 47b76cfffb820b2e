"""France at a glance for the national coordination: one row per département with this year's
measure-22 cycle, the progress of its action items and the convention coverage of its pilot sites,
ranked by how late it is.

Three batch reads whatever the number of départements (the national cycle table, the action counts
grouped by département, the coverage of every pilot site), each through the caller's scope: no
query per département.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from coord.access import Scope
from coord.actions import board
from coord.conventions import coverage
from coord.core.clock import local_today
from coord.core.errors import Forbidden
from coord.scheduling import ranking
from coord.scheduling import service as cycle_service
from coord.scheduling.cycle import STATES


@dataclass(frozen=True)
class Group:
    code: str
    label: str
    colour: str  # the fill; the pattern adds a second cue for who does not tell colours apart
    pattern: str  # "solid", "hatch", "dots" or "lines"


VIEWS: dict[str, str] = {
    "cycle": "Réunion annuelle (mesure 22)",
    "actions": "Avancement des actions",
    "conventions": "Conventions des sites pilotes",
}
GROUPS: dict[str, tuple[Group, ...]] = {
    "cycle": (
        Group("late", "En retard", "#ce0500", "hatch"),
        Group("planned", "Planifiée (date proposée)", "#fcc63a", "lines"),
        Group("convened", "Convoquée", "#6a6af4", "dots"),
        Group("held", "Tenue", "#18753c", "solid"),
        Group("none", "Rien de prévu", "#dddddd", "solid"),
    ),
    "actions": (
        Group("late", "Actions en retard", "#ce0500", "hatch"),
        Group("started", "Moins de la moitié faite", "#fcc63a", "lines"),
        Group("advanced", "La moitié ou plus faite", "#18753c", "solid"),
        Group("none", "Aucune action", "#dddddd", "solid"),
    ),
    "conventions": (
        Group("uncovered", "Aucun site couvert", "#ce0500", "hatch"),
        Group("partial", "Sites en partie couverts", "#6a6af4", "dots"),
        Group("covered", "Tous les sites couverts", "#18753c", "solid"),
        Group("none", "Pas de site pilote", "#dddddd", "solid"),
    ),
}
# A département's cycle state (coord.scheduling.cycle.STATES) → its group on the map.
CYCLE_GROUP = {
    "en_retard": "late",
    "non_planifiee": "none",
    "date_proposee": "planned",
    "convoquee": "convened",
    "tenue": "held",
    "cr_publie": "held",
}


def group(view: str, code: str) -> Group:
    return next(g for g in GROUPS[view] if g.code == code)


def require_national(access: Scope) -> None:
    if not access.principal.is_national:
        raise Forbidden("La vue nationale est réservée à la coordination nationale.")


def read_view(raw: str | None) -> str:
    return raw if raw in VIEWS else "cycle"


# -- the national overview ------------------------------------------------------------------------------


def _actions_group(entry: dict[str, Any]) -> str:
    if entry["total"] == 0:
        return "none"
    if entry["overdue"]:
        return "late"
    return "advanced" if entry["progress"] >= 50 else "started"


def _conventions_group(sites: int, covered: int) -> str:
    if sites == 0:
        return "none"
    if covered == sites:
        return "covered"
    return "partial" if covered else "uncovered"


def summary_text(row: dict[str, Any]) -> str:
    """What hovering or focusing a département tells, in one line."""
    cycle = row["state_label"] + (f" depuis {row['days_late']} j" if row["days_late"] else "")
    actions = (
        f"{row['actions_done']} faite(s) sur {row['actions_total']}, {row['actions_overdue']} en retard"
        if row["actions_total"]
        else "aucune"
    )
    sites = f"{row['sites_covered']} couvert(s) sur {row['sites']}" if row["sites"] else "aucun"
    return f"Réunion annuelle : {cycle} · Actions : {actions} · Sites pilotes : {sites}"


async def national_overview(access: Scope, year: int, now: dt.datetime) -> dict[str, Any]:
    """Every visible département (all 101 for the national coordination) with its figures, ranked."""
    require_national(access)
    cycle_rows = await cycle_service.national_cycle(access, year, now)
    departments = {d["code"]: d for d in await access.departments()}
    periods = await board.plan_periods()
    since = board.read_since(None, periods, local_today("Europe/Paris", now))
    actions = {r["code"]: r for r in (await board.national(access, since, now))["departments"]}
    sites: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for site in await coverage.coverage(access):
        sites[site["department"]].append(site)
    timezones = {code: d["timezone"] for code, d in departments.items()}
    rows = []
    for row in ranking.ranked(cycle_rows, timezones, now):
        code = row["department"]
        entry = actions.get(code, {"total": 0, "done": 0, "overdue": 0, "open": 0, "progress": 0})
        own_sites = sites.get(code, [])
        covered = sum(1 for s in own_sites if s["covered"])
        item = {
            **row,
            "code": code,
            "name": row["department_name"],
            "cycle_group": CYCLE_GROUP[row["state"]],
            "actions_total": entry["total"],
            "actions_done": entry["done"],
            "actions_open": entry["open"],
            "actions_overdue": entry["overdue"],
            "actions_progress": entry["progress"],
            "sites": len(own_sites),
            "sites_covered": covered,
            "sites_in_signature": sum(
                1
                for s in own_sites
                if not s["covered"] and any(c["status"] == "in_signature" for c in s["conventions"])
            ),
        }
        item["groups"] = {
            "cycle": item["cycle_group"],
            "actions": _actions_group(entry),
            "conventions": _conventions_group(len(own_sites), covered),
        }
        item["summary"] = summary_text(item)
        rows.append(item)
    rows.sort(key=lambda r: ranking.rank_key(r, r["actions_overdue"]))  # late action items break the ties
    for index, item in enumerate(rows, start=1):
        item["rank"] = index
    counts = {
        view: {g.code: sum(1 for r in rows if r["groups"][view] == g.code) for g in GROUPS[view]} for view in VIEWS
    }
    return {"year": year, "since": since, "rows": rows, "counts": counts, "states": STATES}
