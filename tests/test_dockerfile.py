"""The image is slim, runs as a non-root user, and checks its own health (no Docker engine here)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")


def _instructions() -> list[tuple[str, str]]:
    joined = DOCKERFILE.replace("\\\n", " ")
    lines = [line.strip() for line in joined.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in lines
        if line and not line.startswith("#")
    ]


def test_runs_slim_as_a_non_root_user_with_a_healthcheck() -> None:
    steps = _instructions()
    froms = [arg for op, arg in steps if op == "FROM"]
    assert froms
    assert all("slim" in image for image in froms)
    final = steps[max(i for i, (op, _) in enumerate(steps) if op == "FROM") :]
    users = [arg for op, arg in final if op == "USER"]
    assert users
    assert users[-1] not in {"root", "0"}
    [health] = [arg for op, arg in final if op == "HEALTHCHECK"]
    assert "/healthz" in health
    assert ("CMD", '["deploybot", "serve"]') in final


def test_secrets_and_local_state_stay_out_of_the_build_context() -> None:
    ignored = set((ROOT / ".dockerignore").read_text(encoding="utf-8").split())
    assert {".env", ".venv", ".git", "*.db"} <= ignored
