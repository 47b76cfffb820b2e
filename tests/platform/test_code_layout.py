"""The code keeps the shape the README describes: layers, one access path, lint and format clean."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COORD = ROOT / "coord"
BIN = Path(sys.executable).parent
DEPARTMENT_NAMES = {"department", "department_id"}


def _names_department(node: ast.AST) -> bool:
    """`x.department`, `x.department_id`, `x.department.code`, `row["department"]`."""
    if isinstance(node, ast.Attribute):
        return node.attr in DEPARTMENT_NAMES or _names_department(node.value)
    if isinstance(node, ast.Subscript):
        key = node.slice
        return isinstance(key, ast.Constant) and key.value in DEPARTMENT_NAMES
    return False


def department_conditions(tree: ast.AST) -> list[int]:
    """Lines comparing a département column or key, or filtering on one with `is_in`."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and any(_names_department(side) for side in [node.left, *node.comparators]):
            lines.append(node.lineno)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"is_in", "not_in"}
            and _names_department(node.func.value)
        ):
            lines.append(node.lineno)
    return lines


def test_no_code_outside_access_writes_a_department_condition():
    found = []
    for path in sorted(COORD.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if relative.parts[1] == "access" or "piccolo_migrations" in relative.parts:
            continue
        found += [f"{relative}:{line}" for line in department_conditions(ast.parse(path.read_text()))]
    assert not found, "département conditions belong to coord/access (Scope.within, require_in...):\n" + "\n".join(
        found
    )


def test_the_scan_sees_every_form_of_department_condition():
    code = """
a = Committee.department == 3
b = row["department"] != department["id"]
c = Organisation.department.code == "34"
d = ActionItem.department.is_in([1, 2])
e = link.department_id != 4
f = Committee.name == "x"
"""
    assert department_conditions(ast.parse(code)) == [2, 3, 4, 5, 6]


def test_layers_hold_and_no_import_cycle():
    result = subprocess.run([str(BIN / "lint-imports")], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_ruff_check_and_format_are_clean():
    check = subprocess.run([str(BIN / "ruff"), "check", "coord", "tests"], cwd=ROOT, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout[-4000:]
    fmt = subprocess.run(
        [str(BIN / "ruff"), "format", "--check", "coord", "tests"], cwd=ROOT, capture_output=True, text=True
    )
    assert fmt.returncode == 0, fmt.stdout[-4000:]
