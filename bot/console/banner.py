"""What the console says first: which apps, from which file, on which platforms."""

from __future__ import annotations

from bot.config import Config

SANDBOX_ONLY = "Nothing leaves this machine: every app is on the built-in sandbox platform."
YOURS = "Try your own apps file with --config FILE."


def banner(config: Config, *, builtin: bool) -> str:
    """Which apps, from which file, on which platforms: plainly, when a real one is configured."""
    source = "the built-in example" if builtin else str(config.settings.deploybot_config)
    names = ", ".join(config.apps)
    head = f"deploybot console: {len(config.apps)} app{'s' * (len(config.apps) != 1)}"
    real = [(n, a.provider) for n, a in config.apps.items() if a.provider != "sandbox"]
    if not real:
        said = f"{head} ({names}) from {source}.\n{SANDBOX_ONLY}"
        return f"{said} {YOURS}" if builtin else said  # not to whom gave an apps file
    where = ", ".join(f"{n} on {p} ({config.base_url(p)})" for n, p in real)
    return (
        f"{head} ({names}) from {source}.\n"
        f"REAL DEPLOYS: {where}. What you deploy here goes live there, with the keys in "
        "your environment; apps on the sandbox platform stay on this machine."
    )
