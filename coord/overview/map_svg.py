"""The national map as server-side SVG: works without JavaScript, each département a focusable link.

Every département is an `<a href="/d/{code}">` around its `<path>`, with a `<title>` giving its
figures (shown on hover, read on focus) and its group as a class. The fill is a pattern per group
(colour plus hatching, dots or lines) so the map does not rely on colour alone; the legend uses the
same patterns and says each group in words.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

from coord.overview.national import GROUPS, Group

_PATTERN_SIZE = 7


def pattern_id(view: str, group: Group) -> str:
    return f"nm-{view}-{group.code}"


def _pattern(view: str, group: Group) -> str:
    size = _PATTERN_SIZE
    base = f'<rect width="{size}" height="{size}" fill="{group.colour}"/>'
    marks = {
        "solid": "",
        "hatch": f'<path d="M0 {size}L{size} 0M-1 1L1 -1M{size - 1} {size + 1}L{size + 1} {size - 1}" '
        'stroke="#ffffff" stroke-width="1.6"/>',
        "dots": f'<circle cx="{size / 2}" cy="{size / 2}" r="1.4" fill="#ffffff"/>',
        "lines": f'<path d="M0 {size / 2}H{size}" stroke="#3a3a3a" stroke-width="1"/>',
    }[group.pattern]
    return (
        f'<pattern id="{pattern_id(view, group)}" width="{size}" height="{size}" patternUnits="userSpaceOnUse">'
        f"{base}{marks}</pattern>"
    )


def defs(view: str) -> str:
    return "<defs>" + "".join(_pattern(view, g) for g in GROUPS[view]) + "</defs>"


def _box(inset: dict[str, Any]) -> str:
    """The frame and name of an inset (decorative: each département inside is a named link)."""
    return (
        f'<g class="nm-inset" aria-hidden="true"><rect x="{inset["x"]:g}" y="{inset["y"]:g}" '
        f'width="{inset["w"]:g}" height="{inset["h"]:g}" fill="#ffffff" stroke="#929292" stroke-width="1"/>'
        f'<text x="{inset["x"] + 5:g}" y="{inset["y"] + 12:g}" font-size="11" fill="#3a3a3a">'
        f"{escape(inset['label'])}</text></g>"
    )


def render(geometry: dict[str, Any], rows: list[dict[str, Any]], view: str) -> Markup:
    """The map of `rows` (national overview rows) coloured by their group in `view`."""
    by_code = {row["code"]: row for row in rows}
    groups = {g.code: g for g in GROUPS[view]}
    width, height = geometry["width"], geometry["height"]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="nm-map" viewBox="0 0 {width:g} {height:g}" '
        'role="group" aria-labelledby="nm-map-title">',
        '<title id="nm-map-title">Carte des départements : chacun est un lien vers sa page</title>',
        defs(view),
    ]
    parts.extend(_box(inset) for inset in geometry["insets"])
    zoom = geometry.get("zoom")
    if zoom:
        parts.append(_box(zoom))
    links = []
    # Sorted by code: an enclave (Vaucluse's in Drôme) is drawn after, over the département around it.
    for code, shape in sorted(geometry["departments"].items()):
        row = by_code.get(code)
        if row is None:  # not in the caller's scope: not drawn at all
            continue
        group = groups[row["groups"][view]]
        fill = f'fill="url(#{pattern_id(view, group)})" data-fill="{group.colour}"'
        if "zoom_d" in shape:
            # A few pixels wide at this scale: drawn here for the picture, the link is the enlarged one.
            parts.append(
                f'<path d="{escape(shape["d"])}" {fill} stroke="#ffffff" stroke-width="0.3" aria-hidden="true"/>'
            )
        label = f"{row['name']} ({code}) : {row['summary']}"
        links.append(
            f'<a href="/d/{escape(code)}" class="nm-dep nm-{group.code}" data-code="{escape(code)}" '
            f'data-group="{group.code}" aria-label="{escape(label)}">'
            f"<title>{escape(label)}</title>"
            f'<path d="{escape(shape.get("zoom_d") or shape["d"])}" {fill} '
            'stroke="#ffffff" stroke-width="0.6" stroke-linejoin="round"/></a>'
        )
    parts.extend(links)
    parts.append("</svg>")
    # Every text and attribute from data above went through `escape`; the rest is our own constants.
    return Markup("".join(parts))  # noqa: S704


def swatch(view: str, group: Group) -> Markup:
    """A legend key: the group's pattern in a small square (decorative: its label says it)."""
    return Markup(  # noqa: S704 (constants and a pattern id made of known codes)
        '<svg class="nm-swatch" width="22" height="16" viewBox="0 0 22 16" aria-hidden="true" focusable="false">'
        f'<rect width="22" height="16" fill="url(#{pattern_id(view, group)})" stroke="#3a3a3a" stroke-width="1"/>'
        "</svg>"
    )
