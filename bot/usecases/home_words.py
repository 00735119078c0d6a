"""What the Home tab says when Slack refused what a click posts in the app's channel. Pure."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError

from bot.render import home_view

# Slack's answers when the bot cannot post in a channel: not a member of a public one, a
# private one it is not in (Slack hides it: channel_not_found), or an archived one.
BOT_OUTSIDE = frozenset({"not_in_channel", "channel_not_found"})
# chat.postEphemeral: "Intended recipient is not in the specified channel."
PERSON_OUTSIDE = "user_not_in_channel"
SOMETHING_ELSE = (
    ":warning: Something went wrong on my side; it has been logged. "
    "Look at `/deploy status {app}` before trying again."
)


def slack_refused(error: Exception, *, app: str, action_id: str, channel: str | None) -> str | None:
    """Words for the person, with what to do; None for a failure that is not Slack's refusal."""
    if not isinstance(error, SlackApiError) or channel is None:
        return None
    code = str(error.response.get("error") or "")
    rollback = action_id == home_view.HOME_ROLLBACK
    button = "Roll back…" if rollback else "Deploy"
    command = f"/deploy {'rollback ' if rollback else ''}{app}"
    undone = "Nothing was rolled back." if rollback else "Nothing was deployed."
    if code in BOT_OUTSIDE:
        return (
            f":warning: I can't post in <#{channel}>, where *{app}* is followed: type "
            f"`/invite @deploybot` in <#{channel}>, then click *{button}* again. {undone}"
        )
    if code == "is_archived":
        return (
            f":warning: <#{channel}>, where *{app}* is followed, is archived: type `{command}` "
            f"in another channel. {undone}"
        )
    if code == PERSON_OUTSIDE:
        shows = f"*{app}*'s confirmation would show to you" if rollback else f"*{app}* is followed"
        return (
            f":warning: You are not in <#{channel}>, where {shows}: join <#{channel}> and click "
            f"*{button}* again, or type `{command}` in a channel you are in. {undone}"
        )
    return None


def asked(app: str) -> str:
    """The line only the person sees in the channel, before a deploy from their Home tab."""
    return f":house: You asked to deploy *{app}* from your Home tab: follow it here."
