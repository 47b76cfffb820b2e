"""Full-text queries of the search index, one implementation per engine, the same French rules.

The index is written by triggers (coord/search/piccolo_migrations): it holds the text as typed, so
it is exact at every moment whatever code wrote the row. What differs is where French stemming
happens.

PostgreSQL does it all: `coord_french` folds accents (`unaccent`) then stems (`french_stem`, the
Snowball French stemmer) both the documents and `plainto_tsquery`'s query, which treats every
character of the user's input as text (no operator can be injected) and drops French stop words.

SQLite's FTS5 has no French stemmer, and its tokenizer (`unicode61 remove_diacritics 2`) only folds
case and accents. Two ways were possible:
- index stemmed text computed in Python: the triggers cannot call Python, so the index would be
  written by our code after each write, and any write path that forgets it leaves it stale;
- query with the stem as a prefix (`mineur*`): wrong both ways, since a stem is not always a prefix
  of its words (« internationaux » / « international », « payer » → « pai ») and a prefix
  also matches unrelated words (« trait* » finds « traiteur »).
So the index keeps folded words and stemming is applied at query time, exactly: each query word is
folded and stemmed with snowballstemmer's French stemmer (the algorithm of `french_stem`, applied
after folding as `coord_french` does), and replaced by the indexed words of the same stem, read
from the index's vocabulary (`fts5vocab`) under a short common prefix. « mineurs » becomes
`("mineur" OR "mineure" OR "mineurs")`: FTS5 receives only quoted terms of our own making, so
input such as `"`, `*`, `NEAR`, `-`, `:` or `(` is never FTS syntax. French stop words are dropped
as PostgreSQL drops them (its `french.stop` list).
"""

from __future__ import annotations

import functools
import json
import re
import threading
import unicodedata
from dataclasses import dataclass
from typing import Any

import snowballstemmer
from piccolo.querystring import QueryString

from coord.core.db import current_engine, is_sqlite

# Markers around highlighted words, chosen because they never occur in text typed in a form; the
# snippet is HTML-escaped first, then the markers become <mark> (coord.search.service).
MARK_START = "\x02"
MARK_END = "\x03"

# PostgreSQL's tsearch_data/french.stop (Snowball's French stop words), which `french_stem` drops.
_STOP_WORDS_TEXT = """
au aux avec ce ces dans de des du elle en et eux il je la le leur lui ma mais me même mes moi mon ne nos notre
nous on ou par pas pour qu que qui sa se ses son sur ta te tes toi ton tu un une vos votre vous c d j l à m n
s t y été étée étées étés étant étante étants étantes suis es est sommes êtes sont serai seras sera serons
serez seront serais serait serions seriez seraient étais était étions étiez étaient fus fut fûmes fûtes furent
sois soit soyons soyez soient fusse fusses fût fussions fussiez fussent ayant ayante ayantes ayants eu eue
eues eus ai as avons avez ont aurai auras aura aurons aurez auront aurais aurait aurions auriez auraient avais
avait avions aviez avaient eut eûmes eûtes eurent aie aies ait ayons ayez aient eusse eusses eût eussions
eussiez eussent
"""
FRENCH_STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())

MAX_WORDS = 10  # words of a query actually searched (the others would only narrow it further)
MAX_VARIANTS = 200  # indexed words kept per query word (the most frequent forms come first)
MAX_PER_KIND = 20  # results listed per kind; the count says how many matched in all

# The unicode61 tokenizer's idea of a word: letters, digits and private-use characters.
_WORD = re.compile(r"[^\W_]+")
_local = threading.local()


@dataclass(frozen=True)
class Hit:
    kind: str
    object_id: int
    parent_id: int | None
    title: str  # with MARK_START/MARK_END around the words found
    snippet: str
    total: int  # hits of this kind in all


def fold(word: str) -> str:
    """Lower case without diacritics, as `unicode61 remove_diacritics 2` and `unaccent` fold."""
    decomposed = unicodedata.normalize("NFD", word.lower())
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


@functools.lru_cache(maxsize=200_000)
def stem(folded: str) -> str:
    """The French Snowball stem of a folded word (a stemmer instance per thread: it keeps state)."""
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        stemmer = _local.stemmer = snowballstemmer.stemmer("french")
    return str(stemmer.stemWord(folded))


def words(text: str) -> list[str]:
    """The folded words of a query that count: stop words dropped, duplicates and the excess too."""
    kept: list[str] = []
    for word in _WORD.findall(unicodedata.normalize("NFC", text)):
        folded = fold(word)
        # After folding, as `coord_french` checks them (« été » is kept there as « ete »).
        if folded in FRENCH_STOP_WORDS:
            continue
        if folded not in kept:
            kept.append(folded)
    return kept[:MAX_WORDS]


async def search(department_id: int, text: str, per_kind: int = MAX_PER_KIND) -> list[Hit]:
    """The best `per_kind` hits of each kind in one département, best first within each kind."""
    if is_sqlite():
        return await _search_sqlite(department_id, text, per_kind)
    return await _search_postgres(department_id, text, per_kind)


async def _rows(sql: str, *args: Any) -> list[dict[str, Any]]:
    return list(await current_engine().run_querystring(QueryString(sql, *args)) or [])


def _hits(rows: list[dict[str, Any]]) -> list[Hit]:
    return [
        Hit(
            kind=r["kind"],
            object_id=int(r["object_id"]),
            parent_id=None if r["parent_id"] is None else int(r["parent_id"]),
            title=r["title_hl"] or "",
            snippet=r["body_hl"] or "",
            total=int(r["total"]),
        )
        for r in rows
    ]


# -- SQLite ------------------------------------------------------------------------------------


def _prefix(word_stem: str) -> str:
    """A prefix shared by every word whose stem is `word_stem`: Snowball French removes suffixes
    and rewrites at most the last two letters of what remains (« aux » → « al », « amment » →
    « ant », a final Y → « i »)."""
    return word_stem[: max(2, len(word_stem) - 2)]


async def _variants(word: str) -> list[str]:
    """The indexed words with the stem of `word` (itself included when indexed), most frequent first."""
    target = stem(word) or word
    low = _prefix(target)
    high = low[:-1] + chr(ord(low[-1]) + 1)
    rows = await _rows(
        "SELECT term, cnt FROM search_index_terms WHERE term >= {} AND term < {}",
        low,
        high,
    )
    found = [(r["term"], r["cnt"]) for r in rows if stem(r["term"]) == target]
    found.sort(key=lambda t: -t[1])
    return [term for term, _ in found[:MAX_VARIANTS]]


def _quoted(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


# Ranked without snippets first (cheap: the index's statistics), then snippets for the few shown.
SQLITE_RANKED = """
WITH hits AS MATERIALIZED (
    SELECT rowid AS id, kind, bm25(search_index, 0.0, 0.0, 0.0, 0.0, 4.0, 1.0, 0.5) AS score
    FROM search_index
    WHERE search_index MATCH {} AND department_id = {}
), ranked AS (
    SELECT id, kind, ROW_NUMBER() OVER (PARTITION BY kind ORDER BY score, id) AS rn,
        COUNT(*) OVER (PARTITION BY kind) AS total
    FROM hits
)
SELECT id, total FROM ranked WHERE rn <= {} ORDER BY kind, rn
"""
SQLITE_SNIPPETS = """
SELECT rowid AS id, kind, object_id, parent_id,
    highlight(search_index, 4, char(2), char(3)) AS title_hl,
    snippet(search_index, 5, char(2), char(3), '…', 24) AS body_hl
FROM search_index
WHERE search_index MATCH {} AND rowid IN (SELECT value FROM json_each({}))
"""


async def _search_sqlite(department_id: int, text: str, per_kind: int) -> list[Hit]:
    groups: list[str] = []
    for word in words(text):
        variants = await _variants(word)
        if not variants:
            return []  # every word must be found (as PostgreSQL's query does)
        groups.append("(" + " OR ".join(_quoted(v) for v in variants) + ")")
    if not groups:
        return []
    match = " AND ".join(groups)
    ranked = await _rows(SQLITE_RANKED, match, department_id, per_kind)
    if not ranked:
        return []
    ids = [int(r["id"]) for r in ranked]
    details = {int(r["id"]): r for r in await _rows(SQLITE_SNIPPETS, match, json.dumps(ids))}
    return _hits([{**details[i], "total": r["total"]} for i, r in zip(ids, ranked, strict=True) if i in details])


# -- PostgreSQL --------------------------------------------------------------------------------

HEADLINE_TITLE = f"HighlightAll=true, StartSel={MARK_START}, StopSel={MARK_END}"
HEADLINE_BODY = (
    f'StartSel={MARK_START}, StopSel={MARK_END}, MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=" … "'
)

POSTGRES_QUERY = """
WITH q AS (SELECT plainto_tsquery('coord_french', {}) AS query),
ranked AS (
    SELECT d.kind, d.object_id, d.parent_id, d.title, d.body,
        ROW_NUMBER() OVER (PARTITION BY d.kind ORDER BY ts_rank(d.document, q.query) DESC, d.object_id) AS rn,
        COUNT(*) OVER (PARTITION BY d.kind) AS total
    FROM search_document d, q
    WHERE d.department_id = {} AND d.document @@ q.query
)
SELECT r.kind, r.object_id, r.parent_id, r.total,
    ts_headline('coord_french', r.title, q.query, {}) AS title_hl,
    ts_headline('coord_french', r.body, q.query, {}) AS body_hl
FROM ranked r, q
WHERE r.rn <= {}
ORDER BY r.kind, r.rn
"""


async def _search_postgres(department_id: int, text: str, per_kind: int) -> list[Hit]:
    if not words(text):
        return []
    rows = await _rows(POSTGRES_QUERY, text, department_id, HEADLINE_TITLE, HEADLINE_BODY, per_kind)
    return _hits(rows)
