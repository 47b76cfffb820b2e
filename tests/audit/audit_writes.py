"""What the code can write to the audit log, read from the source itself: every action, kind of
object and field of every `audit.record(...)` and `records.create/update/delete(...)` call. A new
call with a new action or field shows up here without anyone updating a list by hand."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "coord"
RECORD_HELPERS = {"create", "update", "delete"}  # coord.audit.records: they write "create"/"update"/"delete"


@dataclass
class Writes:
    actions: dict[str, str] = field(default_factory=dict)  # action -> where
    entities: dict[str, str] = field(default_factory=dict)  # entity -> where
    fields: dict[str, str] = field(default_factory=dict)  # key of a literal before/after dict -> where


def _strings(node: ast.AST | None, constants: dict[str, ast.AST]) -> list[str]:
    """The strings an expression can evaluate to: literals, both sides of `a if c else b`, a
    module constant, the values of a module dict indexed (`ACTIONS[status]`)."""
    if node is None:
        return []
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _strings(node.body, constants) + _strings(node.orelse, constants)
    if isinstance(node, ast.Name) and node.id in constants:
        return _strings(constants[node.id], constants)
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id in constants:
        table = constants[node.value.id]
        if isinstance(table, ast.Dict):
            return [s for value in table.values for s in _strings(value, constants)]
    return []


def _module_constants(tree: ast.Module) -> dict[str, ast.AST]:
    out: dict[str, ast.AST] = {}
    for node in tree.body:
        targets = (
            node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        )
        value = getattr(node, "value", None)
        for target in targets:
            if isinstance(target, ast.Name) and value is not None:
                out[target.id] = value
    return out


def _variable_strings(tree: ast.Module, name: str, constants: dict[str, ast.AST]) -> list[str]:
    """Every string a variable of that name is given in the module: `name = ...`, a tuple
    assignment, or a `name="..."` keyword argument of a helper that passes it on."""
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id == name:
                    found += _strings(node.value, constants)
                elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                    for element, value in zip(target.elts, node.value.elts, strict=False):
                        if isinstance(element, ast.Name) and element.id == name:
                            found += _strings(value, constants)
        elif isinstance(node, ast.keyword) and node.arg == name:
            found += _strings(node.value, constants)
        elif isinstance(node, ast.arguments):
            args = node.args + node.kwonlyargs
            defaults = [None] * (len(node.args) - len(node.defaults)) + list(node.defaults) + list(node.kw_defaults)
            for arg, default in zip(args, defaults, strict=False):
                if arg.arg == name:
                    found += _strings(default, constants)
    return found


def _argument(call: ast.Call, position: int, keyword: str) -> ast.AST | None:
    for kw in call.keywords:
        if kw.arg == keyword:
            return kw.value
    return call.args[position] if len(call.args) > position else None


def _resolve(node: ast.AST | None, tree: ast.Module, constants: dict[str, ast.AST]) -> list[str]:
    values = _strings(node, constants)
    if not values and isinstance(node, ast.Name):
        values = _variable_strings(tree, node.id, constants)
    return values


def scan(root: Path = ROOT) -> Writes:
    writes = Writes()
    for path in sorted(root.rglob("*.py")):
        if path.parent.name == "audit" and path.parent.parent == root:
            continue  # the audit package itself: the helpers, not their callers
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = _module_constants(tree)
        for call in ast.walk(tree):
            if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)):
                continue
            owner = call.func.value
            if not isinstance(owner, ast.Name):
                continue
            where = f"{path.relative_to(root.parent)}:{call.lineno}"
            if owner.id == "audit" and call.func.attr == "record":
                for action in _resolve(_argument(call, 1, "action"), tree, constants):
                    writes.actions.setdefault(action, where)
                for entity in _resolve(_argument(call, 2, "entity"), tree, constants):
                    writes.entities.setdefault(entity, where)
                for keyword in ("before", "after"):
                    value = _argument(call, 99, keyword)
                    if isinstance(value, ast.Dict):
                        for key in value.keys:
                            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                                writes.fields.setdefault(key.value, where)
            elif owner.id == "records" and call.func.attr in RECORD_HELPERS:
                writes.actions.setdefault(call.func.attr, where)
                for entity in _resolve(_argument(call, 99, "entity"), tree, constants):
                    writes.entities.setdefault(entity, where)
    return writes
