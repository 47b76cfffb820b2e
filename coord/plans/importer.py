"""Parse national plan files (TOML or CSV) into plain data; loading into the database is elsewhere."""

from __future__ import annotations

import csv
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).parent / "data"
CSV_COLUMNS = (
    "plan_code",
    "plan_title",
    "start_year",
    "end_year",
    "priority_number",
    "priority_title",
    "number",
    "title",
    "axis",
    "summary",
)


@dataclass(frozen=True)
class MeasureData:
    number: int
    title: str
    priority: int | None
    priority_title: str
    axis: str
    summary: str


@dataclass(frozen=True)
class PlanData:
    code: str
    title: str
    start_year: int
    end_year: int
    measures: tuple[MeasureData, ...]


class PlanFileError(ValueError):
    """French message naming the file (and line for CSV) and what is wrong."""


def shipped_plan_files() -> list[Path]:
    return sorted(DATA_DIR.glob("*.toml"))


def _int(value: Any, where: str, what: str) -> int:
    try:
        if isinstance(value, bool):
            raise ValueError
        return int(value)
    except (TypeError, ValueError) as exc:
        raise PlanFileError(f"{where} : « {what} » doit être un nombre entier (valeur : {value!r}).") from exc


def _check(path: Path, code: str, title: str, start: int, end: int, measures: list[MeasureData]) -> PlanData:
    if not code or not title:
        raise PlanFileError(f"{path} : le code et le titre du plan sont obligatoires.")
    if start > end:
        raise PlanFileError(f"{path} : l'année de début ({start}) est postérieure à l'année de fin ({end}).")
    if not measures:
        raise PlanFileError(f"{path} : aucune mesure.")
    seen: set[int] = set()
    for m in measures:
        if m.number <= 0:
            raise PlanFileError(f"{path} : mesure {m.number} : le numéro doit être positif.")
        if m.number in seen:
            raise PlanFileError(f"{path} : la mesure {m.number} apparaît deux fois.")
        if not m.title.strip():
            raise PlanFileError(f"{path} : mesure {m.number} : titre vide.")
        seen.add(m.number)
    return PlanData(code, title, start, end, tuple(sorted(measures, key=lambda m: m.number)))


def _parse_toml(path: Path) -> PlanData:
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise PlanFileError(f"{path} : fichier TOML invalide ({exc}).") from exc
    for key in ("code", "title", "start_year", "end_year", "measures"):
        if key not in doc:
            raise PlanFileError(f"{path} : champ obligatoire « {key} » absent.")
    priorities = {
        _int(p.get("number"), str(path), "priorities.number"): str(p.get("title", ""))
        for p in doc.get("priorities", [])
    }
    measures = []
    for index, m in enumerate(doc["measures"], start=1):
        where = f"{path}, mesure n°{index} du fichier"
        for key in ("number", "title"):
            if key not in m:
                raise PlanFileError(f"{where} : champ obligatoire « {key} » absent.")
        priority = _int(m["priority"], where, "priority") if m.get("priority") is not None else None
        if priority is not None and priorities and priority not in priorities:
            raise PlanFileError(f"{where} : priorité {priority} non déclarée dans [[priorities]].")
        measures.append(
            MeasureData(
                _int(m["number"], where, "number"),
                str(m["title"]).strip(),
                priority,
                priorities.get(priority, "") if priority else "",
                str(m.get("axis", "")).strip(),
                str(m.get("summary", "")).strip(),
            )
        )
    return _check(
        path,
        str(doc["code"]),
        str(doc["title"]),
        _int(doc["start_year"], str(path), "start_year"),
        _int(doc["end_year"], str(path), "end_year"),
        measures,
    )


def _parse_csv(path: Path) -> PlanData:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [
            c
            for c in ("plan_code", "plan_title", "start_year", "end_year", "number", "title")
            if c not in (reader.fieldnames or [])
        ]
        if missing:
            raise PlanFileError(f"{path}, ligne 1 : colonnes absentes : {', '.join(missing)}.")
        header: tuple[str, str, str, str] | None = None
        measures = []
        for line, row in enumerate(reader, start=2):
            where = f"{path}, ligne {line}"
            current = (row["plan_code"], row["plan_title"], row["start_year"], row["end_year"])
            if header is None:
                header = current
            elif current != header:
                raise PlanFileError(f"{where} : toutes les lignes doivent décrire le même plan ({header[0]}).")
            priority = _int(row["priority_number"], where, "priority_number") if row.get("priority_number") else None
            measures.append(
                MeasureData(
                    _int(row["number"], where, "number"),
                    (row["title"] or "").strip(),
                    priority,
                    (row.get("priority_title") or "").strip(),
                    (row.get("axis") or "").strip(),
                    (row.get("summary") or "").strip(),
                )
            )
            if not measures[-1].title:
                raise PlanFileError(f"{where} : titre de la mesure vide.")
    if header is None:
        raise PlanFileError(f"{path} : aucune mesure.")
    return _check(
        path,
        header[0],
        header[1],
        _int(header[2], str(path), "start_year"),
        _int(header[3], str(path), "end_year"),
        measures,
    )


def parse_plan_file(path: Path) -> PlanData:
    if not path.exists():
        raise PlanFileError(f"{path} : fichier introuvable.")
    if path.suffix.lower() == ".toml":
        return _parse_toml(path)
    if path.suffix.lower() == ".csv":
        return _parse_csv(path)
    raise PlanFileError(f"{path} : format non reconnu (TOML ou CSV attendu).")
