"""Erasure of a partner contact's personal data (GDPR, right to erasure).

The contact's row stays, so meetings, invitations, attendance, committee memberships and action items
keep their rows and counts; its personal fields become a tombstone (« Contact effacé », a unique
address that can never be delivered, no phone, no function), it is deactivated for good
(`erased_at`), its signed links (answers, action items, signatures) and its calendar feeds are
revoked. Every copy Coord made of its name, address and phone is rewritten with the tombstone: the
audit log (actor, summary, the values before and after), the outbox (recipient, subject, text, HTML,
the iCalendar part, the last SMTP error), its own answers' comments, and what the domains above
register (`register_copies`: the action items' timelines; `register_detached`: a convention
signatory it represented goes back to its organisation's address). Mails still waiting for it are
not sent. The erasure itself is audited without the erased values.

Copies are found by their spellings, not only by their raw value: HTML-escaped (the mails' HTML),
iCalendar-escaped and folded (the .ics lines of 75 octets), JSON-escaped (`\\u00e9` in the audit
values), and every value the contact had (its former addresses and names are in the mails sent
then; the journal keeps them). The scan reads the tables of the contact's département once, in
batches; an erasure is rare and deliberate, so its cost follows that département's history.

Not rewritten: free text typed by agents (minutes, agenda presenters, decisions, comments of other
people) and the signer's name of a convention signatory, which belongs to the signed convention.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import markupsafe
from piccolo.columns import Column
from piccolo.table import Table

from coord.access import Permission, Scope
from coord.audit import log as audit
from coord.audit.tables import AuditEntry
from coord.calendar import feeds
from coord.core import clock
from coord.core.db import transaction
from coord.ics.sanitize import clean_param
from coord.links.tables import PartnerLink
from coord.mail.tables import OutboxMessage
from coord.meetings.tables import Invitation
from coord.partners.tables import Contact

ERASED_FIRST_NAME = "Contact"
ERASED_LAST_NAME = "effacé"
ERASED_NAME = f"{ERASED_FIRST_NAME} {ERASED_LAST_NAME}"
PERSONAL_FIELDS = ("first_name", "last_name", "function", "email", "phone")
UNSENT_ERROR = "Contact effacé (RGPD) : courriel non envoyé."
BATCH = 500


def placeholder_email(contact_id: int) -> str:
    """Unique (one per contact, as the unique index per organisation wants), valid for the mail and
    .ics builders, and never delivered: `.invalid` is reserved (RFC 2606)."""
    return f"efface-{contact_id}@contact.invalid"


def tombstone(contact_id: int) -> dict[str, str]:
    return {
        "first_name": ERASED_FIRST_NAME,
        "last_name": ERASED_LAST_NAME,
        "function": "",
        "email": placeholder_email(contact_id),
        "phone": "",
    }


# -- what to look for --------------------------------------------------------------------------------


def _ics_text(value: str) -> str:
    """A TEXT value as icalendar writes it (RFC 5545 §3.3.11)."""
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _spellings(value: str) -> set[str]:
    """The forms a value takes in Coord's copies: as typed, escaped for HTML (Jinja and the stdlib),
    for an iCalendar parameter (CN) or TEXT value, for a URL."""
    forms = {
        value,
        str(markupsafe.escape(value)),
        html.escape(value),
        html.escape(value, quote=False),
        clean_param(value),
        _ics_text(value),
        quote(value, safe=""),
        quote(value, safe="@"),
    }
    return {f for f in forms if len(f.strip()) >= 3}


def _literal(text: str) -> str:
    """A regex for `text` where any run of spaces matches any run of white space (a wrapped line)."""
    return r"\s+".join(re.escape(part) for part in text.split())


def _phone_pattern(phone: str) -> str | None:
    digits = re.sub(r"\D", "", phone)
    if len(digits) < 6:
        return None
    sep = r"[\s.\-/]?"
    national = sep.join(digits)
    if len(digits) == 10 and digits.startswith("0"):  # 04 67 … written +33 4 67 … or +33 (0)4 67 …
        national = rf"(?:{national}|\+{sep}33{sep}(?:\(0\){sep})?{sep.join(digits[1:])})"
    return rf"(?<!\d){national}(?!\d)"


@dataclass
class Traces:
    """The spellings of one contact's personal data, and what replaces them."""

    alternatives: list[tuple[str, str]] = field(default_factory=list)  # (regex, replacement)
    _pattern: re.Pattern[str] | None = None
    _replacements: list[str] = field(default_factory=list)

    def add(self, regex: str, replacement: str) -> None:
        self.alternatives.append((regex, replacement))

    def compile(self) -> Traces:
        # Longest first, so « Jean Dupont » is replaced whole before « Dupont » alone could be.
        ordered = sorted(self.alternatives, key=lambda a: -len(a[0]))
        self._replacements = [replacement for _, replacement in ordered]
        if ordered:
            self._pattern = re.compile(
                "|".join(f"(?P<g{i}>{regex})" for i, (regex, _) in enumerate(ordered)), re.IGNORECASE
            )
        return self

    def scrub(self, text: str) -> str:
        if not text or self._pattern is None:
            return text
        return self._pattern.sub(lambda m: self._replacements[int(m.lastgroup[1:])], text)  # type: ignore[index]


async def known_values(scope: Scope, contact: dict[str, Any]) -> dict[str, set[str]]:
    """The contact's personal values now and before: an address or a name it had earlier is in the
    mails sent then and in the journal (read from its own audit entries, before and after)."""
    values: dict[str, set[str]] = {k: set() for k in PERSONAL_FIELDS}
    entries = await scope.select(AuditEntry, AuditEntry.before, AuditEntry.after).where(
        (AuditEntry.entity == "contact") & (AuditEntry.entity_id == contact["id"])
    )
    for source in [contact, *(_loaded(e[k]) for e in entries for k in ("before", "after"))]:
        if not isinstance(source, dict):
            continue
        for key in PERSONAL_FIELDS:
            value = source.get(key)
            if isinstance(value, str) and value.strip():
                values[key].add(value.strip())
    return values


def traces_of(contact_id: int, values: dict[str, set[str]], *, own: bool) -> Traces:
    """`own`: also each part of the name alone, for rows that are about this contact only (its mails,
    its audit entries), where « Bonjour Zéphyrine » can only mean them."""
    traces = Traces()
    firsts, lasts = values["first_name"], values["last_name"]
    names = {n for f in firsts for last in lasts for n in (f"{f} {last}", f"{last} {f}", f"{last}, {f}")}
    names |= {part for part in firsts | lasts if own and len(part) >= 3}
    for name in names:
        for form in _spellings(name):
            traces.add(rf"(?<!\w){_literal(form)}(?!\w)", ERASED_NAME)
    for email in values["email"]:
        for form in _spellings(email):
            # Not inside a longer address (« an@x.fr » in « jean@x.fr »), but before a full stop.
            traces.add(rf"(?<![\w.+%-]){re.escape(form)}(?![\w-]|\.\w)", placeholder_email(contact_id))
    for phone in values["phone"]:
        if pattern := _phone_pattern(phone):
            traces.add(pattern, "")
        for form in _spellings(phone):
            traces.add(re.escape(form), "")
    if own:  # a function is not unique (« Substitut du procureur »): only where it can only be theirs
        for function in values["function"]:
            for form in _spellings(function):
                traces.add(rf"(?<!\w){_literal(form)}(?!\w)", "")
    return traces.compile()


# -- rewriting -----------------------------------------------------------------------------------------

_FOLD = re.compile(r"\r?\n[ \t]")


def fold(line: str, limit: int = 75) -> str:
    """Fold a content line in lines of less than `limit` octets, never inside a character (RFC 5545
    §3.1) nor after the backslash of an escape (some clients do not join those), as icalendar does."""
    parts: list[str] = []
    current, size = "", 0
    for char in line:
        width = len(char.encode("utf-8"))
        if current and size + width >= limit:
            carried = current[-1] if len(current) > 1 and current[-1] in "\\^" else ""
            parts.append(current[: len(current) - len(carried)])
            current, size = carried, len(carried.encode("utf-8"))
        current += char
        size += width
    parts.append(current)
    return "\r\n ".join(parts)


def scrub_calendar(text: str, traces: Traces) -> str:
    """Rewrite an .ics line by line once unfolded (a name or address may straddle a fold), folding
    again only the lines that changed."""
    if not text:
        return text
    lines = re.split(r"(\r?\n)(?![ \t])", text)
    out = []
    for chunk in lines:
        if chunk in ("\r\n", "\n") or not chunk:
            out.append(chunk)
            continue
        unfolded = _FOLD.sub("", chunk)
        cleaned = traces.scrub(unfolded)
        out.append(chunk if cleaned == unfolded else fold(cleaned))
    return "".join(out)


def scrub_json(
    value: Any,
    traces: Traces,
    tomb: dict[str, str],
    *,
    whole: bool = False,
    describes: Callable[[dict[str, Any]], bool] = lambda d: False,
) -> Any:
    """Every string of a JSON value. The personal fields of an object that `describes` the contact,
    or of every object when the row is about the contact (`whole`), become the tombstone's."""
    if isinstance(value, str):
        return traces.scrub(value)
    if isinstance(value, list):
        return [scrub_json(v, traces, tomb, whole=whole, describes=describes) for v in value]
    if isinstance(value, dict):
        replace = whole or describes(value)
        return {
            k: tomb[k]
            if replace and k in tomb and v not in (None, "")
            else scrub_json(v, traces, tomb, whole=whole, describes=describes)
            for k, v in value.items()
        }
    return value


def _loaded(raw: Any) -> Any:
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


@dataclass(frozen=True)
class Copies:
    """A table holding copies of a contact's details, rewritten by an erasure.

    The rows read are those of the contact's département (through its scope), and only those whose
    `contact` column names it when one is given. `own(row)` says a row is about this contact alone
    (its name may then appear in parts). `also(row)` adds values to write (e.g. a status)."""

    name: str  # its count in the report
    table: type[Table]
    text: tuple[Column, ...] = ()
    json: tuple[Column, ...] = ()
    calendar: tuple[Column, ...] = ()
    extra: tuple[Column, ...] = ()  # read to decide, not rewritten
    contact: Column | None = None


# Copies and contact references of the domains above this one (action items, conventions), which
# this package does not import: the composition root registers them (`coord.app.wiring`).
REGISTERED_COPIES: list[Copies] = []
DETACHED: list[Column] = []  # foreign keys to the contact set to null: the row stays, for nobody


def register_copies(copies: Copies) -> None:
    if all(c.name != copies.name for c in REGISTERED_COPIES):
        REGISTERED_COPIES.append(copies)


def register_detached(column: Column) -> None:
    if column not in DETACHED:
        DETACHED.append(column)


def _limit(column: Column, text: str) -> str:
    length = getattr(column, "length", None)
    return text[:length] if length else text


async def _batches(scope: Scope, copies: Copies, contact_id: int) -> AsyncIterator[list[dict[str, Any]]]:
    table, key = copies.table, copies.table._meta.primary_key
    columns = (key, *copies.text, *copies.json, *copies.calendar, *copies.extra)
    last = 0
    while True:
        query = scope.select(table, *columns).where(key > last)
        if copies.contact is not None:
            query = query.where(copies.contact == contact_id)
        rows = await query.order_by(key).limit(BATCH)
        if not rows:
            return
        yield rows
        last = rows[-1]["id"]


@dataclass
class _Erasure:
    """What one erasure looks for and writes instead."""

    contact_id: int
    strict: Traces  # full names, addresses, phones
    own: Traces  # and each part of the name, the function: for rows about this contact alone
    tomb: dict[str, str]
    describes: Callable[[dict[str, Any]], bool]

    async def rewrite(
        self,
        scope: Scope,
        copies: Copies,
        *,
        own: Callable[[dict[str, Any]], bool] = lambda row: False,
        also: Callable[[dict[str, Any]], dict[Column, Any]] | None = None,
    ) -> int:
        """Rewrite the rows of `copies` holding a trace; returns how many changed."""
        table, changed = copies.table, 0
        async for rows in _batches(scope, copies, self.contact_id):
            for row in rows:
                mine = own(row)
                traces = self.own if mine else self.strict
                values: dict[Column, Any] = {}
                for column in copies.text:
                    before = row[column._meta.name] or ""
                    after = _limit(column, traces.scrub(before))
                    if after != before:
                        values[column] = after
                for column in copies.calendar:
                    before = row[column._meta.name] or ""
                    after = scrub_calendar(before, traces)
                    if after != before:
                        values[column] = after
                for column in copies.json:
                    if row[column._meta.name] is None:
                        continue
                    before = _loaded(row[column._meta.name])
                    after = scrub_json(before, traces, self.tomb, whole=mine, describes=self.describes)
                    if after != before:
                        values[column] = after
                if also is not None:
                    values.update(also(row))
                if values:
                    await table.update(values).where(table._meta.primary_key == row["id"])
                    changed += 1
        return changed


AUDIT = Copies(
    "audit_entries",
    AuditEntry,
    text=(AuditEntry.actor, AuditEntry.summary),
    json=(AuditEntry.before, AuditEntry.after),
    extra=(AuditEntry.entity, AuditEntry.entity_id),
)
OUTBOX = Copies(
    "mails",
    OutboxMessage,
    text=(
        OutboxMessage.to_email,
        OutboxMessage.to_name,
        OutboxMessage.subject,
        OutboxMessage.body_text,
        OutboxMessage.body_html,
        OutboxMessage.last_error,
    ),
    calendar=(OutboxMessage.calendar,),
    extra=(OutboxMessage.status,),
)
ANSWERS = Copies("answers", Invitation, text=(Invitation.comment,), contact=Invitation.contact)


@dataclass(frozen=True)
class ErasureReport:
    contact_id: int
    already_erased: bool = False
    links_revoked: int = 0
    mails_not_sent: int = 0
    rewritten: dict[str, int] = field(default_factory=dict)  # rows rewritten per kind of copy
    detached: int = 0  # rows that named the contact and now name nobody (convention signatories)


async def contact_is_active(contact_id: int) -> bool:
    """Whether a link handed to this contact may still be used (`coord.links.service` asks)."""
    return await Contact.exists().where((Contact.id == contact_id) & Contact.active.eq(True))


async def erase_contact(scope: Scope, contact_id: int, *, now: dt.datetime | None = None) -> ErasureReport:
    """Erase a contact's personal data everywhere Coord copied it (MANAGE on its département;
    another département's contact is not found). Irreversible; erasing twice changes nothing."""
    contact = await scope.get(Contact, contact_id)
    scope.require(Permission.MANAGE, contact["department"])
    if contact["erased_at"] is not None:
        return ErasureReport(contact_id, already_erased=True)
    now = now or clock.now()
    local = scope.within(contact["department"])
    known = await known_values(local, contact)
    emails = {e.lower() for e in known["email"]}
    names = {(f.casefold(), last.casefold()) for f in known["first_name"] for last in known["last_name"]}

    def describes(value: dict[str, Any]) -> bool:
        """A JSON object about this contact: one of its addresses, or its first and last names."""
        if str(value.get("email") or "").strip().lower() in emails:
            return True
        return tuple(str(value.get(k) or "").strip().casefold() for k in ("first_name", "last_name")) in names

    def addressed_to_contact(row: dict[str, Any]) -> bool:
        return (row["to_email"] or "").strip().lower() in emails

    unsent = 0

    def stop_unsent(row: dict[str, Any]) -> dict[Column, Any]:
        """A mail still waiting for the erased contact would go to the placeholder: it is not sent."""
        nonlocal unsent
        if addressed_to_contact(row) and row["status"] in ("pending", "sending"):
            unsent += 1
            return {
                OutboxMessage.status: "failed",
                OutboxMessage.last_error: UNSENT_ERROR,
                OutboxMessage.claimed_until: None,
            }
        return {}

    erasure = _Erasure(
        contact_id,
        strict=traces_of(contact_id, known, own=False),
        own=traces_of(contact_id, known, own=True),
        tomb=tombstone(contact_id),
        describes=describes,
    )
    async with transaction():
        await Contact.update(
            {
                **{getattr(Contact, k): v for k, v in erasure.tomb.items()},
                Contact.active: False,
                Contact.erased_at: now,
                Contact.updated_at: now,
            }
        ).where(Contact.id == contact_id)
        revoked = await (
            PartnerLink.update({PartnerLink.revoked_at: now})
            .where(
                (
                    (PartnerLink.contact_id == contact_id)
                    | ((PartnerLink.purpose == feeds.KINDS["contact"]) & (PartnerLink.target_id == contact_id))
                )
                & PartnerLink.revoked_at.is_null()
            )
            .returning(PartnerLink.id)
        )
        rewritten = {
            AUDIT.name: await erasure.rewrite(
                local, AUDIT, own=lambda r: r["entity"] == "contact" and r["entity_id"] == contact_id
            ),
            OUTBOX.name: await erasure.rewrite(local, OUTBOX, own=addressed_to_contact, also=stop_unsent),
            ANSWERS.name: await erasure.rewrite(local, ANSWERS, own=lambda r: True),
        }
        for copies in REGISTERED_COPIES:
            rewritten[copies.name] = await erasure.rewrite(local, copies)
        detached = 0
        for column in DETACHED:
            table = column._meta.table
            rows = await table.update({column: None}).where(column == contact_id).returning(table._meta.primary_key)
            detached += len(rows)
        report = ErasureReport(
            contact_id,
            links_revoked=len(revoked),
            mails_not_sent=unsent,
            rewritten=rewritten,
            detached=detached,
        )
        await audit.record(
            scope.principal,
            "erase",
            "contact",
            contact_id,
            department_id=contact["department"],
            summary=f"Contact n° {contact_id} effacé (RGPD) : données personnelles remplacées partout",
            after={
                "organisation": contact["organisation"],
                "links_revoked": report.links_revoked,
                "mails_not_sent": report.mails_not_sent,
                "rewritten": report.rewritten,
                "detached": report.detached,
            },
        )
    return report
