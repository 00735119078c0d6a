"""Commits in words and the repository's compare view (pure)."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from bot.config.repo import Repo, compare_url
from bot.models import Deployment, Status
from bot.render.commits import approval_lines, commit_words, first_line

REPO = TypeAdapter(Repo)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/acme/web", "https://github.com/acme/web/compare/a1...b2"),
        ("https://github.com/acme/web.git/", "https://github.com/acme/web/compare/a1...b2"),
        ("https://gitlab.com/acme/web", "https://gitlab.com/acme/web/-/compare/a1...b2"),
        (
            "https://gitlab.example.com/group/sub/web/-/tree/main",
            "https://gitlab.example.com/group/sub/web/-/compare/a1...b2",
        ),
        (
            "https://bitbucket.org/acme/web",
            "https://bitbucket.org/acme/web/branches/compare/b2%0Da1",
        ),
        ("https://github.acme.corp/acme/web", "https://github.acme.corp/acme/web/compare/a1...b2"),
    ],
)
def test_each_host_links_its_own_compare_view(url: str, expected: str) -> None:
    assert compare_url(REPO.validate_python(url), "a1", "b2") == expected


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("github.com/acme/web", "is not a repository URL"),
        ("https://example.com/acme/web", "not on GitHub, GitLab or Bitbucket"),
        ("https://github.com/acme", "does not name one repository"),
        ("https://github.com/acme/web/tree/main", "does not name one repository"),
    ],
)
def test_a_repository_url_the_bot_cannot_link_is_refused(url: str, said: str) -> None:
    with pytest.raises(ValidationError, match=said):
        REPO.validate_python(url)


def test_a_branch_with_a_slash_stays_one_path() -> None:
    url = compare_url("https://github.com/acme/web", "a1b2c3d", "release/2.0")
    assert url == "https://github.com/acme/web/compare/a1b2c3d...release/2.0"


def test_commit_words_say_what_the_provider_gave() -> None:
    d = Deployment(
        id="8241",
        status=Status.READY,
        commit_sha="16ab41e8ffff",
        commit_message="fix: <b> & more\n\nbody",
        branch="main",
        author="Jane Doe",
    )
    assert commit_words(d) == "`16ab41e` on `main` “fix: &lt;b&gt; &amp; more” by Jane Doe"
    assert commit_words(Deployment(id="1", status=Status.QUEUED)) == "commit not known yet"


def test_a_long_first_line_is_cut_after_escaping() -> None:
    line = first_line("&" * 300)
    assert line is not None
    assert len(line) <= 100
    assert line.endswith("…")
    assert "&amp" not in line.replace("&amp;", "")  # no entity cut in half


def test_approval_lines_without_a_live_deployment_link_nothing() -> None:
    text = approval_lines(None, None, ref=None, repo="https://github.com/acme/web")
    assert "*Live now:* nothing yet" in text
    assert "compare" not in text
