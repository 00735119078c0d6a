"""User and provider text reaches Slack as text: `&`, `<` and `>` are escaped wherever we echo it,
so `<!channel>` pings nobody and `<url|label>` hides no link."""

from __future__ import annotations

from bot.mrkdwn import escape, unescape
from tests.conftest import World

CHANNEL = "C0DEPLOYS"
MARKUP = "<!channel> see <https://evil.example|the plan> & *now*"
SHOWN = "&lt;!channel&gt; see &lt;https://evil.example|the plan&gt; &amp; *now*"


def test_escape_is_not_done_twice() -> None:
    """Slack may send a command's text already escaped: it still shows as typed, once."""
    assert escape(MARKUP) == SHOWN
    assert escape(SHOWN) == SHOWN
    assert unescape(SHOWN) == MARKUP


async def test_a_lock_reason_is_shown_as_typed_everywhere(world: World) -> None:
    """The announcement, the refusal, `status` and `apps` show the reason; none is markup."""
    said = await world.aloud(f"lock web {MARKUP}", user="U0DEV")
    assert f"locked by <@U0DEV>: {SHOWN}." in said
    refused = await world.ask("web", user="U0DEV")
    status = await world.ask("status web", user="U0DEV")
    apps = await world.ask("apps", user="U0DEV")
    for text in (said, refused, status, apps):
        assert SHOWN in text
        assert "<!channel>" not in text
        assert "<https://evil" not in text
    assert "<!channel>" not in str(world.slack.calls_to("chat.postMessage"))


async def test_words_typed_and_provider_text_are_escaped(world: World) -> None:
    """A word echoed in a usage error; a ref and a commit message from Stormkit in `status`."""
    answer = await world.ask("web <!here>", user="U0DEV")
    assert "&lt;!here&gt;" in answer
    assert "<!here>" not in answer
    world.stormkit.seed_history(n=2, branch="fix/<!channel>&co")
    status = await world.ask("status docs", user="U0DEV")
    assert "(fix/&lt;!channel&gt;&amp;co)" in status
    assert "“deploy fix/&lt;!channel&gt;&amp;co”" in status
    assert "<!channel>" not in status
