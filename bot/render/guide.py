"""What `/deploy help` says, and the answer to a command that does not parse."""

from __future__ import annotations

from bot.commands.usage import USAGE


def usage_error(problem: str, usage: str) -> str:
    return f":warning: {problem}\nUsage: `{usage}`"


def help_text() -> str:
    lines = "\n".join(f"• `{line}`" for line in USAGE.values())
    return (
        f"*deploybot* deploys your apps from Slack.\n{lines}\n"
        "During a freeze or a lock, deploys are refused until it ends or someone unlocks; "
        "rollbacks still work. An approver (or, for an app without approvers, anyone who may "
        'deploy it) may deploy anyway with `--force "reason"`, which is said in the channel and '
        "audited.\nOne deployment per app at a time: a deploy of an app that is deploying waits "
        "in line (its requester or an approver can Cancel it) and starts by itself in its turn; "
        "rollbacks never wait.\n"
        "A rollback locks the app's deploys until someone unlocks it; its button asks why, and "
        "the reason is said in its thread and kept as the lock's.\n"
        "`history` lists the last deployments, the provider's too; `stats` gives the DORA "
        "figures (frequency, change failure rate, time to restore, build time), 30 days by "
        "default.\nIf a deployment you asked for fails, I also send you a direct message with "
        "a link to its thread. My Home tab shows your apps: what is live, in flight, waiting "
        "for you, locked or frozen, with Deploy, Roll back and Unlock buttons."
    )
