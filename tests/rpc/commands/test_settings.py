"""Flag values layered from the environment and a config file, on a small parser of the test's
own, against a brute-force reference of the precedence rule."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainindex.errors import ConfigError
from rpc.commands.layered import LayeredParser
from rpc.commands.options import port
from rpc.commands.settings import CliSettings

DEFAULTS: dict[str, object] = {"port": 8645, "name": "anon", "fast": False, "item": []}


def _parser(settings: CliSettings) -> LayeredParser:
    parser = LayeredParser(prog="t")
    parser.add_argument("--port", type=port, default=8645)
    parser.add_argument("--name", default="anon")
    parser.add_argument("--fast", action="store_true")
    parser.add_argument("--item", action="append", type=int, default=[])
    parser.settings = settings
    return parser


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    return repr(value) if isinstance(value, str) else str(value)


def _env(key: str, value: object) -> tuple[str, str]:
    name = "LOGFILTER_" + key.upper()
    if isinstance(value, bool):
        return name, "yes" if value else "no"
    if isinstance(value, list):
        return name, ",".join(map(str, value))
    return name, str(value)


def _flags(key: str, value: object) -> list[str]:
    if isinstance(value, bool):
        return [f"--{key}"] if value else []
    if isinstance(value, list):
        return [token for item in value for token in (f"--{key}", str(item))]
    return [f"--{key}", str(value)]


VALUES = {
    "port": st.integers(0, 65535),
    "name": st.text("abcxyz", min_size=1, max_size=5),
    "fast": st.just(True),
    "item": st.lists(st.integers(0, 99), min_size=1, max_size=3),
}
LAYER = st.one_of(st.none(), st.fixed_dictionaries({}, optional=VALUES))


@given(flags=LAYER, env=LAYER, file=LAYER)
def test_flags_then_environment_then_file_then_defaults(
    flags: dict[str, object] | None, env: dict[str, object] | None, file: dict[str, object] | None
) -> None:
    flags, env, file = flags or {}, env or {}, file or {}
    environ = dict(_env(k, v) for k, v in env.items()) | {"LOGFILTER_UNRELATED": "ignored"}
    settings = CliSettings(environ, file, "f.toml")
    argv = [token for k, v in flags.items() for token in _flags(k, v)]
    args = _parser(settings).parse_args(argv)
    for key, default in DEFAULTS.items():
        want = next((layer[key] for layer in (flags, env, file) if key in layer), default)
        assert getattr(args, key) == want, (key, flags, env, file)


def test_origins_are_recorded() -> None:
    settings = CliSettings({"LOGFILTER_NAME": "e"}, {"name": "f", "port": 1}, "f.toml")
    parser = _parser(settings)
    parser.parse_args(["--fast"])
    origins = {key: (e.origin, e.where) for key, e in parser.effective.items()}
    assert origins == {
        "port": ("file", "f.toml: port"),
        "name": ("env", "LOGFILTER_NAME"),
        "fast": ("flag", ""),
        "item": ("default", ""),
    }


@pytest.mark.parametrize(
    ("environ", "file", "message"),
    [
        ({"LOGFILTER_PORT": "99999"}, {}, "LOGFILTER_PORT: not a port (0-65535): 99999"),
        ({}, {"port": "x"}, "f.toml: port: not a whole number: 'x'"),
        ({}, {"port": True}, "f.toml: port: expected a single value, not True"),
        ({"LOGFILTER_FAST": "maybe"}, {}, "LOGFILTER_FAST: expected true/false, 1/0 or yes/no"),
        ({}, {"item": ["1", "two"]}, "f.toml: item: invalid int value: 'two'"),
    ],
)
def test_bad_values_are_one_clear_error(
    environ: dict[str, str], file: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        _parser(CliSettings(environ, file, "f.toml")).parse_args([])
    assert str(info.value).startswith(message)


def test_a_flag_given_wins_over_a_bad_layered_value() -> None:
    args = _parser(CliSettings({"LOGFILTER_PORT": "99999"}, {}, None)).parse_args(["--port", "1"])
    assert args.port == 1


def test_required_flags_and_groups_are_satisfied_by_layered_values() -> None:
    def parser(settings: CliSettings) -> LayeredParser:
        p = LayeredParser(prog="t")
        p.add_argument("--datadir", required=True)
        where = p.add_mutually_exclusive_group(required=True)
        where.add_argument("--a")
        where.add_argument("--b")
        p.settings = settings
        return p

    args = parser(CliSettings({"LOGFILTER_DATADIR": "d", "LOGFILTER_A": "x"}, {}, None)).parse_args(
        []
    )
    assert (args.datadir, args.a, args.b) == ("d", "x", None)
    # A group member given on the command line silences the others' layered values.
    args = parser(CliSettings({"LOGFILTER_DATADIR": "d", "LOGFILTER_A": "x"}, {}, None)).parse_args(
        ["--b", "y"]
    )
    assert (args.a, args.b) == (None, "y")
    with pytest.raises(ConfigError, match="--a and --b cannot be used together"):
        parser(
            CliSettings({"LOGFILTER_DATADIR": "d", "LOGFILTER_A": "x"}, {"b": "y"}, "f")
        ).parse_args([])
    with pytest.raises(SystemExit):  # nothing anywhere: still required
        parser(CliSettings({}, {}, None)).parse_args([])


def test_boolean_spellings() -> None:
    for text, want in [("true", True), ("1", True), ("YES", True), ("false", False), ("0", False)]:
        args = _parser(CliSettings({"LOGFILTER_FAST": text}, {}, None)).parse_args([])
        assert args.fast is want, text


def test_config_file_errors(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("max-result = 5\n")
    settings = CliSettings.load(str(path), {})
    with pytest.raises(ConfigError) as info:
        settings.check_file_keys(["max-results", "port"])
    assert str(info.value) == f"{path}: unknown key 'max-result' (did you mean 'max-results'?)"
    path.write_text("[serve]\nport = 1\n")
    with pytest.raises(ConfigError, match=r"\[serve\] is a table; the config file is flat"):
        CliSettings.load(str(path), {})
    path.write_text("port = \n")
    with pytest.raises(ConfigError, match="not TOML"):
        CliSettings.load(str(path), {})
    with pytest.raises(ConfigError, match="cannot read config file"):
        CliSettings.load(str(tmp_path / "missing.toml"), {})
    path.write_text("port = 7\n")
    assert CliSettings.load(None, {"LOGFILTER_CONFIG": str(path)}).file == {"port": 7}


def test_a_plain_parser_is_untouched() -> None:
    parser = LayeredParser(prog="t")
    parser.add_argument("--n", type=int, default=3)
    assert parser.parse_args([]) == argparse.Namespace(n=3)
