"""The typical power at each hour of the day: what a window is compared against."""

from datetime import datetime
from typing import Any


def hour_key(moment: datetime) -> int:
    """A number for the clock hour `moment` is in (local wall clock); `% 24` gives the hour."""
    return moment.toordinal() * 24 + moment.hour


class HourlyProfile:
    """A mean power per hour of day, averaged over days (an EWMA over ~`days` days).

    A clock hour is folded in only once it is over, so a load switched on at 02:00 cannot raise
    the 02:00 typical power while it is being judged against it; afterwards it counts like any
    other day, so a new habit becomes usual. Until one clock hour was seen, there is no typical
    power for it (None).
    """

    def __init__(self, days: float, state: dict[str, Any] | None = None) -> None:
        """Start empty, or from a state saved by `to_state`."""
        self._days = days
        self._means: list[float | None] = list(state["means"]) if state else [None] * 24
        self._days_seen: list[int] = list(state["days_seen"]) if state else [0] * 24
        self._open_key: int | None = state["open_key"] if state else None
        self._open_sum: float = state["open_sum"] if state else 0.0
        self._open_count: int = state["open_count"] if state else 0

    def expected(self, hour: int) -> float | None:
        """The typical power (W) at `hour` of the day, None before a full hour was seen."""
        return self._means[hour]

    def update(self, key: int, power: float) -> None:
        """Add a window's mean power; `key` is its `hour_key`."""
        if key != self._open_key:
            self._fold()
            self._open_key, self._open_sum, self._open_count = key, 0.0, 0
        self._open_sum += power
        self._open_count += 1

    def _fold(self) -> None:
        """Fold the finished clock hour's mean into its hour of day."""
        if self._open_key is None or not self._open_count:
            return
        hour = self._open_key % 24
        days = min(self._days_seen[hour] + 1, max(1, round(self._days)))
        mean = self._open_sum / self._open_count
        previous = self._means[hour]
        self._means[hour] = mean if previous is None else previous + (mean - previous) / days
        self._days_seen[hour] = days

    def to_state(self) -> dict[str, Any]:
        """Means (W, rounded), days seen per hour, and the clock hour being collected."""
        return {
            "means": [None if mean is None else round(mean, 1) for mean in self._means],
            "days_seen": list(self._days_seen),
            "open_key": self._open_key,
            "open_sum": round(self._open_sum, 1),
            "open_count": self._open_count,
        }
