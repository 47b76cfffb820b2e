"""The convention models (TOML files of the models folder) and the settings that go with them."""

from __future__ import annotations

from typing import Any

from coord.conventions import lifecycle
from coord.conventions.models import ConventionModel, load_models, models_dir
from coord.conventions.roles import ROLES, role_label
from coord.core.errors import Conflict
from coord.core.settings import current_settings


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


def _require_model(code: str) -> ConventionModel:
    model = models().get(code)
    if model is None:
        raise Conflict(f"Le modèle « {code} » de cette convention n'existe plus dans le dossier des modèles.")
    return model
