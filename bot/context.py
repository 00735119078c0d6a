"""What every use-case works with: who acts, what they get back, and the shared pieces."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from slack_sdk.models.blocks import Block

from bot.commands import USAGE, no_such_app
from bot.config import AppConfig, Config
from bot.notifier import Notifier
from bot.outbox import Outbox
from bot.policy import Policy
from bot.providers.base import Provider
from bot.redact import Redactor
from bot.store import Store


@dataclass(frozen=True)
class Actor:
    """Who did it, where; for a click, the message (and its thread) whose button it was."""

    user: str
    channel: str
    message_ts: str | None = None
    thread_ts: str | None = None


@dataclass(frozen=True)
class Reply:
    """An answer only the person who asked sees."""

    text: str
    blocks: list[Block] = field(default_factory=list)


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Deps:
    config: Config
    providers: dict[str, Provider]
    store: Store
    notifier: Notifier
    outbox: Outbox
    redact: Redactor
    policy: Policy
    now: Callable[[], datetime] = _now

    def app(self, name: str) -> AppConfig:
        app = self.config.apps.get(name)
        if app is not None:
            return app
        raise no_such_app(name, self.config.apps, USAGE["deploy"])

    async def audit(
        self,
        actor: Actor,
        action: str,
        app: str | None,
        outcome: str,
        *,
        deployment_id: str | None = None,
        detail: str = "",
    ) -> None:
        await self.store.audit(
            user=actor.user,
            action=action,
            app=app,
            deployment_id=deployment_id,
            channel=actor.channel,
            outcome=outcome,
            detail=self.redact(detail)[:500],
        )
