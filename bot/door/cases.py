"""The use-cases the Door calls, one of each (built by bot/runtime.py)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.usecases.approve import Approving
from bot.usecases.deploy import Deploying
from bot.usecases.home import Showing
from bot.usecases.operate import Operating
from bot.usecases.queue import Queueing
from bot.usecases.report import Reporting
from bot.usecases.rollback import RollingBack


@dataclass(frozen=True)
class UseCases:
    deploy: Deploying
    approve: Approving
    rollback: RollingBack
    operate: Operating
    report: Reporting
    queue: Queueing
    home: Showing
