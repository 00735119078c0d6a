"""What a deployment changes: its commit in words, and a link to the repository's compare view.
Pure."""

from __future__ import annotations

from bot.config.repo import compare_url
from bot.models import Deployment
from bot.mrkdwn import escape
from bot.render.slack_limits import fit_user

MESSAGE_LIMIT = 100  # characters of a commit's first line, after escaping
SHORT_SHA = 7


def short(sha: str) -> str:
    return sha[:SHORT_SHA]


def first_line(message: str | None, limit: int = MESSAGE_LIMIT) -> str | None:
    """A commit message's first line, escaped, cut to `limit` after escaping."""
    line = next((part.strip() for part in (message or "").splitlines() if part.strip()), "")
    return fit_user(line, limit) if line else None


def commit_words(deployment: Deployment) -> str:
    """`a1b2c3d` on `main` “feat: add payment flow” by Jane Doe: what the provider says of it."""
    said = []
    if deployment.commit_sha:
        said.append(f"`{escape(short(deployment.commit_sha))}`")
    if deployment.branch:
        said.append(f"on `{escape(deployment.branch)}`")
    if message := first_line(deployment.commit_message):
        said.append(f"“{message}”")
    if deployment.author:
        said.append(f"by {escape(deployment.author)}")
    return " ".join(said) or "commit not known yet"


def revision(deployment: Deployment) -> str | None:
    """What the compare view names: the commit, or the branch while the commit is unknown."""
    return deployment.commit_sha or deployment.branch


def _named(revision: str) -> str:
    """A commit by its short SHA, a branch by its name, for a link's label."""
    is_sha = len(revision) >= SHORT_SHA and all(c in "0123456789abcdef" for c in revision.lower())
    return short(revision) if is_sha else escape(revision)


def compare_link(repo: str, base: str, head: str, label: str) -> str:
    return f"<{compare_url(repo, base, head)}|{label} {_named(base)}...{_named(head)}>"


def approval_lines(
    live: Deployment | None, candidate: Deployment | None, *, ref: str | None, repo: str | None
) -> str:
    """What an approver approves: what is live now, what would go live, and (with `repo`) the
    compare view between them; a branch name where the candidate's commit is not known yet."""
    branch = (candidate.branch if candidate else None) or (live.branch if live else None)
    if candidate is not None and (candidate.commit_sha or candidate.commit_message):
        would = commit_words(candidate)
    elif ref:
        would = f"`{escape(ref)}`"
    elif branch:
        would = f"the newest commit on `{escape(branch)}`"
    else:
        would = "the newest commit of the connected branch"
    lines = [
        f"*Live now:* {commit_words(live) if live else 'nothing yet'}",
        f"*Would go live:* {would}",
    ]
    base = live.commit_sha if live else None
    head = (candidate.commit_sha if candidate else None) or ref or branch
    if repo and base and head:
        lines.append(compare_link(repo, base, head, "Compare"))
    return "\n".join(lines)


def app_keys(announce: str | None, repo: str | None, *, slack: bool = True) -> list[str]:
    """What an app's `announce` and `repo` say, for `/deploy apps`, the Home tab and
    `deploybot check` (`slack`: as mrkdwn, the channel and the link clickable)."""
    said = []
    if announce:
        where = f"<#{announce}>" if slack else announce
        said.append(f"deployments started outside Slack announced in {where}")
    if repo:
        said.append(f"repo <{repo}>" if slack else f"repo {repo}")
    return said
