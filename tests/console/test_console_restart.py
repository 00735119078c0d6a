"""The sandbox in `deploybot console`: a restarted `broken` ref fails again, as the README says,
and `/deploy stats` keeps both failures (a restart never erases the run it followed)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

from tests.console.test_console import APPS, _console


@pytest.fixture
def console(tmp_path: Path) -> Iterator[pexpect.spawn]:
    yield from _console(tmp_path, APPS)


@pytest.mark.slow
def test_a_restarted_broken_ref_fails_again_and_both_failures_count(
    console: pexpect.spawn,
) -> None:
    console.sendline("/deploy web broken")
    console.expect(r"Started `(sbx-[0-9a-f]+)`")
    dep = console.match.group(1)
    console.expect("web: Build failed")

    console.sendline(f"/deploy restart web {dep}")
    console.expect("Restarted by @dev")
    index = console.expect(["web: Build failed", r"web is live"])
    assert index == 0, "a restarted broken ref went live"

    console.sendline("/deploy stats web")
    # The sandbox's three deployments from hours ago went live; both runs of `broken` failed.
    console.expect(r"Change failure rate\S*\s+\S*40% \(2 of 5\)")
    console.expect("not restored yet since the last failure")
