"""axe-core (Deque's accessibility engine, from the npm registry) run inside a Playwright page.

axe-core is installed in tools/axe by its committed lock file (`npm ci`, never vendored): tests/run.py
does it before the suite, and `ensure_axe` does it lazily when a test runs on its own.

The app's Content-Security-Policy allows only `script-src 'self'`, so an injected script would be
refused: the contexts that run axe are opened with `bypass_csp=True` (see `axe_context`). That switch
exists for test tooling only; the CSP itself is checked by tests/browser/test_csp_in_browser.py in
contexts that keep it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

AXE_DIR = Path(__file__).resolve().parents[2] / "tools" / "axe"
AXE_SCRIPT = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.0, 2.1 and 2.2 at levels A and AA, plus Deque's best practices (landmarks, headings...).
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
WIDTHS = (390, 1280)
HEIGHT = 900


def ensure_axe() -> Path:
    from coord.ops.npm_tools import ensure_installed

    ensure_installed(AXE_DIR)
    return AXE_SCRIPT


@dataclass(frozen=True)
class Violation:
    rule: str
    impact: str
    help: str
    help_url: str
    targets: tuple[str, ...]
    url: str
    width: int
    sample: str = ""

    def describe(self) -> str:
        targets = ", ".join(self.targets[:4]) + (f" (+{len(self.targets) - 4})" if len(self.targets) > 4 else "")
        line = f"[{self.impact}] {self.rule}: {self.help} — {self.url} @ {self.width}px — {targets}"
        return line + (f"\n      {self.sample}" if self.sample else "")


@contextmanager
def axe_context(browser: Any, width: int = 1280, **options: Any) -> Iterator[Any]:
    """A browser context where axe can be injected (CSP bypassed, see the module docstring)."""
    context = browser.new_context(
        locale="fr-FR", viewport={"width": width, "height": HEIGHT}, bypass_csp=True, **options
    )
    try:
        yield context
    finally:
        context.close()


def run_axe(page: Any, width: int | None = None) -> list[Violation]:
    """Every axe violation of the page as it is now (call after the page is loaded)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(ensure_axe()))
    result = page.evaluate(
        """async (tags) => {
            const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
            return r.violations.map(v => ({
                id: v.id, impact: v.impact || '', help: v.help, helpUrl: v.helpUrl,
                targets: v.nodes.map(n => n.target.join(' ')),
                sample: (v.nodes[0] && v.nodes[0].failureSummary || '').split('\\n').slice(0, 3).join(' '),
            }));
        }""",
        TAGS,
    )
    width = width or page.viewport_size["width"]
    return [
        Violation(
            rule=v["id"],
            impact=v["impact"],
            help=v["help"],
            help_url=v["helpUrl"],
            targets=tuple(v["targets"]),
            url=page.url,
            width=width,
            sample=v["sample"][:300],
        )
        for v in result
    ]


def horizontal_overflow(page: Any) -> int:
    """How many CSS pixels the page scrolls sideways (0 when it fits its viewport)."""
    return int(page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth"))


def widest_elements(page: Any, limit: int = 3) -> list[str]:
    """The elements that stick out of the viewport on the right, to say what makes a page scroll."""
    return page.evaluate(
        """(limit) => {
            // Elements past the right edge that no ancestor within the viewport clips or scrolls.
            const clipped = (el) => {
                for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
                    const inside = a.getBoundingClientRect().right <= window.innerWidth + 1;
                    if (inside && getComputedStyle(a).overflowX !== 'visible') return true;
                }
                return false;
            };
            const out = [];
            for (const el of document.body.querySelectorAll('*')) {
                const r = el.getBoundingClientRect();
                if (r.right > window.innerWidth + 1 && r.width > 0 && !clipped(el)) {
                    const id = el.id ? '#' + el.id : '';
                    const cls = el.classList.length ? '.' + [...el.classList].join('.') : '';
                    out.push([r.right, `${el.tagName.toLowerCase()}${id}${cls} (right ${Math.round(r.right)}px)`]);
                }
            }
            return out.sort((a, b) => b[0] - a[0]).slice(0, limit).map((pair) => pair[1]);
        }""",
        limit,
    )


def summarise(violations: list[Violation]) -> str:
    """All violations, grouped by rule so one template's fault reads as one line per page."""
    by_rule: dict[str, list[Violation]] = {}
    for v in violations:
        by_rule.setdefault(v.rule, []).append(v)
    lines = []
    for rule, found in sorted(by_rule.items(), key=lambda item: -len(item[1])):
        lines.append(f"{rule} ({found[0].impact}) on {len(found)} page(s): {found[0].help} — {found[0].help_url}")
        lines.extend(f"   {v.describe()}" for v in found)
    return "\n".join(lines)
