"""The console's made-up workspace: its example apps file, its people and channels, and its help."""

from __future__ import annotations

from collections.abc import Iterable

from bot.config import Config

EXAMPLE = """\
# deploybot console's built-in example: two apps on the simulated `sandbox` platform.
incident_channels = ["C0INCIDENT"]

[providers.sandbox]
base_url = "sandbox://local"

[apps.web]
provider = "sandbox"
approvers = ["U0LEAD"]
channels = ["C0DEPLOYS"]

[apps.docs]
provider = "sandbox"
default_branch = "main"
approval = true
approvers = ["U0LEAD"]
channels = ["C0DEPLOYS"]
"""
NAMES = {
    "U0DEV": "dev",
    "U0LEAD": "lead",
    "U0ONCALL": "oncall",
    "UBOT": "deploybot",
    "C0DEPLOYS": "deploys",
    "C0INCIDENT": "incident",
    "C0RANDOM": "random",
}
HELP = """\
Type what you would type in Slack: /deploy web, /deploy help, /deploy history
  /as <person>     act as dev, lead, oncall, or a user ID the apps file names
  /in <channel>    go to deploys, incident, random, or a channel the file names
  /home            open deploybot's Home tab (your apps, what is live, buttons)
  <number>         press the button shown with that number
  /help, /quit (or Ctrl-D, Ctrl-C)"""


def people(config: Config) -> list[str]:
    """Whom `/as` can make you: this workspace's people, then the IDs the apps file names."""
    named = [i for i in NAMES if i.startswith(("U", "W")) and i != "UBOT"]
    for app in config.apps.values():
        named += [i for i in (*app.deployers, *app.approvers) if i not in named]
    return named


def channels(config: Config) -> list[str]:
    """Where `/in` can take you: this workspace's channels, then those the apps file names."""
    named = [i for i in NAMES if i.startswith(("C", "G", "D"))]
    for app in config.apps.values():
        announce = (app.announce,) if app.announce else ()
        named += [i for i in (*app.channels, *announce) if i not in named]
    named += [i for i in config.incident_channels if i not in named]
    return named


def find(word: str, known: Iterable[str]) -> str | None:
    """The ID `word` names among `known` (by name, `@name`/`#name`, or the ID itself); None
    for anyone or anywhere else: the console invents nobody."""
    word = word.strip().lstrip("@#")
    for ident in known:
        if word.lower() == NAMES.get(ident, "").lower() or word.upper() == ident:
            return ident
    return None


def listed(known: Iterable[str]) -> str:
    return ", ".join(NAMES.get(ident, ident) for ident in known)
