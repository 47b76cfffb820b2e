"""Vocabulary of signatory roles for partnership conventions.

A role is the capacity in which an organisation signs a convention ("the préfet", "the procureur
de la République"...). Each role names the organisation kind(s) allowed to hold it, so that a
signatory picked from the partners' directory can be checked against the convention model.

Codes are stable identifiers used in the `conventions/*.toml` files: never rename one, add a new
code instead. Labels are French and shown to users as is.
"""

from __future__ import annotations

from dataclasses import dataclass

# Organisation kinds of partners (the canonical vocabulary lives with the partners' directory;
# this copy only serves to check the roles below and must list the same codes).
ORGANISATION_KINDS: tuple[str, ...] = (
    "prefecture",
    "parquet",
    "conseil_departemental",
    "pjj",
    "police",
    "gendarmerie",
    "education_nationale",
    "ddets",
    "ars",
    "hopital",
    "ofii",
    "barreau",
    "association",
    "autre",
)


@dataclass(frozen=True)
class RoleDef:
    code: str
    label: str
    kinds: tuple[str, ...]  # organisation kinds that may hold the role

    def accepts(self, kind: str) -> bool:
        """Whether an organisation of this kind may sign in this role."""
        return kind in self.kinds


def _role(code: str, label: str, *kinds: str) -> tuple[str, RoleDef]:
    return code, RoleDef(code=code, label=label, kinds=kinds)


ROLES: dict[str, RoleDef] = dict(
    [
        _role("prefet", "Préfet", "prefecture"),
        _role("procureur", "Procureur de la République", "parquet"),
        _role("president_cd", "Président du conseil départemental (ASE)", "conseil_departemental"),
        _role("dt_pjj", "Directeur territorial de la PJJ", "pjj"),
        _role(
            "dasen",
            "Directeur académique des services de l'Éducation nationale (DASEN)",
            "education_nationale",
        ),
        _role("police", "Directeur départemental de la police nationale", "police"),
        _role("gendarmerie", "Commandant du groupement de gendarmerie", "gendarmerie"),
        _role("association", "Association spécialisée", "association"),
        _role("barreau", "Bâtonnier", "barreau"),
        _role("hopital", "Directeur d'établissement hospitalier", "hopital"),
        _role("ars", "Directeur général de l'agence régionale de santé (ARS)", "ars"),
        _role(
            "ddets",
            "Directeur départemental de l'emploi, du travail et des solidarités (DDETS)",
            "ddets",
        ),
        _role(
            "ofii",
            "Directeur territorial de l'Office français de l'immigration et de l'intégration (OFII)",
            "ofii",
        ),
        _role("employeurs", "Organisation patronale", "autre"),
        _role("syndicats", "Organisation syndicale de salariés", "autre"),
        _role(
            "chambre_consulaire",
            "Chambre consulaire (commerce et industrie, métiers et artisanat, agriculture)",
            "autre",
        ),
        # Any other signatory (a mayor, a transport operator...): every kind may hold it.
        _role("autre", "Autre signataire", *ORGANISATION_KINDS),
    ]
)


def role_label(code: str) -> str:
    """French label of a role; the code itself when unknown (e.g. a role since removed)."""
    role = ROLES.get(code)
    return role.label if role else code
