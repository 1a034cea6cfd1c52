"""plan_worker as deployed, with a pause of SLOW_PLANNING_SECONDS before the planner runs: the crash test kills this
process while a trip is ``planning``. Served by functions-framework (``--source`` this file, ``--target
plan_worker``)."""

from __future__ import annotations

import os
import time
from typing import Any

from common.services.planning import service
from functions.main import plan_worker

__all__ = ["plan_worker"]

_DELAY = float(os.environ.get("SLOW_PLANNING_SECONDS", "0"))
_choose_and_schedule = service.choose_and_schedule


def _slow_choose_and_schedule(*args: Any, **kwargs: Any) -> Any:
    time.sleep(_DELAY)
    return _choose_and_schedule(*args, **kwargs)


if _DELAY:
    service.choose_and_schedule = _slow_choose_and_schedule
