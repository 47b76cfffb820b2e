"""A screenshot of the home page of each role, on a phone (390 px) and a desktop (1280 px), kept
under var/screenshots/ for people to look at (the files are not committed: var/ is ignored).

Each screenshot must be a real picture of a page: the size of the viewport, many colours, no colour
covering nearly all of it (a blank or half-rendered page fails). The PNG is decoded by the browser's
own canvas, so no image library is needed. SQLite only (see tests/browser/test_accessibility.py).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.seeded_site import Site, chromium, seeded_site, sign_in

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True, scope="session")

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
WIDTHS = (390, 1280)
HOMES = ("national", "agent", "coordinateur", "observateur", "partenaire")

# Draws the PNG on a canvas and samples a 40 x 40 grid of pixels.
PIXELS = """async (src) => {
    const img = new Image();
    img.src = src;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
    const ctx = canvas.getContext('2d');
    ctx.drawImage(img, 0, 0);
    const counts = {};
    for (let i = 0; i < 40; i++) for (let j = 0; j < 40; j++) {
        const x = Math.floor((i + 0.5) * img.naturalWidth / 40), y = Math.floor((j + 0.5) * img.naturalHeight / 40);
        const key = ctx.getImageData(x, y, 1, 1).data.slice(0, 3).join(',');
        counts[key] = (counts[key] || 0) + 1;
    }
    return {width: img.naturalWidth, height: img.naturalHeight, counts};
}"""


@pytest.fixture(scope="module")
def site(database: Any) -> Iterator[Site]:
    with seeded_site(database) as served:
        yield served


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def _picture(browser: Any, png: bytes) -> dict[str, Any]:
    context = browser.new_context()
    try:
        return context.new_page().evaluate(PIXELS, "data:image/png;base64," + base64.b64encode(png).decode())
    finally:
        context.close()


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("who", HOMES)
def test_the_home_page_of_each_role_is_kept_as_a_screenshot(site, browser, who, width):
    context = browser.new_context(locale="fr-FR", viewport={"width": width, "height": 900}, is_mobile=width < 600)
    page = context.new_page()
    page.set_default_timeout(20_000)
    if who == "partenaire":
        page.goto(site.url + site.partner_paths["invitation"])  # a partner's "home" is the link in their mail
    else:
        sign_in(page, site.url, site.email(who))
        page.goto(site.url + "/")
    page.wait_for_load_state("networkidle")
    assert page.locator("header").first.is_visible(), f"no header on the home page of {who}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"accueil-{who}-{width}px.png"
    png = page.screenshot(path=str(path), full_page=True)
    home = page.url
    context.close()

    picture = _picture(browser, png)
    assert picture["width"] == width, (path, picture["width"])
    assert picture["height"] >= 900, (path, picture["height"])
    samples = sum(picture["counts"].values())
    dominant = max(picture["counts"].values())
    assert len(picture["counts"]) >= 6, f"{path} ({home}) has almost no colour: {picture['counts']}"
    assert dominant / samples < 0.97, f"{path} ({home}) is nearly one colour"
