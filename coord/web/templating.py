"""Jinja2 set-up: French date formatting and the helpers every page uses."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, pass_context
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template import TemplateConfig

from coord.core.settings import ROOT

TEMPLATES_DIR = ROOT / "templates"

MONTHS = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]
DAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]


def date_fr(value: dt.date | dt.datetime | None, tz: str | None = None, with_time: bool = False) -> str:
    """« mardi 14 octobre 2026 » or « mardi 14 octobre 2026 à 09 h 30 » in the département's zone."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime) and tz:
        value = value.astimezone(ZoneInfo(tz))
    text = f"{DAYS[value.weekday()]} {value.day} {MONTHS[value.month - 1]} {value.year}"
    if with_time and isinstance(value, dt.datetime):
        text += f" à {value.hour:02d} h {value.minute:02d}"
    return text


def short_date(value: dt.date | dt.datetime | None, tz: str | None = None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime) and tz:
        value = value.astimezone(ZoneInfo(tz))
    text = value.strftime("%d/%m/%Y")
    if isinstance(value, dt.datetime):
        text += value.strftime(" %H:%M")
    return text


def query_with(params: dict[str, Any], **changes: Any) -> str:
    """The current query string with some parameters changed (pagination links keep filters)."""
    from urllib.parse import urlencode

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
    env.globals["query_with"] = query_with
    env.trim_blocks = True
    env.lstrip_blocks = True


def template_config(directory: Path = TEMPLATES_DIR) -> TemplateConfig:
    return TemplateConfig(
        directory=directory,
        engine=JinjaTemplateEngine,
        engine_callback=lambda engine: configure(engine.engine),
    )
