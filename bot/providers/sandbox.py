"""An in-process hosting platform, so the bot can be tried with no hosting account.

`deploybot console` uses it by default, and a Slack workspace can too (`provider = "sandbox"`).
Nothing runs in the background: a status is worked out from the clock whenever it is read. A
deployment (re)started at t0 with step s is queued on [t0, t0+s), building for one step, or two
for every other build, then failed, or deploying for one step and then live (asked to publish)
or ready (waiting for a publish, as Stormkit's approval flow does). The latest deployment to go
live is live, and the one before it rolled back at that instant, as on Nometria.

A ref starting with `broken` or `fail` fails its build, with a log that quotes a secret, so the
masking of excerpts has something to show. A restart of it fails again, as the same broken code
would (the README says such a ref fails); a run stopped by hand restarts and goes on.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from bot.models import Deployment, LogLine, Status
from bot.providers.base import Capability, NotFound, Rejected
from bot.providers.sandbox_run import Run

DEFAULT_STEP = 2.0
FAILING_REFS = ("broken", "fail")
BUILD_ERROR = "Build failed: Cannot find module './payments'"
_MESSAGES = (
    "feat: add payment flow",
    "fix: auth redirect loop on Safari",
    "chore: bump dependencies",
    "perf: cache the pricing page",
    "refactor: split the checkout service",
    "docs: explain the release process",
)
_SHA = re.compile(r"^[0-9a-f]{7,40}$")


class Sandbox:
    """One app's deployments, in memory for the life of the process."""

    name = "sandbox"
    supports: frozenset[Capability] = frozenset(
        {"publish", "rollback", "stop", "restart", "delete", "env"}
    )

    def __init__(
        self,
        app_name: str,
        *,
        clock: Callable[[], float] = time.monotonic,
        step: float = DEFAULT_STEP,
        seed_history: int = 3,
        default_branch: str = "main",
    ) -> None:
        if step <= 0:
            raise ValueError("a sandbox step must be longer than 0 seconds")
        self._app, self._clock, self._step = app_name, clock, step
        self.scope: str | None = app_name  # one platform per app: its deployments are its own
        self._default_branch = default_branch
        # A monotonic clock never jumps back mid-build; wall time is read once, to date things.
        self._wall = time.time() - clock()
        self._slug = re.sub(r"[^a-z0-9]+", "-", app_name.lower()).strip("-") or "app"
        self._salt = int(hashlib.sha256(app_name.encode()).hexdigest()[:8], 16)
        self.url = f"https://{self._slug}.sandbox.deploybot.dev"
        self._runs: dict[str, Run] = {}
        self._seq = 0
        self.seed(seed_history)

    # ---- for people and tests: synchronous looks at the platform ---------------------------

    def seed(self, n: int) -> list[str]:
        """Add `n` deployments finished hours ago, the newest live; their ids, newest first."""
        now = self._clock()
        ids = [
            self._create(self._default_branch, {}, publish=True, at=now - (n - i) * 3600).id
            for i in range(n)
        ]
        return ids[::-1]

    def view(self, deployment_id: str) -> Deployment:
        now = self._clock()
        return self._deployment(self._run(deployment_id), now, self._live_id(now))

    def live_id(self) -> str | None:
        return self._live_id(self._clock())

    # ---- the Provider protocol -----------------------------------------------------------

    async def trigger(
        self, *, ref: str | None, env_vars: Mapping[str, str], publish: bool
    ) -> Deployment:
        run = self._create(ref or self._default_branch, env_vars, publish=publish)
        return self.view(run.id)

    async def get(self, deployment_id: str) -> Deployment:
        return self.view(deployment_id)

    poll = get  # reading costs nothing here

    async def logs(self, deployment_id: str) -> list[LogLine]:
        run = self._run(deployment_id)
        until = self._clock() if run.stopped is None else run.stopped
        lines = [LogLine(message=m, failed=f) for at, f, m in self._plan(run) if at <= until]
        if run.stopped is not None:
            lines.append(LogLine(message="Stopped by hand: the build was cancelled"))
        return lines

    async def history(self, *, limit: int = 20, ref: str | None = None) -> list[Deployment]:
        now = self._clock()
        live = self._live_id(now)
        runs = sorted(self._runs.values(), key=lambda r: (r.created, r.seq), reverse=True)
        return [self._deployment(r, now, live) for r in runs if r.matches(ref)][:limit]

    async def newest(self) -> list[Deployment]:
        return await self.history(limit=10)

    async def publish(self, deployment_id: str) -> None:
        run, status, now = self._now(deployment_id)
        if status is not Status.READY:
            raise Rejected(
                f"deployment {deployment_id} has no successful build, so it cannot be published "
                f"(it is {status.label})"
            )
        run.published = now

    async def rollback(self, target_id: str) -> Deployment:
        """Like Stormkit's: the target itself goes live at once, and is returned."""
        run, status, now = self._now(target_id)
        if status not in {Status.LIVE, Status.ROLLED_BACK, Status.READY}:
            raise Rejected(
                f"deployment {target_id} is neither live nor rolled back, "
                f"so production cannot go back to it (it is {status.label})"
            )
        run.published = now
        return self.view(target_id)

    async def stop(self, deployment_id: str) -> None:
        """A finished deployment is left as it is, as Stormkit does."""
        run, status, now = self._now(deployment_id)
        if not status.finished:
            run.stopped = now

    async def restart(self, deployment_id: str) -> None:
        run, status, now = self._now(deployment_id)
        if status not in {Status.FAILED, Status.STOPPED}:  # Stormkit shows a stop as failed
            raise Rejected(
                f"deployment {deployment_id} is {status.label}: "
                "only a failed or stopped deployment can be restarted"
            )
        run.started, run.stopped = now, None
        run.attempt += 1

    async def delete(self, deployment_id: str) -> None:
        """Refused for the live one: production would silently fall back to an older build."""
        _, status, _ = self._now(deployment_id)
        if status is Status.LIVE:
            raise Rejected(
                f"deployment {deployment_id} is live: roll back to another one before deleting it"
            )
        del self._runs[deployment_id]

    # ---- the timeline ----------------------------------------------------------------------

    def _create(
        self, ref: str, env: Mapping[str, str], *, publish: bool, at: float | None = None
    ) -> Run:
        self._seq += 1
        seq, at = self._seq, self._clock() if at is None else at
        digest = hashlib.sha256(f"{self._app}:{seq}".encode()).hexdigest()[:7]
        run = Run(
            id=f"sbx-{(seq * 0x9E3779B1 + self._salt) % 2**32:08x}",  # unique, random-looking
            seq=seq,
            ref=ref,
            sha=ref.lower() if _SHA.match(ref.lower()) else digest,
            message=_MESSAGES[seq % len(_MESSAGES)],
            publish=publish,
            created=at,
            started=at,
            build_steps=2 if seq % 2 == 0 else 1,
            fails=ref.lower().startswith(FAILING_REFS),
            env=dict(env),
            step=self._step,
        )
        self._runs[run.id] = run
        return run

    def _run(self, deployment_id: str) -> Run:
        run = self._runs.get(deployment_id)
        if run is None:
            raise NotFound(f"Sandbox has no deployment {deployment_id} for {self._app}")
        return run

    def _now(self, deployment_id: str) -> tuple[Run, Status, float]:
        run, now = self._run(deployment_id), self._clock()
        return run, self._status(run, now, self._live_id(now)), now

    def _live_id(self, now: float) -> str | None:
        went = [
            (at, r.seq, r.id)
            for r in self._runs.values()
            if (at := r.live_at) is not None and at <= now
        ]
        return max(went)[2] if went else None

    def _status(self, run: Run, now: float, live_id: str | None) -> Status:
        if (phase := run.phase(now)) is not None:
            return phase
        if run.live_at is None or run.live_at > now:
            return Status.READY
        return Status.LIVE if run.id == live_id else Status.ROLLED_BACK

    def _deployment(self, run: Run, now: float, live_id: str | None) -> Deployment:
        status = self._status(run, now, live_id)
        finished = run.stopped if run.stopped is not None else run.ends
        took = finished - run.at(1) if status.finished and run.stopped is None else None
        return Deployment(
            id=run.id,
            status=status,
            ref=run.ref,
            commit_sha=run.sha,
            commit_message=run.message,
            branch=run.ref,
            url=self.url if status is Status.LIVE else self._preview(run),
            created_at=self._date(run.created),
            finished_at=self._date(finished) if status.finished else None,
            build_seconds=max(1, round(took)) if took is not None else None,
            error=BUILD_ERROR if status is Status.FAILED else None,
            owner=self._app,
        )

    def _plan(self, run: Run) -> list[tuple[float, bool, str]]:
        """Every log line of the run, with its time; `logs` shows those whose time has come.

        Overrides are printed as given: the bot masks secret-looking ones, as for any provider.
        """
        steps: list[tuple[float, bool, str]] = [
            (0, False, f"Deployment {run.id} queued: {run.ref} at {run.sha}")
        ]
        if run.attempt > 1:
            steps.append((0, False, f"Restarted by hand: attempt {run.attempt}"))
        if run.env:
            overrides = ", ".join(f"{k}={v}" for k, v in run.env.items())
            steps.append((0, False, f"env overrides: {overrides}"))
        steps += [
            (1, False, f"Cloning github.com/acme/{self._slug} at {run.sha} ({run.message})"),
            (1.1, False, "Installing dependencies: added 312 packages in 3.2s"),
            (1.3, False, "Building: npm run build"),
        ]
        end = 1 + run.build_steps
        if run.fails:
            steps += [
                (end - 0.2, True, f"Error: {BUILD_ERROR}"),
                (end - 0.2, True, "    at Module._resolveFilename (node:internal/modules/cjs)"),
                (end - 0.1, True, "npm ERR! env: NODE_ENV=production DATABASE_PASSWORD=hunter2"),
                (end - 0.1, True, "npm ERR! code ELIFECYCLE"),
                (end, True, "Deployment failed: build exited with code 1"),
            ]
        else:
            done = f"Deployment live at {self.url}" if run.publish else "Built: waiting for publish"
            steps += [
                (end, False, f"Build complete: 48 files, 1.3 MB ({self._preview(run)})"),
                (end + 0.5, False, "Uploading to the edge: 3 regions"),
                (end + 0.9, False, "Health check passed"),
                (end + 1, False, done),
            ]
        lines = [(run.at(at), failed, text) for at, failed, text in steps]
        if run.published is not None:
            lines.append((run.published, False, f"Published: {self.url} serves {run.id}"))
        return lines

    def _preview(self, run: Run) -> str:
        return f"https://{self._slug}-{run.id.removeprefix('sbx-')}.sandbox.deploybot.dev"

    def _date(self, at: float) -> datetime:
        return datetime.fromtimestamp(self._wall + at, UTC)
