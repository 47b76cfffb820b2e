"""Convention models, one TOML file each in the repository's `conventions/` folder.

A model describes a kind of partnership convention: what it is for, how long it runs, who must
sign it and when to remind people. This module only reads and validates the files (no database,
no cache): `load_models()` returns every model of the folder, or raises `ConventionModelError`
with a French message naming the file and, whenever there is one, the line of the faulty entry.
The format is documented in `conventions/README.md`.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from coord.conventions.roles import ROLES

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DIR = ROOT / "conventions"
ENV_DIR = "COORD_CONVENTIONS_DIR"

# Schemes a model belongs to; pilot sites are designated for "coordination" or "protection_mineurs".
SCHEMES: dict[str, str] = {
    "protection_mineurs": "Protection des mineurs victimes",
    "coordination": "Coordination départementale et partenariats locaux",
    "autre": "Autre",
}

CODE_RE = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

TOP_KEYS = (
    "code",
    "name",
    "purpose",
    "scheme",
    "default_duration_months",
    "tacit_renewal",
    "renewal_notice_days",
    "signatories",
    "reminders",
)
SIGNATORY_KEYS = ("role", "required", "min_count", "note")
REMINDER_KEYS = ("signature_reminder_days", "expiry_reminder_days")


@dataclass(frozen=True)
class SignatoryRequirement:
    role: str  # a code of `coord.conventions.roles.ROLES`
    required: bool
    min_count: int  # how many distinct organisations must sign in this role (>= 1)
    note: str


@dataclass(frozen=True)
class ConventionModel:
    code: str  # equals the file stem
    name: str
    purpose: str
    scheme: str  # a key of SCHEMES
    default_duration_months: int
    tacit_renewal: bool
    renewal_notice_days: int
    signatories: tuple[SignatoryRequirement, ...]  # file order, one entry per role
    signature_reminder_days: tuple[int, ...]  # days after the signature request, ascending
    expiry_reminder_days: tuple[int, ...]  # days before the end date, descending (chronological)
    source: Path

    def requirement(self, role: str) -> SignatoryRequirement | None:
        return next((s for s in self.signatories if s.role == role), None)

    def required_roles(self) -> tuple[str, ...]:
        return tuple(s.role for s in self.signatories if s.required)

    def optional_roles(self) -> tuple[str, ...]:
        return tuple(s.role for s in self.signatories if not s.required)


class ConventionModelError(ValueError):
    """An invalid model file. `str()` is the French message shown to administrators."""

    def __init__(self, path: Path, detail: str, line: int | None = None) -> None:
        self.path = path
        self.line = line
        self.detail = detail
        where = display_path(path) + (f", ligne {line}" if line else "")
        super().__init__(f"{where} : {detail}")


def display_path(path: Path) -> str:
    """The path relative to the repository when inside it (`conventions/x.toml`), else as given."""
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


# --- Where things are in the raw text ---
# tomllib gives positions only for syntax errors; for a faulty value we scan the text ourselves.

_HEADER_RE = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-]+)\s*\]\]?\s*(?:#.*)?$")
_KEY_RE = re.compile(r"""^\s*(["']?)([A-Za-z0-9_\-]+)\1\s*[=.]""")


class LineIndex:
    """Line numbers (1-based) of table headers and keys in a TOML text.

    Sections are named as in their header (`reminders`, `signatories`); array-of-tables entries
    are told apart by their index (the n-th `[[signatories]]`). The top-level table is `""`.
    Lines inside multi-line strings are skipped.
    """

    def __init__(self, text: str) -> None:
        self.headers: dict[tuple[str, int], int] = {}
        self.keys: dict[tuple[str, int, str], int] = {}
        section: tuple[str, int] = ("", 0)
        seen: dict[str, int] = {}
        in_string = False
        for number, line in enumerate(text.splitlines(), start=1):
            quotes = line.count('"""') + line.count("'''")
            if in_string:
                in_string = quotes % 2 == 0
                continue
            header = _HEADER_RE.match(line)
            if header:
                name = header.group(2)
                index = seen.get(name, -1) + 1 if header.group(1) == "[[" else 0
                seen[name] = index
                section = (name, index)
                self.headers.setdefault(section, number)
                continue
            key = _KEY_RE.match(line)
            if key:
                self.keys.setdefault((*section, key.group(2)), number)
            in_string = quotes % 2 == 1

    def line_of(self, section: str = "", index: int = 0, key: str | None = None) -> int | None:
        """The key's line in the section, else the section's header, else its top-level key
        (inline form `signatories = [...]` or dotted keys `reminders.x = ...`)."""
        if key is not None and (found := self.keys.get((section, index, key))):
            return found
        if not section:
            return None
        return self.headers.get((section, index)) or self.keys.get(("", 0, section))


# --- Loading ---

_SYNTAX_POS_RE = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)$")


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"« {value if len(value) <= 60 else value[:57] + '...'} »"
    if isinstance(value, dict):
        return "une table"
    if isinstance(value, list):
        return "une liste"
    return repr(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class _Reader:
    """Validates one parsed file; every failure raises with the best line it can find."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = LineIndex(text)

    def fail(self, detail: str, section: str = "", index: int = 0, key: str | None = None) -> NoReturn:
        raise ConventionModelError(self.path, detail, self.lines.line_of(section, index, key))

    def check_keys(
        self,
        table: dict[str, Any],
        allowed: tuple[str, ...],
        where: str,
        section: str = "",
        index: int = 0,
    ) -> None:
        for key in table:
            if key not in allowed:
                self.fail(
                    f"clé inconnue « {key} »{where} (clés possibles : {', '.join(allowed)})",
                    section,
                    index,
                    key,
                )

    def get(
        self,
        table: dict[str, Any],
        key: str,
        kind: str,
        check: Callable[[Any], bool],
        where: str,
        section: str = "",
        index: int = 0,
        default: Any = None,
    ) -> Any:
        if key not in table:
            if default is not None:
                return default
            if key in ("signatories", "reminders"):
                header = "[[signatories]]" if key == "signatories" else "[reminders]"
                self.fail(f"section {header} manquante")
            hint = where or " (à déclarer en tête du fichier, avant la première section)"
            self.fail(f"champ obligatoire « {key} » manquant{hint}", section, index)
        value = table[key]
        if not check(value):
            self.fail(
                f"« {key} »{where} doit être {kind} (valeur trouvée : {_describe(value)})",
                section,
                index,
                key,
            )
        return value

    def text(self, table: dict[str, Any], key: str, max_length: int, multiline: bool = False) -> str:
        value = self.get(table, key, "un texte non vide", lambda v: isinstance(v, str) and bool(v.strip()), "")
        value = value.strip()
        if CONTROL_RE.search(value) or (not multiline and "\n" in value):
            self.fail(f"« {key} » contient des retours à la ligne ou des caractères de contrôle", key=key)
        if len(value) > max_length:
            self.fail(f"« {key} » dépasse {max_length} caractères ({len(value)})", key=key)
        return value

    def model(self, data: dict[str, Any]) -> ConventionModel:
        self.check_keys(data, TOP_KEYS, "")
        code = self.text(data, "code", 60)
        if code != self.path.stem:
            self.fail(
                f"le code « {code} » doit être identique au nom du fichier (« {self.path.stem} »)",
                key="code",
            )
        if not CODE_RE.match(code):
            self.fail(
                f"code « {code} » invalide : lettres minuscules sans accent, chiffres, « - » ou « _ » uniquement",
                key="code",
            )
        name = self.text(data, "name", 200)
        purpose = self.text(data, "purpose", 4000, multiline=True)
        scheme = self.text(data, "scheme", 60)
        if scheme not in SCHEMES:
            choices = ", ".join(SCHEMES)
            self.fail(f"dispositif inconnu « {scheme} » (valeurs possibles : {choices})", key="scheme")
        duration = self.get(
            data,
            "default_duration_months",
            "un nombre entier de mois supérieur à 0",
            lambda v: _is_int(v) and v > 0,
            "",
        )
        tacit = self.get(data, "tacit_renewal", "true ou false", lambda v: isinstance(v, bool), "")
        notice = self.get(
            data,
            "renewal_notice_days",
            "un nombre entier de jours positif ou nul",
            lambda v: _is_int(v) and v >= 0,
            "",
        )
        signatories = self.signatories(data)
        signature_days, expiry_days = self.reminders(data)
        return ConventionModel(
            code=code,
            name=name,
            purpose=purpose,
            scheme=scheme,
            default_duration_months=duration,
            tacit_renewal=tacit,
            renewal_notice_days=notice,
            signatories=signatories,
            signature_reminder_days=tuple(sorted(signature_days)),
            expiry_reminder_days=tuple(sorted(expiry_days, reverse=True)),
            source=self.path,
        )

    def signatories(self, data: dict[str, Any]) -> tuple[SignatoryRequirement, ...]:
        entries = self.get(
            data,
            "signatories",
            "une liste de sections [[signatories]]",
            lambda v: isinstance(v, list) and all(isinstance(e, dict) for e in v),
            "",
        )
        if not entries:
            self.fail("au moins un signataire ([[signatories]]) est attendu", "signatories")
        result: list[SignatoryRequirement] = []
        first_line: dict[str, int] = {}
        for index, entry in enumerate(entries):
            where = f" (signataire n° {index + 1})"
            at: dict[str, Any] = {"section": "signatories", "index": index}
            self.check_keys(entry, SIGNATORY_KEYS, where, **at)
            role = self.get(entry, "role", "un code de rôle", lambda v: isinstance(v, str), where, **at)
            if role not in ROLES:
                self.fail(
                    f"rôle inconnu « {role} » (rôles possibles : {', '.join(ROLES)})",
                    key="role",
                    **at,
                )
            if role in first_line:
                self.fail(
                    f"rôle « {role} » déjà déclaré (signataire n° {first_line[role]}) ; "
                    "pour plusieurs signataires du même rôle, utiliser min_count",
                    key="role",
                    **at,
                )
            first_line[role] = index + 1
            required = self.get(entry, "required", "true ou false", lambda v: isinstance(v, bool), where, **at)
            min_count = self.get(
                entry,
                "min_count",
                "un nombre entier supérieur ou égal à 1",
                lambda v: _is_int(v) and v >= 1,
                where,
                default=1,
                **at,
            )
            note = self.get(entry, "note", "un texte", lambda v: isinstance(v, str), where, default="", **at)
            if CONTROL_RE.search(note) or "\n" in note or len(note) > 500:
                self.fail("« note » doit tenir sur une ligne de 500 caractères au plus", key="note", **at)
            result.append(SignatoryRequirement(role, required, min_count, note.strip()))
        if not any(s.required for s in result):
            self.fail("au moins un signataire doit être obligatoire (required = true)", "signatories")
        return tuple(result)

    def reminders(self, data: dict[str, Any]) -> tuple[list[int], list[int]]:
        table = self.get(data, "reminders", "une section [reminders]", lambda v: isinstance(v, dict), "")
        at: dict[str, Any] = {"section": "reminders"}
        self.check_keys(table, REMINDER_KEYS, " dans [reminders]", **at)
        result: list[list[int]] = []
        for key in REMINDER_KEYS:
            days = self.get(
                table,
                key,
                "une liste de nombres entiers de jours supérieurs à 0",
                lambda v: isinstance(v, list) and all(_is_int(d) and d > 0 for d in v),
                " dans [reminders]",
                **at,
            )
            if len(set(days)) != len(days):
                self.fail(f"« {key} » contient deux fois le même nombre de jours", key=key, **at)
            result.append(days)
        return result[0], result[1]


def load_model(path: Path) -> ConventionModel:
    """Read and validate one model file; raises ConventionModelError."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConventionModelError(path, f"fichier illisible ({exc.strerror or exc})") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConventionModelError(path, "le fichier doit être encodé en UTF-8", line) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        position = _SYNTAX_POS_RE.search(message)
        reason = message[: position.start()] if position else message
        if position and position.group(1):
            line, column = int(position.group(1)), int(position.group(2))
            detail = f"syntaxe TOML invalide, colonne {column} ({reason})"
        else:
            line = max(text.count("\n") + (not text.endswith("\n")), 1)
            detail = f"syntaxe TOML invalide en fin de fichier ({reason})"
        raise ConventionModelError(path, detail, line) from exc
    return _Reader(path, text).model(data)


def models_dir() -> Path:
    """The models folder: $COORD_CONVENTIONS_DIR, else the repository's `conventions/`."""
    configured = os.environ.get(ENV_DIR)
    return Path(configured) if configured else DEFAULT_DIR


def load_models(folder: Path | None = None) -> dict[str, ConventionModel]:
    """Every `*.toml` model of the folder, by code (sorted); raises on the first invalid file."""
    folder = Path(folder) if folder is not None else models_dir()
    if not folder.is_dir():
        raise ConventionModelError(folder, "dossier des modèles de convention introuvable")
    models: dict[str, ConventionModel] = {}
    for path in sorted(folder.glob("*.toml")):
        if path.name.startswith("."):
            continue
        model = load_model(path)
        models[model.code] = model
    return models
