"""Power quality: phase voltage outside EN 50160 limits, phase current above the main fuse.

Both are judged per phase on what the meter reports (a phase it does not report is skipped).
Short events are normal life and stay quiet: the grid dips for a few seconds when a neighbour's
motor starts, and a compressor or kettle draws an inrush current above its rated current. Only
a condition that lasts longer than that (`voltage_min_s`, `current_min_s`) is reported. A single
reading back inside the limits does not end an episode (noise around a limit would otherwise
split one long undervoltage into many short ones); it ends after `recover_s` inside the limits.
"""

from dataclasses import asdict, dataclass, field
from typing import Any

from .model import Finding, Reading

KIND = "power_quality"
PHASES = 3


@dataclass(frozen=True, slots=True)
class PowerQualityConfig:
    """Limits and how long a violation must last.

    Voltage must stay within `nominal_v` +/- `tolerance` (230 V +/- 10 %: 207-253 V, EN 50160).
    `fuse_a` is the main fuse per phase in amperes as the user set it; None turns the current
    check off (the fuse size cannot be learned from readings that normally stay below it).
    """

    nominal_v: float = 230.0
    tolerance: float = 0.10
    voltage_min_s: float = 120.0
    fuse_a: float | None = None
    current_min_s: float = 60.0
    recover_s: float = 30.0

    @property
    def low_v(self) -> float:
        """Lowest normal voltage (V)."""
        return self.nominal_v * (1 - self.tolerance)

    @property
    def high_v(self) -> float:
        """Highest normal voltage (V)."""
        return self.nominal_v * (1 + self.tolerance)


@dataclass(slots=True)
class _Episode:
    """One phase's current run of out-of-limit readings: since when, last seen, running mean."""

    since: float | None = None
    last: float = 0.0
    total: float = 0.0
    count: int = 0

    def update(self, now: float, value: float | None, outside: bool, recover_s: float) -> None:
        """Extend the episode with an out-of-limit value or end it after `recover_s` inside."""
        if value is None:
            self.since = None
        elif outside:
            if self.since is None:
                self.since, self.total, self.count = now, 0.0, 0
            self.last = now
            self.total += value
            self.count += 1
        elif self.since is not None and now - self.last >= recover_s:
            self.since = None

    def lasted(self) -> float:
        """Seconds from the first to the latest out-of-limit reading (0 when none)."""
        return 0.0 if self.since is None else self.last - self.since

    @property
    def mean(self) -> float:
        """Mean of the episode's out-of-limit values."""
        return self.total / self.count if self.count else 0.0


@dataclass(slots=True)
class _State:
    voltage: list[_Episode] = field(default_factory=lambda: [_Episode() for _ in range(PHASES)])
    current: list[_Episode] = field(default_factory=lambda: [_Episode() for _ in range(PHASES)])


class PowerQualityCheck:
    """Streaming voltage/current limit check for one home: `update` per reading, in time order.

    A Finding's score is how far outside the limit the phase is: the voltage's deviation from
    nominal over the tolerance, or the current over the fuse; at least 1 while reported.
    """

    def __init__(
        self, config: PowerQualityConfig | None = None, state: _State | None = None
    ) -> None:
        """Create a check with no episode in progress (or continue from `state`)."""
        self.config = config or PowerQualityConfig()
        self._s = state or _State()

    def update(self, reading: Reading) -> Finding | None:
        """Account for one reading; a Finding while a phase has been out of limits long enough.

        When several phases are, the one out of limits longest is reported.
        """
        c = self.config
        now = reading.timestamp.timestamp()
        best: Finding | None = None
        longest = 0.0
        for phase in range(PHASES):
            volts = reading.voltage[phase]
            episode = self._s.voltage[phase]
            outside = volts is not None and not c.low_v <= volts <= c.high_v
            episode.update(now, volts, outside, c.recover_s)
            lasted = episode.lasted()
            if lasted >= c.voltage_min_s and lasted > longest:
                best, longest = self._voltage_finding(phase, episode), lasted
            if c.fuse_a is None:
                continue
            amps = reading.current[phase]
            episode = self._s.current[phase]
            episode.update(now, amps, amps is not None and amps > c.fuse_a, c.recover_s)
            lasted = episode.lasted()
            if lasted >= c.current_min_s and lasted > longest:
                best, longest = self._current_finding(phase, episode, c.fuse_a), lasted
        return best

    def _voltage_finding(self, phase: int, episode: _Episode) -> Finding:
        c = self.config
        volts = episode.mean
        return Finding(
            KIND,
            f"Voltage on L{phase + 1} has been {volts:.0f} V for {_minutes(episode.lasted())} "
            f"(normal {c.low_v:.0f}-{c.high_v:.0f} V)",
            abs(volts - c.nominal_v) / (c.nominal_v * c.tolerance),
            expected=c.nominal_v,
        )

    @staticmethod
    def _current_finding(phase: int, episode: _Episode, fuse: float) -> Finding:
        amps = episode.mean
        return Finding(
            KIND,
            f"Current on L{phase + 1} is {amps:.0f} A, above the {fuse:.0f} A fuse, "
            f"for {_minutes(episode.lasted())}",
            amps / fuse,
            expected=fuse,
        )

    def to_state(self) -> dict[str, Any]:
        """The episodes in progress, as JSON-ready plain data."""
        return asdict(self._s)

    @classmethod
    def from_state(
        cls, state: dict[str, Any], config: PowerQualityConfig | None = None
    ) -> PowerQualityCheck:
        """Restore a check saved by `to_state`."""
        return cls(
            config,
            _State(
                voltage=[_Episode(**e) for e in state["voltage"]],
                current=[_Episode(**e) for e in state["current"]],
            ),
        )


def _minutes(seconds: float) -> str:
    """Whole minutes, at least one: "1 minute", "2 minutes"."""
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
