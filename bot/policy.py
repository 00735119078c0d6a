"""Who may do what, where. Pure: the service passes in what it knows (the lock, the requester)."""

from __future__ import annotations

from bot.config import AppConfig, Config
from bot.store import Lock


class NotAllowed(Exception):
    """A refusal; the message says why and who can."""


def _people(users: tuple[str, ...]) -> str:
    return ", ".join(f"<@{u}>" for u in users)


def _channels(channels: tuple[str, ...]) -> str:
    return ", ".join(f"<#{c}>" for c in channels)


class Policy:
    def __init__(self, config: Config) -> None:
        self._incident = frozenset(config.incident_channels)

    def may_deploy(self, app: AppConfig, user: str) -> bool:
        return not app.deployers or user in app.deployers or user in app.approvers

    def may_approve(self, app: AppConfig, user: str) -> bool:
        """Approvers; an app with none leaves it to those who may deploy it."""
        return user in app.approvers if app.approvers else self.may_deploy(app, user)

    def deploy(self, app: AppConfig, user: str, channel: str, lock: Lock | None) -> None:
        if not self.may_deploy(app, user):
            raise NotAllowed(
                f"You may not deploy `{app.name}`. Deployers: {_people(app.deployers)}."
            )
        if app.channels and channel not in app.channels:
            raise NotAllowed(
                f"`{app.name}` is deployed from {_channels(app.channels)} only, not here."
            )
        if lock is not None:
            raise NotAllowed(
                f"`{app.name}` is locked by <@{lock.locked_by}>: {lock.reason}. "
                f"{self._unlockers(app)} can `/deploy unlock {app.name}`; rollbacks still work."
            )

    def approve(self, app: AppConfig, user: str, requester: str) -> None:
        if not self.may_approve(app, user):
            raise NotAllowed(f"Only {self._approvers(app)} may approve `{app.name}`.")
        if user == requester and not app.allow_self_approval:
            others = [a for a in app.approvers if a != user]
            who = _people(tuple(others)) if others else "another approver"
            raise NotAllowed(
                f"You requested this deployment, so someone else must approve it: {who}."
            )

    def discard(self, app: AppConfig, user: str, requester: str) -> None:
        if user != requester and not self.may_approve(app, user):
            raise NotAllowed(
                f"Only the requester <@{requester}> or {self._approvers(app)} may discard this."
            )

    def publish(self, app: AppConfig, user: str) -> None:
        if not self.may_approve(app, user):
            raise NotAllowed(f"Only {self._approvers(app)} may publish `{app.name}`.")

    def rollback(self, app: AppConfig, user: str, channel: str) -> None:
        if channel in self._incident or self.may_approve(app, user):
            return
        where = f" or anyone in an incident channel ({_channels(tuple(self._incident))})"
        raise NotAllowed(
            f"Only {self._approvers(app)}{where if self._incident else ''} "
            f"may roll back `{app.name}`."
        )

    def operate(self, app: AppConfig, user: str, what: str) -> None:
        if not self.may_deploy(app, user):
            raise NotAllowed(f"Only those who may deploy `{app.name}` may {what} it.")

    def lock(self, app: AppConfig, user: str) -> None:
        self.operate(app, user, "lock")

    def unlock(self, app: AppConfig, user: str, lock: Lock) -> None:
        if user == lock.locked_by or self.may_approve(app, user):
            return
        raise NotAllowed(
            f"`{app.name}` was locked by <@{lock.locked_by}>: {lock.reason}. "
            f"{self._unlockers(app)} can unlock it."
        )

    def _approvers(self, app: AppConfig) -> str:
        return _people(app.approvers) if app.approvers else "those who may deploy it"

    def _unlockers(self, app: AppConfig) -> str:
        return f"Its approvers ({_people(app.approvers)})" if app.approvers else "Its deployers"
