"""The journal as a person reads it: French labels, names instead of ids, dates in the
département's zone, « oui »/« non », enumerations by their French labels, secrets masked.

The audit package sits below the domains, so it cannot import their tables or labels: the
composition root registers them here (`register_reference`, `register_values`, see
coord/app/journal_seams.py). Names are resolved for a whole page at once: ids are collected per kind,
then one query per kind (in chunks), never one per entry.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from piccolo.table import Table

from coord.access import Scope
from coord.audit.labels import action_label, entity_label, field_label, is_secret
from coord.core.french import date_fr
from coord.territory.tables import Department

DEFAULT_ZONE = "Europe/Paris"  # national entries (no département) and national readers
EMPTY = "—"
MASKED = "(valeur masquée)"
CHUNK = 500  # ids per query: far below the bind-parameter limits of both engines
# Bookkeeping columns that only repeat what the entry already says.
NOISE = frozenset({"id", "created_at", "updated_at"})
# Free text is never read as a date, even when it looks like one.
FREE_TEXT = frozenset({"title", "name", "text", "notes", "description", "summary", "comment", "subject", "note"})
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")


@dataclass(frozen=True)
class Reference:
    """How to name a record of one kind: the table, the columns to read, the label built from them.
    `scoped` reads through the reader's scope (département data); accounts are read by id only,
    since the journal names whoever acted on records the reader may already see."""

    table: type[Table]
    columns: tuple[Any, ...]
    label: Callable[[Mapping[str, Any]], str]
    scoped: bool = True


_REFERENCES: dict[str, Reference] = {}
_FIELD_KINDS: dict[tuple[str | None, str], str] = {}  # (entity or None for any, field) -> kind
_VALUES: dict[tuple[str | None, str], Mapping[str, str]] = {}  # (entity or None, field) -> labels


def register_reference(
    kind: str,
    table: type[Table],
    *columns: Any,
    label: Callable[[Mapping[str, Any]], str],
    fields: Iterable[str] = (),
    entities: Iterable[str | None] = (None,),
    scoped: bool = True,
) -> None:
    """Name the records of `kind` in the journal; `fields` are the keys that hold their ids (in
    any entry, or only in entries of `entities`)."""
    _REFERENCES[kind] = Reference(table, (table._meta.primary_key, *columns), label, scoped)
    for entity in entities:
        for name in fields:
            _FIELD_KINDS[(entity, name)] = kind


def register_values(field: str, labels: Mapping[str, str], *, entities: Iterable[str | None] = (None,)) -> None:
    """The French labels of an enumeration stored in `field` (of any entry, or of `entities`)."""
    for entity in entities:
        _VALUES[(entity, field)] = labels


def reference_kind(entity: str, field: str) -> str | None:
    if field == "department":
        return "department"
    return _FIELD_KINDS.get((entity, field)) or _FIELD_KINDS.get((None, field))


def value_labels(entity: str, field: str) -> Mapping[str, str] | None:
    return _VALUES.get((entity, field)) or _VALUES.get((None, field))


# -- collecting and resolving ids ----------------------------------------------------------------


def _ids(value: Any) -> list[Any]:
    if isinstance(value, bool):
        return []
    if isinstance(value, (int, str)):
        return [value]
    if isinstance(value, (list, tuple)):
        return [v for item in value for v in _ids(item)]
    return []


def _attendance_keys(row: Mapping[str, Any]) -> bool:
    """The « Présences » entries are keyed by invitation: {"12": "present"}."""
    return row["action"] == "attendance"


def _field_kind(row: Mapping[str, Any], name: str) -> str | None:
    if _attendance_keys(row) and name.isdigit():
        return None
    if name == "target_id" and row["entity"] == "feed_link":
        values = {**(row.get("before") or {}), **(row.get("after") or {})}
        return {"department": "department", "committee": "committee", "contact": "contact"}.get(values.get("kind"))
    return reference_kind(row["entity"], name)


def _wanted(rows: list[Mapping[str, Any]]) -> dict[str, set[Any]]:
    wanted: dict[str, set[Any]] = {}
    for row in rows:
        if row.get("actor_user_id"):
            wanted.setdefault("user", set()).add(row["actor_user_id"])
        for values in (row.get("before"), row.get("after")):
            if not isinstance(values, Mapping):
                continue
            for name, value in values.items():
                if _attendance_keys(row) and str(name).isdigit():
                    wanted.setdefault("invitation", set()).add(int(name))
                    continue
                kind = _field_kind(row, str(name))
                if kind and not is_secret(str(name)):
                    wanted.setdefault(kind, set()).update(_ids(value))
    return wanted


async def _department_names(ids: set[Any]) -> dict[Any, str]:
    """Départements are public reference data: named by id and by code."""
    if not ids:
        return {}
    rows = await Department.select(Department.id, Department.code, Department.name)
    names: dict[Any, str] = {}
    for row in rows:
        label = f"{row['name']} ({row['code']})"
        names[row["id"]] = names[row["code"]] = label
    return names


async def resolve_names(access: Scope, wanted: Mapping[str, set[Any]]) -> dict[str, dict[Any, str]]:
    """{kind: {id: label}}: one query per kind (and per chunk of ids)."""
    names: dict[str, dict[Any, str]] = {"department": await _department_names(set(wanted.get("department", ())))}
    for kind, raw_ids in wanted.items():
        reference = _REFERENCES.get(kind)
        if kind == "department" or reference is None:
            continue
        ids = sorted({int(i) for i in raw_ids if isinstance(i, int) or (isinstance(i, str) and i.isdigit())})
        ids = [i for i in ids if 0 < i <= 2_147_483_647]
        found: dict[Any, str] = {}
        key = reference.table._meta.primary_key
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            query = (
                access.select(reference.table, *reference.columns)
                if reference.scoped
                else reference.table.select(*reference.columns)
            )
            for record in await query.where(key.is_in(chunk)):
                found[record[key._meta.name]] = reference.label(record)
        names[kind] = found
    return names


# -- formatting values ---------------------------------------------------------------------------


def _parse_datetime(text: str) -> dt.datetime | None:
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)  # stored values are UTC


def _reference_text(kind: str, value: Any, names: Mapping[str, Mapping[Any, str]]) -> str:
    known = names.get(kind, {})
    key = int(value) if isinstance(value, str) and value.isdigit() and kind != "department" else value
    if key in known:
        return known[key]
    if kind == "department" and isinstance(value, str) and value:
        return known.get(value.upper(), value)
    return f"{entity_label(kind).lower()} supprimé(e) ou inaccessible (n° {value})"


def format_value(
    entity: str, name: str, value: Any, zone: str, names: Mapping[str, Mapping[Any, str]], kind: str | None = None
) -> str:
    """A value as a person writes it."""
    if is_secret(name):
        return MASKED
    if value is None or value == "" or value == [] or value == {}:
        return EMPTY
    if isinstance(value, bool):
        return "oui" if value else "non"
    kind = kind if kind is not None else reference_kind(entity, name)
    if isinstance(value, (list, tuple)):
        return ", ".join(format_value(entity, name, item, zone, names, kind) for item in value)
    if isinstance(value, Mapping):
        return " ; ".join(
            f"{field_label(str(k))} : {format_value(entity, str(k), v, zone, names)}" for k, v in value.items()
        )
    if kind and isinstance(value, (int, str)):
        return _reference_text(kind, value, names)
    labels = value_labels(entity, name)
    if labels is not None and isinstance(value, str) and value in labels:
        return labels[value]
    if isinstance(value, str) and name not in FREE_TEXT:
        if _DATE.match(value):
            try:
                return date_fr(dt.date.fromisoformat(value))
            except ValueError:
                return value
        if _DATETIME.match(value) and (moment := _parse_datetime(value)) is not None:
            return date_fr(moment, zone, with_time=True)
    if isinstance(value, float):
        return f"{value:g}".replace(".", ",")
    return str(value)


# -- one entry -----------------------------------------------------------------------------------


def _actor(row: Mapping[str, Any], names: Mapping[str, Mapping[Any, str]]) -> dict[str, str]:
    label = row.get("actor") or ""
    user_id = row.get("actor_user_id")
    if user_id:
        name = names.get("user", {}).get(user_id)
        return {"kind": "agent", "kind_label": "Agent", "name": name or label, "detail": label if name else ""}
    if "lien" in label.lower() or "imip" in label.lower():
        return {"kind": "partner", "kind_label": "Partenaire", "name": label, "detail": ""}
    name = "Coord (automatique)" if label == "système" else label
    return {"kind": "system", "kind_label": "Système", "name": name, "detail": ""}


def _changes(row: Mapping[str, Any], zone: str, names: Mapping[str, Mapping[Any, str]]) -> list[dict[str, str]]:
    before = row.get("before") if isinstance(row.get("before"), Mapping) else {}
    after = row.get("after") if isinstance(row.get("after"), Mapping) else {}
    keys = list(dict.fromkeys([*before.keys(), *after.keys()]))
    out = []
    for key in keys:
        name = str(key)
        if name in NOISE:
            continue
        if _attendance_keys(row) and name.isdigit():
            who = names.get("invitation", {}).get(int(name), f"invitation n° {name}")
            label, field = f"Présence de {who}", "attendance"
        else:
            label, field = field_label(name), name
        kind = _field_kind(row, name) if field == name else None
        out.append(
            {
                "field": label,
                "before": format_value(row["entity"], field, before.get(key), zone, names, kind)
                if key in before
                else "",
                "after": format_value(row["entity"], field, after.get(key), zone, names, kind) if key in after else "",
            }
        )
    return out


def present_entry(row: Mapping[str, Any], names: Mapping[str, Mapping[Any, str]]) -> dict[str, Any]:
    zone = row.get("department_timezone") or DEFAULT_ZONE
    at = row["at"]
    if isinstance(at, str):
        at = _parse_datetime(at)
    department = row.get("department")
    return {
        "id": row["id"],
        "at": at,
        "at_iso": at.isoformat() if at else "",
        "at_text": date_fr(at, zone, with_time=True) if at else "",
        "actor": _actor(row, names),
        "action": row["action"],
        "action_label": action_label(row["action"]),
        "entity": row["entity"],
        "entity_label": entity_label(row["entity"]),
        "summary": row.get("summary") or "",
        "department": department,
        "department_label": f"{row.get('department_name')} ({department})" if department else "National",
        "changes": _changes(row, zone, names),
        "request_id": row.get("request_id") or "",
    }


async def present(access: Scope, rows: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    names = await resolve_names(access, _wanted(rows))
    return [present_entry(row, names) for row in rows]
