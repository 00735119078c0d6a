"""The Home tab's Block Kit, pure: what shows for whom, within Slack's limits."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.models import AppLock, Deployment, Status
from bot.render import home_view
from bot.render.home_view import AppHome

NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)
LIVE = Deployment(id="d1", status=Status.LIVE, ref="main", url="https://web.example")


def _actions(view: dict[str, Any]) -> list[str]:
    return [e["action_id"] for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]


def test_buttons_follow_what_the_person_may_do() -> None:
    lock = AppLock("web", "db <migration> & more", "U0LEAD", "C0DEPLOYS")
    mine = AppHome(
        "web",
        "nometria",
        live=LIVE,
        lock=lock,
        deploy_where="C0DEPLOYS",
        deploy_ref="latest commit",
        may_roll_back=True,
        may_unlock=True,
    )
    theirs = AppHome("web", "nometria", live=LIVE, lock=lock)
    assert _actions(home_view.view([mine], now=NOW).to_dict()) == [
        home_view.HOME_DEPLOY,
        home_view.HOME_ROLLBACK,
        home_view.HOME_UNLOCK,
    ]
    assert _actions(home_view.view([theirs], now=NOW).to_dict()) == []


def test_nothing_to_roll_back_from_without_a_live_deployment() -> None:
    app = AppHome("web", "nometria", may_roll_back=True)
    shown = home_view.view([app], now=NOW).to_dict()
    assert _actions(shown) == []
    assert "Nothing is live." in str(shown)


def test_a_provider_that_did_not_answer_is_said_escaped() -> None:
    app = AppHome("web", "nometria", unreadable="HTTP 503 <html>")
    assert "Nometria did not answer: HTTP 503 &lt;html&gt;" in str(
        home_view.view([app], now=NOW).to_dict()
    )


def test_many_apps_stay_within_a_home_views_100_blocks() -> None:
    apps = [
        AppHome(f"app{i}", "nometria", live=LIVE, deploy_where="C1", may_roll_back=True)
        for i in range(60)
    ]
    assert len(home_view.view(apps, now=NOW).to_dict()["blocks"]) == home_view.MAX_BLOCKS


def test_no_deploy_button_where_a_deploy_would_be_refused_and_why() -> None:
    """The refusal a click would get is shown in its place, escaped as it was written."""
    refused = AppHome(
        "web", "nometria", live=LIVE, deploy_refused="`web` is frozen until Fri: Q &lt;4&gt;."
    )
    view = home_view.view([refused], now=NOW).to_dict()
    assert home_view.HOME_DEPLOY not in _actions(view)
    [context] = [b for b in view["blocks"] if b["type"] == "context"]
    assert context["elements"][0]["text"] == (
        ":information_source: No Deploy button: `web` is frozen until Fri: Q &lt;4&gt;."
    )
