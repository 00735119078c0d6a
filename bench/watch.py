"""Watching for deployments started outside Slack: what 100 apps with `announce` cost.

The bot runs with 100 watched apps (half Nometria, half Stormkit), a watch and poll interval of
1 s and every provider request taking 0.2 s. Measured: the list requests the watcher sends per
interval (at most one per watched app), and the acknowledgement latency of 200 slash commands,
50 at a time, with the watcher and without it (the same apps, no `announce`).

    ./dev python -m bench.watch            (--smoke: 10 apps, 20 commands)
"""

from __future__ import annotations

import argparse
import asyncio

from bench.ack_latency import _load
from bench.harness import Bench, bench, many_apps, percentile

INTERVAL = 1.0
LATENCY = 0.2  # a look at 100 apps, 50 requests at a time, ends within the interval


def watched_apps(count: int, *, announce: bool) -> str:
    lines = []
    for i in range(count):
        where = f'announce = "C0WATCH{i % 10:03d}"\n' if announce else ""
        if i % 2:
            lines.append(f'\n[apps.watch{i:03d}]\nprovider = "stormkit"\nenv_id = "305"\n{where}')
        else:
            lines.append(
                f'\n[apps.watch{i:03d}]\nprovider = "nometria"\nproject_id = "proj_w{i:03d}"\n'
                + where
            )
    return "".join(lines)


def lists(b: Bench) -> int:
    """The watcher's requests: the lists of the watched apps (the fan apps are never listed)."""
    nometria = [
        r
        for r in b.nometria.requests_to("GET", "/v1/deployments")
        if r.path == "/v1/deployments" and r.query.get("project_id", "").startswith("proj_w")
    ]
    stormkit = [
        r for r in b.stormkit.requests_to("GET", "/v1/deployments") if r.path == "/v1/deployments"
    ]
    return len(nometria) + len(stormkit)


async def per_interval(b: Bench, seconds: float) -> float:
    """List requests per interval: the count is sampled every 10 ms for `seconds`; requests
    less than half an interval apart belong to one look. Whole looks only (one cut by the
    window's start or end is left out), over the mean time from one look's start to the next."""
    loop = asyncio.get_running_loop()
    end, seen, arrivals = loop.time() + seconds, lists(b), []
    while loop.time() < end:
        await asyncio.sleep(0.01)
        now, count = loop.time(), lists(b)
        arrivals += [now] * (count - seen)
        seen = count
    looks: list[list[float]] = []
    for at in arrivals:
        if looks and at - looks[-1][-1] < INTERVAL / 2:
            looks[-1].append(at)
        else:
            looks.append([at])
    whole = looks[1:-1]
    if len(whole) < 2:
        return 0.0
    gap = (whole[-1][0] - whole[0][0]) / (len(whole) - 1)
    requests = sum(len(look) for look in whole[:-1]) / (len(whole) - 1)
    return requests * INTERVAL / gap


async def measure(
    apps: int, commands: int, seconds: float, *, announce: bool
) -> tuple[float, float, float]:
    """(list requests per interval, ack p50 ms, ack p99 ms)."""
    async with bench(
        provider_latency=LATENCY,
        poll_interval=INTERVAL,
        pace=1.0,
        apps=many_apps() + watched_apps(apps, announce=announce),  # the commands deploy `fan`s
        extra={"DEPLOYBOT_WATCH_INTERVAL": str(INTERVAL)},
    ) as b:
        await asyncio.sleep(2 * INTERVAL)  # the first looks are made
        rate = await per_interval(b, seconds)
        times = await _load(b, commands, min(50, commands))
    return rate, percentile(times, 50) * 1000, percentile(times, 99) * 1000


async def main(apps: int, commands: int, seconds: float, *, smoke: bool = False) -> bool:
    print(f"{apps} apps, interval {INTERVAL} s, provider latency {LATENCY} s, {commands} commands")
    results = {}
    for announce in (False, True):
        per, p50, p99 = await measure(apps, commands, seconds, announce=announce)
        which = "watched" if announce else "not watched"
        print(f"  {which}: {per:.1f} list requests per interval")
        print(f"  {which}: acks p50 {p50:.1f} ms   p99 {p99:.1f} ms")
        results[announce] = per, p99
    (watched, p99), (quiet, _) = results[True], results[False]
    if smoke:  # behaviour only (the figures are for a full run on a quiet machine)
        return watched > 0 and quiet == 0
    return watched <= apps * 1.02 and quiet == 0 and p99 < 3000  # 2%: the clock's jitter


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="10 apps, 20 commands")
    args = parser.parse_args()
    apps, commands, seconds = (10, 20, 4.0) if args.smoke else (100, 200, 10.0)
    raise SystemExit(0 if asyncio.run(main(apps, commands, seconds, smoke=args.smoke)) else 1)
