"""The configuration surface as a user runs it: ``python -m rpc.cli`` in a subprocess with its
own environment and config files; ``--version``, ``logfilter config``, ports, logging."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import orjson

from rpc.commands.logsetup import JsonLogFormatter
from tests.fixtures import REPO, execution_apis_archive


def cli(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("LOGFILTER_")}
    return subprocess.run(
        [sys.executable, "-m", "rpc.cli", *argv],
        env={**base, "PYTHONPATH": str(REPO), **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_version_is_the_package_version() -> None:
    with (REPO / "pyproject.toml").open("rb") as f:
        version = tomllib.load(f)["project"]["version"]
    done = cli("--version")
    assert (done.returncode, done.stdout) == (0, f"logfilter {version}\n")


def _effective(text: str) -> dict[str, tuple[object, str]]:
    """key -> (value, origin comment) of ``logfilter config COMMAND`` output."""
    values = tomllib.loads(text)
    origins = {
        line.split(" = ", 1)[0]: line.rsplit("  # ", 1)[1]
        for line in text.splitlines()
        if not line.startswith("#")
    }
    return {key: (values[key], origins[key]) for key in values}


def test_config_shows_values_and_origins_and_reads_back(tmp_path: Path) -> None:
    file = tmp_path / "logfilter.toml"
    file.write_text(
        'datadir = "/from/file"\nmax-results = 500\nport = 9000\nproxy = true\n'
        'abi = ["a.json", "b.json"]\nlog-format = "json"\n'
    )
    env = {"LOGFILTER_PORT": "9100", "LOGFILTER_NO_SYNC": "yes", "LOGFILTER_NOT_A_FLAG": "x"}
    for argv in (
        ["--config", str(file), "config", "serve", "--max-results", "7"],
        ["config", "serve", "--max-results", "7", "--config", str(file)],
    ):
        done = cli(*argv, env=env)
        assert done.returncode == 0, done.stderr
        got = _effective(done.stdout)
        assert got["max-results"] == (7, "flag")
        assert got["port"] == (9100, "env LOGFILTER_PORT")
        assert got["no-sync"] == (True, "env LOGFILTER_NO_SYNC")
        assert got["datadir"] == ("/from/file", f"file {file}: datadir")
        assert got["proxy"] == (True, f"file {file}: proxy")
        assert got["abi"] == (["a.json", "b.json"], f"file {file}: abi")
        assert got["log-format"] == ("json", f"file {file}: log-format")
        assert got["max-batch"] == (1000, "default")
        assert "# upstream is not set  # default" in done.stdout
    # The output is a config file: fed back alone, it gives the same values.
    again = tmp_path / "again.toml"
    again.write_text(done.stdout)
    back = _effective(cli("config", "serve", "--config", str(again)).stdout)
    assert {k: v for k, (v, _) in back.items()} == {k: v for k, (v, _) in got.items()}
    assert all(origin.startswith("file ") for _, origin in back.values())
    # Without a command: the keys set, for every command that has them.
    done = cli("config", "--config", str(file), env=env)
    assert done.returncode == 0, done.stderr
    assert f'datadir = "/from/file"  # file {file}: datadir (demo, sync, serve, ' in done.stdout
    assert "port = 9100  # env LOGFILTER_PORT (demo, serve)" in done.stdout
    assert tomllib.loads(done.stdout)["port"] == 9100


def test_settings_reach_the_command(tmp_path: Path) -> None:
    """A required flag from the environment, a value from the file: the real command runs."""
    file = tmp_path / "c.toml"
    file.write_text("section-size = 16\nconfirmations = 0\nno-follow = true\n")
    datadir = tmp_path / "dd"
    env = {"LOGFILTER_UPSTREAM": str(execution_apis_archive()), "LOGFILTER_DATADIR": str(datadir)}
    done = cli("sync", "--config", str(file), env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"synced blocks 0..54 (3 sections of 16) into {datadir}\n"


def test_bad_settings_are_one_line_usage_errors(tmp_path: Path) -> None:
    file = tmp_path / "c.toml"
    file.write_text("max-result = 5\n")
    cases = [
        (["serve", "--datadir", "d", "--port", "99999"], {}, "not a port (0-65535): 99999"),
        (["demo", "--port", "65536"], {}, "not a port (0-65535): 65536"),
        (["serve", "--datadir", "d"], {"LOGFILTER_PORT": "-1"}, "LOGFILTER_PORT: must not be"),
        (
            ["--config", str(file), "serve", "--datadir", "d"],
            {},
            f"logfilter: {file}: unknown key 'max-result' (did you mean 'max-results'?)",
        ),
        (
            ["sync", "--datadir", "d", "--upstream", "x"],
            {"LOGFILTER_NO_LOGS": "perhaps"},
            "LOGFILTER_NO_LOGS: expected true/false",
        ),
        (["search", "q", "--config", str(tmp_path / "none.toml")], {}, "cannot read config file"),
    ]
    for argv, env, message in cases:
        done = cli(*argv, env=env)
        assert done.returncode == 2, (argv, done.stderr)
        assert message in done.stderr, (argv, done.stderr)
        assert done.stderr.count("\n") == 1, done.stderr
        assert done.stdout == ""


def test_json_logs_carry_extras() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLogFormatter())
    logger = logging.getLogger("rpc.server.access")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning(
            "%s %s", "POST", "/", extra={"method": "eth_getLogs", "duration": 0.25, "path": b"/"}
        )
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    record = orjson.loads(stream.getvalue())
    assert set(record) == {"ts", "level", "logger", "msg", "method", "duration", "path"}
    assert (record["level"], record["logger"], record["msg"]) == (
        "warning",
        "rpc.server.access",
        "POST /",
    )
    assert (record["method"], record["duration"], record["path"]) == ("eth_getLogs", 0.25, "b'/'")
    assert record["ts"].endswith("+00:00")


def test_log_format_and_level_of_a_real_sync(tmp_path: Path) -> None:
    argv = ["sync", "--upstream", str(execution_apis_archive()), "--datadir", str(tmp_path / "d")]
    assert cli(*argv, "--until", "9").returncode == 0
    done = cli(*argv, "--until", "19", "--log-format", "json")
    assert done.returncode == 0, done.stderr
    lines = [orjson.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    resumed = [r for r in lines if r["msg"].startswith("resuming at block 10")]
    assert resumed, done.stderr
    assert resumed[0]["level"] == "info"
    assert resumed[0]["logger"] == "chainindex.sync.indexer"
    done = cli(*argv, "--until", "29", "--log-level", "warning")
    assert done.returncode == 0
    assert "resuming" not in done.stderr
    done = cli(*argv, "--until", "39", "--log-level", "error", "-v")  # -v: debug, and wins
    assert "INFO: resuming at block 30" in done.stderr
