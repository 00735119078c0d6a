"""Who may do what, where: one check per action, called once at the door. Pure.

`NotAllowed` is about the person (or the channel they ask from); `Refused` is about the state
of things (a lock, a decision already made, nothing to go back to).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.config import AppConfig
from bot.freezes import Frozen
from bot.home_blocks import escape, when
from bot.models import Action, AppLock


class NotAllowed(Exception):
    """This person may not do this (here); the message says who can."""


class Refused(Exception):
    """Nobody could do this now; the message says why."""


@dataclass(frozen=True)
class Ask:
    """Everything a rule needs to know: who asks what of which app, from where."""

    action: Action
    app: AppConfig
    user: str
    channel: str
    lock: AppLock | None = None
    # Who asked for the deployment, when it awaits a decision (approve, discard, publish).
    requester: str | None = None
    freeze: Frozen | None = None  # a scheduled freeze holding now (deploys only)
    force: str | None = None  # break glass: the reason given to deploy anyway


def may_deploy(app: AppConfig, user: str) -> bool:
    """Its deployers and its approvers; an app without deployers is open to all."""
    return not app.deployers or user in app.deployers or user in app.approvers


def may_approve(app: AppConfig, user: str) -> bool:
    """Approvers; an app with none leaves it to those who may deploy it."""
    return user in app.approvers if app.approvers else may_deploy(app, user)


class Policy:
    def __init__(self, incident_channels: tuple[str, ...] | list[str] = ()) -> None:
        self._incident = tuple(incident_channels)
        self._rules: dict[Action, Callable[[Ask], None]] = {
            Action.DEPLOY: self._deploy_new,
            Action.RESTART: self._deploy,
            Action.STOP: _operator("stop it"),
            Action.LOCK: _lock,
            Action.LOGS: _operator("read its logs"),
            Action.PUBLISH: _publish,
            Action.APPROVE: _approve,
            Action.DISCARD: _discard,
            Action.CANCEL: _cancel,
            Action.ROLLBACK: self._rollback,
            Action.UNLOCK: _unlock,
        }

    def check(self, ask: Ask) -> None:
        """Raise NotAllowed or Refused if `ask` may not go ahead; status and apps are open."""
        rule = self._rules.get(ask.action)
        if rule is not None:
            rule(ask)

    def _deploy_new(self, ask: Ask) -> None:
        """A deploy that will wait for an approval: someone other than its requester must be
        able to give it."""
        self._deploy(ask)
        app = ask.app
        if app.sole_approver == ask.user:
            raise NotAllowed(
                f"You are the only approver of `{app.name}`, and nobody approves their own "
                "deployment, so a deploy you ask for could never be approved. Ask someone else "
                f"to deploy it, or in the apps file add a second approver to `{app.name}`'s "
                "`approvers` (or set `allow_self_approval = true`)."
            )

    def _deploy(self, ask: Ask) -> None:
        app = ask.app
        if not may_deploy(app, ask.user):
            raise NotAllowed(f"You may not deploy `{app.name}`. {deployers_text(app)}.")
        if app.channels and ask.channel not in app.channels:
            raise NotAllowed(
                f"`{app.name}` is deployed from {_channels(app.channels)} only, not here."
            )
        held = held_by(ask)
        if held is None:
            return
        if ask.force is None:
            anyway = (
                f" {_capital(_forcers(app))} may deploy anyway, saying why: "
                f'`/deploy {app.name} --force "reason"`.'
                if ask.action is Action.DEPLOY
                else ""
            )
            raise Refused(f"{held}{anyway} Rollbacks still work.")
        if not may_approve(app, ask.user):
            raise NotAllowed(f"{held} Only {_approvers(app)} may deploy it anyway.")

    def _rollback(self, ask: Ask) -> None:
        if ask.channel in self._incident or may_approve(ask.app, ask.user):
            return
        where = f" or anyone in an incident channel ({_channels(self._incident)})"
        raise NotAllowed(
            f"Only {_approvers(ask.app)}{where if self._incident else ''} "
            f"may roll back `{ask.app.name}`."
        )


def held_by(ask: Ask) -> str | None:
    """Why deploys of the app are held now (a lock, then a freeze), or None."""
    app = ask.app
    if ask.lock is not None:
        return (
            f"`{app.name}` is {locked_by(ask.lock)}. "
            f"{_unlockers(app, ask.lock)} can `/deploy unlock {app.name}`."
        )
    if ask.freeze is not None:
        until = when(ask.freeze.until, ask.freeze.window.freeze.zone, now=ask.freeze.window.start)
        return f"`{app.name}` is frozen until {until}: {escape(ask.freeze.reason)}."
    return None


def _operator(what: str) -> Callable[[Ask], None]:
    def rule(ask: Ask) -> None:
        if not may_deploy(ask.app, ask.user):
            raise NotAllowed(f"Only those who may deploy `{ask.app.name}` may {what}.")

    return rule


def _lock(ask: Ask) -> None:
    _operator("lock it")(ask)
    if ask.lock is not None:  # a second lock would silently replace the first one's reason
        raise Refused(
            f"`{ask.app.name}` is already {locked_by(ask.lock)}. To give another reason, "
            f"`/deploy unlock {ask.app.name}` first."
        )


def _publish(ask: Ask) -> None:
    if ask.requester is not None:  # it waits for an approval: publishing it is approving it
        _approve(ask)
        return
    if not may_approve(ask.app, ask.user):
        raise NotAllowed(f"Only {_approvers(ask.app)} may publish `{ask.app.name}`.")


def _approve(ask: Ask) -> None:
    app, user = ask.app, ask.user
    if not may_approve(app, user):
        raise NotAllowed(f"Only {_approvers(app)} may approve `{app.name}`.")
    if user == ask.requester and not app.allow_self_approval:
        others = tuple(a for a in app.approvers if a != user)
        who = _people(others) if others else "another approver"
        raise NotAllowed(f"You requested this deployment, so someone else must approve it: {who}.")


def _discard(ask: Ask) -> None:
    if ask.user != ask.requester and not may_approve(ask.app, ask.user):
        raise NotAllowed(
            f"Only the requester <@{ask.requester}> or {_approvers(ask.app)} may discard this."
        )


def _cancel(ask: Ask) -> None:
    """A deploy waiting in line: its requester may withdraw it, or an approver."""
    if ask.user != ask.requester and not may_approve(ask.app, ask.user):
        raise NotAllowed(
            f"Only the requester <@{ask.requester}> or {_approvers(ask.app)} may cancel this."
        )


def _unlock(ask: Ask) -> None:
    app, lock = ask.app, ask.lock
    if lock is None:
        raise Refused(f"`{app.name}` is not locked.")
    if ask.user == lock.locked_by or may_approve(app, ask.user):
        return
    raise NotAllowed(f"`{app.name}` is {locked_by(lock)}. {_unlockers(app, lock)} can unlock it.")


def locked_by(lock: AppLock) -> str:
    """ "locked by @dev: the reason", or without a reason "locked by @dev"."""
    return f"locked by <@{lock.locked_by}>" + (f": {lock.reason}" if lock.reason else "")


def deployers_text(app: AppConfig) -> str:
    """Who may deploy an app, as `/deploy apps` and a refusal say it."""
    if not app.deployers:
        return "Anyone may deploy it"
    approvers = f", and its approvers {_people(app.approvers)}" if app.approvers else ""
    return f"Deployers: {_people(app.deployers)}{approvers}"


def _people(users: tuple[str, ...]) -> str:
    return ", ".join(f"<@{u}>" for u in users)


def _channels(channels: tuple[str, ...]) -> str:
    return ", ".join(f"<#{c}>" for c in channels)


def _approvers(app: AppConfig) -> str:
    return _people(app.approvers) if app.approvers else "those who may deploy it"


def _forcers(app: AppConfig) -> str:
    """Who may deploy through a lock or a freeze."""
    return (
        f"its approvers ({_people(app.approvers)})" if app.approvers else "those who may deploy it"
    )


def lock_terms(app: AppConfig) -> str:
    """What a lock holds, as it is announced; a deploy asked for then is refused in these terms."""
    return (
        f"Deploys are refused until it is unlocked (`/deploy unlock {app.name}`); "
        f'{_forcers(app)} may deploy anyway with `--force "reason"`. Rollbacks still work.'
    )


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _unlockers(app: AppConfig, lock: AppLock) -> str:
    """Who may unlock: who locked it, and the approvers (without approvers, its deployers)."""
    others = f"its approvers ({_people(app.approvers)})" if app.approvers else "its deployers"
    if lock.locked_by in app.approvers:
        return _capital(others)
    return f"<@{lock.locked_by}> or {others}"
