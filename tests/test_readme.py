"""Every example in README.md works as printed.

One ``logfilter demo`` runs for the module (its default chain, in a temporary folder that
stands for the reader's current directory). Then, block by block:

* every ``curl`` command runs against it and must answer a result (a non-empty one for
  ``eth_getLogs`` and ``logfilter_search``), never an error;
* every Python example runs in a fresh interpreter and must exit 0 having printed something;
* every ``logfilter`` command runs when it is quick and needs no node (``generate`` of a small
  chain, ``sync`` from that archive, ``search``, ``config``; a heredoc block runs whole), and
  is otherwise parsed by the CLI's own parser, so that no example names a flag or a command
  that does not exist.

The only change made to an example is the port: the demo here listens on a free port instead
of 8645.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from rpc.cli import build_parser
from tests.anvil import free_port
from tests.fixtures import REPO

BLOCK = re.compile(r"^```(sh|python)\n(.*?)^```", re.S | re.M)
QUICK = {"config", "search"}
"""Subcommands that run as printed (``generate`` and ``sync`` too, when small and offline)."""


def readme_blocks(language: str) -> list[str]:
    return [
        body for lang, body in BLOCK.findall((REPO / "README.md").read_text()) if lang == language
    ]


def commands(block: str) -> list[str]:
    """The shell commands of a block: a command goes on over continuation lines and over
    newlines inside quotes; comment lines are dropped."""
    out: list[str] = []
    pending = ""
    for line in block.splitlines(keepends=True):
        if not pending and (not line.strip() or line.startswith("#")):
            continue
        pending += line
        if pending.rstrip("\n").endswith("\\"):
            continue
        try:
            shlex.split(pending)
        except ValueError:  # an open quote: the command goes on
            continue
        out.append(pending.strip())
        pending = ""
    assert not pending, f"unterminated command in README: {pending!r}"
    return out


class Demo:
    """``logfilter demo`` running in ``home`` on ``port``."""

    def __init__(self, home: Path, port: int) -> None:
        self.home = home
        self.port = port
        self.env = {**os.environ, "PYTHONPATH": str(REPO), "PATH": self._shim_path()}

    def _shim_path(self) -> str:
        """PATH with a ``logfilter`` that runs this checkout (as ``pip install -e .`` would)."""
        bin_dir = self.home / "bin"
        bin_dir.mkdir(exist_ok=True)
        shim = bin_dir / "logfilter"
        shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m rpc.cli "$@"\n')
        shim.chmod(0o755)
        return f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"

    def localize(self, text: str) -> str:
        return text.replace("127.0.0.1:8645", f"127.0.0.1:{self.port}")

    def bash(self, script: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-c", self.localize(script)], cwd=self.home, env=self.env,
            capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip

    def call(self, method: str) -> Any:
        body = orjson.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": []})
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/", data=body,
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=10) as response:
            return orjson.loads(response.read())["result"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    home = tmp_path_factory.mktemp("reader")
    running = Demo(home, free_port())
    process = subprocess.Popen(
        [sys.executable, "-m", "rpc.cli", "demo", "--port", str(running.port)],
        cwd=home, env=running.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 600
        while True:
            if process.poll() is not None:
                raise AssertionError(f"logfilter demo exited: {process.stderr.read()[-2000:]}")  # type: ignore[union-attr]
            try:
                if int(running.call("eth_blockNumber"), 16) >= 12287:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "logfilter demo was not ready in 10 minutes"
            time.sleep(1)
        yield running
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_readme_has_examples() -> None:
    assert len(readme_blocks("sh")) >= 6
    assert len(readme_blocks("python")) >= 3


def test_curl_examples_answer(demo: Demo) -> None:
    curls = [c for block in readme_blocks("sh") for c in commands(block) if c.startswith("curl")]
    assert len(curls) >= 3
    for command in curls:
        done = demo.bash(command)
        assert done.returncode == 0, done.stderr
        answer = orjson.loads(done.stdout)
        assert "error" not in answer, (command, answer)
        result = answer["result"]
        if '"eth_getLogs"' in command:
            assert len(result) > 0, command
        if '"logfilter_search"' in command:
            assert result["total"] > 0, command
            assert result["hits"], command


def test_python_examples_run(demo: Demo) -> None:
    for example in readme_blocks("python"):
        done = subprocess.run(
            [sys.executable, "-c", demo.localize(example)], cwd=demo.home, env=demo.env,
            capture_output=True, text=True, timeout=180, check=False,
        )  # fmt: skip
        assert done.returncode == 0, (example, done.stderr[-3000:])
        assert done.stdout.strip(), example


def _runs_as_printed(argv: list[str]) -> bool:
    command = argv[1]
    if command in QUICK:
        return True
    if command == "generate":
        return int(argv[argv.index("--blocks") + 1]) <= 5000
    if command == "sync":
        upstream = argv[argv.index("--upstream") + 1]
        return upstream.endswith(".jsonl") and "--no-follow" in argv
    return False


def test_logfilter_commands_work(demo: Demo) -> None:
    parser = build_parser()
    ran = parsed = 0
    for block in readme_blocks("sh"):
        if "<<'EOF'" in block:  # a heredoc: the block is one script
            done = demo.bash(block)
            assert done.returncode == 0, (block, done.stderr)
            ran += 1
            continue
        for command in commands(block):
            words = shlex.split(command, comments=True)
            at = next((i for i, w in enumerate(words) if w == "logfilter"), None)
            if at is None or words[0] in ("curl", "bash"):
                continue
            argv = words[at:]
            if _runs_as_printed(argv):
                done = demo.bash(command, timeout=600)
                assert done.returncode == 0, (command, done.stderr[-3000:])
                ran += 1
            else:
                parser.parse_args(argv[1:])  # exits (fails the test) on an unknown flag
                parsed += 1
    assert ran >= 4, ran
    assert parsed >= 6, parsed
