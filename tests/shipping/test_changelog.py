"""CHANGELOG.md: its newest version is the package's, and each store schema it names exists."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

from alembic.script import ScriptDirectory

ROOT = Path(__file__).parents[2]
VERSION = re.compile(r"^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})$", re.MULTILINE)


def _changelog() -> str:
    return (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")


def test_the_newest_version_is_the_package_version() -> None:
    text = _changelog()
    assert text.startswith("# Changelog\n")
    headings = list(VERSION.finditer(text))
    assert headings, "no version heading like '## [0.1.0] - 2026-12-05'"
    assert 0 < text.find("\n## [Unreleased]\n") < headings[0].start(), "Unreleased comes first"
    versions = [found.group(1) for found in headings]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert versions[0] == project["project"]["version"] == metadata.version("deploybot")
    key = [tuple(int(part) for part in version.split(".")) for version in versions]
    assert key == sorted(key, reverse=True), "newest first, each once"
    assert len(set(key)) == len(key)


def test_each_version_names_a_store_schema_that_exists() -> None:
    known = {
        script.revision
        for script in ScriptDirectory(str(ROOT / "bot" / "migrations")).walk_revisions()
    }
    sections = VERSION.split(_changelog())[1:]  # version, date, body, version, date, body...
    for version, body in zip(sections[::3], sections[2::3], strict=True):
        named = re.findall(r"Store schema: `(\d{4})`", body)
        assert len(named) == 1, f"{version}: say its store schema once"
        assert named[0] in known, f"{version}: no schema {named[0]} in bot/migrations/versions"
