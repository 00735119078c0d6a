"""One deployment per channel, all go live at once: how soon does the last thread hear it?

N deployments (half Nometria, half Stormkit), each of its own app in its own channel, 50 ms
provider latency. Once every thread has its "Started" reply, the providers' clock moves on and
every build goes live at once. Measured from that flip to the last thread's reply; the floor is
one poll interval (the change may land just after a poll) plus one Slack call. Run for deploybot
and for the naive bot (bench/naive_bot.py) in the same run, on fresh fakes each, one after the
other.

    ./dev python -m bench.burst                 200 (1 s poll) and 1,000 (3 s poll), both bots
    ./dev python -m bench.burst --smoke         a tiny run for CI
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from bench.harness import BOTS, Bench, bench, deploy_each, first_replies, percentile
from tests.conftest import BOT_TOKEN, eventually


@dataclass(frozen=True)
class Case:
    deployments: int
    interval: float
    latency: float = 0.05
    target: float = 1.0  # seconds over the poll interval the last reply may take


@dataclass
class Result:
    which: str
    case: Case
    setup: float
    slack_call: float
    latencies: list[float]
    reads_per_tick: float
    idle_reads: int
    rss: float
    refused: str

    @property
    def last(self) -> float:
        return self.latencies[-1]

    @property
    def floor(self) -> float:
        return self.case.interval + self.slack_call


def channel(i: int) -> str:
    return f"C0BURST{i:04d}"


def threads(b: Bench, count: int) -> dict[str, str]:
    """Root ts -> channel of every deployment's thread once each has a reply."""
    roots: dict[str, str] = {}
    for i in range(count):
        messages = b.slack.root_messages(channel(i))
        if not messages or not b.slack.thread(channel(i), messages[0].ts):
            return {}
        roots[messages[0].ts] = channel(i)
    return roots


async def slack_call_seconds(b: Bench) -> float:
    """The median time of one chat.postMessage to the fake Slack, from this process."""
    url = f"{b.slack.base_url}/api/chat.postMessage"
    headers = {"Authorization": f"Bearer {BOT_TOKEN}"}
    times = []
    for i in range(20):
        started = time.perf_counter()
        response = await b.http.post(  # a channel each: within Slack's pace
            url, json={"channel": f"C0TIMING{i}", "text": "timing"}, headers=headers
        )
        response.raise_for_status()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


async def start(b: Bench, case: Case) -> dict[str, str]:
    await deploy_each(b, case.deployments, channel)
    roots: dict[str, str] = await eventually(
        lambda: threads(b, case.deployments), within=case.deployments / 5 + 60, every=0.25
    )
    await quiet(b, case.interval)
    return roots


async def quiet(b: Bench, interval: float) -> None:
    """Wait until no message has been posted for two poll intervals (the start is said).

    Root edits may still trickle on: Slack allows chat.update about 50 a minute per workspace.
    """

    def still() -> bool:
        posts = [call.at for call in b.slack.calls if call.method == "chat.postMessage"]
        return not posts or time.monotonic() - posts[-1] > 2 * interval

    await eventually(still, within=300, every=interval / 4)


async def reads_per_tick(b: Bench, interval: float, ticks: int = 3) -> float:
    reads = b.provider_reads()
    await asyncio.sleep(ticks * interval)  # counting what a bot sends over a span of time
    return (b.provider_reads() - reads) / ticks


async def flip(b: Bench, roots: dict[str, str], case: Case) -> list[float]:
    """Every build goes live; per thread, the seconds from then to its first reply."""
    seen = len(b.slack.calls)
    t0 = time.monotonic()
    b.clock.advance(3)  # Nometria goes live, Stormkit succeeds and is published

    first = await eventually(
        lambda: first_replies(b, roots, seen, t0), within=case.interval * 5 + 120, every=0.05
    )
    return sorted(first.values())


async def run(which: str, case: Case, profile: Path | None = None) -> Result:
    async with bench(
        provider_latency=case.latency, poll_interval=case.interval, pace=1.0, which=which
    ) as b:
        started = time.perf_counter()
        roots = await start(b, case)
        setup = time.perf_counter() - started
        per_tick = await reads_per_tick(b, case.interval)
        spy = await py_spy(b, profile / f"{which}-{case.deployments}.txt") if profile else None
        latencies = await flip(b, roots, case)
        if spy is not None:
            spy.send_signal(signal.SIGINT)  # py-spy writes its profile when interrupted
            await spy.wait()
        await quiet(b, case.interval)
        idle = b.provider_reads()
        await asyncio.sleep(3 * case.interval)  # three idle ticks: nothing should be polled
        idle = b.provider_reads() - idle
        slack_call = await slack_call_seconds(b)
        return Result(
            which, case, setup, slack_call, latencies, per_tick, idle, b.peak_rss_mb(), b.refused()
        )


async def py_spy(b: Bench, out: Path) -> asyncio.subprocess.Process:
    """py-spy sampling the bot from now on, as raw stacks (`-f raw`: flamegraph.pl's input)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    spy = await asyncio.create_subprocess_exec(
        "py-spy", "record", "-f", "raw", "-r", "100", "--nonblocking", "-o", str(out),
        "--pid", str(b.bot.process.pid), stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    await asyncio.sleep(1)  # py-spy attaches
    return spy


def report(result: Result) -> None:
    case = result.case
    p50, p99 = percentile(result.latencies, 50), percentile(result.latencies, 99)
    print(
        f"{result.which:>9}: {case.deployments} in {case.deployments} channels, "
        f"{case.interval:g} s poll: last reply {result.last:.2f} s after the flip "
        f"(p50 {p50:.2f} s, p99 {p99:.2f} s); floor {result.floor:.2f} s = "
        f"interval {case.interval:g} + one Slack call {result.slack_call * 1000:.0f} ms; "
        f"ratio {result.last / result.floor:.2f}"
    )
    print(
        f"{'':>11}provider requests per tick {result.reads_per_tick:.0f}, over 3 idle ticks "
        f"{result.idle_reads}; set-up {result.setup:.1f} s; peak RSS {result.rss:.0f} MB; "
        f"{result.refused}"
    )


def met(result: Result) -> bool:
    case = result.case
    return (
        result.last <= case.interval + case.target
        and abs(result.reads_per_tick - case.deployments) <= 0.05 * case.deployments
        and result.idle_reads == 0
    )


async def main(
    cases: list[Case], bots: list[str], *, smoke: bool, profile: Path | None = None
) -> bool:
    ok = True
    for case in cases:
        results = [await run(which, case, profile) for which in bots]
        for result in results:
            report(result)
        ours = results[0]
        if len(results) > 1:
            print(f"{'':>11}deploybot / naive: {ours.last / results[1].last:.2f}x")
        ok &= len(ours.latencies) == case.deployments and (smoke or met(ours))
    return ok


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="10 in 10 channels, 0.5 s poll")
    parser.add_argument("--bot", choices=BOTS, action="append", help="only this bot (repeatable)")
    parser.add_argument("--size", type=int, action="append", help="only this size: 200 or 1000")
    parser.add_argument("--profile", type=Path, help="py-spy each bot over the flip, into DIR")
    args = parser.parse_args()
    if args.smoke:
        chosen = [Case(10, 0.5, latency=0.01)]
    else:
        known = {200: Case(200, 1.0, target=1.0), 1000: Case(1000, 3.0, target=5.0)}
        chosen = [known[size] for size in args.size or known]
    bots = args.bot or list(BOTS)
    ok = asyncio.run(main(chosen, bots, smoke=args.smoke, profile=args.profile))
    raise SystemExit(0 if ok else 1)
