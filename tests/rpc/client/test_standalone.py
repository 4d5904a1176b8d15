"""The client stands alone: importing :mod:`rpc.client` loads nothing of the server's packages
(``bloombits``, ``chainindex``, ``rpc.server``, ``rpc.commands``) and neither numpy nor plyvel.

Checked in a fresh interpreter, since this test process has imported everything already."""

from __future__ import annotations

import ast

from tests.fresh import ROOT, modules_after

FORBIDDEN_PREFIXES = ("bloombits", "chainindex")
"""Modules whose name starts so (``bloombits*``, ``chainindex*``) must not be loaded."""
FORBIDDEN_PACKAGES = ("numpy", "plyvel", "rpc.server", "rpc.commands")
"""Nor these packages or any module in them."""


def _forbidden(name: str) -> bool:
    return name.startswith(FORBIDDEN_PREFIXES) or any(
        name == package or name.startswith(package + ".") for package in FORBIDDEN_PACKAGES
    )


def test_import_loads_no_server_package() -> None:
    modules = modules_after("import rpc.client")
    assert "rpc.client" in modules
    assert [name for name in modules if _forbidden(name)] == []


def test_rpc_package_imports_nothing() -> None:
    tree = ast.parse((ROOT / "rpc" / "__init__.py").read_text())
    assert not any(isinstance(node, ast.Import | ast.ImportFrom) for node in ast.walk(tree))
