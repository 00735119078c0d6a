"""The console's made-up workspace: its example apps file, its people and channels, and its help."""

from __future__ import annotations

EXAMPLE = """\
# deploybot console's built-in example: two apps on the simulated `sandbox` platform.
incident_channels = ["C0INCIDENT"]

[providers.sandbox]
base_url = "sandbox://local"

[apps.web]
provider = "sandbox"
approvers = ["U0LEAD"]

[apps.docs]
provider = "sandbox"
default_branch = "main"
approval = true
approvers = ["U0LEAD"]
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
Type what you would type in Slack: /deploy web, /deploy help, /deploy rollback web ...
  /as <user>       act as another person (dev, lead, oncall, or a Slack user ID)
  /in <channel>    move to another channel (deploys, incident, random, or an ID)
  /home            open deploybot's Home tab (your apps, what is live, buttons)
  <number>         press the button shown with that number
  /help, /quit (or Ctrl-D, Ctrl-C)"""


def ident(word: str, prefix: str) -> str:
    word = word.strip()
    for ident, name in NAMES.items():
        if name == word.lower() and ident.startswith(prefix):
            return ident
    return word.upper() if word else ("U0DEV" if prefix == "U" else "C0DEPLOYS")
