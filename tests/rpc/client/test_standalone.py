"""The client stands alone: importing :mod:`rpc.client` loads nothing of the server's packages
(``bloombits``, ``chainindex``, ``rpc.server``, ``rpc.commands``) and neither numpy nor plyvel.

Checked in a fresh interpreter, since this test process has imported everything already."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
"""The repository root (``tests/rpc/client/`` is three levels below it)."""

FORBIDDEN_PREFIXES = ("bloombits", "chainindex")
"""Modules whose name starts so (``bloombits*``, ``chainindex*``) must not be loaded."""
FORBIDDEN_PACKAGES = ("numpy", "plyvel", "rpc.server", "rpc.commands")
"""Nor these packages or any module in them."""

_PROBE = "import json, sys; import rpc.client; print(json.dumps(sorted(sys.modules)))"


def _loaded() -> list[str]:
    """The modules a fresh interpreter holds after ``import rpc.client``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    modules: list[str] = json.loads(done.stdout)
    return modules


def _forbidden(name: str) -> bool:
    return name.startswith(FORBIDDEN_PREFIXES) or any(
        name == package or name.startswith(package + ".") for package in FORBIDDEN_PACKAGES
    )


def test_import_loads_no_server_package() -> None:
    modules = _loaded()
    assert "rpc.client" in modules
    assert [name for name in modules if _forbidden(name)] == []


def test_rpc_package_imports_nothing() -> None:
    tree = ast.parse((ROOT / "rpc" / "__init__.py").read_text())
    assert not any(isinstance(node, ast.Import | ast.ImportFrom) for node in ast.walk(tree))
