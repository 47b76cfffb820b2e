"""One validation path for pages (form fields) and the JSON API (bodies).

`Fields` reads a mapping, collects every error at once (so a form shows all of them next to their
fields) and raises `ValidationFailed` on `check()`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from coord.core.errors import ValidationFailed

EMAIL_RE = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
PHONE_RE = re.compile(r"^\+?[0-9 .()-]{6,25}$")
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def is_valid_email(value: str) -> bool:
    return len(value) <= 254 and bool(EMAIL_RE.match(value))


class Fields:
    def __init__(self, data: Mapping[str, Any], *, partial: bool = False) -> None:
        self.data = data
        self.partial = partial  # PATCH: absent fields are left alone, not required
        self.errors: dict[str, str] = {}
        self.values: dict[str, Any] = {}

    def _raw(self, name: str) -> Any:
        value = self.data.get(name)
        if isinstance(value, str):
            value = value.strip()
        return value

    def present(self, name: str) -> bool:
        return name in self.data

    def _skip(self, name: str) -> bool:
        return self.partial and name not in self.data

    def _missing(self, name: str, required: bool, raw: Any) -> bool:
        if raw is None or raw == "":
            if required:
                self.errors[name] = "Ce champ est obligatoire."
            return True
        return False

    def text(self, name: str, *, required: bool = False, max_length: int = 200, multiline: bool = False) -> str | None:
        if self._skip(name):
            return None
        raw = self._raw(name)
        if self._missing(name, required, raw):
            self.values[name] = "" if not required else None
            return self.values[name]
        if not isinstance(raw, str):
            self.errors[name] = "Une chaîne de caractères est attendue."
            return None
        value = raw.replace("\r\n", "\n")
        if CONTROL_RE.search(value) or (not multiline and "\n" in value):
            self.errors[name] = (
                "Ce champ contient des caractères non autorisés (retours à la ligne ou caractères de contrôle)."
            )
            return None
        if len(value) > max_length:
            self.errors[name] = f"{max_length} caractères au maximum (actuellement {len(value)})."
            return None
        self.values[name] = value
        return value

    def email(self, name: str, *, required: bool = False) -> str | None:
        value = self.text(name, required=required, max_length=254)
        if value:
            value = value.lower()
            if not is_valid_email(value):
                self.errors[name] = "Adresse électronique invalide (exemple : prenom.nom@interieur.gouv.fr)."
                return None
            self.values[name] = value
        return value

    def phone(self, name: str, *, required: bool = False) -> str | None:
        value = self.text(name, required=required, max_length=25)
        if value and not PHONE_RE.match(value):
            self.errors[name] = "Numéro de téléphone invalide (exemple : 04 67 61 61 61 ou +33 4 67 61 61 61)."
            return None
        return value

    def choice(self, name: str, choices: Mapping[str, str], *, required: bool = True) -> str | None:
        if self._skip(name):
            return None
        raw = self._raw(name)
        if self._missing(name, required, raw):
            self.values[name] = None
            return None
        if raw not in choices:
            allowed = ", ".join(f"{k} ({v})" for k, v in choices.items())
            self.errors[name] = f"Valeur inconnue « {raw} ». Valeurs possibles : {allowed}."
            return None
        self.values[name] = raw
        return raw

    def integer(
        self, name: str, *, required: bool = False, minimum: int | None = None, maximum: int | None = None
    ) -> int | None:
        if self._skip(name):
            return None
        raw = self._raw(name)
        if self._missing(name, required, raw):
            self.values[name] = None
            return None
        try:
            if isinstance(raw, bool):
                raise ValueError
            value = int(raw)
        except (TypeError, ValueError):
            self.errors[name] = "Un nombre entier est attendu."
            return None
        if minimum is not None and value < minimum:
            self.errors[name] = f"La valeur doit être au moins {minimum}."
            return None
        maximum = 2_147_483_647 if maximum is None else maximum  # the database's integer range
        if minimum is None and value < -2_147_483_648:
            self.errors[name] = "Nombre hors limites."
            return None
        if value > maximum:
            self.errors[name] = f"La valeur doit être au plus {maximum}."
            return None
        self.values[name] = value
        return value

    def date(self, name: str, *, required: bool = False) -> date | None:
        if self._skip(name):
            return None
        raw = self._raw(name)
        if self._missing(name, required, raw):
            self.values[name] = None
            return None
        if isinstance(raw, date) and not isinstance(raw, datetime):
            self.values[name] = raw
            return raw
        try:
            value = date.fromisoformat(str(raw))
        except ValueError:
            self.errors[name] = "Date invalide (format attendu : AAAA-MM-JJ)."
            return None
        self.values[name] = value
        return value

    def boolean(self, name: str, *, default: bool = False) -> bool | None:
        if self._skip(name):
            return None
        raw = self.data.get(name)
        if raw is None or raw == "":
            value = default if name not in self.data or raw is None else False
        elif isinstance(raw, bool):
            value = raw
        else:
            value = str(raw).strip().lower() in {"1", "true", "on", "oui", "yes"}
        self.values[name] = value
        return value

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)

    def check(self) -> dict[str, Any]:
        if self.errors:
            raise ValidationFailed(self.errors)
        return self.values
