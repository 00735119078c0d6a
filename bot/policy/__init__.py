"""Who may do what, where: one check per action, called once at the door. Pure.

`NotAllowed` is about the person (or the channel they ask from); `Refused` is about the state
of things (a lock, a decision already made, nothing to go back to).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.config.apps import AppConfig
from bot.config.freezes import Frozen
from bot.models import Action, AppLock
from bot.policy.wording import (
    approvers,
    capital,
    channels,
    deployers_text,
    forcers,
    locked_by,
    people,
    unlockers,
)
from bot.render.home_blocks import reasons, when


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
    deployment_id: str | None = None  # the build a publish, an approval or a restart is about


def may_deploy(app: AppConfig, user: str) -> bool:
    """Its deployers and its approvers; an app without deployers is open to all."""
    return not app.deployers or user in app.deployers or user in app.approvers


def may_approve(app: AppConfig, user: str) -> bool:
    """Approvers; an app with none leaves it to those who may deploy it."""
    return user in app.approvers if app.approvers else may_deploy(app, user)


def may_see(app: AppConfig, user: str) -> bool:
    """Who sees an app's deployments, lock reasons and audit trail, in `/deploy status`,
    `history`, `stats` and on the Home tab: those who may deploy or approve it."""
    return may_deploy(app, user) or may_approve(app, user)


_VIEWS = frozenset({Action.STATUS, Action.HISTORY, Action.STATS})
# What is asked from a channel about one app: its `channels` hold as they do for a deploy.
_IN_CHANNELS = _VIEWS | {
    Action.LOCK,
    Action.UNLOCK,
    Action.STOP,
    Action.RESTART,
    Action.LOGS,
    Action.PUBLISH,
}


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
            Action.APPROVE: _approve_now,
            Action.DISCARD: _discard,
            Action.CANCEL: _cancel,
            Action.ROLLBACK: self._rollback,
            Action.UNLOCK: _unlock,
        }

    def check(self, ask: Ask) -> None:
        """Raise NotAllowed or Refused if `ask` may not go ahead; `apps` is open."""
        _seen_here(ask, incident=self._incident)
        rule = self._rules.get(ask.action)
        if rule is not None:
            rule(ask)

    def refusal(self, ask: Ask) -> str | None:
        """What `check` would answer `ask`, or None if it may go ahead: what `/deploy apps` and
        the Home tab say instead of offering something that would be refused."""
        try:
            self.check(ask)
        except (NotAllowed, Refused) as exc:
            return str(exc)
        return None

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
                f"Deploys of `{app.name}` are asked for in {channels(app.channels)} only: "
                f"type `/deploy {app.name}` there."
            )
        _through_hold(ask)

    def _rollback(self, ask: Ask) -> None:
        if ask.channel in self._incident or may_approve(ask.app, ask.user):
            return
        name = ask.app.name
        if not self._incident:
            raise NotAllowed(f"Only {approvers(ask.app)} may roll back `{name}`.")
        there = "there" if len(self._incident) == 1 else "in one of them"
        raise NotAllowed(
            f"Only {approvers(ask.app)} or anyone in an incident channel "
            f"({channels(self._incident)}) may roll back `{name}`: type "
            f"`/deploy rollback {name}` {there}."
        )


def _seen_here(ask: Ask, *, incident: tuple[str, ...] = ()) -> None:
    """An app's views follow its people (the Home tab's rule), and what is asked of it from a
    channel follows its `channels`; an unlock also where the lock was taken (a rollback's). In
    an incident channel, where anyone may roll an app back, anyone may see what they would roll
    back: its status, history and figures."""
    app, action = ask.app, ask.action
    if action in _VIEWS and ask.channel in incident:
        return
    if action in _VIEWS and not may_see(app, ask.user):
        raise NotAllowed(
            f"Only those who may deploy or approve `{app.name}` see its deployments. "
            f"{deployers_text(app)}."
        )
    if action not in _IN_CHANNELS or not app.channels or ask.channel in app.channels:
        return
    if action is Action.UNLOCK and ask.lock is not None and ask.channel == ask.lock.channel:
        return
    where = channels(app.channels)
    if action in _VIEWS:
        raise NotAllowed(
            f"Type `/deploy {action.value} {app.name}` in {where}: `{app.name}`'s deployments "
            "are shown there only (your Home tab shows them too)."
        )
    raise NotAllowed(f"Ask in {where}: `{app.name}` is operated from there only, not here.")


def held_by(ask: Ask, *, to_asker: bool = False) -> str | None:
    """Why deploys of the app are held now (a lock, then a freeze), or None; `to_asker`: said
    to whoever asked only, who is "you" in it."""
    app = ask.app
    if ask.lock is not None:
        you = ask.user if to_asker else None
        return (
            f"`{app.name}` is {locked_by(ask.lock, you=you)}. "
            f"{unlockers(app, ask.lock, you=you)} can `/deploy unlock {app.name}`."
        )
    if ask.freeze is not None:
        until = when(ask.freeze.until, ask.freeze.window.freeze.zone, now=ask.freeze.window.start)
        return f"`{app.name}` is frozen until {until}: {reasons(ask.freeze)}."
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
            f"`{ask.app.name}` is already {locked_by(ask.lock, you=ask.user)}. To give another "
            f"reason, `/deploy unlock {ask.app.name}` first."
        )


def _through_hold(ask: Ask) -> None:
    """One rule for everything that puts a build live (a deploy, its approval, a publish, a
    restart, a deploy leaving the line): while a lock or a freeze holds the app it is refused,
    saying how to break glass, unless an approver forces it with a reason."""
    held = held_by(ask, to_asker=True)
    if held is None:
        return
    if ask.force is None:
        raise Refused(f"{held} {_anyway(ask)} Rollbacks still work.")
    if not may_approve(ask.app, ask.user):
        verb = _FORCED_VERB.get(ask.action, "deploy")
        raise NotAllowed(f"{held} Only {approvers(ask.app)} may {verb} it anyway.")


_FORCED_VERB = {Action.RESTART: "restart", Action.PUBLISH: "publish", Action.APPROVE: "publish"}


def _anyway(ask: Ask) -> str:
    """How to break glass for what was asked: the command that forces it, with a reason."""
    app, dep = ask.app.name, ask.deployment_id
    who = forcers(ask.app, you=ask.user)
    they = capital(who)
    match ask.action:
        case Action.RESTART:
            return f'{they} may restart it anyway: `/deploy restart {app} {dep} --force "reason"`.'
        case Action.PUBLISH:
            return f'{they} may publish it anyway: `/deploy publish {app} {dep} --force "reason"`.'
        case Action.APPROVE if dep is not None:
            return (
                "Approving it now would put it live, so the prompt stays: approve it once deploys "
                f"are allowed again. {they} may publish it anyway, saying why: "
                f'`/deploy publish {app} {dep} --force "reason"`.'
            )
        case Action.APPROVE:
            return (
                "Approving it now would deploy it, so the prompt stays: approve it once deploys "
                f"are allowed again. To deploy anyway, {who} may Discard it and "
                f'`/deploy {app} --force "reason"`.'
            )
    return f'{they} may deploy anyway, saying why: `/deploy {app} --force "reason"`.'


def _publish(ask: Ask) -> None:
    if ask.requester is not None:  # it waits for an approval: publishing it is approving it
        _approve(ask)
    elif not may_approve(ask.app, ask.user):
        raise NotAllowed(f"Only {approvers(ask.app)} may publish `{ask.app.name}`.")
    _through_hold(ask)


def _approve_now(ask: Ask) -> None:
    """An Approve click: who may, then what holds deploys (approving puts it live)."""
    _approve(ask)
    _through_hold(ask)


def _approve(ask: Ask) -> None:
    app, user = ask.app, ask.user
    if not may_approve(app, user):
        raise NotAllowed(f"Only {approvers(app)} may approve `{app.name}`.")
    if user == ask.requester and not app.allow_self_approval:
        others = tuple(a for a in app.approvers if a != user)
        who = people(others) if others else "another approver"
        raise NotAllowed(f"You requested this deployment, so someone else must approve it: {who}.")


def _discard(ask: Ask) -> None:
    if ask.user != ask.requester and not may_approve(ask.app, ask.user):
        raise NotAllowed(
            f"Only the requester <@{ask.requester}> or {approvers(ask.app)} may discard this."
        )


def _cancel(ask: Ask) -> None:
    """A deploy waiting in line: its requester may withdraw it, or an approver."""
    if ask.user != ask.requester and not may_approve(ask.app, ask.user):
        raise NotAllowed(
            f"Only the requester <@{ask.requester}> or {approvers(ask.app)} may cancel this."
        )


def _unlock(ask: Ask) -> None:
    app, lock = ask.app, ask.lock
    if lock is None:
        raise Refused(f"Nothing to unlock: `{app.name}` is not locked.")
    if ask.user == lock.locked_by or may_approve(app, ask.user):
        return
    raise NotAllowed(f"`{app.name}` is {locked_by(lock)}. {unlockers(app, lock)} can unlock it.")
