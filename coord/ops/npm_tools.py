"""Node.js tools of Coord installed from the npm registry by their committed lock files (never vendored).

Each tool is a folder under `tools/` with a `package.json` and a `package-lock.json`: the loopback
OpenID Connect provider, the State design system (DSFR) served under /static/dsfr, axe-core for the
accessibility tests, the map's geometry. `ensure_installed` runs `npm ci` only when node_modules is
older than the lock file, so the set-up commands can call it every time.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from coord.core.settings import ROOT

TOOLS_DIR = ROOT / "tools"


class ToolUnavailable(RuntimeError):
    """Node.js or npm is missing, or the install failed (the message says which, in French)."""


def _installed_stamp(tool_dir: Path) -> float | None:
    # npm writes node_modules/.package-lock.json at the end of every install.
    for path in (tool_dir / "node_modules" / ".package-lock.json", tool_dir / "node_modules"):
        if path.exists():
            return path.stat().st_mtime
    return None


def needs_install(tool_dir: Path) -> bool:
    stamp = _installed_stamp(tool_dir)
    return stamp is None or stamp < (tool_dir / "package-lock.json").stat().st_mtime


def ensure_installed(tool_dir: Path, *, ignore_scripts: bool = False) -> bool:
    """`npm ci` in `tool_dir` unless its packages are up to date; True if it ran.

    `ignore_scripts` for packages whose install scripts are for their own developers (DSFR's
    preinstall refuses to run outside its repository).
    """
    if not needs_install(tool_dir):
        return False
    npm = shutil.which("npm")
    if not shutil.which("node") or not npm:
        raise ToolUnavailable(
            f"Node.js et npm sont nécessaires pour installer {tool_dir.name} (Debian : apt-get install nodejs npm)."
        )
    command = [npm, "ci", "--no-audit", "--no-fund"]
    if ignore_scripts:
        command.append("--ignore-scripts")
    result = subprocess.run(command, cwd=tool_dir, capture_output=True, text=True, timeout=600, check=False)
    if result.returncode != 0:
        raise ToolUnavailable(f"`npm ci` a échoué dans {tool_dir} :\n{result.stderr[-2000:]}")
    return True
