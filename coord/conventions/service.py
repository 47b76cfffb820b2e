"""Conventions of a département and their signatories.

Reads go through the `Scope`; every change checks `Permission.MANAGE` on the convention's
département and is written with its audit entry (and its mails, through the outbox) in one
transaction. Dates that depend on "today" use the département's time zone; functions that need the
current instant take `now` so that tests (and the periodic job) pass their own clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from coord.access import Principal, Scope, belongs_to, link_principal, resolve_department, same_department
from coord.access.roles import Permission
from coord.audit import log as audit
from coord.audit import records
from coord.conventions import lifecycle, mails
from coord.conventions.lifecycle import ACTIVE, SIGNATORY_STATUSES, SIGNING, STATUSES
from coord.conventions.models import ConventionModel, load_models, models_dir
from coord.conventions.roles import ROLES, role_label
from coord.conventions.tables import Convention, ConventionSignatory
from coord.core.db import is_sqlite, transaction
from coord.core.errors import Conflict, NotFound, ValidationFailed
from coord.core.pagination import PageRequest
from coord.core.search import like
from coord.core.settings import current_settings
from coord.core.validation import Fields
from coord.links import service as links
from coord.partners.tables import Contact, Organisation
from coord.pilot_sites.service import SCHEMES
from coord.pilot_sites.tables import PilotSite

LINK_PURPOSE = "signature"
LINK_VALIDITY = dt.timedelta(days=180)
EARLIEST_DATE = dt.date(2000, 1, 1)

BASE_COLUMNS = (
    Convention.id,
    Convention.department,
    Convention.pilot_site,
    Convention.model_code,
    Convention.title,
    Convention.status,
    Convention.amendment,
    Convention.amendment_subject,
    Convention.signed_on,
    Convention.effective_from,
    Convention.ends_on,
    Convention.period,
    Convention.terminated_on,
    Convention.termination_reason,
    Convention.next_transition_on,
    Convention.next_reminder_on,
    Convention.notes,
)
JOINED_COLUMNS = (
    Convention.department.code.as_alias("department_code"),
    Convention.department.name.as_alias("department_name"),
    Convention.department.timezone.as_alias("timezone"),
)
COLUMNS = BASE_COLUMNS + JOINED_COLUMNS
SIGNATORY_COLUMNS = (
    ConventionSignatory.id,
    ConventionSignatory.department,
    ConventionSignatory.convention,
    ConventionSignatory.amendment,
    ConventionSignatory.organisation,
    ConventionSignatory.contact,
    ConventionSignatory.role,
    ConventionSignatory.signer_name,
    ConventionSignatory.signer_title,
    ConventionSignatory.status,
    ConventionSignatory.requested_at,
    ConventionSignatory.next_reminder_at,
    ConventionSignatory.signed_on,
    ConventionSignatory.refused_on,
    ConventionSignatory.document_ref,
    ConventionSignatory.organisation.name.as_alias("organisation_name"),
    ConventionSignatory.organisation.kind.as_alias("organisation_kind"),
    ConventionSignatory.organisation.email.as_alias("organisation_email"),
    ConventionSignatory.contact.first_name.as_alias("contact_first_name"),
    ConventionSignatory.contact.last_name.as_alias("contact_last_name"),
    ConventionSignatory.contact.email.as_alias("contact_email"),
)


# -- helpers ------------------------------------------------------------------------------------
def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def local_today(now: dt.datetime, timezone: str) -> dt.date:
    return now.astimezone(ZoneInfo(timezone or "Europe/Paris")).date()


def expiring_days() -> int:
    value = current_settings().extra.get("convention_expiring_days", lifecycle.DEFAULT_EXPIRING_DAYS)
    return value if isinstance(value, int) and value > 0 else lifecycle.DEFAULT_EXPIRING_DAYS


_models_cache: tuple[tuple[Any, ...], dict[str, ConventionModel]] | None = None


def models() -> dict[str, ConventionModel]:
    """The models, parsed again only when a file of the folder changed (a few stats per call instead
    of parsing and validating every TOML file on each page)."""
    global _models_cache
    folder = models_dir()
    stamp = (str(folder), *((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(folder.glob("*.toml"))))
    if _models_cache is None or _models_cache[0] != stamp:
        _models_cache = (stamp, load_models(folder))
    return _models_cache[1]


def model_choices() -> dict[str, str]:
    return {code: m.name for code, m in models().items()}


def model_out(model: ConventionModel) -> dict[str, Any]:
    return {
        "code": model.code,
        "name": model.name,
        "purpose": model.purpose,
        "scheme": model.scheme,
        "default_duration_months": model.default_duration_months,
        "tacit_renewal": model.tacit_renewal,
        "renewal_notice_days": model.renewal_notice_days,
        "signature_reminder_days": list(model.signature_reminder_days),
        "expiry_reminder_days": list(model.expiry_reminder_days),
        "signatories": [
            {
                "role": s.role,
                "label": role_label(s.role),
                "required": s.required,
                "min_count": s.min_count,
                "note": s.note,
                "kinds": list(ROLES[s.role].kinds) if s.role in ROLES else [],
            }
            for s in model.signatories
        ],
    }


def _model_name(code: str, catalogue: dict[str, ConventionModel]) -> str:
    model = catalogue.get(code)
    return model.name if model else f"Modèle « {code} » (fichier absent)"


def signatory_out(row: dict[str, Any]) -> dict[str, Any]:
    contact = " ".join(p for p in (row.get("contact_first_name"), row.get("contact_last_name")) if p)
    return {
        "id": row["id"],
        "convention": row["convention"],
        "amendment": row["amendment"],
        "organisation": row["organisation"],
        "organisation_name": row["organisation_name"] or "",
        "organisation_kind": row["organisation_kind"] or "",
        "contact": row["contact"],
        "contact_name": contact,
        "email": row.get("contact_email") or row.get("organisation_email") or "",
        "role": row["role"],
        "role_label": role_label(row["role"]),
        "signer_name": row["signer_name"],
        "signer_title": row["signer_title"],
        "status": row["status"],
        "status_label": SIGNATORY_STATUSES.get(row["status"], row["status"]),
        "requested_at": row["requested_at"],
        "signed_on": row["signed_on"],
        "refused_on": row["refused_on"],
        "document_ref": row["document_ref"],
    }


def convention_out(
    row: dict[str, Any], current: list[dict[str, Any]], catalogue: dict[str, ConventionModel]
) -> dict[str, Any]:
    """`current`: the signatories of the convention's current round (its amendment)."""
    model = catalogue.get(row["model_code"])
    done = (
        lifecycle.progress(model, current).as_dict()
        if model
        else {"required_count": 0, "signed_count": 0, "complete": False, "missing_roles": []}
    )
    return {
        "id": row["id"],
        "department": row["department_code"],
        "department_name": row["department_name"],
        "pilot_site": row["pilot_site"],
        "model": row["model_code"],
        "model_name": _model_name(row["model_code"], catalogue),
        "title": row["title"],
        "status": row["status"],
        "status_label": STATUSES.get(row["status"], row["status"]),
        "amendment": row["amendment"],
        "amendment_subject": row["amendment_subject"],
        "signed_on": row["signed_on"],
        "effective_from": row["effective_from"],
        "ends_on": row["ends_on"],
        "period": row["period"],
        "terminated_on": row["terminated_on"],
        "termination_reason": row["termination_reason"],
        "notes": row["notes"],
        **done,
    }


async def _current_signatories(conventions: Iterable[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    """Signatories of each convention's current round, by convention id."""
    rounds = {c["id"]: c["amendment"] for c in conventions}
    result: dict[int, list[dict[str, Any]]] = {cid: [] for cid in rounds}
    if not rounds:
        return result
    rows = (
        await ConventionSignatory.select(*SIGNATORY_COLUMNS)
        .where(ConventionSignatory.convention.is_in(list(rounds)))
        .order_by(ConventionSignatory.id)
    )
    for row in rows:
        if row["amendment"] == rounds[row["convention"]]:
            result[row["convention"]].append(row)
    return result


async def _convention_row(scope: Scope, convention_id: int) -> dict[str, Any]:
    return await scope.get(Convention, convention_id, *COLUMNS)


async def _locked_row(convention_id: int) -> dict[str, Any]:
    """The convention read again inside a write transaction: locked on PostgreSQL (without the
    joined columns: FOR UPDATE refuses outer joins); SQLite write transactions are IMMEDIATE,
    hence already exclusive."""
    query = Convention.select(*BASE_COLUMNS).where(Convention.id == convention_id)
    if not is_sqlite():
        query = query.lock_rows()
    row = await query.first()
    if row is None:
        raise NotFound()
    joined = await Convention.select(*JOINED_COLUMNS).where(Convention.id == convention_id).first()
    return {**row, **(joined or {})}


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v
        for k, v in row.items()
        if k not in {"created_at", "updated_at", "department_code", "department_name", "timezone"}
        and not k.startswith(("organisation_", "contact_"))
    }


# -- conventions --------------------------------------------------------------------------------
async def list_conventions(
    scope: Scope,
    page: PageRequest,
    *,
    department: str | None = None,
    status: str | None = None,
    model: str | None = None,
    pilot_site: int | None = None,
    q: str | None = None,
) -> tuple[list[dict[str, Any]], int]:
    if status and status not in STATUSES:
        raise ValidationFailed({"status": f"État inconnu « {status[:40]} »."})
    scope = await scope.within_code(department)
    conditions = []
    if status:
        conditions.append(Convention.status == status)
    if model:
        conditions.append(Convention.model_code == model[:60])
    if pilot_site:
        conditions.append(Convention.pilot_site == pilot_site)
    if q:
        conditions.append(Convention.title.ilike(like(q)))
    query, count = scope.select(Convention, *COLUMNS), scope.count(Convention)
    for condition in conditions:
        query, count = query.where(condition), count.where(condition)
    rows = await query.order_by(Convention.department).order_by(Convention.id).limit(page.per_page).offset(page.offset)
    current = await _current_signatories(rows)
    catalogue = models()
    return [convention_out(r, current[r["id"]], catalogue) for r in rows], await count


async def get_convention(scope: Scope, convention_id: int, *, with_signatories: bool = True) -> dict[str, Any]:
    row = await _convention_row(scope, convention_id)
    current = (await _current_signatories([row]))[row["id"]]
    result = convention_out(row, current, models())
    if with_signatories:
        result["signatories"] = [signatory_out(s) for s in current]
    return result


async def signatory_history(scope: Scope, convention_id: int) -> list[dict[str, Any]]:
    """Signatories of the earlier rounds (before the current amendment), newest round first."""
    row = await _convention_row(scope, convention_id)
    rows = (
        await scope.select(ConventionSignatory, *SIGNATORY_COLUMNS)
        .where((ConventionSignatory.convention == convention_id) & (ConventionSignatory.amendment < row["amendment"]))
        .order_by(ConventionSignatory.amendment, ascending=False)
        .order_by(ConventionSignatory.id)
    )
    return [signatory_out(r) for r in rows]


async def _pilot_site_field(scope: Scope, fields: Fields, department_id: int | None) -> int | None:
    value = fields.integer("pilot_site", minimum=1)
    if not value:
        fields.values["pilot_site"] = None
        return None
    try:
        site = await scope.get(PilotSite, value)
    except NotFound:
        site = None
    if site is None or department_id is None or not belongs_to(site, department_id):
        fields.error("pilot_site", "Choisissez un site pilote de ce département.")
        return None
    return value


async def create_convention(scope: Scope, data: dict[str, Any]) -> dict[str, Any]:
    catalogue = models()
    fields = Fields(data)
    code = fields.choice("model", {c: m.name for c, m in catalogue.items()})
    title = fields.text("title", max_length=300)
    fields.text("notes", max_length=4000, multiline=True)
    department_id = await resolve_department(scope, data.get("department"), fields)
    await _pilot_site_field(scope, fields, department_id)
    values = fields.check()
    model = catalogue[code or ""]
    row = await records.create(
        scope,
        Convention,
        {
            "department": department_id,
            "pilot_site": values.get("pilot_site"),
            "model_code": model.code,
            "title": title or model.name,
            "notes": values.get("notes") or "",
            "status": "draft",
        },
        entity="convention",
        summary=f"Convention « {title or model.name} »",
    )
    return await get_convention(scope, row["id"])


async def update_convention(
    scope: Scope, convention_id: int, data: dict[str, Any], *, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Title, notes, pilot site; the model while still a draft without signatories; the dates of an
    active convention (a convention signed before Coord, an end date set by its text)."""
    current = await _convention_row(scope, convention_id)
    scope.require(Permission.MANAGE, current["department"])
    catalogue = models()
    fields = Fields(data, partial=True)
    fields.text("title", required=True, max_length=300)
    fields.text("notes", max_length=4000, multiline=True)
    if fields.present("pilot_site"):
        await _pilot_site_field(scope, fields, current["department"])
    if fields.present("model"):
        code = fields.choice("model", {c: m.name for c, m in catalogue.items()})
        if code and code != current["model_code"]:
            has_signatories = await ConventionSignatory.exists().where(ConventionSignatory.convention == convention_id)
            if current["status"] != "draft" or has_signatories:
                fields.error("model", "Le modèle ne peut plus être changé : la convention a déjà des signataires.")
        if code:
            fields.values["model_code"] = fields.values.pop("model")
    for name in ("effective_from", "ends_on"):
        if fields.present(name):
            value = fields.date(name)
            if value is not None and current["status"] not in ACTIVE:
                fields.error(name, "Les dates de validité se règlent une fois la convention en vigueur.")
            elif value is None and current["status"] in ACTIVE:
                fields.error(name, "Ce champ est obligatoire pour une convention en vigueur.")
    values = fields.check()
    effective = values.get("effective_from", current["effective_from"])
    ends = values.get("ends_on", current["ends_on"])
    if effective and ends and ends <= effective:
        raise ValidationFailed({"ends_on": "La date de fin doit être postérieure à la date d'effet."})
    if "effective_from" in values or "ends_on" in values:
        model = catalogue.get(values.get("model_code", current["model_code"]))
        today = local_today(now or utcnow(), current["timezone"])
        values.update(
            lifecycle.settle(
                {**current, **values, "status": current["status"]}, model, today, expiring_days=expiring_days()
            )
        )
    await records.update(
        scope, Convention, convention_id, values, entity="convention", summary=f"Convention « {current['title']} »"
    )
    return await get_convention(scope, convention_id)


async def delete_convention(scope: Scope, convention_id: int) -> None:
    current = await _convention_row(scope, convention_id)
    scope.require(Permission.MANAGE, current["department"])
    if current["status"] != "draft":
        raise Conflict(
            "Seule une convention en brouillon peut être supprimée : résiliez-la plutôt, son historique est conservé."
        )
    signatory_ids = [
        r["id"]
        for r in await ConventionSignatory.select(ConventionSignatory.id).where(
            ConventionSignatory.convention == convention_id
        )
    ]
    for signatory_id in signatory_ids:
        await links.revoke(LINK_PURPOSE, signatory_id)
    await records.delete(
        scope, Convention, convention_id, entity="convention", summary=f"Convention « {current['title']} »"
    )


async def _write_convention(
    actor: Principal,
    before: dict[str, Any],
    changes: dict[str, Any],
    *,
    action: str,
    summary: str,
) -> None:
    """Update a convention inside the caller's transaction, with its audit entry."""
    if not changes:
        return
    await Convention.update({getattr(Convention, k): v for k, v in {**changes, "updated_at": utcnow()}.items()}).where(
        Convention.id == before["id"]
    )
    old, new = audit.changed_fields(_plain(before), changes)
    if new:
        await audit.record(
            actor,
            action,
            "convention",
            before["id"],
            department_id=before["department"],
            summary=summary,
            before=old,
            after=new,
        )


async def _complete_if_signed(
    actor: Principal, convention: dict[str, Any], model: ConventionModel | None, today: dt.date
) -> dict[str, Any]:
    """After a signature: the convention enters into force when every required role has signed.
    Returns the changes made (empty when nothing changed). Runs inside the caller's transaction."""
    if model is None or convention["status"] not in SIGNING:
        return {}
    current = (await _current_signatories([convention]))[convention["id"]]
    done = lifecycle.progress(model, current)
    changes: dict[str, Any] = {}
    if convention["status"] == "draft":
        changes["status"] = "in_signature"
    if done.complete:
        counted = _counted_signatures(model, current)
        signed_on = max(s["signed_on"] for s in counted)
        effective = convention["effective_from"] or signed_on
        ends = convention["ends_on"] or lifecycle.end_of_first_period(effective, model)
        changes.update(signed_on=signed_on, effective_from=effective, ends_on=ends, status="in_force")
        changes.update(lifecycle.settle({**convention, **changes}, model, today, expiring_days=expiring_days()))
    if changes:
        label = "entrée en vigueur" if done.complete else "ouverture à la signature"
        await _write_convention(
            actor,
            convention,
            changes,
            action="update",
            summary=f"Convention « {convention['title']} » : {label}",
        )
    return changes


def _counted_signatures(model: ConventionModel, current: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The signatures that make the convention complete: the first `min_count` of each required role."""
    counted: list[dict[str, Any]] = []
    for requirement in model.signatories:
        if requirement.required:
            signed = sorted(
                (s for s in current if s["role"] == requirement.role and s["status"] == "signed"),
                key=lambda s: (s["signed_on"], s["id"]),
            )
            counted.extend(signed[: requirement.min_count])
    return counted


# -- signatories --------------------------------------------------------------------------------
async def list_signatories(scope: Scope, convention_id: int) -> list[dict[str, Any]]:
    return (await get_convention(scope, convention_id))["signatories"]


async def _signatory_row(scope: Scope, convention_id: int, signatory_id: int) -> dict[str, Any]:
    row = await scope.get(ConventionSignatory, signatory_id, *SIGNATORY_COLUMNS)
    if row["convention"] != convention_id:
        raise NotFound()
    return row


async def get_signatory(scope: Scope, convention_id: int, signatory_id: int) -> dict[str, Any]:
    return signatory_out(await _signatory_row(scope, convention_id, signatory_id))


def _require_model(code: str) -> ConventionModel:
    model = models().get(code)
    if model is None:
        raise Conflict(f"Le modèle « {code} » de cette convention n'existe plus dans le dossier des modèles.")
    return model


def _role_check(model: ConventionModel, role: str | None, fields: Fields) -> None:
    if role and model.requirement(role) is None:
        fields.error("role", f"Le modèle « {model.name} » ne prévoit pas le rôle « {role_label(role)} ».")


async def add_signatory(
    scope: Scope, convention_id: int, data: dict[str, Any], *, now: dt.datetime | None = None
) -> dict[str, Any]:
    convention = await _convention_row(scope, convention_id)
    scope.require(Permission.MANAGE, convention["department"])
    model = _require_model(convention["model_code"])
    if convention["status"] in lifecycle.FINAL:
        raise Conflict("Cette convention n'est plus en vigueur : on ne peut plus y ajouter de signataire.")
    fields = Fields(data)
    role = fields.choice("role", {code: r.label for code, r in ROLES.items()})
    _role_check(model, role, fields)
    organisation_id = fields.integer("organisation", required=True, minimum=1)
    organisation = None
    if organisation_id:
        try:
            organisation = await scope.get(Organisation, organisation_id)
        except NotFound:
            organisation = None
        if organisation is None or not same_department(organisation, convention):
            fields.error("organisation", "Choisissez une organisation partenaire de ce département.")
            organisation = None
    if organisation and role and role in ROLES and not ROLES[role].accepts(organisation["kind"]):
        fields.error(
            "organisation",
            f"Une organisation de ce type ne peut pas signer comme « {role_label(role)} ».",
        )
    contact_id = fields.integer("contact", minimum=1)
    if contact_id:
        contact = await Contact.select(Contact.id, Contact.organisation).where(Contact.id == contact_id).first()
        if contact is None or (organisation and contact["organisation"] != organisation["id"]):
            fields.error("contact", "Choisissez un contact de l'organisation signataire.")
    fields.text("signer_name", max_length=200)
    fields.text("signer_title", max_length=200)
    fields.text("document_ref", max_length=300)
    if organisation and role and not fields.errors:
        current = (await _current_signatories([convention]))[convention_id]
        if any(s["organisation"] == organisation["id"] and s["role"] == role for s in current):
            fields.error("organisation", f"Cette organisation est déjà signataire comme « {role_label(role)} ».")
        requirement = model.requirement(role)
        live = [s for s in current if s["role"] == role and s["status"] == "signed"]
        if requirement and len(live) >= requirement.min_count:
            fields.error("role", _role_full_message(role, requirement.min_count))
    values = fields.check()
    row = await records.create(
        scope,
        ConventionSignatory,
        {
            "department": convention["department"],
            "convention": convention_id,
            "amendment": convention["amendment"],
            "organisation": organisation_id,
            "contact": contact_id,
            "role": role,
            "signer_name": values.get("signer_name") or "",
            "signer_title": values.get("signer_title") or "",
            "document_ref": values.get("document_ref") or "",
            "status": "to_send",
        },
        entity="convention_signatory",
        summary=f"Signataire ajouté à « {convention['title']} » : {organisation['name'] if organisation else ''}",
    )
    return await get_signatory(scope, convention_id, row["id"])


def _role_full_message(role: str, count: int) -> str:
    if count == 1:
        return f"Le rôle « {role_label(role)} » a déjà signé cette convention : une seule signature est prévue."
    return f"Le rôle « {role_label(role)} » a déjà ses {count} signatures prévues par le modèle."


def signer_principal(email: str, department_id: int) -> Principal:
    """Who signs through the mailed link (for the audit log)."""
    return link_principal(f"lien de signature : {email}", department_id)


async def record_signature(
    actor: Principal,
    signatory_id: int,
    signed_on: Any,
    *,
    document_ref: str | None = None,
    now: dt.datetime | None = None,
    field: str = "signed_on",
) -> dict[str, Any]:
    """Record the signature of one signatory (by an agent or through the signed link) and bring
    the convention into force when it was the last one required. Returns the convention's changes."""
    now = now or utcnow()
    fields = Fields({field: signed_on, "document_ref": document_ref})
    day = fields.date(field, required=True)
    fields.text("document_ref", max_length=300)
    fields.check()
    async with transaction():
        signatory = (
            await ConventionSignatory.select(*SIGNATORY_COLUMNS).where(ConventionSignatory.id == signatory_id).first()
        )
        if signatory is None:
            raise NotFound()
        convention = await _locked_row(signatory["convention"])
        today = local_today(now, convention["timezone"])
        errors: dict[str, str] = {}
        if day and day > today:
            errors[field] = "La date de signature ne peut pas être postérieure à aujourd'hui."
        elif day and day < EARLIEST_DATE:
            errors[field] = "Date de signature invalide (avant l'an 2000)."
        if signatory["amendment"] != convention["amendment"]:
            raise Conflict("Cette demande de signature concerne une version antérieure de la convention.")
        if convention["status"] in lifecycle.FINAL:
            raise Conflict("Cette convention n'est plus en vigueur : la signature ne peut plus être enregistrée.")
        if signatory["status"] == "signed":
            raise Conflict(f"Cette signature est déjà enregistrée (signée le {signatory['signed_on']:%d/%m/%Y}).")
        model = _require_model(convention["model_code"])
        requirement = model.requirement(signatory["role"])
        if requirement is None:
            errors["role"] = f"Le modèle « {model.name} » ne prévoit pas le rôle « {role_label(signatory['role'])} »."
        else:
            already = await ConventionSignatory.count().where(
                (ConventionSignatory.convention == convention["id"])
                & (ConventionSignatory.amendment == convention["amendment"])
                & (ConventionSignatory.role == signatory["role"])
                & (ConventionSignatory.status == "signed")
            )
            if already >= requirement.min_count:
                errors["role"] = _role_full_message(signatory["role"], requirement.min_count)
        if errors:
            raise ValidationFailed(errors)
        changes = {
            ConventionSignatory.status: "signed",
            ConventionSignatory.signed_on: day,
            ConventionSignatory.refused_on: None,
            ConventionSignatory.next_reminder_at: None,
            ConventionSignatory.updated_at: now,
        }
        if document_ref:
            changes[ConventionSignatory.document_ref] = document_ref.strip()
        await ConventionSignatory.update(changes).where(ConventionSignatory.id == signatory_id)
        await audit.record(
            actor,
            "sign",
            "convention_signatory",
            signatory_id,
            department_id=convention["department"],
            summary=f"Signature de {signatory['organisation_name']} ({role_label(signatory['role'])}) "
            f"sur « {convention['title']} »",
            before={"status": signatory["status"]},
            after={"status": "signed", "signed_on": day.isoformat() if day else None},
        )
        return await _complete_if_signed(actor, convention, model, today)


async def sign(
    scope: Scope, convention_id: int, signatory_id: int, data: dict[str, Any], *, now: dt.datetime | None = None
) -> dict[str, Any]:
    """An agent records a signature received on paper (date, optional reference of the scan)."""
    await _signatory_row(scope, convention_id, signatory_id)
    convention = await _convention_row(scope, convention_id)
    scope.require(Permission.MANAGE, convention["department"])
    await record_signature(
        scope.principal, signatory_id, data.get("signed_on"), document_ref=data.get("document_ref") or None, now=now
    )
    return await get_convention(scope, convention_id)


async def update_signatory(
    scope: Scope, convention_id: int, signatory_id: int, data: dict[str, Any], *, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Signer details, document reference, and status changes: signed (with its date), refused,
    sent (a request sent outside Coord), back to « to send »."""
    now = now or utcnow()
    signatory = await _signatory_row(scope, convention_id, signatory_id)
    convention = await _convention_row(scope, convention_id)
    scope.require(Permission.MANAGE, convention["department"])
    fields = Fields(data, partial=True)
    fields.text("signer_name", max_length=200)
    fields.text("signer_title", max_length=200)
    fields.text("document_ref", max_length=300)
    status = fields.choice("status", SIGNATORY_STATUSES)
    fields.date("signed_on")
    refused_on = fields.date("refused_on")
    values = fields.check()
    status = values.pop("status", None)
    signed_on = values.pop("signed_on", None)
    values.pop("refused_on", None)
    today = local_today(now, convention["timezone"])
    if status == "signed" and signatory["status"] != "signed":
        if values:
            await records.update(
                scope, ConventionSignatory, signatory_id, values, entity="convention_signatory", summary="Signataire"
            )
        await record_signature(
            scope.principal, signatory_id, signed_on, document_ref=values.get("document_ref"), now=now
        )
        return await get_signatory(scope, convention_id, signatory_id)
    if status and status != signatory["status"]:
        if signatory["amendment"] != convention["amendment"]:
            raise Conflict("Ce signataire appartient à une version antérieure de la convention.")
        if signatory["status"] == "signed" and convention["status"] not in SIGNING:
            raise Conflict("La convention est en vigueur : cette signature ne peut plus être annulée.")
        if status == "refused":
            values.update(status="refused", refused_on=refused_on or today, next_reminder_at=None)
        elif status == "sent":
            requested = signatory["requested_at"] or now
            model = _require_model(convention["model_code"])
            values.update(
                status="sent",
                requested_at=requested,
                next_reminder_at=lifecycle.first_signature_reminder(model, requested),
            )
        elif status == "to_send":
            values.update(status="to_send", signed_on=None, refused_on=None, next_reminder_at=None)
        elif status == "signed":
            pass
    elif signed_on is not None and signatory["status"] == "signed":
        if signed_on > today:
            raise ValidationFailed({"signed_on": "La date de signature ne peut pas être postérieure à aujourd'hui."})
        values["signed_on"] = signed_on
    if values:
        await records.update(
            scope,
            ConventionSignatory,
            signatory_id,
            values,
            entity="convention_signatory",
            summary=f"Signataire {signatory['organisation_name']} de « {convention['title']} »",
        )
        if values.get("status") in {"refused", "to_send"}:
            await links.revoke(LINK_PURPOSE, signatory_id)
    return await get_signatory(scope, convention_id, signatory_id)


async def remove_signatory(scope: Scope, convention_id: int, signatory_id: int) -> None:
    signatory = await _signatory_row(scope, convention_id, signatory_id)
    convention = await _convention_row(scope, convention_id)
    scope.require(Permission.MANAGE, convention["department"])
    if signatory["amendment"] != convention["amendment"]:
        raise Conflict("Ce signataire appartient à l'historique d'une version antérieure : il est conservé.")
    if signatory["status"] == "signed" and convention["status"] not in SIGNING:
        raise Conflict("La convention est en vigueur : un signataire qui a signé ne peut pas être retiré.")
    await links.revoke(LINK_PURPOSE, signatory_id)
    await records.delete(
        scope,
        ConventionSignatory,
        signatory_id,
        entity="convention_signatory",
        summary=f"Signataire retiré de « {convention['title']} » : {signatory['organisation_name']}",
    )


async def send_request(
    scope: Scope, convention_id: int, signatory_id: int, *, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Mail the signatory a signed link where the date of signature is confirmed; the convention
    goes from draft to « in signature »."""
    now = now or utcnow()
    signatory = await _signatory_row(scope, convention_id, signatory_id)
    convention = await _convention_row(scope, convention_id)
    scope.require(Permission.MANAGE, convention["department"])
    model = _require_model(convention["model_code"])
    if signatory["amendment"] != convention["amendment"] or convention["status"] not in SIGNING:
        raise Conflict("Les demandes de signature ne s'envoient que pour une convention en cours de signature.")
    if signatory["status"] != "to_send":
        when = signatory["requested_at"]
        raise Conflict(
            "La demande a déjà été envoyée"
            + (f" le {when:%d/%m/%Y}" if when else "")
            + " : les relances partent automatiquement."
            if signatory["status"] == "sent"
            else f"Ce signataire est à l'état « {SIGNATORY_STATUSES[signatory['status']]} »."
        )
    out = signatory_out(signatory)
    if not out["email"]:
        raise ValidationFailed(
            {"contact": "Aucune adresse électronique : choisissez un contact de l'organisation signataire."}
        )
    async with transaction():
        await mails.queue_signature_mail(convention, out, model, now=now, reminder_day=None)
        await ConventionSignatory.update(
            {
                ConventionSignatory.status: "sent",
                ConventionSignatory.requested_at: now,
                ConventionSignatory.next_reminder_at: lifecycle.first_signature_reminder(model, now),
                ConventionSignatory.updated_at: now,
            }
        ).where(ConventionSignatory.id == signatory_id)
        await audit.record(
            scope.principal,
            "send",
            "convention_signatory",
            signatory_id,
            department_id=convention["department"],
            summary=f"Demande de signature envoyée à {out['email']} pour « {convention['title']} »",
        )
        if convention["status"] == "draft":
            await _write_convention(
                scope.principal,
                convention,
                {"status": "in_signature"},
                action="update",
                summary=f"Convention « {convention['title']} » : ouverture à la signature",
            )
    return await get_signatory(scope, convention_id, signatory_id)


# -- amendment and termination ------------------------------------------------------------------
async def amend(
    scope: Scope, convention_id: int, data: dict[str, Any], *, now: dt.datetime | None = None
) -> dict[str, Any]:
    """An amendment (avenant n° N+1) reopens signatures: the signatories of the current round are
    carried over « to send », the earlier round stays as history."""
    now = now or utcnow()
    fields = Fields(data)
    subject = fields.text("subject", required=True, max_length=2000, multiline=True)
    fields.check()
    current = await _convention_row(scope, convention_id)
    scope.require(Permission.MANAGE, current["department"])
    async with transaction():
        convention = await _locked_row(convention_id)
        if convention["status"] not in ACTIVE:
            raise Conflict("Un avenant ne peut être ouvert que sur une convention en vigueur.")
        number = convention["amendment"] + 1
        previous = (await _current_signatories([convention]))[convention_id]
        for s in previous:
            await links.revoke(LINK_PURPOSE, s["id"], now=now)
            if s["status"] == "refused":
                continue
            await ConventionSignatory.insert(
                ConventionSignatory(
                    department=convention["department"],
                    convention=convention_id,
                    amendment=number,
                    organisation=s["organisation"],
                    contact=s["contact"],
                    role=s["role"],
                    signer_name=s["signer_name"],
                    signer_title=s["signer_title"],
                    status="to_send",
                )
            )
        await _write_convention(
            scope.principal,
            convention,
            {
                "amendment": number,
                "amendment_subject": subject or "",
                "status": "in_signature",
                "signed_on": None,
                "next_transition_on": None,
                "next_reminder_on": None,
            },
            action="amend",
            summary=f"Avenant n° {number} à « {convention['title']} »",
        )
    return await get_convention(scope, convention_id)


async def terminate(
    scope: Scope, convention_id: int, data: dict[str, Any], *, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Termination (résiliation, dénonciation) at a date: at once if the date has come, else the
    convention stays in force until then and is not renewed."""
    now = now or utcnow()
    current = await _convention_row(scope, convention_id)
    scope.require(Permission.MANAGE, current["department"])
    fields = Fields(data)
    day = fields.date("terminated_on", required=True)
    reason = fields.text("reason", max_length=2000, multiline=True)
    if day and day < EARLIEST_DATE:
        fields.error("terminated_on", "Date invalide (avant l'an 2000).")
    fields.check()
    assert day is not None
    async with transaction():
        convention = await _locked_row(convention_id)
        if convention["status"] not in ACTIVE and convention["status"] != "in_signature":
            raise Conflict(
                "Seule une convention en vigueur ou en cours de signature peut être résiliée"
                + (" (un brouillon se supprime)." if convention["status"] == "draft" else ".")
            )
        today = local_today(now, convention["timezone"])
        changes: dict[str, Any] = {"terminated_on": day, "termination_reason": reason or ""}
        if day <= today or convention["status"] == "in_signature":
            changes.update(status="terminated", next_transition_on=None, next_reminder_on=None)
        else:
            if convention["ends_on"] and day > convention["ends_on"]:
                raise ValidationFailed(
                    {
                        "terminated_on": f"La convention prend fin le {convention['ends_on']:%d/%m/%Y} : "
                        "choisissez une date antérieure ou égale."
                    }
                )
            changes["ends_on"] = day
            model = models().get(convention["model_code"])
            changes.update(lifecycle.settle({**convention, **changes}, model, today, expiring_days=expiring_days()))
        for s in (await _current_signatories([convention]))[convention_id]:
            await links.revoke(LINK_PURPOSE, s["id"], now=now)
            if s["status"] == "sent":
                await ConventionSignatory.update({ConventionSignatory.next_reminder_at: None}).where(
                    ConventionSignatory.id == s["id"]
                )
        await _write_convention(
            scope.principal,
            convention,
            changes,
            action="terminate",
            summary=f"Résiliation de « {convention['title']} » au {day:%d/%m/%Y}",
        )
    return await get_convention(scope, convention_id)


# -- choices for forms --------------------------------------------------------------------------
async def organisation_choices(scope: Scope, department_id: int) -> list[dict[str, Any]]:
    rows = (
        await scope.within(department_id)
        .select(Organisation, Organisation.id, Organisation.name, Organisation.kind)
        .order_by(Organisation.name)
    )
    return rows


async def contact_choices(scope: Scope, department_id: int) -> dict[int, str]:
    rows = (
        await scope.within(department_id)
        .select(
            Contact,
            Contact.id,
            Contact.first_name,
            Contact.last_name,
            Contact.organisation.name.as_alias("org"),
        )
        .where(Contact.active.eq(True))
        .order_by(Contact.last_name, Contact.first_name)
    )
    return {r["id"]: f"{r['last_name']} {r['first_name']} – {r['org']}" for r in rows}


async def pilot_site_choices(scope: Scope, department_id: int) -> dict[int, str]:
    rows = (
        await scope.within(department_id)
        .select(PilotSite, PilotSite.id, PilotSite.scheme, PilotSite.plan.code.as_alias("plan"))
        .order_by(PilotSite.id)
    )
    return {r["id"]: f"{SCHEMES.get(r['scheme'], r['scheme'])} (plan {r['plan']})" for r in rows}
