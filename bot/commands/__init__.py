"""The typed requests a `/deploy ...` text parses into (parser.py reads the text; a text that is
not a command is a UsageError, in usage.py). Pure."""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_DAYS = 30


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class Apps:
    pass


@dataclass(frozen=True)
class Deploy:
    app: str
    ref: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    force: str | None = None  # break glass: deploy during a freeze or a lock, for this reason


@dataclass(frozen=True)
class StatusOf:
    """`status <app>`: named apart from models.Status, the state of a deployment."""

    app: str


@dataclass(frozen=True)
class History:
    app: str


@dataclass(frozen=True)
class Stats:
    app: str
    days: int = DEFAULT_DAYS


@dataclass(frozen=True)
class Lock:
    app: str
    reason: str = ""


@dataclass(frozen=True)
class Unlock:
    app: str


@dataclass(frozen=True)
class Rollback:
    app: str
    deployment_id: str | None = None


@dataclass(frozen=True)
class Operate:
    """logs, publish, stop, restart: a verb on one deployment."""

    verb: str
    app: str
    deployment_id: str
    force: str | None = None  # publish, restart: break glass through a freeze or a lock


Command = Help | Apps | Deploy | StatusOf | History | Stats | Lock | Unlock | Rollback | Operate
AppCommand = Deploy | StatusOf | History | Stats | Lock | Unlock | Rollback | Operate
