"""Kinds of partner institution, shipped with Coord and loaded by `coord reference load`."""

ORGANISATION_KINDS: list[tuple[str, str]] = [
    ("prefecture", "Préfecture"),
    ("parquet", "Parquet (procureur de la République)"),
    ("conseil_departemental", "Conseil départemental (ASE)"),
    ("pjj", "Protection judiciaire de la jeunesse (PJJ)"),
    ("police", "Police nationale"),
    ("gendarmerie", "Gendarmerie nationale"),
    ("education_nationale", "Éducation nationale"),
    ("ddets", "DDETS / inspection du travail"),
    ("ars", "Agence régionale de santé (ARS)"),
    ("hopital", "Hôpital"),
    ("ofii", "Office français de l'immigration et de l'intégration (OFII)"),
    ("barreau", "Barreau (ordre des avocats)"),
    ("association", "Association"),
    ("autre", "Autre"),
]

KIND_LABELS: dict[str, str] = dict(ORGANISATION_KINDS)
