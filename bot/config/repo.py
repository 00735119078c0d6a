"""An app's repository (`repo` in the apps file): its URL checked as it is read, and the
repository's compare view between two revisions. Pure."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote, urlsplit

from pydantic import AfterValidator

Host = Literal["github", "gitlab", "bitbucket"]
_EXAMPLES = (
    "https://github.com/acme/web, https://gitlab.com/acme/web, https://bitbucket.org/acme/web"
)


def _host(netloc: str) -> Host | None:
    """GitHub (github.com or a GitHub Enterprise host), GitLab (gitlab.com or self-hosted)."""
    host = netloc.lower().rsplit("@", 1)[-1]
    for kind in ("github", "gitlab", "bitbucket"):
        if kind in host:
            return kind
    return None


def _repository(url: str) -> str:
    """The repository's web address, as the compare link is made from it."""
    parsed = urlsplit(url.strip())
    if parsed.scheme not in {"http", "https"} or not parsed.netloc:
        raise ValueError(f'"{url}" is not a repository URL: write one like {_EXAMPLES}')
    host = _host(parsed.netloc)
    if host is None:
        raise ValueError(
            f'"{url}" is not on GitHub, GitLab or Bitbucket, whose compare view the approval '
            f"prompt links: write one like {_EXAMPLES}"
        )
    path = parsed.path.split("/-/")[0] if host == "gitlab" else parsed.path
    parts = [part for part in path.strip("/").removesuffix(".git").split("/") if part]
    exact = len(parts) >= 2 if host == "gitlab" else len(parts) == 2  # GitLab has subgroups
    if not exact:
        raise ValueError(
            f'"{url}" does not name one repository as owner/name: write one like {_EXAMPLES}'
        )
    return f"{parsed.scheme}://{parsed.netloc}/{'/'.join(parts)}"


Repo = Annotated[str, AfterValidator(_repository)]


def compare_url(repo: str, base: str, head: str) -> str:
    """The repository's view of what `head` adds to `base` (commits or branch names)."""
    old, new = quote(base, safe="/"), quote(head, safe="/")
    match _host(urlsplit(repo).netloc):
        case "gitlab":
            return f"{repo}/-/compare/{old}...{new}"
        case "bitbucket":  # Bitbucket names the source first, then the destination
            return f"{repo}/branches/compare/{new}%0D{old}"
        case _:
            return f"{repo}/compare/{old}...{new}"
