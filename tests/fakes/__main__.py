"""Serve the fake Slack, Nometria and Stormkit by hand: `./dev python -m tests.fakes`.

For trying `deploybot serve` with no accounts: point SLACK_API_URL and the providers'
base_url at the printed addresses. Provider builds move on every `--step` seconds;
`--stormkit server` answers as Stormkit's server does today (warm-ups, boolean `published`).
"""

from __future__ import annotations

import argparse
import asyncio

from tests.fakes.clock import RealClock
from tests.fakes.nometria import FakeNometria
from tests.fakes.server import serve
from tests.fakes.slack import FakeSlack
from tests.fakes.stormkit import FakeStormkit


async def main(step: float, flavour: str) -> None:
    slack = FakeSlack(token="xoxb-test-token")
    nometria = FakeNometria(api_key="nm-test-key", clock=RealClock(), step=step)
    stormkit = FakeStormkit(env_key="sk-env-key", clock=RealClock(), step=step, flavour=flavour)
    slack_served = await serve(slack.app())
    slack.bind(slack_served.url)
    nometria_served = await serve(nometria.app())
    stormkit_served = await serve(stormkit.app())
    print(f"SLACK_API_URL={slack_served.url}/api/  (token xoxb-test-token)")  # noqa: T201
    print(f"nometria base_url={nometria_served.url}  (NOMETRIA_API_KEY=nm-test-key)")  # noqa: T201
    print(f"stormkit base_url={stormkit_served.url}  (STORMKIT_API_KEY=sk-env-key)")  # noqa: T201
    await asyncio.Event().wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--step", type=float, default=3.0)
    parser.add_argument("--stormkit", choices=["seed", "server"], default="seed")
    args = parser.parse_args()
    asyncio.run(main(args.step, args.stormkit))
