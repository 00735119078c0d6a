"""Fake of Nometria's deployments API (shared/seeds/nometria-deployments-api.txt).

Statuses are computed lazily from the clock whenever they are read; nothing runs in the
background. A deployment created at t0 with step s is queued on [t0, t0+s), building on
[t0+s, t0+2s), then failed from t0+2s, or deploying on [t0+2s, t0+3s) and live from t0+3s.

"rolled_back" rule (our reading of "superseded by a rollback"): a deployment that went live
stays live only until a newer deployment of the same project goes live; from that moment it is
"rolled_back". So the latest deployment to go live is the live one, whether it was a plain
trigger or a rollback, and the previous one becomes rolled_back at the same instant.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from tests.fakes.clock import Clock, RealClock
from tests.fakes.recording import FakeServer, Handler, json_response

STATUSES = ("queued", "building", "deploying", "live", "failed", "rolled_back")
DEFAULT_LIMIT = 20
MAX_LIMIT = 100  # a larger `limit` is clamped to 100, not refused

# (offset in steps from creation, level, message); a line shows once its time has come.
SUCCESS_LOG = [
    (0.0, "info", "Deployment {id} queued"),
    (1.0, "info", "Pulling latest commit {sha}..."),
    (1.1, "info", "Building Docker image..."),
    (1.5, "info", "npm install complete (147 packages)"),
    (1.9, "info", "npm run build complete"),
    (2.0, "info", "Starting container..."),
    (2.8, "info", "Health check passed"),
    (3.0, "success", "Deployment live at {url}"),
]
FAILURE_LOG = [
    (0.0, "info", "Deployment {id} queued"),
    (1.0, "info", "Pulling latest commit {sha}..."),
    (1.1, "info", "Building Docker image..."),
    # As a real build prints its environment: the deploy's env_vars (overrides) are in it.
    (1.3, "info", "Build environment: NODE_ENV=production STRIPE_SECRET_KEY=sk_live_abc123{env}"),
    (1.5, "info", "npm install complete (147 packages)"),
    (1.8, "error", "Error: Build failed: Cannot find module './payments'"),
    (1.9, "error", "npm ERR! code ELIFECYCLE"),
    (2.0, "error", "Deployment failed: build exited with code 1"),
]
SEED_MESSAGES = ("feat: add payment flow", "fix: auth redirect", "chore: bump dependencies")


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def error(status: int, code: str, message: str) -> web.Response:
    return json_response({"error": {"code": code, "message": message}}, status)


def _encode_cursor(d: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(f"{d['created']!r}|{d['seq']}".encode()).decode()


def _decode_cursor(cursor: str) -> tuple[float, int] | None:
    try:
        created, seq = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return float(created), int(seq)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None


class FakeNometria(FakeServer):
    def __init__(
        self, *, api_key: str = "nm-test-key", clock: Clock | None = None, step: float = 1.0
    ) -> None:
        super().__init__()
        self.api_key = api_key
        self.clock: Clock = clock or RealClock()
        self.step = step
        self.head_sha = "a1b2c3d"  # what a trigger without commit_sha deploys
        # The connected branch's commits the fake knows the message of (others: "deploy <sha>").
        self.commits = {"a1b2c3d": "feat: add payment flow"}
        self.known_projects: set[str] | None = None  # when set, other projects get 404
        self.deployments: dict[str, dict[str, Any]] = {}
        # Awaited once a trigger created its deployment, before the answer goes back.
        self.before_answer: Callable[[], Awaitable[None]] | None = None
        self._seq = 0
        self._failures = 0
        #: What a failed build logs: (step offset, level, message) lines; a test may change it.
        self.failure_log = list(FAILURE_LOG)

    # ---- helpers for tests -------------------------------------------------------------

    def fail_next(self, n: int = 1) -> None:
        """The next `n` deployments created (by trigger or rollback) fail their build."""
        self._failures += n

    def status(self, dep_id: str) -> str:
        return self._status(self.deployments[dep_id], self.clock.now())

    def live_id(self, project_id: str) -> str | None:
        now = self.clock.now()
        for d in self._sorted(project_id):
            if self._status(d, now) == "live":
                return str(d["id"])
        return None

    def seed_history(self, project_id: str, n: int = 3) -> list[str]:
        """Add `n` finished deployments, hours old: the newest live, the others rolled_back."""
        now = self.clock.now()
        ids = []
        for i in range(n):
            sha = hashlib.sha1(f"{project_id}-{self._seq}".encode()).hexdigest()[:7]  # noqa: S324
            message = SEED_MESSAGES[i % len(SEED_MESSAGES)]
            created = now - (n - i) * 3600
            d = self._create(project_id, sha, message, {}, fails=False, created=created)
            ids.append(d["id"])
        return ids[::-1]

    # ---- state -----------------------------------------------------------------------------

    def _create(
        self,
        project_id: str,
        sha: str,
        message: str,
        env_vars: dict[str, str],
        *,
        fails: bool,
        created: float | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        self._seq += 1
        dep_id = f"dep_{self._seq * 0x9E3779B1 % 2**32:08x}"  # unique, random-looking
        d: dict[str, Any] = {
            "id": dep_id,
            "project_id": project_id,
            "commit_sha": sha,
            "commit_message": message,
            "branch": "main",
            "env_vars": env_vars,
            "url": f"https://{project_id}.nometria.app",
            "created": self.clock.now() if created is None else created,
            "step": self.step,
            "fails": fails,
            "seq": self._seq,
            "rolled_back_from": None,
            "rolled_back_to": None,
            **extra,
        }
        self.deployments[dep_id] = d
        return d

    def _take_failure(self) -> bool:
        if self._failures > 0:
            self._failures -= 1
            return True
        return False

    @staticmethod
    def _live_at(d: dict[str, Any]) -> float | None:
        return None if d["fails"] else float(d["created"] + 3 * d["step"])

    def _status(self, d: dict[str, Any], now: float) -> str:
        elapsed, s = now - d["created"], d["step"]
        if elapsed < s:
            return "queued"
        if elapsed < 2 * s:
            return "building"
        if d["fails"]:
            return "failed"
        if elapsed < 3 * s:
            return "deploying"
        mine = (self._live_at(d), d["seq"])
        for other in self.deployments.values():
            live_at = self._live_at(other)
            if (
                other["project_id"] == d["project_id"]
                and live_at is not None
                and live_at <= now
                and (live_at, other["seq"]) > mine
            ):
                return "rolled_back"
        return "live"

    def _sorted(self, project_id: str | None = None) -> list[dict[str, Any]]:
        found = [d for d in self.deployments.values() if project_id in (None, d["project_id"])]
        return sorted(found, key=lambda d: (d["created"], d["seq"]), reverse=True)

    def _summary(self, d: dict[str, Any], now: float) -> dict[str, Any]:
        status = self._status(d, now)
        live_at = self._live_at(d) if status in ("live", "rolled_back") else None
        return {
            "id": d["id"],
            "project_id": d["project_id"],
            "commit_sha": d["commit_sha"],
            "commit_message": d["commit_message"],
            "branch": d["branch"],
            "status": status,
            "url": d["url"],
            "created_at": iso(d["created"]),
            "live_at": None if live_at is None else iso(live_at),
        }

    def _detail(self, d: dict[str, Any], now: float, origin: str) -> dict[str, Any]:
        out = self._summary(d, now)
        return out | {
            "preview_url": None,
            "region": "us-east-1",
            "instance_type": "t3.small",
            "build_duration_seconds": max(1, round(2 * d["step"])) if out["live_at"] else None,
            "logs_url": f"{origin}/v1/deployments/{d['id']}/logs",
        }

    def _logs(self, d: dict[str, Any], now: float) -> list[dict[str, str]]:
        plan = self.failure_log if d["fails"] else SUCCESS_LOG
        lines = []
        for offset, level, message in plan:
            at = d["created"] + offset * d["step"]
            if at <= now:
                env = "".join(f" {k}={v}" for k, v in d["env_vars"].items())
                text = message.format(id=d["id"], sha=d["commit_sha"], url=d["url"], env=env)
                lines.append({"timestamp": iso(at), "level": level, "message": text})
        return lines

    # ---- HTTP ------------------------------------------------------------------------------

    def _routes(self) -> list[web.RouteDef]:
        g = self._guard
        return [
            web.get("/v1/deployments", g(self._list)),
            web.post("/v1/deployments", g(self._trigger)),
            web.get("/v1/deployments/{id}", g(self._get)),
            web.get("/v1/deployments/{id}/logs", g(self._get_logs)),
            web.post("/v1/deployments/{id}/rollback", g(self._rollback)),
        ]

    def _guard(self, handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            if request.headers.get("Authorization") != f"Bearer {self.api_key}":
                return error(401, "unauthorized", "Invalid API key")
            if "id" in request.match_info and request.match_info["id"] not in self.deployments:
                return error(404, "not_found", "Deployment not found")
            return await handler(request)

        return guarded

    async def _list(self, request: web.Request) -> web.Response:
        query, now = request.query, self.clock.now()
        status = query.get("status")
        if status is not None and status not in STATUSES:
            return error(400, "invalid_request", f"status must be one of {', '.join(STATUSES)}")
        try:
            limit = int(query.get("limit", DEFAULT_LIMIT))
        except ValueError:
            limit = 0
        if limit < 1:
            return error(400, "invalid_request", "limit must be a positive integer")
        items = self._sorted(query.get("project_id"))
        if "cursor" in query:
            after = _decode_cursor(query["cursor"])
            if after is None:
                return error(400, "invalid_cursor", "Invalid pagination cursor")
            items = [d for d in items if (d["created"], d["seq"]) < after]
        if status is not None:
            items = [d for d in items if self._status(d, now) == status]
        page = items[: min(limit, MAX_LIMIT)]
        has_more = len(items) > len(page)
        return json_response(
            {
                "data": [self._summary(d, now) for d in page],
                "pagination": {
                    "has_more": has_more,
                    "next_cursor": _encode_cursor(page[-1]) if has_more else None,
                },
            }
        )

    async def _trigger(self, request: web.Request) -> web.Response:
        try:
            body = await request.json() if await request.read() else None
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return error(400, "invalid_request", "Request body must be a JSON object")
        project_id, sha, env_vars = (body.get(k) for k in ("project_id", "commit_sha", "env_vars"))
        if not isinstance(project_id, str) or not project_id:
            return error(400, "invalid_request", "project_id is required")
        if sha is not None and (not isinstance(sha, str) or not sha):
            return error(400, "invalid_request", "commit_sha must be a non-empty string")
        if env_vars is not None and not (
            isinstance(env_vars, dict) and all(isinstance(v, str) for v in env_vars.values())
        ):
            return error(400, "invalid_request", "env_vars must be an object of strings")
        if self.known_projects is not None and project_id not in self.known_projects:
            return error(404, "not_found", "Project not found")
        sha = sha or self.head_sha
        fails = sha.startswith("bad") or self._take_failure()
        message = self.commits.get(sha, f"deploy {sha}")
        d = self._create(project_id, sha, message, dict(env_vars or {}), fails=fails)
        data = {k: d[k] for k in ("id", "project_id")}
        if self.before_answer is not None:
            await self.before_answer()
        return json_response(
            {"data": {**data, "status": "queued", "created_at": iso(d["created"])}}, 201
        )

    async def _get(self, request: web.Request) -> web.Response:
        d = self.deployments[request.match_info["id"]]
        detail = self._detail(d, self.clock.now(), str(request.url.origin()))
        return json_response({"data": detail})

    async def _get_logs(self, request: web.Request) -> web.Response:
        d = self.deployments[request.match_info["id"]]
        return json_response({"data": {"logs": self._logs(d, self.clock.now())}})

    async def _rollback(self, request: web.Request) -> web.Response:
        target = self.deployments[request.match_info["id"]]
        status = self._status(target, self.clock.now())
        if status not in ("live", "rolled_back"):
            message = f"Deployment is {status}; only live or rolled_back deployments qualify"
            return error(409, "invalid_status", message)
        project_id = target["project_id"]
        d = self._create(
            project_id,
            target["commit_sha"],
            target["commit_message"],
            dict(target["env_vars"]),
            fails=self._take_failure(),
            rolled_back_from=self.live_id(project_id),
            rolled_back_to=target["id"],
        )
        keys = ("id", "project_id", "rolled_back_from", "rolled_back_to")
        data = {**{k: d[k] for k in keys}, "status": "queued", "created_at": iso(d["created"])}
        return json_response({"data": data}, 201)
