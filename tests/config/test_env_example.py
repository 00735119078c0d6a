""".env.example lists every environment variable the bot reads, and nothing else.

What the bot reads: the fields of `Settings` (pydantic-settings, by their upper-case names), the
providers' default key variables, any literal name the code under bot/ looks up in `os.environ`,
and the variables a compose file interpolates. A new one in any of these fails here until
.env.example lists it; a line for a variable nothing reads fails too.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.config.apps import DEFAULT_KEY_ENV
from bot.config.settings import Settings

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / ".env.example"
LINE = re.compile(r"^(#\s?)?([A-Z][A-Z0-9_]*)=(.*)$")


def _listed() -> dict[str, tuple[bool, str]]:
    """NAME -> (commented out, value), from the `NAME=value` and `# NAME=value` lines."""
    listed: dict[str, tuple[bool, str]] = {}
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines():
        if found := LINE.match(line):
            name = found.group(2)
            assert name not in listed, f"{name} is listed twice"
            listed[name] = (found.group(1) is not None, found.group(3))
    return listed


def _environ_reads(source: str) -> set[str]:
    """Literal names looked up in os.environ / os.getenv: environ["X"], environ.get("X"),
    getenv("X"), "X" in environ."""
    names: set[str] = set()

    def is_environ(node: ast.expr) -> bool:
        return (isinstance(node, ast.Attribute) and node.attr == "environ") or (
            isinstance(node, ast.Name) and node.id == "environ"
        )

    def literal(node: ast.expr) -> None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            names.add(node.value)

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Subscript) and is_environ(node.value):
            literal(node.slice)
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            if isinstance(func, ast.Name):
                reads = func.id == "getenv"
            elif isinstance(func, ast.Attribute):
                on_environ = func.attr in {"get", "setdefault", "pop"} and is_environ(func.value)
                reads = func.attr == "getenv" or on_environ
            else:
                reads = False
            if reads:
                literal(node.args[0])
        elif isinstance(node, ast.Compare) and any(is_environ(c) for c in node.comparators):
            literal(node.left)
    return names


def _compose_reads() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "compose.yml", ROOT / "compose.yaml"):
        if path.exists():
            text = path.read_text(encoding="utf-8")
            names |= set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", text))
    return names


def _read_by_the_bot() -> set[str]:
    names = {name.upper() for name in Settings.model_fields}
    names |= set(DEFAULT_KEY_ENV.values())
    for path in sorted((ROOT / "bot").rglob("*.py")):
        names |= _environ_reads(path.read_text(encoding="utf-8"))
    return names | _compose_reads()


def test_every_variable_read_is_listed_and_every_listed_one_is_read() -> None:
    read, listed = _read_by_the_bot(), set(_listed())
    assert read - listed == set(), "read by the code but missing from .env.example"
    assert listed - read == set(), "listed in .env.example but read by nothing"


def test_the_scan_sees_each_way_of_reading_the_environment() -> None:
    source = (
        "import os\nfrom os import environ, getenv\n"
        'os.environ["A"]\nos.environ.get("B", "x")\nos.getenv("C")\ngetenv("D")\n'
        'environ.get("E")\n"F" in os.environ\nos.environ.setdefault("G", "1")\n'
        'other.get("NOT_ENV")\nos.environ.get(name)\n'
    )
    assert _environ_reads(source) == set("ABCDEFG")


def test_each_example_value_is_accepted_and_each_default_is_the_real_one() -> None:
    """Uncommented, every value validates; a commented one with a value is the default."""
    listed = _listed()
    fields = Settings.model_fields
    values = {
        name.lower(): value
        for name, (_, value) in listed.items()
        if name.lower() in fields and value != ""
    }
    settings = Settings.model_validate(values)  # the values alone, no environment
    for name, (commented, value) in listed.items():
        field = name.lower()
        if field not in fields:
            continue
        if value == "":
            assert commented, f"{name}= would set it empty: comment it out"
            assert fields[field].default is None, f"{name}: show its default"
        elif commented and fields[field].default is not None:
            assert getattr(settings, field) == fields[field].default, f"{name}: not the default"


def test_the_uncommented_example_starts_no_mode_it_does_not_mean(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Loaded as a .env file (as `serve` does), the copy selects HTTP mode with its tokens."""
    for name in _listed():
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=EXAMPLE)
    assert settings.slack_app_token is None
    assert isinstance(settings.slack_bot_token, SecretStr)
    assert settings.slack_bot_token.get_secret_value().startswith("xoxb-")
    assert settings.deploybot_database_url == "sqlite:///deploybot.db"
