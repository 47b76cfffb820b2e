"""One validation path for pages (form fields) and the JSON API (bodies).

`Fields` reads a mapping, collects every error at once (so a form shows all of them next to their
fields) and raises `ValidationFailed` on `check()`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated, Any

import msgspec

from coord.core.errors import ValidationFailed

EMAIL_RE = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
PHONE_RE = re.compile(r"^\+?[0-9 .()-]{6,25}$")
# C0 and C1 control characters and DEL, except tab, LF and CR (allowed or not depending on the field).
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Never in a one-line field (a title, a name, an e-mail, a label...): it ends up in a mail header, an
# iCalendar line, a CSV cell, where a lone CR is a line break too. Every control character, tab, CR and
# LF included, and the Unicode line and paragraph separators.
NOT_ONE_LINE_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Line breaks a multi-line field accepts, all stored as LF.
_LINE_BREAK_RE = re.compile(r"\r\n?|[\x85\u2028\u2029]")

# The database's integers (INTEGER / SERIAL on PostgreSQL): a larger number names no record and
# cannot even be sent to the database (SQLite stops at 64 bits, asyncpg at 32 for int4 columns).
DB_INT_MAX = 2_147_483_647
DB_INT_MIN = -DB_INT_MAX - 1
# Types of request bodies (msgspec): a record id, any other integer stored in a column.
Id = Annotated[int, msgspec.Meta(ge=1, le=DB_INT_MAX, description="Identifiant (entier positif, 32 bits)")]
DbInt = Annotated[int, msgspec.Meta(ge=DB_INT_MIN, le=DB_INT_MAX)]

_CHARACTER_NAMES = {
    "\r": "un retour chariot (CR)",
    "\n": "un saut de ligne (LF)",
    "\t": "une tabulation",
    "\u2028": "un séparateur de ligne (U+2028)",
    "\u2029": "un séparateur de paragraphe (U+2029)",
}


def parse_id(value: Any) -> int | None:
    """A record id given as a number or as text (a form field), or None when it cannot name a record."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str):
        try:
            number = int(value.strip())
        except ValueError:  # not a number, or more than 4,300 digits
            return None
    else:
        return None
    return number if 1 <= number <= DB_INT_MAX else None


def is_one_line(value: str) -> bool:
    """No line break nor control character: what every one-line text must be."""
    return NOT_ONE_LINE_RE.search(value) is None


def normalise_line_breaks(value: str) -> str:
    """CRLF, a lone CR and the Unicode line separators become LF."""
    return _LINE_BREAK_RE.sub("\n", value)


def describe_character(char: str) -> str:
    """« un retour chariot (CR) », « un caractère de contrôle (U+0007) »: for error messages."""
    return _CHARACTER_NAMES.get(char, f"un caractère de contrôle (U+{ord(char):04X})")


def one_line_error(value: str) -> str | None:
    """The French message refusing `value` in a one-line field, or None when it is one line."""
    found = NOT_ONE_LINE_RE.search(value)
    if found is None:
        return None
    return (
        f"Ce champ contient des caractères non autorisés ({describe_character(found.group())}) : "
        "il doit tenir sur une seule ligne, sans retour à la ligne ni caractère de contrôle."
    )


def multiline_error(value: str) -> str | None:
    """The French message refusing `value` (line breaks already normalised) in a multi-line field."""
    found = CONTROL_RE.search(value)
    if found is None:
        return None
    return f"Ce champ contient des caractères non autorisés ({describe_character(found.group())})."


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
        # One rule for every text of forms, API bodies and imports: a one-line field refuses any line
        # break (a lone CR too) and control character; a multi-line one stores its line breaks as LF.
        value = normalise_line_breaks(raw) if multiline else raw
        problem = multiline_error(value) if multiline else one_line_error(value)
        if problem:
            self.errors[name] = problem
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
        maximum = DB_INT_MAX if maximum is None else min(maximum, DB_INT_MAX)
        if value < DB_INT_MIN:
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
