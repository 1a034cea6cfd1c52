"""One wall-clock deadline for every model call of a plan (``GEMINI_PLAN_DEADLINE_SECONDS``), retries included."""

from __future__ import annotations

import time
from collections.abc import Callable


class Deadline:
    """Ends ``seconds`` after it is made (monotonic clock). ``earlier(s)`` is the same deadline ``s`` seconds sooner.

    ``label`` names it in messages ("planning", or "research" for the part the research turn may use)."""

    def __init__(
        self,
        seconds: float,
        *,
        label: str = "planning",
        clock: Callable[[], float] = time.monotonic,
        _ends: float | None = None,
    ) -> None:
        self.seconds = seconds
        self.label = label
        self._clock = clock
        self.ends = clock() + seconds if _ends is None else _ends

    def remaining(self) -> float:
        """Seconds left (negative once passed)."""
        return self.ends - self._clock()

    def expired(self) -> bool:
        return self.remaining() <= 0

    def earlier(self, seconds: float, *, label: str | None = None) -> Deadline:
        return Deadline(self.seconds - seconds, label=label or self.label, clock=self._clock, _ends=self.ends - seconds)
