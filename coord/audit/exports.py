"""The filtered journal as CSV: one row per entry, the same entries and words as the page."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from coord.core.csv_export import csv_document

HEADERS = [
    "Date et heure",
    "Département",
    "Auteur",
    "Type d'auteur",
    "Action",
    "Objet",
    "Résumé",
    "Modifications",
    "Requête",
]


def _changes(entry: Mapping[str, Any]) -> str:
    parts = []
    for change in entry["changes"]:
        if change["before"] and change["after"]:
            parts.append(f"{change['field']} : {change['before']} → {change['after']}")
        else:
            parts.append(f"{change['field']} : {change['after'] or change['before']}")
    return " | ".join(parts)


def to_csv(entries: Iterable[Mapping[str, Any]]) -> str:
    return csv_document(
        HEADERS,
        (
            [
                entry["at_text"],
                entry["department_label"],
                entry["actor"]["name"] + (f" ({entry['actor']['detail']})" if entry["actor"]["detail"] else ""),
                entry["actor"]["kind_label"],
                entry["action_label"],
                entry["entity_label"],
                entry["summary"],
                _changes(entry),
                entry["request_id"],
            ]
            for entry in entries
        ),
    )
