"""The benchmarks still run: each script, tiny, end to end (figures: bench/README.md)."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from tests.conftest import TEST_DATABASE_URL

# Each script starts its own bot and fakes, and runs the naive bot after it: tens of seconds.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).parents[2]


@pytest.mark.parametrize(
    ("script", "says"),
    [
        ("bench.ack_latency", b"p99"),
        ("bench.fanout", b"p99"),
        ("bench.burst", b"p99"),
        ("bench.home", b"per status change"),
        ("bench.watch", b"p99"),
        ("bench.dora_scrape", b"p99"),
    ],
)
async def test_benchmark_smoke_run(script: str, says: bytes) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        script,
        "--smoke",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    assert process.returncode == 0, out.decode()
    assert says in out


async def test_the_claims_benchmark_smoke_run(postgres: str) -> None:
    """bench.claims needs PostgreSQL (`postgres` skips without one, and fails in CI); it makes
    a schema of its own there."""
    del postgres  # only that it answers
    base = os.environ.get("DEPLOYBOT_TEST_DATABASE_URL", TEST_DATABASE_URL)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.claims",
        "--smoke",
        "--database-url",
        base,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    assert process.returncode == 0, out.decode()
    assert b"replies posted twice: 0" in out
