"""Coverage of pilot sites by conventions: for every pilot site in the caller's scope, its
conventions, their status and the signatures still missing; the same as CSV.

A pilot site's conventions are those attached to it, and the conventions of its département not
attached to any pilot site whose model belongs to the site's scheme. A site is covered by a
convention in force whatever its amendments: an open amendment is shown next to it (its own
signatures and missing roles), it never takes the coverage away.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from coord.access import Scope, same_department
from coord.conventions import lifecycle, service
from coord.conventions.tables import Convention
from coord.core.spreadsheet import neutralise_formula
from coord.pilot_sites.tables import PilotSite

SCHEME_LABELS = {
    "coordination": "Instance départementale de coordination",
    "protection_mineurs": "Protection des mineurs victimes",
}
CSV_COLUMNS = (
    "departement",
    "nom_departement",
    "site_pilote",
    "dispositif",
    "plan",
    "etat_site",
    "convention",
    "titre",
    "modele",
    "etat_convention",
    "avenant",
    "signatures_obtenues",
    "signatures_requises",
    "roles_manquants",
    "fin",
    "avenant_en_cours",
    "avenant_signatures_obtenues",
    "avenant_signatures_requises",
    "avenant_roles_manquants",
)


async def coverage(scope: Scope, *, department: str | None = None) -> list[dict[str, Any]]:
    scope = await scope.within_code(department)
    sites_query = scope.select(
        PilotSite,
        PilotSite.id,
        PilotSite.department,
        PilotSite.scheme,
        PilotSite.status,
        PilotSite.department.code.as_alias("department_code"),
        PilotSite.department.name.as_alias("department_name"),
        PilotSite.plan.code.as_alias("plan"),
    )
    sites = await sites_query.order_by(PilotSite.department.code).order_by(PilotSite.id)
    departments = {s["department"] for s in sites}
    rows = (
        await scope.across(sorted(departments)).select(Convention, *service.COLUMNS).order_by(Convention.id)
        if departments
        else []
    )
    catalogue = service.models()
    conventions = [c | {"_row": r} for c, r in zip(await service.conventions_out(rows, catalogue), rows, strict=True)]
    result: list[dict[str, Any]] = []
    for site in sites:
        mine = []
        for c in conventions:
            row = c["_row"]
            if not same_department(row, site):
                continue
            model = catalogue.get(row["model_code"])
            attached = row["pilot_site"] == site["id"]
            same_scheme = row["pilot_site"] is None and model is not None and model.scheme == site["scheme"]
            if attached or same_scheme:
                mine.append({k: v for k, v in c.items() if k != "_row"})
        covered = any(c["status"] in lifecycle.ACTIVE for c in mine)
        result.append(
            {
                "id": site["id"],
                "department": site["department_code"],
                "department_name": site["department_name"],
                "scheme": site["scheme"],
                "scheme_label": SCHEME_LABELS.get(site["scheme"], site["scheme"]),
                "plan": site["plan"],
                "status": site["status"],
                "covered": covered,
                "conventions": mine,
                "missing_signatures": sum(
                    c["required_count"] - c["signed_count"] for c in mine if c["status"] in lifecycle.SIGNING
                ),
                "open_amendments": sum(1 for c in mine if c["open_amendment"]),
            }
        )
    return result


def summary(sites: list[dict[str, Any]]) -> dict[str, int]:
    return {
        "sites": len(sites),
        "covered": sum(1 for s in sites if s["covered"]),
        "in_signature": sum(
            1 for s in sites if not s["covered"] and any(c["status"] in lifecycle.SIGNING for c in s["conventions"])
        ),
        "without_convention": sum(1 for s in sites if not s["conventions"]),
        "amendment_in_signature": sum(1 for s in sites if s["open_amendments"]),
    }


def missing_text(convention: dict[str, Any]) -> str:
    return ", ".join(
        f"{m['label']}" + (f" ({m['missing']} sur {m['required']})" if m["required"] > 1 else "")
        for m in convention["missing_roles"]
    )


def to_csv(sites: list[dict[str, Any]]) -> str:
    """`;`-separated, one line per (pilot site, convention), a line with empty convention columns
    for a pilot site without any; opens in a French spreadsheet as is (BOM added by the route)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for site in sites:
        head = [
            site["department"],
            site["department_name"],
            site["id"],
            site["scheme_label"],
            site["plan"],
            site["status"],
        ]
        if not site["conventions"]:
            writer.writerow([*head, "", "", "", "aucune convention", "", "", "", "", "", "", "", "", ""])
        for c in site["conventions"]:
            amendment = c["open_amendment"]
            writer.writerow(
                [
                    *head,
                    c["id"],
                    neutralise_formula(c["title"]),
                    c["model"],
                    c["status_label"],
                    c["amendment"],
                    c["signed_count"],
                    c["required_count"],
                    missing_text(c),
                    c["ends_on"].isoformat() if c["ends_on"] else "",
                    *(
                        [
                            amendment["number"],
                            amendment["signed_count"],
                            amendment["required_count"],
                            missing_text(amendment),
                        ]
                        if amendment
                        else ["", "", "", ""]
                    ),
                ]
            )
    return out.getvalue()
