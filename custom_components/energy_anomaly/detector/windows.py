"""Turn the live stream (any spacing) into fixed time windows, the forest's unit of input."""

from dataclasses import dataclass
from datetime import datetime, tzinfo
import math
from typing import Any


@dataclass(frozen=True, slots=True)
class Window:
    """A completed window: when it started (in the readings' time zone) and its mean power."""

    start: datetime
    mean_power: float


class WindowAccumulator:
    """Averages the readings that fall in one window; a reading in a later window completes it.

    Windows are aligned to multiples of their length since the epoch, so they do not depend on
    when the stream started. Windows without readings are skipped, not invented.
    """

    def __init__(self, seconds: float) -> None:
        """Start with no open window."""
        self._seconds = seconds
        self._start: float | None = None
        self._sum = 0.0
        self._count = 0

    def add(self, epoch: float, power: float, zone: tzinfo | None) -> Window | None:
        """Add a reading taken at `epoch`; return the window it completed, if any."""
        completed = None
        if self._start is None or epoch >= self._start + self._seconds:
            completed = self._close(zone)
            self._start = math.floor(epoch / self._seconds) * self._seconds
        self._sum += power
        self._count += 1
        return completed

    def _close(self, zone: tzinfo | None) -> Window | None:
        """Finish the open window (if any) and reset the sums."""
        if self._start is None or self._count == 0:
            return None
        window = Window(datetime.fromtimestamp(self._start, zone), self._sum / self._count)
        self._sum, self._count = 0.0, 0
        return window

    def to_state(self) -> dict[str, Any]:
        """The open window, so a restart does not drop the readings already in it."""
        return {"start": self._start, "sum": self._sum, "count": self._count}

    @classmethod
    def from_state(cls, seconds: float, state: dict[str, Any]) -> WindowAccumulator:
        """Restore an accumulator saved by `to_state`."""
        accumulator = cls(seconds)
        accumulator._start = state["start"]
        accumulator._sum = state["sum"]
        accumulator._count = state["count"]
        return accumulator
