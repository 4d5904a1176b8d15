"""The deployment files name only commands, flags, paths and metrics that exist.

Container builds cannot run here, so these tests read the Dockerfile, compose.yaml, the
systemd unit, its example configuration file and the Prometheus configuration, and check
every ``logfilter`` command, flag and ``LOGFILTER_*`` variable they use against the CLI's
own parser (and the configuration file through ``logfilter config``).
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys

from rpc.cli import build_parser
from tests.fixtures import REPO

ENV_VAR = re.compile(r"\bLOGFILTER_([A-Z][A-Z0-9_]*)\b")


def serve_flags() -> set[str]:
    """Every option string of ``logfilter serve`` (``--config`` included)."""
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    serve = subparsers.choices["serve"]
    return {s for action in serve._actions for s in action.option_strings}


def env_flags(text: str) -> set[str]:
    """The flags named by the ``LOGFILTER_*`` variables in ``text``."""
    return {"--" + name.lower().replace("_", "-") for name in ENV_VAR.findall(text)}


def test_dockerfile_uses_existing_flags() -> None:
    text = (REPO / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["logfilter", "serve"]' in text
    assert "USER logfilter" in text
    assert "VOLUME" in text
    assert "/health" in text
    names = env_flags(text)
    assert names, "the Dockerfile sets no LOGFILTER_ variable"
    assert names - serve_flags() == set()


def test_compose_uses_existing_flags() -> None:
    text = (REPO / "compose.yaml").read_text()
    names = env_flags(text)
    assert {"--upstream", "--datadir"} <= names
    assert names - serve_flags() == set()
    assert "deploy/prometheus/prometheus.yml" in text
    assert (REPO / "deploy/prometheus/prometheus.yml").is_file()


def test_systemd_unit_command_parses() -> None:
    text = (REPO / "deploy/systemd/logfilter.service").read_text()
    line = next(x for x in text.splitlines() if x.startswith("ExecStart="))
    words = shlex.split(line.removeprefix("ExecStart="))
    assert words[0].endswith("/logfilter")
    assert words[1] == "serve"
    flags = {w for w in words[2:] if w.startswith("--")}
    assert flags - serve_flags() == set()


def test_example_config_is_accepted() -> None:
    """``logfilter config serve --config FILE`` accepts the shipped example."""
    config = REPO / "deploy/systemd/logfilter.toml"
    done = subprocess.run(
        [sys.executable, "-m", "rpc.cli", "config", "serve", "--config", str(config)],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    keys = {
        line.split("=", 1)[0].strip()
        for line in config.read_text().splitlines()
        if "=" in line and not line.lstrip().startswith("#")
    }
    for key in keys:
        assert "--" + key in serve_flags()
