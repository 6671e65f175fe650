"""When window scores become an alarm: smoothing against noise, hysteresis against flapping."""

from dataclasses import asdict, dataclass, field
from datetime import datetime
from statistics import median
from typing import Any

from .windows import Window

KIND = "unusual_consumption"


@dataclass(slots=True)
class Alarm:
    """The current run of unusual windows and whether it has lasted long enough to alarm.

    A window scoring at least 1 (the threshold) starts a run; it lasts while windows score at
    least `release` or the median of the last `persistence` scores does. The alarm looks at that
    median, so one noisy window neither raises nor ends it: on at 1, off below `release`.
    """

    on: bool = False
    recent: list[float] = field(default_factory=list)
    run_start: float | None = None
    run_windows: int = 0
    run_power_sum: float = 0.0
    reason: str | None = None

    @property
    def in_run(self) -> bool:
        """Whether the latest window belongs to a run of unusual windows."""
        return self.run_start is not None

    def update(self, window: Window, score: float, expected: float, config: AlarmConfig) -> None:
        """Account for one scored window; `expected` is the typical power at its hour."""
        self.recent = [*self.recent, score][-config.persistence :]
        typical = median(self.recent)
        bar = config.release if self.in_run else 1.0
        if score < bar and typical < config.release:
            self._end_run()
            return
        if self.run_start is None:
            self.run_start = window.start.timestamp() - config.lead_seconds
        self.run_windows += 1
        self.run_power_sum += window.mean_power
        self.on = typical >= 1.0 or (self.on and typical >= config.release)
        self.reason = self._explain(window, self.run_start, expected) if self.on else None

    def _end_run(self) -> None:
        """Back to normal: no run, no alarm."""
        self.on, self.run_start, self.run_windows, self.run_power_sum = False, None, 0, 0.0
        self.reason = None

    def _explain(self, window: Window, run_start: float, expected: float) -> str:
        """A sentence for the user: what is drawn, since when, against what is usual."""
        since = datetime.fromtimestamp(run_start, window.start.tzinfo).strftime("%H:%M")
        drawn = format_power(self.run_power_sum / self.run_windows)
        return f"{drawn} drawn since {since}, usually about {format_power(expected)} at this hour"

    def to_state(self) -> dict[str, Any]:
        """The run and the verdict as plain data."""
        return asdict(self)

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Alarm:
        """Restore an alarm saved by `to_state`."""
        return cls(**state)


@dataclass(frozen=True, slots=True)
class AlarmConfig:
    """What the alarm needs from the detector's config.

    `lead_seconds` is how long a load must already have been on before its windows can score
    high (the shingle), so the reason can say when it really started.
    """

    persistence: int
    release: float
    lead_seconds: float


def format_power(watts: float) -> str:
    """Power the way people say it: "80 W", "0.3 kW", "2.1 kW"."""
    if abs(watts) < 100:
        return f"{watts:.0f} W"
    return f"{watts / 1000:.1f} kW"
