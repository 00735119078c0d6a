"""The benchmarks still run: each script, tiny, end to end (figures: bench/README.md)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


@pytest.mark.parametrize("script", ["bench.ack_latency", "bench.fanout", "bench.burst"])
async def test_benchmark_smoke_run(script: str) -> None:
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
    assert b"p99" in out
