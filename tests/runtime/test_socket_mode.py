"""With SLACK_APP_TOKEN set, `serve` takes Slack's requests over Socket Mode (no signing secret)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import eventually, write_apps
from tests.fakes.server import serve
from tests.fakes.socket_mode import FakeSocketMode
from tests.processes import start_bot


async def test_a_slash_command_over_socket_mode_deploys(tmp_path: Path, served_fakes: Any) -> None:
    _, slack, nometria, _, servers = served_fakes
    socket_mode = FakeSocketMode(slack)
    served = await serve(socket_mode.app())
    socket_mode.url = served.url
    bot = await start_bot(
        tmp_path,
        name="socket",
        apps=write_apps(tmp_path, servers),
        slack_url=servers["slack"].url,
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
        SLACK_APP_TOKEN=socket_mode.app_token,
        SLACK_SIGNING_SECRET="",
    )
    try:
        await eventually(lambda: socket_mode.connections)
        envelope = socket_mode.slash_command("web", user="U0DEV", channel="C0DEPLOYS")
        await eventually(lambda: any(a.get("envelope_id") == envelope for a in socket_mode.acks))
        [trigger] = await eventually(lambda: nometria.requests_to("POST", "/v1/deployments"))
        assert trigger.json == {"project_id": "proj_abc123"}
        await eventually(lambda: slack.root_messages("C0DEPLOYS"))
        [opened] = slack.calls_to("apps.connections.open")
        assert opened.headers["Authorization"] == f"Bearer {socket_mode.app_token}"
        assert "Socket Mode" in bot.output()
    finally:
        await bot.stop()
        await served.close()
