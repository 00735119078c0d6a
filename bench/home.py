"""The Home tab's cost in Slack calls: 30 people have it open, a long line of deploys moves.

24 apps (the test apps and 19 more), `web` with a line of deploys and `shop` awaiting an
approval, 30 people who opened their Home tab. Then the first deploy of the line is followed
through its statuses, one step of the provider's clock at a time, and each step's Slack calls are
counted once the bot is quiet again: `views.publish` and `chat.getPermalink` per status change
announced (a reply in a thread), and the provider reads the redraws cost. Also the most
`views.publish` calls in any 60 s, against Slack's documented budget (Tier 4: 100+ a minute).

    ./dev python -m bench.home            30 viewers, a line of 10
    ./dev python -m bench.home --smoke    a tiny run for CI
"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import dataclass

from bench.harness import Bench, bench
from tests.conftest import eventually

CHANNEL = "C0HOME"
PUBLISH, PERMALINK = "views.publish", "chat.getPermalink"
BUDGET = 100  # views.publish, a minute, for the workspace (Slack's Tier 4 floor)


@dataclass(frozen=True)
class Plan:
    viewers: int
    line: int
    apps: int
    steps: int
    refresh: float = 1.0


def _apps(count: int) -> str:
    return "".join(
        f'\n[apps.more{i:02d}]\nprovider = "nometria"\nproject_id = "proj_more{i:02d}"\n'
        for i in range(count)
    )


def _calls(b: Bench, method: str, since: int = 0) -> int:
    return sum(1 for call in b.slack.calls[since:] if call.method == method)


def _replies(b: Bench) -> int:
    return sum(1 for m in b.slack.messages.get(CHANNEL, []) if m.is_reply)


async def _quiet(b: Bench, plan: Plan) -> None:
    """Until no Home call came for three refresh periods."""
    while True:
        seen = len(b.slack.calls)
        await asyncio.sleep(3 * plan.refresh)
        fresh = b.slack.calls[seen:]
        if not any(call.method in (PUBLISH, PERMALINK) for call in fresh):
            return


def _busiest_minute(b: Bench) -> int:
    times = [call.at for call in b.slack.calls if call.method == PUBLISH]
    return max((sum(1 for t in times if start <= t < start + 60) for start in times), default=0)


async def run(plan: Plan) -> dict[str, float]:
    async with bench(
        provider_latency=0.0,
        poll_interval=0.2,
        pace=0.0,
        apps=_apps(plan.apps),
        extra={"DEPLOYBOT_HOME_REFRESH": str(plan.refresh)},
    ) as b:
        viewers = [f"U0V{i:02d}" for i in range(plan.viewers)]
        for user in viewers:
            assert (await b.driver.home_opened(user)).status_code == 200
        await eventually(lambda: len(b.slack.home_views) == plan.viewers, within=120)
        for _ in range(plan.line):
            await b.driver.command("web", user="U0DEV", channel=CHANNEL)
        await b.driver.command("shop", user="U0DEV", channel=CHANNEL)
        await eventually(lambda: len(b.slack.root_messages(CHANNEL)) >= 2, within=60)
        await _quiet(b, plan)

        seen, reads, replies = len(b.slack.calls), b.provider_reads(), _replies(b)
        started = time.monotonic()
        for _ in range(plan.steps):
            before = _replies(b)
            b.clock.advance(1.0)
            await eventually(lambda: _replies(b) > before, within=60)  # noqa: B023 - now
            await _quiet(b, plan)
        changes = _replies(b) - replies
        return {
            "changes": changes,
            "publish": _calls(b, PUBLISH, seen) / changes,
            "permalink": _calls(b, PERMALINK, seen) / changes,
            "reads": (b.provider_reads() - reads) / changes,
            "busiest": _busiest_minute(b),
            "seconds": time.monotonic() - started,
        }


def main(plan: Plan, *, smoke: bool) -> bool:
    got = asyncio.run(run(plan))
    print(
        f"home: {plan.viewers} viewers, {plan.apps + 4} apps each, a line of {plan.line} deploys "
        f"of web and one awaiting approval; {got['changes']:.0f} status changes announced"
    )
    print(
        f"  per status change: views.publish {got['publish']:.1f}, "
        f"chat.getPermalink {got['permalink']:.1f}, "
        f"Slack calls {got['publish'] + got['permalink']:.1f}, provider reads {got['reads']:.1f}"
    )
    print(f"  views.publish in the busiest 60 s: {got['busiest']:.0f} (budget {BUDGET})")
    if smoke:
        return got["changes"] > 0
    return got["busiest"] <= BUDGET


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="3 viewers, a line of 2")
    parser.add_argument("--viewers", type=int, default=30)
    args = parser.parse_args()
    plan = (
        Plan(viewers=3, line=2, apps=2, steps=2, refresh=0.2)
        if args.smoke
        else Plan(viewers=args.viewers, line=10, apps=19, steps=6)
    )
    raise SystemExit(0 if main(plan, smoke=args.smoke) else 1)
