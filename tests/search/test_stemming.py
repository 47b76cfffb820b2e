"""French stemming: the same words find each other on both engines.

On SQLite the query side stems with snowballstemmer (coord.search.engine); on PostgreSQL the
`coord_french` configuration does it with `unaccent` and `french_stem`. Both apply the Snowball
French algorithm to folded words, so a search gives the same records whichever engine serves it.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.actions.support import seed
from tests.conftest import run

_WORDS_TEXT = """
Traité traite traitées mineur mineurs mineure nationaux nationale national heureuse heureux
éducateurs éducatrice hôteliers vigilance vigilant protection protégées jugement juges exploitation
exploités prostitution proxénétisme victimes signalement signalées préfecture associations
coopération interministérielle différence différents créées payer paient
"""
WORDS = _WORDS_TEXT.split()


def organisations(api: Any, q: str) -> list[int]:
    response = api.get("/api/search", params={"q": q})
    assert response.status_code == 200, response.text
    return [r["id"] for g in response.json()["groups"] if g["kind"] == "organisation" for r in g["results"]]


def test_words_of_one_stem_find_each_other_even_when_the_stem_is_not_their_prefix(api_as: Any) -> None:
    api = api_as("prefecture", "34")
    world = seed(api)
    org_id = world["org"]["id"]
    api.patch(f"/api/organisations/{org_id}", json={"notes": "Réseaux nationaux ; une issue heureuse."})
    # « national » is the stem of « nationaux », « heureux » that of « heureuse »: no prefix of theirs.
    for q in ("nationaux", "national", "nationale", "NATIONALES", "heureuse", "heureux", "réseau"):
        assert organisations(api, q) == [org_id], q
    # A shorter word of another stem is not a prefix search either.
    for q in ("nation", "heure", "res"):
        assert organisations(api, q) == [], q


def test_python_stems_are_those_of_postgresql(db: Any) -> None:
    if db.name != "postgres":
        pytest.skip("compares with PostgreSQL's french_stem")
    from coord.search.engine import fold, stem

    async def lexemes() -> list[str]:
        import asyncpg

        conn = await asyncpg.connect(db.url)
        try:
            return [await conn.fetchval("SELECT strip(to_tsvector('coord_french', $1))::text", w) for w in WORDS]
        finally:
            await conn.close()

    theirs = [value.strip("'") for value in run(lexemes())]
    ours = [stem(fold(w)) for w in WORDS]
    assert ours == theirs
