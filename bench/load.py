"""A load generator in its own process, so its own work does not count as the bot's latency.

Requests are signed before the clock starts and sent over connections opened beforehand, so
what is timed is the bot's answer.

    python -m bench.load URL SECRET COUNT AT_ONCE RESPONSE_URL   -> JSON list of seconds
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from urllib.parse import urlencode

import aiohttp
from slack_sdk.signature import SignatureVerifier

from bench.harness import app_name


def _signed(secret: str, count: int, response_url: str) -> list[tuple[str, dict[str, str]]]:
    verifier = SignatureVerifier(secret)
    timestamp = str(int(time.time()))
    requests = []
    for i in range(count):
        body = urlencode(
            {
                "command": "/deploy",
                "text": app_name(i),
                "user_id": "U0DEV",
                # A channel each: Slack takes about a post a second per channel, so 200 roots in
                # a few channels would measure its limit (and its 429s), not the acks.
                "channel_id": f"C0BENCH{i:04d}",
                "team_id": "T0TEAM",
                "trigger_id": f"bench.{i}.{time.time_ns()}",
                "response_url": response_url,
            }
        )
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": str(verifier.generate_signature(timestamp=timestamp, body=body)),
        }
        requests.append((body, headers))
    return requests


async def main(url: str, secret: str, count: int, at_once: int, response_url: str) -> None:
    requests = _signed(secret, count, response_url)
    health = url.replace("/slack/events", "/healthz")
    times: list[float] = []
    connector = aiohttp.TCPConnector(limit=at_once)
    async with aiohttp.ClientSession(connector=connector) as http:
        warm = [http.get(health) for _ in range(at_once)]
        for response in await asyncio.gather(*warm):
            await response.read()
        queue: asyncio.Queue[tuple[str, dict[str, str]]] = asyncio.Queue()
        for request in requests:
            queue.put_nowait(request)

        async def worker() -> None:
            while not queue.empty():
                body, headers = queue.get_nowait()
                started = time.perf_counter()
                async with http.post(url, data=body, headers=headers) as response:
                    await response.read()
                    times.append(time.perf_counter() - started)
                    response.raise_for_status()

        await asyncio.gather(*(worker() for _ in range(at_once)))
    json.dump(times, sys.stdout)


if __name__ == "__main__":
    url, secret, count, at_once, response_url = sys.argv[1:6]
    asyncio.run(main(url, secret, int(count), int(at_once), response_url))
