"""What every request through the Door shares: the app it names (with "did you mean"), and the
audit of a refusal or failure, in one place."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from bot.commands.usage import USAGE, UsageError, no_such_app
from bot.config.apps import AppConfig
from bot.models import Action
from bot.policy import NotAllowed, Refused
from bot.providers.base import NotOurs, ProviderError
from bot.usecases.common import Actor, Audit

T = TypeVar("T")


@dataclass
class Subject:
    """What a refusal is about, filled in as it becomes known (a click names only a row)."""

    app: str | None = None
    deployment_id: str | None = None


def app_named(apps: Mapping[str, AppConfig], name: str) -> AppConfig:
    """The app `name` gives, or a UsageError that says which one was meant."""
    app = apps.get(name)
    if app is not None:
        return app
    raise no_such_app(name, apps, USAGE["deploy"])


async def audited(
    audit: Audit,
    action: Action,
    subject: Subject,
    actor: Actor,
    run: Callable[[], Awaitable[T]],
) -> T:
    """`run()`; a refusal or a provider's failure is audited, then raised."""
    error: Exception
    try:
        return await run()
    except (NotAllowed, Refused, UsageError, NotOurs) as exc:
        outcome, error = "refused", exc
    except ProviderError as exc:
        outcome, error = "failed", audit.masked(exc)
    await audit(
        actor,
        action,
        subject.app,
        outcome,
        deployment_id=subject.deployment_id,
        detail=str(error),
    )
    raise error
