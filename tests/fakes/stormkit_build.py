"""One Stormkit deployment's timeline, computed lazily from the clock, for the fake.

A deployment is a dict (see FakeStormkit._create); these read it at a moment `now`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

REPO = "github/acme/my-app"
FAILURE = "Error: Command failed with exit code 1"
# (title, message, duration); a step is listed once its end (offset in steps) has passed.
STEPS_OK = [
    (1.0, "checkout {branch}", "Cloning {repo}\nChecked out {sha}", 1),
    (1.5, "npm ci", "added 147 packages in 2s", 2),
    (2.0, "npm run build", "> my-app@1.0.0 build\n> vite build\n✓ built in 3.1s", 3),
    (2.0, "deploy", "Uploaded 204800 bytes\nDeployment is ready", 1),
]
CHECK = "curl -fsS https://my-app.stormkit.dev/health"
CHECK_FAILED = "curl: (22) The requested URL returned error: 503"
FAILED_BUILD = (
    "> my-app@1.0.0 build\n> vite build\n"
    "Loaded environment: NODE_ENV=production AWS_SECRET_ACCESS_KEY=abcd1234secret\n"
    "Error: Cannot find module './payments'\n" + FAILURE
)


@dataclass(frozen=True)
class Publish:
    """One publish: asked at `start`, traffic moves at `ends` unless its warm-up `fails`."""

    id: str
    start: float
    order: int
    ends: float
    fails: bool


def finish(d: dict[str, Any]) -> float:
    """When it stops running: the build takes two steps, a status check one more."""
    steps = 2 if d["checks"] is None else 3
    return float(d["stopped"] if d["stopped"] is not None else d["started"] + steps * d["step"])


def status(d: dict[str, Any], now: float) -> str:
    if d["stopped"] is not None:
        return "failed"
    if now < finish(d):
        return "running"
    return "failed" if d["fails"] or d["checks"] is False else "success"


def status_checks(d: dict[str, Any], now: float) -> list[dict[str, Any]]:
    if d["checks"] is None or d["fails"] or now < finish(d):
        return []
    message = "HTTP/2 200" if d["checks"] else CHECK_FAILED
    return [{"title": CHECK, "message": message, "status": d["checks"], "duration": 1}]


def commit(d: dict[str, Any], now: float) -> dict[str, Any]:
    if d["started"] + d["step"] > min(now, finish(d)):  # the build has not started
        # A push names its commit from the start; an API deploy learns it at checkout.
        return {"author": None, "message": None, "sha": d["sha"] if d.get("auto_deploy") else None}
    return {"author": "Jane Doe", "message": f"deploy {d['branch']}", "sha": d["sha"]}


def logs(d: dict[str, Any], now: float) -> list[dict[str, Any]]:
    until = min(now, finish(d)) - d["started"]
    failed = d["fails"] and d["stopped"] is None
    steps = [*STEPS_OK[:2], (2.0, "npm run build", FAILED_BUILD, 3)] if failed else STEPS_OK
    values = {"branch": d["branch"], "repo": REPO, "sha": d["sha"][:8]}
    return [
        {"title": title.format(**values), "message": message.format(**values)}
        | {"status": message != FAILED_BUILD, "duration": duration}
        for end, title, message, duration in steps
        if end * d["step"] <= until
    ]
