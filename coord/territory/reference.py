"""The shipped list of départements (INSEE code officiel géographique, Licence Ouverte)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from coord.core.french import TNCC_FORMS

DEFAULT_PATH = Path(__file__).parent / "data" / "departements.csv"
COLUMNS = ("code", "name", "region_code", "region", "prefecture", "timezone", "holiday_subdivision", "tncc")
# Files written before the INSEE « type de nom » (TNCC) column are still accepted (TNCC 0: « de X »).
LEGACY_COLUMNS = COLUMNS[:-1]


@dataclass(frozen=True)
class DepartementData:
    code: str
    name: str
    region_code: str
    region: str
    prefecture: str
    timezone: str
    holiday_subdivision: str | None
    tncc: int = 0


class ReferenceFileError(ValueError):
    pass


def load_departements_csv(path: Path | None = None) -> list[DepartementData]:
    path = path or DEFAULT_PATH
    subdivisions = set(holidays.France.subdivisions)
    rows: list[DepartementData] = []
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) not in (COLUMNS, LEGACY_COLUMNS):
            raise ReferenceFileError(f"{path} : colonnes attendues {', '.join(COLUMNS)}")
        for line, row in enumerate(reader, start=2):
            try:
                ZoneInfo(row["timezone"])
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ReferenceFileError(
                    f"{path}, ligne {line} : fuseau horaire inconnu « {row['timezone']} »"
                ) from exc
            subdivision = row["holiday_subdivision"] or None
            if subdivision and subdivision not in subdivisions:
                raise ReferenceFileError(
                    f"{path}, ligne {line} : subdivision de jours fériés inconnue « {subdivision} »"
                )
            if not row["code"] or not row["name"]:
                raise ReferenceFileError(f"{path}, ligne {line} : code et nom obligatoires")
            tncc_text = (row.get("tncc") or "0").strip()
            if tncc_text not in {str(kind) for kind in TNCC_FORMS}:
                raise ReferenceFileError(f"{path}, ligne {line} : type de nom (TNCC) inconnu « {tncc_text} »")
            rows.append(
                DepartementData(
                    row["code"],
                    row["name"],
                    row["region_code"],
                    row["region"],
                    row["prefecture"],
                    row["timezone"],
                    subdivision,
                    int(tncc_text),
                )
            )
    return rows
