"""User text made safe for Slack's mrkdwn. Pure.

Slack reads `&`, `<` and `>` as markup: `<!channel>` pings everyone, `<https://x|label>` hides a
link behind a label. Anything a person typed (a lock's reason, a word we echo back) and anything a
provider wrote (a commit message, an error) is escaped before it reaches a message.
"""

from __future__ import annotations


def escape(text: str) -> str:
    """Text that shows as typed. Slack may already have escaped what it sends us (a slash
    command's text): that is undone first, so nothing is escaped twice."""
    text = unescape(text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """What a person reads (the console): the three entities Slack uses, back to characters."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
