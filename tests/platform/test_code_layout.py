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
        compares = isinstance(node, ast.Compare) and any(
            _names_department(side) for side in [node.left, *node.comparators]
        )
        filters = (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"is_in", "not_in"}
            and _names_department(node.func.value)
        )
        if compares or filters:
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


def test_each_package_imports_only_the_layers_below_it():
    result = subprocess.run([str(BIN / "lint-imports")], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_ruff_check_and_format_are_clean():
    check = subprocess.run([str(BIN / "ruff"), "check", "coord", "tests"], cwd=ROOT, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout[-4000:]
    fmt = subprocess.run(
        [str(BIN / "ruff"), "format", "--check", "coord", "tests"], cwd=ROOT, capture_output=True, text=True
    )
    assert fmt.returncode == 0, fmt.stdout[-4000:]


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each one an import cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.get(module, ()):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return cycles


def test_no_module_imports_itself_back_even_inside_a_function():
    import grimp

    built = grimp.build_graph("coord")
    # A package's __init__ importing its own modules is not a cycle between modules.
    graph = {
        module: {m for m in built.find_modules_directly_imported_by(module) if not module.startswith(m + ".")}
        for module in built.modules
    }
    assert not import_cycles(graph)
    assert import_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
