"""The one mail renderer: a mail is three templates side by side in `templates/mails/`.

    <name>.subject.txt   the subject line (plain text, its surrounding whitespace dropped)
    <name>.txt           the text body
    <name>.html          the HTML body, autoescaped (optional: a mail without one is text only)

`render(name, context)` returns the three as a `RenderedMail` (a named tuple: `subject, text, html =
render(...)`). With `strict=True` a missing variable is an error (the meeting mails), otherwise it
renders empty. Blocks take their line with them (`trim_blocks`, `lstrip_blocks`) and the final newline
of a body is kept, as the golden files expect.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound, Undefined, select_autoescape

from coord.core.french import date_fr, of_department, organisation_de, short_date
from coord.core.settings import ROOT

__all__ = ["MAIL_TEMPLATES", "TEMPLATES_DIR", "RenderedMail", "render", "render_template"]

TEMPLATES_DIR = ROOT / "templates"
MAIL_TEMPLATES = "mails"  # the folder of the mail templates, inside TEMPLATES_DIR


class RenderedMail(NamedTuple):
    subject: str
    text: str
    html: str


def _environment(undefined: type[Undefined]) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"]),
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=undefined,
    )
    env.filters["date_fr"] = date_fr
    env.filters["short_date"] = short_date
    env.filters["of_department"] = of_department
    env.filters["of_organisation"] = organisation_de
    return env


_ENVIRONMENTS = {False: _environment(Undefined), True: _environment(StrictUndefined)}


def render_template(template: str, context: Mapping[str, Any], *, strict: bool = False) -> str:
    """One template of `templates/` (e.g. "mails/convocation.txt"); HTML ones are autoescaped."""
    return _ENVIRONMENTS[strict].get_template(template).render(**context)


def render(name: str, context: Mapping[str, Any], *, strict: bool = False) -> RenderedMail:
    """The subject, text and HTML of the mail `templates/mails/<name>.*` (HTML "" when it has none)."""
    base = f"{MAIL_TEMPLATES}/{name}"
    subject = render_template(f"{base}.subject.txt", context, strict=strict).strip()
    text = render_template(f"{base}.txt", context, strict=strict)
    try:
        html = render_template(f"{base}.html", context, strict=strict)
    except TemplateNotFound as exc:
        if exc.name != f"{base}.html":
            raise  # an include of the HTML body is missing, not the body itself
        html = ""
    return RenderedMail(subject, text, html)
