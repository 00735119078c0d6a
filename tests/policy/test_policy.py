"""Who may do what, where: the policy as a table, without HTTP, Slack or a store."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.config.apps import AppConfig
from bot.config.freezes import Freeze, Frozen, frozen
from bot.models import Action, AppLock
from bot.policy import Ask, NotAllowed, Policy, Refused, may_see
from bot.policy.wording import lock_terms

WEB = AppConfig(
    name="web",
    provider="stormkit",
    approval=True,
    deployers=("U0DEV",),
    approvers=("U0LEAD", "U0LEAD2"),
    channels=("C0DEPLOYS",),
)
OPEN = AppConfig(name="open", provider="sandbox")
LOCKED = AppLock(app="web", reason="release freeze", locked_by="U0DEV", channel="C0DEPLOYS")
HERE, ELSEWHERE, INCIDENT = "C0DEPLOYS", "C0RANDOM", "C0INCIDENT"
ROLLED_BACK = AppLock(app="web", reason="rolled back", locked_by="U0LEAD", channel=INCIDENT)
OK = None
NOW = datetime(2026, 12, 25, 12, tzinfo=UTC)

Case = tuple[Action, str, str, AppLock | None, str | None, type[Exception] | None]
# (action, user, channel, lock, requester) -> None (allowed), NotAllowed or Refused
TABLE: list[Case] = [
    (Action.DEPLOY, "U0DEV", HERE, None, None, OK),
    (Action.DEPLOY, "U0LEAD", HERE, None, None, OK),  # approvers may deploy too
    (Action.DEPLOY, "U0OTHER", HERE, None, None, NotAllowed),
    (Action.DEPLOY, "U0DEV", ELSEWHERE, None, None, NotAllowed),  # the app's channels only
    (Action.DEPLOY, "U0DEV", HERE, LOCKED, None, Refused),
    (Action.RESTART, "U0DEV", HERE, LOCKED, None, Refused),  # a restart is a deploy
    (Action.RESTART, "U0OTHER", HERE, None, None, NotAllowed),
    (Action.STOP, "U0DEV", ELSEWHERE, None, None, NotAllowed),  # the app's channels only
    (Action.STOP, "U0OTHER", HERE, None, None, NotAllowed),
    (Action.LOGS, "U0DEV", HERE, None, None, OK),
    (Action.LOGS, "U0OTHER", HERE, None, None, NotAllowed),
    (Action.LOCK, "U0DEV", HERE, None, None, OK),
    (Action.LOCK, "U0OTHER", HERE, None, None, NotAllowed),
    (Action.PUBLISH, "U0LEAD", HERE, None, None, OK),
    (Action.PUBLISH, "U0DEV", HERE, None, None, NotAllowed),  # publishing is approving
    (Action.PUBLISH, "U0LEAD", HERE, None, "U0LEAD", NotAllowed),  # its own pending build
    (Action.APPROVE, "U0LEAD", HERE, None, "U0DEV", OK),
    (Action.APPROVE, "U0DEV", HERE, None, "U0DEV", NotAllowed),
    (Action.APPROVE, "U0LEAD", HERE, None, "U0LEAD", NotAllowed),  # no self-approval
    (Action.DISCARD, "U0DEV", HERE, None, "U0DEV", OK),  # the requester may withdraw
    (Action.DISCARD, "U0LEAD", HERE, None, "U0DEV", OK),
    (Action.DISCARD, "U0OTHER", HERE, None, "U0DEV", NotAllowed),
    (Action.CANCEL, "U0DEV", ELSEWHERE, None, "U0DEV", OK),  # its requester, from anywhere
    (Action.CANCEL, "U0LEAD", HERE, None, "U0DEV", OK),  # an approver
    (Action.CANCEL, "U0DEV2", HERE, None, "U0DEV", NotAllowed),
    (Action.ROLLBACK, "U0LEAD", HERE, None, None, OK),
    (Action.ROLLBACK, "U0DEV", HERE, None, None, NotAllowed),
    (Action.ROLLBACK, "U0OTHER", INCIDENT, None, None, OK),  # anyone, in an incident
    (Action.UNLOCK, "U0DEV", HERE, LOCKED, None, OK),  # who locked it
    (Action.UNLOCK, "U0LEAD", HERE, LOCKED, None, OK),  # an approver
    (Action.UNLOCK, "U0OTHER", HERE, LOCKED, None, NotAllowed),
    (Action.UNLOCK, "U0LEAD", HERE, None, None, Refused),  # nothing to unlock
    (Action.STATUS, "U0DEV", HERE, LOCKED, None, OK),
    (Action.STATUS, "U0LEAD", HERE, None, None, OK),
    (Action.STATUS, "U0OTHER", HERE, LOCKED, None, NotAllowed),  # the Home tab's people
    (Action.HISTORY, "U0OTHER", HERE, None, None, NotAllowed),
    (Action.STATS, "U0OTHER", HERE, None, None, NotAllowed),
    (Action.STATUS, "U0DEV", ELSEWHERE, None, None, NotAllowed),  # and the app's channels
    (Action.HISTORY, "U0LEAD", ELSEWHERE, None, None, NotAllowed),
    (Action.STATS, "U0DEV", ELSEWHERE, None, None, NotAllowed),
    (Action.LOGS, "U0DEV", ELSEWHERE, None, None, NotAllowed),
    (Action.LOCK, "U0DEV", ELSEWHERE, None, None, NotAllowed),
    (Action.PUBLISH, "U0LEAD", ELSEWHERE, None, None, NotAllowed),
    (Action.RESTART, "U0DEV", ELSEWHERE, None, None, NotAllowed),
    (Action.UNLOCK, "U0DEV", ELSEWHERE, LOCKED, None, NotAllowed),
    (Action.UNLOCK, "U0LEAD", INCIDENT, ROLLED_BACK, None, OK),  # where a rollback locked it
    (Action.APPS, "U0OTHER", ELSEWHERE, None, None, OK),
]


@pytest.mark.parametrize("case", TABLE, ids=lambda case: "-".join(str(part) for part in case))
def test_who_may_do_what_where(case: Case) -> None:
    """Each row: one person asks one thing from one channel, in one state of the app."""
    action, user, channel, lock, requester, outcome = case
    ask = Ask(action, WEB, user, channel, lock=lock, requester=requester)
    policy = Policy(incident_channels=(INCIDENT,))
    if outcome is None:
        policy.check(ask)
    else:
        with pytest.raises(outcome):
            policy.check(ask)


def test_an_app_without_deployers_or_approvers_is_open_to_all() -> None:
    """No deployers: anyone may deploy; no approvers: approving falls to those who may deploy."""
    policy = Policy()
    for action in (Action.DEPLOY, Action.STOP, Action.LOGS, Action.PUBLISH, Action.ROLLBACK):
        policy.check(Ask(action, OPEN, "U0ANYONE", ELSEWHERE))


def test_status_history_stats_and_the_home_tab_share_one_rule() -> None:
    """Whoever may see an app on the Home tab may ask its status, and nobody else."""
    for user in ("U0DEV", "U0LEAD", "U0LEAD2", "U0OTHER"):
        for action in (Action.STATUS, Action.HISTORY, Action.STATS):
            try:
                Policy().check(Ask(action, WEB, user, HERE))
            except NotAllowed:
                allowed = False
            else:
                allowed = True
            assert allowed is may_see(WEB, user), (user, action)
    assert may_see(OPEN, "U0ANYONE")


def test_refusals_say_why_and_who_can() -> None:
    """The words name the people who can, and the lock's reason."""
    policy = Policy()
    with pytest.raises(NotAllowed, match=r"Only <@U0LEAD>, <@U0LEAD2> may approve `web`"):
        policy.check(Ask(Action.APPROVE, WEB, "U0DEV", HERE, requester="U0X"))
    with pytest.raises(NotAllowed, match=r"someone else must approve it: <@U0LEAD2>"):
        policy.check(Ask(Action.APPROVE, WEB, "U0LEAD", HERE, requester="U0LEAD"))
    with pytest.raises(Refused, match=r"locked by <@U0DEV>: release freeze"):
        policy.check(Ask(Action.DEPLOY, WEB, "U0LEAD2", HERE, lock=LOCKED))
    with pytest.raises(Refused, match=r"locked by you: release freeze\. You or its approvers"):
        policy.check(Ask(Action.DEPLOY, WEB, "U0DEV", HERE, lock=LOCKED))  # who locked it
    with pytest.raises(NotAllowed, match=r"may read its logs"):
        policy.check(Ask(Action.LOGS, WEB, "U0OTHER", HERE))


def test_the_only_approver_may_not_ask_for_a_deploy_nobody_could_approve() -> None:
    """One approver and no self-approval: their deploy would wait forever, so it is refused;
    a restart needs no approval, and self-approval allowed lifts the rule."""
    solo = AppConfig(name="solo", provider="sandbox", approval=True, approvers=("U0LEAD",))
    policy = Policy()
    with pytest.raises(NotAllowed, match=r"add a second approver to `solo`'s `approvers`"):
        policy.check(Ask(Action.DEPLOY, solo, "U0LEAD", HERE))
    policy.check(Ask(Action.RESTART, solo, "U0LEAD", HERE))
    policy.check(Ask(Action.DEPLOY, solo, "U0DEV", HERE))
    trusting = solo.model_copy(update={"allow_self_approval": True})
    policy.check(Ask(Action.DEPLOY, trusting, "U0LEAD", HERE))


# Freezes and break glass ---------------------------------------------------------------------

_HOLIDAYS = Freeze(
    start=datetime(2026, 12, 24, tzinfo=UTC), end=datetime(2026, 12, 27, 8, tzinfo=UTC)
)
FROZEN = frozen([_HOLIDAYS.model_copy(update={"reason": "Holidays <all>"})], "web", NOW)


@pytest.mark.parametrize(
    ("user", "lock", "freeze", "force", "expected"),
    [
        ("U0DEV", None, FROZEN, None, Refused),  # a freeze holds deploys
        ("U0LEAD", None, FROZEN, None, Refused),  # approvers too, unless they force it
        ("U0LEAD", None, FROZEN, "hotfix", OK),  # break glass
        ("U0LEAD", LOCKED, None, "hotfix", OK),  # through a lock as well
        ("U0DEV", None, FROZEN, "hotfix", NotAllowed),  # only approvers may
        ("U0DEV", None, None, "hotfix", OK),  # nothing held: a plain deploy
    ],
)
def test_a_freeze_or_a_lock_holds_deploys_unless_an_approver_forces(
    user: str,
    lock: AppLock | None,
    freeze: Frozen | None,
    force: str | None,
    expected: type[Exception] | None,
) -> None:
    ask = Ask(Action.DEPLOY, WEB, user, HERE, lock, freeze=freeze, force=force)
    if expected is None:
        Policy().check(ask)
    else:
        with pytest.raises(expected):
            Policy().check(ask)


def test_a_frozen_refusal_says_why_until_when_and_how_to_force() -> None:
    with pytest.raises(Refused) as refused:
        Policy().check(Ask(Action.DEPLOY, WEB, "U0DEV", HERE, freeze=FROZEN))
    said = str(refused.value)
    assert "`web` is frozen until Sun 27 Dec 08:00 UTC: Holidays &lt;all&gt;." in said
    assert '`/deploy web --force "reason"`' in said
    assert "Rollbacks still work." in said


def test_a_lock_is_announced_in_the_terms_its_refusal_gives() -> None:
    """Who the announcement says may force is who the policy lets through, with or without
    approvers; nothing says deploys "wait"."""
    with pytest.raises(Refused) as refused:
        Policy().check(Ask(Action.DEPLOY, WEB, "U0DEV", HERE, LOCKED))
    assert "Its approvers (<@U0LEAD>, <@U0LEAD2>) may deploy anyway" in str(refused.value)
    terms = lock_terms(WEB)
    assert terms.startswith("Deploys are refused until it is unlocked (`/deploy unlock web`)")
    assert (
        'its approvers (<@U0LEAD>, <@U0LEAD2>) may deploy anyway with `--force "reason"`' in terms
    )
    assert "wait" not in terms
    assert "those who may deploy it may deploy anyway" in lock_terms(OPEN)
    lock = AppLock(app="open", reason="", locked_by="U0DEV", channel=HERE)
    Policy().check(Ask(Action.DEPLOY, OPEN, "U0ANY", HERE, lock, force="hotfix"))


def test_rollbacks_ignore_a_freeze_and_a_restart_is_held_like_a_deploy() -> None:
    """A restart rebuilds what it restarts: a lock and a freeze hold it, and an approver may
    force it with the restart's own command."""
    Policy().check(Ask(Action.ROLLBACK, WEB, "U0LEAD", HERE, freeze=FROZEN))
    for held in ({"lock": LOCKED}, {"freeze": FROZEN}):
        with pytest.raises(Refused) as refused:
            Policy().check(Ask(Action.RESTART, WEB, "U0DEV", HERE, deployment_id="d7", **held))
        assert '`/deploy restart web d7 --force "reason"`' in str(refused.value)
    with pytest.raises(NotAllowed, match=r"Only <@U0LEAD>, <@U0LEAD2> may restart it anyway"):
        Policy().check(Ask(Action.RESTART, WEB, "U0DEV", HERE, freeze=FROZEN, force="why"))
    Policy().check(Ask(Action.RESTART, WEB, "U0LEAD", HERE, freeze=FROZEN, force="why"))


@pytest.mark.parametrize("held", [{"lock": LOCKED}, {"freeze": FROZEN}])
def test_an_approval_or_a_publish_is_held_like_a_deploy(held: dict[str, object]) -> None:
    """Approving puts a build live: under a lock or a freeze the approver is refused with how
    to break glass (publishing it with a reason); a forced publish goes through."""
    stormkit = Ask(Action.APPROVE, WEB, "U0LEAD", HERE, requester="U0DEV", deployment_id="d7")
    with pytest.raises(Refused) as refused:
        Policy().check(replace(stormkit, **held))  # type: ignore[arg-type]
    said = str(refused.value)
    assert "the prompt stays" in said
    assert '`/deploy publish web d7 --force "reason"`' in said
    nometria = replace(stormkit, deployment_id=None, **held)  # type: ignore[arg-type]
    with pytest.raises(Refused, match=r'Discard it and `/deploy web --force "reason"`'):
        Policy().check(nometria)
    publish = Ask(Action.PUBLISH, WEB, "U0LEAD", HERE, deployment_id="d7", **held)  # type: ignore[arg-type]
    with pytest.raises(Refused, match=r'`/deploy publish web d7 --force "reason"`'):
        Policy().check(publish)
    Policy().check(replace(publish, force="the fix"))
    Policy().check(replace(publish, requester="U0DEV", force="the fix"))  # approving it, forced
    with pytest.raises(NotAllowed, match=r"someone else must approve"):  # never one's own
        Policy().check(replace(publish, requester="U0LEAD", force="the fix"))


def test_refusal_is_what_check_would_raise_or_none() -> None:
    """What `/deploy apps` and the Home tab say instead of offering a deploy: check's words."""
    policy = Policy()
    sole = WEB.model_copy(update={"approvers": ("U0LEAD",)})
    assert policy.refusal(Ask(Action.DEPLOY, WEB, "U0DEV", HERE)) is None
    assert policy.refusal(Ask(Action.DEPLOY, sole, "U0LEAD", HERE)) == (
        "You are the only approver of `web`, and nobody approves their own deployment, so a "
        "deploy you ask for could never be approved. Ask someone else to deploy it, or in the "
        "apps file add a second approver to `web`'s `approvers` (or set "
        "`allow_self_approval = true`)."
    )
    locked = policy.refusal(Ask(Action.DEPLOY, WEB, "U0DEV", HERE, LOCKED))
    with pytest.raises(Refused) as raised:
        policy.check(Ask(Action.DEPLOY, WEB, "U0DEV", HERE, LOCKED))
    assert locked == str(raised.value)
