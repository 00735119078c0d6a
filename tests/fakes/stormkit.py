"""Fake of Stormkit's deployments API, in two flavours.

`flavour="seed"` answers as shared/seeds/stormkit-deployments-api.txt says. `flavour="server"`
answers as Stormkit's open-source server does today (stormkit-io/stormkit-io: public/v1
handlers, deploy/deployment_model.go, deploy/publish_gate.go, deployhandlers/
handler_deploy_callback.go, handler_deployment_create.go), where they differ from the seed:

- `published` is a boolean (a list of {envId, percentage} with `published_as_list`), next to
  `isWarmingUp`;
- a publish is held back by a warm-up of `warmup` seconds (up to 180 s on the server): it is
  `isWarmingUp` meanwhile, and published only at its end, unless the warm-up fails
  (`fail_warmup_next`): then it is neither, and the environment keeps what it served;
- a build that publishes itself shows `success`, unpublished, for `publish_gap` seconds first
  (the callback writes the exit code before it auto-publishes);
- an API deploy publishes only if it asked to (`ShouldPublish = body.publish`): the
  environment's autoPublish does not apply, and `isAutoPublish` reports that flag;
- POST .../publish answers {"ok": true, "status": "publishing"};
- the 201 of POST /v1/deploy has `createdAt` as a number.

One app (`app_id`) with an environment (`env_id`), and more with `add_env`: as on the server,
an environment-level key reaches its own environment only, an app-level key the one named by
`envId`, and a deployment is found only within that environment (public/v1 looks it up with
`MyDeployment(DeploymentID, EnvID)`): another environment's deployment is a 404.

Statuses are computed lazily from the clock: a deployment (re)started at t0 with step s is
"running" on [t0, t0+2s) (a step more when it has status checks, which run after the build),
then "success" or "failed". Its commit is null until the build starts at t0+s. The latest
publication of an environment wins: the deployment published there before it is then
unpublished. Answers carry a Date header from the fake's clock.
"""

from __future__ import annotations

import hashlib
import json
from email.utils import formatdate
from typing import Any

from aiohttp import web

from tests.fakes import stormkit_build as build
from tests.fakes.clock import Clock, RealClock
from tests.fakes.recording import FakeServer, Handler, empty_response, json_response
from tests.fakes.stormkit_build import FAILURE, REPO, Publish

PAGE_SIZE = 20
ENV = web.RequestKey("env", str)  # the environment a request reaches, set by the key check
ERROR_STYLES = ("error", "errors_map", "errors_list", "unexpected", "empty")


class FakeStormkit(FakeServer):
    def __init__(
        self,
        *,
        env_key: str = "sk-env-key",
        app_key: str = "sk-app-key",
        env_id: str = "305",
        app_id: str = "1510",
        auto_publish: bool = False,
        clock: Clock | None = None,
        step: float = 1.0,
        flavour: str = "seed",
    ) -> None:
        super().__init__()
        if flavour not in {"seed", "server"}:
            raise ValueError(f"flavour is seed or server, not {flavour!r}")
        self.flavour = flavour
        server = flavour == "server"
        self.warmup = step if server else 0.0  # seconds a publish warms up before it flips
        self.publish_gap = step / 2 if server else 0.0  # success, unpublished, before it starts
        self.published_as_list = False  # server flavour: send `published` as the seed's list
        self.status_checks = False  # deployments created from now on run a status check
        self.env_key, self.app_key = env_key, app_key
        self.env_id, self.app_id = env_id, app_id
        self.env_keys = {env_key: env_id}  # environment-level keys and their environment
        self.auto_publish = auto_publish
        self.clock: Clock = clock or RealClock()
        self.step = step
        self.default_branch = "main"
        self.error_style = "error"  # one of ERROR_STYLES: the body of 400/402/404 answers
        self.minutes_exhausted = False  # True: POST /v1/deploy answers 402
        self.deployments: dict[str, dict[str, Any]] = {}
        self._publications: list[Publish] = []  # explicit ones; self-publishes are derived
        self._next_id = 8241
        self._order = 0
        self._failures = 0
        self._check_failures = 0
        self._warmup_failures = 0

    # ---- helpers for tests -------------------------------------------------------------

    def set_auto_publish(self, on: bool) -> None:
        """Applies to deployments created from now on (it is read at creation)."""
        self.auto_publish = on

    def fail_next(self, n: int = 1) -> None:
        """The next `n` deployments created or restarted fail their build."""
        self._failures += n

    def fail_status_checks_next(self, n: int = 1) -> None:
        """The next `n` deployments created run a status check, and it fails."""
        self._check_failures += n

    def fail_warmup_next(self, n: int = 1) -> None:
        """The next `n` publishes (asked or self-publishing builds created) fail their warm-up."""
        self._warmup_failures += n

    def status(self, dep_id: str) -> str:
        return build.status(self.deployments[dep_id], self.clock.now())

    def add_env(self, env_id: str, env_key: str | None = None) -> None:
        """Another environment of the app: reached by the app key with its envId, or its key."""
        self.env_keys[env_key or f"sk-env-key-{env_id}"] = env_id

    def published_id(self, env: str | None = None) -> str | None:
        """The deployment published now, None if none is (or the published one was deleted)."""
        now = self.clock.now()
        done = [
            (p.ends, p.order, p.id) for p in self._intents(env) if p.ends <= now and not p.fails
        ]
        if not done:
            return None
        winner = self.deployments[max(done)[2]]
        return None if winner["deleted"] else str(winner["id"])

    def warming_id(self, env: str | None = None) -> str | None:
        """The deployment warming up now: the newest publish, while its warm-up lasts."""
        now = self.clock.now()
        started = [p for p in self._intents(env) if p.start <= now]
        newest = max(started, key=lambda p: (p.start, p.order), default=None)
        return newest.id if newest is not None and now < newest.ends else None

    def seed_history(self, n: int = 3, branch: str = "main", env: str | None = None) -> list[str]:
        """Add `n` successful deployments, hours old, the newest published; newest first."""
        now = self.clock.now()
        ids = [
            self._create(branch, False, False, now - (n - i) * 3600, env)["id"] for i in range(n)
        ]
        if ids:
            self._order += 1
            newest = self.deployments[ids[-1]]
            at = build.finish(newest)
            self._publications.append(Publish(newest["id"], at, self._order, at, fails=False))
        return ids[::-1]

    def push(self, branch: str | None = None) -> str:
        """A git push starts a deployment by itself (the inbound webhook, not the API): it
        knows its commit from the start, and publishes when the environment auto-publishes and
        the branch is its default one (handler_inbound_webhooks.go)."""
        branch = branch or self.default_branch
        publish = self.auto_publish and branch == self.default_branch
        d = self._create(branch, publish, self._plans_failure(branch), self.clock.now())
        d["auto_deploy"] = True
        d["auto_publish"] = d["auto_publish"] and branch == self.default_branch
        return str(d["id"])

    # ---- state -----------------------------------------------------------------------------

    def _create(
        self, branch: str, publish: bool, fails: bool, created: float, env: str | None = None
    ) -> dict[str, Any]:
        dep_id, self._next_id = str(self._next_id), self._next_id + 1
        self._order += 1
        checks: bool | None = True if self.status_checks else None
        if self._check_failures > 0:
            self._check_failures, checks = self._check_failures - 1, False
        d: dict[str, Any] = {
            "id": dep_id,
            "env": env or self.env_id,
            "branch": branch,
            "should_publish": publish,
            # The server sets ShouldPublish from the request alone (handler_deployment_create).
            "auto_publish": self.auto_publish and not publish and self.flavour == "seed",
            "checks": checks,  # None: no status check; True/False: it passes/fails
            "warmup_fails": False,
            "created": created,
            "started": created,
            "step": self.step,
            "fails": fails,
            "stopped": None,
            "deleted": False,
            "order": self._order,
            "sha": hashlib.sha1(f"{dep_id}-{branch}".encode()).hexdigest(),  # noqa: S324
        }
        d["warmup_fails"] = (publish or d["auto_publish"]) and self._take_warmup_failure()
        self.deployments[dep_id] = d
        return d

    def _plans_failure(self, branch: str) -> bool:
        if branch.startswith(("bad", "broken")):
            return True
        if self._failures > 0:
            self._failures -= 1
            return True
        return False

    def _take_warmup_failure(self) -> bool:
        if self._warmup_failures > 0:
            self._warmup_failures -= 1
            return True
        return False

    def _intents(self, env: str | None = None) -> list[Publish]:
        """Every publish in `env` (by default the first environment): the asked ones, and those
        of builds that publish themselves."""
        env = env or self.env_id
        intents = [p for p in self._publications if self.deployments[p.id]["env"] == env]
        for d in self.deployments.values():
            if d["env"] != env:
                continue
            ok = not d["fails"] and d["stopped"] is None and d["checks"] is not False
            if ok and (d["should_publish"] or d["auto_publish"]):
                start = build.finish(d) + self.publish_gap
                ends = start + self.warmup
                intents.append(Publish(d["id"], start, d["order"], ends, d["warmup_fails"]))
        return intents

    def _view(self, d: dict[str, Any], logs: bool | None, published: str | None) -> dict[str, Any]:
        """The GET shape; `logs` None leaves out the logs and statusChecks keys (list)."""
        now, server = self.clock.now(), self.flavour == "server"
        status = build.status(d, now)
        done = status != "running"
        out = {
            "id": d["id"],
            "appId": self.app_id,
            "envId": d["env"],
            "envName": "production",
            "displayName": "my-app",
            "repo": REPO,
            "branch": d["branch"],
            "status": status,
            "error": FAILURE if status == "failed" and d["fails"] and d["stopped"] is None else "",
            "isAutoDeploy": d.get("auto_deploy", False),
            # The server reports the deployment's ShouldPublish under this name.
            "isAutoPublish": d["should_publish"] if server else d["auto_publish"],
            "stoppedManually": d["stopped"] is not None,
            "statusChecksPassed": self._checks_passed(d, status),
            "apiPathPrefix": "",
            "previewUrl": f"https://{d['id']}--my-app.stormkit.dev",
            "detailsUrl": f"/apps/{self.app_id}/environments/{d['env']}/deployments/{d['id']}",
            "duration": round(build.finish(d) - d["started"]) if done else 0,
            "createdAt": str(int(d["created"])),
            "stoppedAt": str(int(build.finish(d))) if done else None,
            "commit": build.commit(d, now),
            "snapshot": {"branch": self.default_branch, "autoPublish": d["auto_publish"]},
            "logs": build.logs(d, now) if logs else None,
            "statusChecks": build.status_checks(d, now) if logs else None,
            "published": [{"envId": d["env"], "percentage": 100}] if published == d["id"] else [],
            "uploadResult": {"clientBytes": 204800, "serverBytes": 0, "serverlessBytes": 0}
            if status == "success"
            else None,
        }
        if server and not self.published_as_list:
            out["published"] = published == d["id"]
        if server:
            out["isWarmingUp"] = self.warming_id(d["env"]) == d["id"]
        if logs is None:
            del out["logs"], out["statusChecks"]
        return out

    def _checks_passed(self, d: dict[str, Any], status: str) -> bool | None:
        """null while they run; with none, the seed says whether it succeeded, the server null."""
        if d["checks"] is None:
            return status == "success" if self.flavour == "seed" else None
        return None if status == "running" else bool(d["checks"])

    # ---- HTTP ------------------------------------------------------------------------------

    def _error(self, status: int, message: str, field: str = "branch") -> web.Response:
        style = self.error_style
        if style == "empty":
            return empty_response(status)
        bodies = {
            "error": {"error": message},
            "errors_map": {"errors": {field: message}},
            "errors_list": {"errors": [message]},
            "unexpected": {"ok": False, "error": "unexpected-error"},
        }
        return json_response(bodies[style], status)

    def _routes(self) -> list[web.RouteDef]:
        g = self._guard
        return [
            web.post("/v1/deploy", g(self._deploy)),
            web.get("/v1/deployments", g(self._list)),
            web.get("/v1/deployments/{id}", g(self._get)),
            web.delete("/v1/deployments/{id}", g(self._delete)),
            web.get("/v1/deployments/{id}/poll", g(self._poll)),
            web.post("/v1/deployments/{id}/publish", g(self._publish)),
            web.post("/v1/deployments/{id}/restart", g(self._restart)),
            web.post("/v1/deployments/{id}/stop", g(self._stop)),
        ]

    def app(self) -> web.Application:
        app = super().app()
        app.on_response_prepare.append(self._date)
        return app

    async def _date(self, request: web.Request, response: web.StreamResponse) -> None:
        """The server's time is the fake's clock: what the adapter compares `stoppedAt` with."""
        response.headers["Date"] = formatdate(self.clock.now(), usegmt=True)

    def _guard(self, handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            key = request.headers.get("Authorization", "").removeprefix("Bearer ")
            if key == self.app_key:  # app-level key: the request names the environment
                env = None if request.path == "/v1/deploy" else request.query.get("envId")
                if request.method == "POST":
                    body = await _json_body(request)
                    env = body.get("envId", env) if isinstance(body, dict) else env
                if env not in self.env_keys.values():
                    return self._error(404, "Environment not found", "envId")
            elif key and key == self.env_key:
                env = self.env_id
            elif key and key in self.env_keys:
                env = self.env_keys[key]
            else:
                return empty_response(403)
            request[ENV] = str(env)
            dep_id = request.match_info.get("id")
            d = self.deployments.get(dep_id or "", {"deleted": True})
            if dep_id is not None and (d["deleted"] or d["env"] != env):
                return self._error(404, "Deployment not found", "id")
            return await handler(request)

        return guarded

    async def _deploy(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        if not isinstance(body, dict):
            return self._error(400, "Request body must be a JSON object", "body")
        branch, publish = body.get("branch") or self.default_branch, body.get("publish", False)
        if not isinstance(branch, str):
            return self._error(400, "branch must be a string", "branch")
        if not isinstance(publish, bool):
            return self._error(400, "publish must be a boolean", "publish")
        if self.minutes_exhausted:
            return self._error(402, "You have exceeded your build minutes limit.", "billing")
        failing = self._plans_failure(branch)
        d = self._create(branch, publish, failing, self.clock.now(), request[ENV])
        keys = ("id", "appId", "envId", "branch", "commit", "createdAt", "stoppedAt")
        view = self._view(d, None, self.published_id(d["env"]))
        if self.flavour == "server":  # the struct's own encoding: unix seconds as a number
            view["createdAt"] = int(d["created"])
        return json_response(
            {k: view[k] for k in keys}
            | {"checkoutRepo": REPO, "shouldPublish": publish, "isAutoDeploy": False}
            | {"pullRequestNumber": None, "isFork": False},
            201,
        )

    async def _list(self, request: web.Request) -> web.Response:
        try:
            start = int(request.query.get("from", "0"))
        except ValueError:
            start = -1
        if start < 0:
            return self._error(400, "from must be a non-negative integer", "from")
        env = request[ENV]
        branch, published = request.query.get("branch"), self.published_id(env)
        items = [
            d
            for d in sorted(self.deployments.values(), key=lambda d: d["order"], reverse=True)
            if not d["deleted"] and branch in (None, d["branch"]) and d["env"] == env
        ]
        page = [self._view(d, None, published) for d in items[start : start + PAGE_SIZE]]
        return json_response({"deployments": page, "hasNextPage": len(items) > start + PAGE_SIZE})

    async def _get(self, request: web.Request) -> web.Response:
        logs = request.query.get("logs") in ("true", "1")
        d = self.deployments[request.match_info["id"]]
        published = self.published_id(d["env"])
        return json_response({"deployment": self._view(d, logs, published)})

    async def _poll(self, request: web.Request) -> web.Response:
        return json_response({"status": self.status(request.match_info["id"])})

    async def _publish(self, request: web.Request) -> web.Response:
        status = self.status(dep_id := request.match_info["id"])
        if status == "running":
            return self._error(400, "Deployment is still running and cannot be published")
        if status != "success":
            return self._error(400, "Deployment must have a successful build to be published")
        self._order += 1
        now = self.clock.now()
        fails = self.flavour == "server" and self._take_warmup_failure()
        self._publications.append(Publish(dep_id, now, self._order, now + self.warmup, fails))
        if self.flavour == "server":  # the warm-up has only begun (publish_gate.go)
            return json_response({"ok": True, "status": "publishing"})
        return json_response({"ok": True})

    async def _delete(self, request: web.Request) -> web.Response:
        self.deployments[request.match_info["id"]]["deleted"] = True
        return json_response({"ok": True})

    async def _restart(self, request: web.Request) -> web.Response:
        d = self.deployments[request.match_info["id"]]
        if build.status(d, self.clock.now()) != "failed":
            return self._error(400, "Only failed deployments can be restarted")
        d.update(started=self.clock.now(), stopped=None, fails=self._plans_failure(d["branch"]))
        return json_response({"ok": True})

    async def _stop(self, request: web.Request) -> web.Response:
        d = self.deployments[request.match_info["id"]]
        if build.status(d, now := self.clock.now()) == "running":
            d["stopped"] = now
        return json_response({"ok": True})


async def _json_body(request: web.Request) -> Any:
    """The JSON body, {} when there is none, None when it is not JSON."""
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        return None
