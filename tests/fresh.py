"""A fresh interpreter on the repository, for tests of what importing something loads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
"""The repository root."""


def run_python(code: str) -> str:
    """What ``python -c code`` prints in a new interpreter with the repository on its path
    (a failure raises, with its stderr)."""
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout


def modules_after(code: str) -> list[str]:
    """The modules (sorted) a new interpreter holds after running ``code``."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    modules: list[str] = json.loads(run_python(probe).splitlines()[-1])
    return modules
