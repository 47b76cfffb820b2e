"""Jinja2 set-up: French date formatting and the helpers every page uses."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, pass_context
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template import TemplateConfig

from coord.core.french import DAYS, MONTHS, date_fr, of_department, organisation_de, short_date
from coord.core.settings import ROOT

TEMPLATES_DIR = ROOT / "templates"
STATIC_DIR = Path(__file__).parent / "static"
__all__ = ["DAYS", "MONTHS", "STATIC_DIR", "TEMPLATES_DIR", "date_fr", "short_date", "template_config"]


def query_with(params: dict[str, Any], **changes: Any) -> str:
    """The current query string with some parameters changed (pagination links keep filters)."""
    merged = {k: v for k, v in {**params, **changes}.items() if v not in (None, "")}
    return "?" + urlencode(merged)


@pass_context
def flashed_messages(context: Any) -> list[dict[str, Any]]:
    """Flash messages of the session; none on paths without a session (static files, API)."""
    request = context.get("request")
    session = request.scope.get("session") if request is not None else None
    if not isinstance(session, dict):
        return []
    return session.pop("_messages", [])


def configure(env: Environment) -> None:
    env.globals["flashed_messages"] = flashed_messages
    env.filters["date_fr"] = date_fr
    env.filters["short_date"] = short_date
    env.filters["of_department"] = of_department
    env.filters["of_organisation"] = organisation_de
    env.globals["query_with"] = query_with
    env.trim_blocks = True
    env.lstrip_blocks = True


def template_config(directory: Path = TEMPLATES_DIR) -> TemplateConfig:
    return TemplateConfig(
        directory=directory,
        engine=JinjaTemplateEngine,
        engine_callback=lambda engine: configure(engine.engine),
    )
