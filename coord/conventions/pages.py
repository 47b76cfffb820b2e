"""Pages of conventions: a département's list and coverage, creation from a model, the detail with
its signatories, the national coverage view (the public page behind the signature link is in
`signing.py`)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.response import Template

from coord.access import DepartmentRow, Scope
from coord.conventions import coverage as coverage_service
from coord.conventions import lifecycle, scans, service
from coord.conventions.roles import ROLES, role_label
from coord.core import clock
from coord.core.errors import Conflict, ValidationFailed
from coord.core.pagination import PageRequest
from coord.partners.kinds import KIND_LABELS
from coord.web.forms import department_context, form_data, page, redirect


async def _convention_in(access: Scope, department: dict[str, Any], convention_id: int) -> dict[str, Any]:
    convention = await service.get_convention(access, convention_id)
    access.require_in(convention, department)
    return convention


def _pending(signatories: list[dict[str, Any]] | None) -> dict[int, str]:
    """Signatories whose signature may still be recorded, for the « signature received » forms."""
    return {
        s["id"]: f"{s['organisation_name']} – {s['role_label']}"
        for s in signatories or []
        if s["status"] not in ("signed", "refused")
    }


# The amendment's forms sit on the same page as the convention's: their fields carry this prefix so
# that no two fields share an id, and errors come back under the prefixed names.
AMENDMENT_PREFIX = "avenant_"


def _amendment_fields(data: dict[str, Any]) -> dict[str, Any]:
    return {k.removeprefix(AMENDMENT_PREFIX): v for k, v in data.items() if k.startswith(AMENDMENT_PREFIX)}


async def _on_amendment_fields(data: dict[str, Any], action: Any) -> Any:
    try:
        return await action(_amendment_fields(data))
    except ValidationFailed as exc:
        raise ValidationFailed({AMENDMENT_PREFIX + k: v for k, v in exc.errors.items()}) from exc


def _base(department: dict[str, Any], convention_id: int | None = None) -> str:
    path = f"/d/{department['code']}/conventions"
    return f"{path}/{convention_id}" if convention_id else path


class ConventionPages(Controller):
    path = "/d/{code:str}/conventions"

    @get("/")
    async def list(
        self, access: Scope, department: DepartmentRow, code: str, request: Request, status: str | None = None
    ) -> Template:
        pager = PageRequest.parse(request.query_params.get("page"), None, default_per_page=50)
        status = status if status in lifecycle.STATUSES else None
        items, total = await service.list_conventions(access, pager, department=code, status=status)
        sites = await coverage_service.coverage(access, department=code)
        return page(
            "conventions/list.html",
            **department_context(access, department, "conventions"),
            conventions=items,
            total=total,
            pager=pager,
            statuses=lifecycle.STATUSES,
            filters={"status": status or ""},
            sites=sites,
            missing_text=coverage_service.missing_text,
        )

    async def _form(
        self,
        access: Scope,
        department: dict[str, Any],
        values: dict[str, Any],
        errors: dict[str, str],
        status: int = 200,
    ) -> Template:
        return page(
            "conventions/form.html",
            status=status,
            **department_context(access, department, "conventions"),
            values=values,
            errors=errors,
            models=service.models(),
            model_choices=service.model_choices(),
            role_labels={code: r.label for code, r in ROLES.items()},
            pilot_sites=await service.pilot_site_choices(access, department["id"]),
        )

    @get("/nouvelle")
    async def new(self, access: Scope, department: DepartmentRow, modele: str | None = None) -> Template:
        return await self._form(access, department, {"model": modele or ""}, {})

    @post("/nouvelle")
    async def create(self, access: Scope, department: DepartmentRow, code: str, request: Request) -> Response:
        data = await form_data(request)
        try:
            convention = await service.create_convention(access, {**data, "department": department["code"]})
        except ValidationFailed as exc:
            return await self._form(access, department, data, exc.errors, status=422)
        return redirect(
            request, _base(department, convention["id"]), f"Convention « {convention['title']} » créée (brouillon)."
        )

    async def _detail(
        self,
        access: Scope,
        department: dict[str, Any],
        convention: dict[str, Any],
        *,
        values: dict[str, Any] | None = None,
        errors: dict[str, str] | None = None,
        form: str = "",
        status: int = 200,
    ) -> Template:
        model = service.models().get(convention["model"])
        organisations = await service.organisation_choices(access, department["id"])
        pending = _pending(convention["signatories"])
        opened = convention["open_amendment"]
        amendments = await service.list_amendments(access, convention["id"])
        return page(
            "conventions/detail.html",
            status=status,
            **department_context(access, department, "conventions"),
            convention=convention,
            documents_box=await scans.documents_box(access, department, convention["id"]),
            model=model,
            history=await service.signatory_history(access, convention["id"]),
            organisations={o["id"]: f"{o['name']} ({KIND_LABELS.get(o['kind'], o['kind'])})" for o in organisations},
            roles={
                r.role: role_label(r.role) + (" (obligatoire)" if r.required else " (facultatif)")
                for r in (model.signatories if model else ())
            },
            contacts=await service.contact_choices(access, department["id"]),
            contact_organisations=await service.contact_organisations(access, department["id"]),
            pending=pending,
            amendment=opened,
            amendment_pending=_pending(opened["signatories"]) if opened else {},
            amendment_signed=bool(opened) and any(s["status"] == "signed" for s in opened["signatories"] or []),
            amendments=amendments,
            next_amendment=max([a["number"] for a in amendments] + [convention["amendment"]]) + 1,
            pilot_sites=await service.pilot_site_choices(access, department["id"]),
            values=values or {},
            errors=errors or {},
            form=form,
            today=clock.local_today(department["timezone"]).isoformat(),
            ACTIVE=lifecycle.ACTIVE,
            SIGNING=lifecycle.SIGNING,
        )

    @get("/{convention_id:int}")
    async def detail(self, access: Scope, department: DepartmentRow, convention_id: int) -> Template:
        return await self._detail(access, department, await _convention_in(access, department, convention_id))

    async def _act(
        self,
        access: Scope,
        department: DepartmentRow,
        convention_id: int,
        request: Request,
        form: str,
        action: Any,
        message: str,
    ) -> Response:
        """Run a form action; validation errors re-render the detail with the errors next to the
        form's fields, conflicts come back as an error message."""
        convention = await _convention_in(access, department, convention_id)
        data = await form_data(request)
        try:
            result = await action(data)
        except ValidationFailed as exc:
            return await self._detail(
                access, department, convention, values=data, errors=exc.errors, form=form, status=422
            )
        except Conflict as exc:
            return redirect(request, _base(department, convention_id), exc.message, category="error")
        if callable(message):
            message = message(result)
        return redirect(request, _base(department, convention_id) + (f"#{form}" if form else ""), message)

    @post("/{convention_id:int}/modifier")
    async def update(self, access: Scope, department: DepartmentRow, convention_id: int, request: Request) -> Response:
        async def action(data: dict[str, Any]) -> Any:
            keep = {k: v for k, v in data.items() if k in {"title", "notes", "pilot_site", "effective_from", "ends_on"}}
            return await service.update_convention(access, convention_id, keep)

        return await self._act(access, department, convention_id, request, "modifier", action, "Convention modifiée.")

    @post("/{convention_id:int}/supprimer")
    async def remove(self, access: Scope, department: DepartmentRow, convention_id: int, request: Request) -> Response:
        convention = await _convention_in(access, department, convention_id)
        try:
            await service.delete_convention(access, convention_id)
        except Conflict as exc:
            return redirect(request, _base(department, convention_id), exc.message, category="error")
        return redirect(request, _base(department), f"Convention « {convention['title']} » supprimée.")

    @post("/{convention_id:int}/signataires")
    async def add_signatory(
        self, access: Scope, department: DepartmentRow, convention_id: int, request: Request
    ) -> Response:
        async def action(data: dict[str, Any]) -> Any:
            return await service.add_signatory(access, convention_id, data)

        return await self._act(
            access,
            department,
            convention_id,
            request,
            "ajout-signataire",
            action,
            lambda s: f"{s['organisation_name']} ajouté(e) comme « {s['role_label']} ».",
        )

    @post("/{convention_id:int}/signature")
    async def record_signature(
        self, access: Scope, department: DepartmentRow, convention_id: int, request: Request
    ) -> Response:
        async def action(data: dict[str, Any]) -> Any:
            signatory_id = data.get("signatory")
            if not str(signatory_id or "").isdigit():
                raise ValidationFailed({"signatory": "Choisissez le signataire."})
            return await service.sign(access, convention_id, int(str(signatory_id)), data)

        def message(convention: dict[str, Any]) -> str:
            text = f"Signature enregistrée : {convention['signed_count']} sur {convention['required_count']} requises."
            if convention["status"] in lifecycle.ACTIVE and convention["complete"]:
                text += f" La convention est {convention['status_label'].lower()}."
            return text

        return await self._act(access, department, convention_id, request, "signature", action, message)

    @post("/{convention_id:int}/signataires/{signatory_id:int}/envoyer")
    async def send_request(
        self, access: Scope, department: DepartmentRow, convention_id: int, signatory_id: int, request: Request
    ) -> Response:
        async def action(data: dict[str, Any]) -> Any:
            return await service.send_request(access, convention_id, signatory_id)

        return await self._act(
            access,
            department,
            convention_id,
            request,
            "signataires",
            action,
            lambda s: f"Demande de signature envoyée à {s['email']}.",
        )

    @post("/{convention_id:int}/signataires/{signatory_id:int}/refus")
    async def refuse(
        self, access: Scope, department: DepartmentRow, convention_id: int, signatory_id: int, request: Request
    ) -> Response:
        async def action(data: dict[str, Any]) -> Any:
            return await service.update_signatory(access, convention_id, signatory_id, {"status": "refused"})

        return await self._act(
            access, department, convention_id, request, "signataires", action, "Refus de signer enregistré."
        )

    @post("/{convention_id:int}/signataires/{signatory_id:int}/retirer")
    async def remove_signatory(
        self, access: Scope, department: DepartmentRow, convention_id: int, signatory_id: int, request: Request
    ) -> Response:
        async def action(data: dict[str, Any]) -> Any:
            return await service.remove_signatory(access, convention_id, signatory_id)

        return await self._act(access, department, convention_id, request, "signataires", action, "Signataire retiré.")

    @post("/{convention_id:int}/avenant")
    async def amend(self, access: Scope, department: DepartmentRow, convention_id: int, request: Request) -> Response:
        async def action(data: dict[str, Any]) -> Any:
            return await service.amend(access, convention_id, data)

        return await self._act(
            access,
            department,
            convention_id,
            request,
            "avenant",
            action,
            lambda c: (
                f"Avenant n° {c['open_amendment']['number']} ouvert : ses signatures sont à recueillir ; "
                f"la convention reste {c['status_label'].lower()} sur son texte actuel."
            ),
        )

    @post("/{convention_id:int}/avenant/modifier")
    async def update_amendment(
        self, access: Scope, department: DepartmentRow, convention_id: int, request: Request
    ) -> Response:
        async def action(data: dict[str, Any]) -> Any:
            return await _on_amendment_fields(
                data,
                lambda fields: service.update_amendment(
                    access, convention_id, {k: v for k, v in fields.items() if k in {"subject", "text"}}
                ),
            )

        return await self._act(
            access,
            department,
            convention_id,
            request,
            "avenant-modifier",
            action,
            lambda a: f"Avenant n° {a['number']} modifié.",
        )

    @post("/{convention_id:int}/avenant/abandonner")
    async def withdraw_amendment(
        self, access: Scope, department: DepartmentRow, convention_id: int, request: Request
    ) -> Response:
        async def action(data: dict[str, Any]) -> Any:
            return await _on_amendment_fields(
                data, lambda fields: service.withdraw_amendment(access, convention_id, fields)
            )

        return await self._act(
            access,
            department,
            convention_id,
            request,
            "avenant-abandon",
            action,
            lambda c: f"Avenant abandonné : la convention reste {c['status_label'].lower()} sur son texte actuel.",
        )

    @post("/{convention_id:int}/avenant/signataires")
    async def add_amendment_signatory(
        self, access: Scope, department: DepartmentRow, convention_id: int, request: Request
    ) -> Response:
        async def action(data: dict[str, Any]) -> Any:
            return await _on_amendment_fields(
                data, lambda fields: service.add_amendment_signatory(access, convention_id, fields)
            )

        return await self._act(
            access,
            department,
            convention_id,
            request,
            "avenant-ajout-signataire",
            action,
            lambda s: f"{s['organisation_name']} ajouté(e) à l'avenant comme « {s['role_label']} ».",
        )

    @post("/{convention_id:int}/avenant/signature")
    async def record_amendment_signature(
        self, access: Scope, department: DepartmentRow, convention_id: int, request: Request
    ) -> Response:
        async def sign(fields: dict[str, Any]) -> Any:
            signatory_id = fields.get("signatory")
            if not str(signatory_id or "").isdigit():
                raise ValidationFailed({"signatory": "Choisissez le signataire."})
            return await service.sign(access, convention_id, int(str(signatory_id)), fields)

        async def action(data: dict[str, Any]) -> Any:
            return await _on_amendment_fields(data, sign)

        def message(convention: dict[str, Any]) -> str:
            opened = convention["open_amendment"]
            if opened is None:  # that was the last signature required
                return (
                    f"Signature enregistrée : l'avenant n° {convention['amendment']} est entré en vigueur, "
                    "son texte est celui de la convention."
                )
            return (
                f"Signature enregistrée sur l'avenant n° {opened['number']} : "
                f"{opened['signed_count']} sur {opened['required_count']} requises."
            )

        return await self._act(access, department, convention_id, request, "avenant-signature", action, message)

    @post("/{convention_id:int}/resilier")
    async def terminate(
        self, access: Scope, department: DepartmentRow, convention_id: int, request: Request
    ) -> Response:
        async def action(data: dict[str, Any]) -> Any:
            return await service.terminate(access, convention_id, data)

        return await self._act(
            access,
            department,
            convention_id,
            request,
            "resiliation",
            action,
            lambda c: (
                f"Convention {c['status_label'].lower()}"
                + (f" (fin le {c['ends_on']:%d/%m/%Y})." if c["status"] != "terminated" and c["ends_on"] else ".")
            ),
        )


class CoveragePages(Controller):
    path = "/conventions"

    @get("/couverture")
    async def coverage(self, access: Scope) -> Template:
        sites = await coverage_service.coverage(access)
        return page(
            "conventions/coverage.html",
            section="conventions",
            sites=sites,
            summary=coverage_service.summary(sites),
            missing_text=coverage_service.missing_text,
        )

    @get("/couverture.csv")
    async def coverage_csv(self, access: Scope) -> Response:
        sites = await coverage_service.coverage(access)
        return Response(
            content="\ufeff" + coverage_service.to_csv(sites),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="couverture-conventions.csv"'},
        )


ROUTES: list[Any] = [ConventionPages, CoveragePages]
