"""The words of the rules: who may unlock, who may force, who may deploy, said as a refusal or an
announcement says them. Pure."""

from __future__ import annotations

from bot.config.apps import AppConfig
from bot.models import AppLock


def locked_by(lock: AppLock, *, you: str | None = None) -> str:
    """ "locked by @dev: the reason", or without a reason "locked by @dev"; "locked by you"
    when said to `you`, who locked it."""
    by = "you" if lock.locked_by == you else f"<@{lock.locked_by}>"
    return f"locked by {by}" + (f": {lock.reason}" if lock.reason else "")


def deployers_text(app: AppConfig) -> str:
    """Who may deploy an app, as `/deploy apps` and a refusal say it."""
    if not app.deployers:
        return "Anyone may deploy it"
    also = f", and its approvers {people(app.approvers)}" if app.approvers else ""
    return f"Deployers: {people(app.deployers)}{also}"


def people(users: tuple[str, ...]) -> str:
    return ", ".join(f"<@{u}>" for u in users)


def channels(ids: tuple[str, ...]) -> str:
    return ", ".join(f"<#{c}>" for c in ids)


def approvers(app: AppConfig) -> str:
    return people(app.approvers) if app.approvers else "those who may deploy it"


def forcers(app: AppConfig, *, you: str | None = None) -> str:
    """Who may deploy through a lock or a freeze; "you" when said to `you`, an approver."""
    if you is not None and you in app.approvers:
        return "you"
    return (
        f"its approvers ({people(app.approvers)})" if app.approvers else "those who may deploy it"
    )


def lock_terms(app: AppConfig) -> str:
    """What a lock holds, as it is announced; a deploy asked for then is refused in these terms."""
    return (
        f"Deploys are refused until it is unlocked (`/deploy unlock {app.name}`); "
        f'{forcers(app)} may deploy anyway with `--force "reason"`. Rollbacks still work.'
    )


def capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def unlockers(app: AppConfig, lock: AppLock, *, you: str | None = None) -> str:
    """Who may unlock: who locked it, and the approvers (without approvers, its deployers)."""
    if you is not None and lock.locked_by == you and app.approvers == (you,):
        return "You"
    others = f"its approvers ({people(app.approvers)})" if app.approvers else "its deployers"
    if lock.locked_by in app.approvers and lock.locked_by != you:
        return capital(others)
    return f"{'You' if lock.locked_by == you else f'<@{lock.locked_by}>'} or {others}"
