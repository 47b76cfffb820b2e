"""JSON API of the search: one département's records matching a query, grouped by kind."""

from __future__ import annotations

from typing import Any

from litestar import get

from coord.access import Scope
from coord.search import service
from coord.search.schemas import GroupOut, ResultOut, SearchOut


def to_out(department: dict[str, Any], outcome: service.Outcome) -> SearchOut:
    return SearchOut(
        department=department["code"],
        query=outcome.query,
        total=outcome.total,
        groups=[
            GroupOut(
                kind=g.kind,
                label=g.label,
                total=g.total,
                results=[ResultOut(r.kind, r.id, str(r.title), str(r.snippet), r.url, r.context) for r in g.results],
            )
            for g in outcome.groups
        ],
    )


@get(
    "/api/search",
    summary="Recherche plein texte dans un département",
    description=(
        "`q` : les mots cherchés (200 caractères au plus ; accents et terminaisons indifférents, "
        "« mineurs » trouve « mineur ») ; `department` : le code du département (par défaut, celui de "
        "l'utilisateur). Réunions, points d'ordre du jour, décisions, actions, organisations, contacts et "
        "conventions, groupés par type, les meilleurs résultats d'abord."
    ),
    tags=["Recherche"],
)
async def search(access: Scope, q: str | None = None, department: str | None = None) -> SearchOut:
    row = await service.department_for(access, department)
    return to_out(row, await service.search(access, row, q))


ROUTES: list[Any] = [search]
