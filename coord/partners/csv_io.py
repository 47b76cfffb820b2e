"""CSV import and export of organisations and their contacts.

Prefectures keep their partner lists in spreadsheets: one row per contact, the organisation repeated
on each row (a row without contact columns creates the organisation alone). Excel in French writes
`;`-separated files in Windows-1252, so both separators and both encodings are accepted. Every row is
checked first; the accepted rows are then written in one transaction, and the report lists each
rejected row with its line number and the reason.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from coord.access import Scope, system_scope
from coord.access.roles import Permission
from coord.audit import log as audit
from coord.core.csv_export import csv_document
from coord.core.db import transaction
from coord.core.spreadsheet import neutralise_formula
from coord.core.validation import Fields
from coord.partners.service import kind_labels
from coord.partners.tables import Contact, Organisation

COLUMNS = [
    "organisation",
    "type",
    "sigle",
    "adresse",
    "email_organisation",
    "telephone_organisation",
    "prenom",
    "nom",
    "fonction",
    "email",
    "telephone",
]
CONTACT_COLUMNS = ("prenom", "nom", "fonction", "email", "telephone")
MAX_ROWS = 5000


@dataclass
class ImportResult:
    organisations_created: int = 0
    contacts_created: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    dry_run: bool = False


def decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _reader(text: str) -> csv.DictReader:
    first_line = (text.splitlines() or [""])[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    # newline="": the csv module itself tells line ends (CRLF, LF, a lone CR) from line breaks quoted
    # inside a value, instead of failing on a CR in the middle of a line.
    return csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)


def _rows(reader: csv.DictReader, result: ImportResult) -> Any:
    """The rows of `reader`; a file the csv module cannot read any further is a rejected line, not a 500."""
    try:
        yield from reader
    except csv.Error:
        result.rejected.append({"line": reader.line_num, "reason": "Fichier CSV illisible à partir de cette ligne."})


def _kind_code(raw: str, kinds: dict[str, str]) -> str:
    """Accept the code (« pjj ») or the label (« Protection judiciaire de la jeunesse (PJJ) »)."""
    value = raw.strip()
    if value in kinds:
        return value
    for code, label in kinds.items():
        if label.lower() == value.lower():
            return code
    return value


async def import_partners(scope: Scope, department_id: int, text: str, *, dry_run: bool = False) -> ImportResult:
    scope.require(Permission.MANAGE, department_id)
    result = ImportResult(dry_run=dry_run)
    reader = _reader(text)
    headers = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in ("organisation", "type") if c not in headers]
    if missing:
        result.rejected.append(
            {
                "line": 1,
                "reason": "Colonnes obligatoires absentes : "
                + ", ".join(missing)
                + ". Colonnes attendues : "
                + ", ".join(COLUMNS)
                + ".",
            }
        )
        return result
    kinds = await kind_labels()
    existing_orgs = {
        r["name"].lower(): r["id"]
        for r in await system_scope(department_id).select(Organisation, Organisation.id, Organisation.name)
    }
    existing_contacts = {
        (r["organisation"], r["email"])
        for r in await system_scope(department_id).select(Contact, Contact.organisation, Contact.email)
    }
    new_orgs: dict[str, dict[str, Any]] = {}
    new_contacts: list[tuple[str, dict[str, Any]]] = []
    seen_contacts: set[tuple[str, str]] = set()
    for index, raw_row in enumerate(_rows(reader, result)):
        line = index + 2  # the header is line 1
        if index >= MAX_ROWS:
            result.rejected.append(
                {"line": line, "reason": f"Fichier trop long : {MAX_ROWS} lignes au plus par import."}
            )
            break
        row = {(k or "").strip().lower(): (v if isinstance(v, str) else "") for k, v in raw_row.items()}
        if None in raw_row:
            result.rejected.append(
                {
                    "line": line,
                    "reason": (
                        "Trop de colonnes sur cette ligne "
                        "(séparateur dans une valeur non protégée par des guillemets ?)."
                    ),
                }
            )
            continue
        if not any(v.strip() for v in row.values()):
            continue
        org_fields = Fields(
            {
                "name": row.get("organisation", ""),
                "kind": _kind_code(row.get("type", ""), kinds),
                "acronym": row.get("sigle", ""),
                "address": row.get("adresse", ""),
                "email": row.get("email_organisation", ""),
                "phone": row.get("telephone_organisation", ""),
            }
        )
        name = org_fields.text("name", required=True, max_length=200)
        org_fields.choice("kind", kinds)
        org_fields.text("acronym", max_length=40)
        org_fields.text("address", max_length=500)
        org_fields.email("email")
        org_fields.phone("phone")
        has_contact = any(row.get(c, "").strip() for c in CONTACT_COLUMNS)
        contact_fields = Fields(
            {
                "first_name": row.get("prenom", ""),
                "last_name": row.get("nom", ""),
                "function": row.get("fonction", ""),
                "email": row.get("email", ""),
                "phone": row.get("telephone", ""),
            }
        )
        if has_contact:
            contact_fields.text("first_name", required=True, max_length=100)
            contact_fields.text("last_name", required=True, max_length=100)
            contact_fields.text("function", max_length=200)
            contact_fields.email("email", required=True)
            contact_fields.phone("phone")
        errors = {
            **{f"organisation.{k}": v for k, v in org_fields.errors.items()},
            **{f"contact.{k}": v for k, v in contact_fields.errors.items()},
        }
        if errors:
            result.rejected.append({"line": line, "reason": _describe(errors)})
            continue
        key = (name or "").lower()
        if key not in existing_orgs and key not in new_orgs:
            new_orgs[key] = {**org_fields.values, "department": department_id}
        if has_contact:
            email = contact_fields.values["email"]
            org_id = existing_orgs.get(key)
            if (org_id is not None and (org_id, email) in existing_contacts) or (key, email) in seen_contacts:
                result.rejected.append(
                    {"line": line, "reason": f"Contact en double : {email} figure déjà dans « {name} »."}
                )
                continue
            seen_contacts.add((key, email))
            new_contacts.append((key, {**contact_fields.values, "department": department_id}))
    result.organisations_created = len(new_orgs)
    result.contacts_created = len(new_contacts)
    if dry_run or not (new_orgs or new_contacts):
        return result
    async with transaction():
        ids = dict(existing_orgs)
        for key, values in new_orgs.items():
            ids[key] = (await Organisation.insert(Organisation(**values)).returning(Organisation.id))[0]["id"]
        if new_contacts:
            await Contact.insert(*[Contact(**values, organisation=ids[key]) for key, values in new_contacts])
        await audit.record(
            scope.principal,
            "import",
            "organisation",
            None,
            department_id=department_id,
            summary=f"Import CSV : {len(new_orgs)} organisation(s), {len(new_contacts)} contact(s), "
            f"{len(result.rejected)} ligne(s) rejetée(s)",
            after={
                "organisations": sorted(v["name"] for v in new_orgs.values()),
                "contacts": sorted(v["email"] for _, v in new_contacts),
            },
        )
    return result


FIELD_NAMES = {
    "name": "nom de l'organisation",
    "kind": "type",
    "acronym": "sigle",
    "address": "adresse",
    "email": "adresse électronique",
    "phone": "téléphone",
    "first_name": "prénom",
    "last_name": "nom",
    "function": "fonction",
}


def _describe(errors: dict[str, str]) -> str:
    parts = []
    for key, message in errors.items():
        owner, _, name = key.partition(".")
        label = FIELD_NAMES.get(name, name)
        if owner == "organisation" and name in {"email", "phone"}:
            label += " de l'organisation"
        if owner == "contact" and name in {"email", "phone"}:
            label += " du contact"
        parts.append(f"{label} : {message}")
    return " ; ".join(parts)


async def export_partners(scope: Scope, department_id: int) -> str:
    """Every organisation of the département with its contacts, in the import format."""
    orgs = await scope.within(department_id).select(Organisation).order_by(Organisation.name)
    contacts = await scope.within(department_id).select(Contact).order_by(Contact.last_name)
    by_org: dict[int, list[dict[str, Any]]] = {}
    for contact in contacts:
        by_org.setdefault(contact["organisation"], []).append(contact)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for org in orgs:
        base = [org["name"], org["kind"], org["acronym"], org["address"], org["email"], org["phone"]]
        for contact in by_org.get(org["id"]) or [None]:
            extra = (
                ["", "", "", "", ""]
                if contact is None
                else [
                    contact["first_name"],
                    contact["last_name"],
                    contact["function"],
                    contact["email"],
                    contact["phone"],
                ]
            )
            writer.writerow([neutralise_formula(v) for v in base + extra])
    return out.getvalue()


CONTACT_HEADERS = ["Nom", "Prénom", "Organisation", "Fonction", "Courriel", "Téléphone", "Actif"]


def contacts_csv(contacts: list[dict[str, Any]]) -> str:
    """The contacts list as French spreadsheets open it (BOM, `;`, CRLF, no formula). Erased
    contacts are left out: nothing of them is left to export."""
    rows = [
        [
            c["last_name"],
            c["first_name"],
            c["organisation_name"],
            c["function"],
            c["email"],
            c["phone"],
            "oui" if c["active"] else "non",
        ]
        for c in contacts
        if not c["erased"]
    ]
    return csv_document(CONTACT_HEADERS, rows)
