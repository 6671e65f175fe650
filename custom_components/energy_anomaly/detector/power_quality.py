"""Power quality: phase voltage outside EN 50160 limits, phase current above the main fuse.

Both are judged per phase on what the meter reports (a phase it does not report is skipped).
Short events are normal life and stay quiet: the grid dips for a few seconds when a neighbour's
motor starts, and a compressor or kettle draws an inrush current above its rated current. Only
a condition that lasts longer than that (`voltage_min_s`, `current_min_s`) is reported. A single
reading back inside the limits does not end an episode (noise around a limit would otherwise
split one long undervoltage into many short ones); it ends after `recover_s` inside the limits.

A lost phase (a blown fuse, a broken neutral) reads 0 V, or no voltage at all (None) and no
current while the other phases go on: a phase that has been reporting a voltage
(`supplied_readings` in a row) and now reports none while another phase does is taken as 0 V.
A home's own sensors (`silent_is_lost` False) must show it: 0 V, or a current of about 0 A; an
entity that gives no value is a sensor problem. An undervoltage whose mean is below `lost_v` is
reported as a lost phase, not a sag: the fix is a fuse or the supply, not the grid's quality. A
reading with no phase voltage at all says nothing about the phases (some meters report them only
every few messages) and changes no voltage episode.
"""

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Self

from .check import Epoch, StateError, load_state
from .config import DetectorConfig, PowerQualityConfig
from .model import Cause, Finding, Kind, Reading

PHASES = 3


@dataclass(slots=True)
class _Episode:
    """One phase's current run of out-of-limit readings: since when, last seen, running means.

    A voltage can leave its range on both sides in one episode (a broken neutral swings a phase
    up and down): the values below and above are summed apart, as one mean of both could lie
    inside the range, and the episode is said on the side most of them are on (on a tie, the
    side it began on, so that a phase swinging every reading keeps one cause). A current is
    only ever above (the fuse): its values are all in `total`.
    """

    since: Epoch | None = None
    last: float = 0.0
    total: float = 0.0  # the values below the range (every one, in a state stored without above_*)
    count: int = 0
    above_total: float = 0.0  # the values above it
    above_count: int = 0
    began_above: bool = False

    def update(
        self, now: float, value: float | None, outside: bool, recover_s: float, *, above: bool
    ) -> None:
        """Extend the episode with an out-of-limit value or end it after `recover_s` inside.

        `above`: the value is above the range (else below, or a current), when `outside`.
        """
        if value is None:
            self.since = None
        elif outside:
            if self.since is None:
                self.since, self.total, self.count = now, 0.0, 0
                self.above_total, self.above_count, self.began_above = 0.0, 0, above
            self.last = now
            if above:
                self.above_total += value
                self.above_count += 1
            else:
                self.total += value
                self.count += 1
        elif self.since is not None and now - self.last >= recover_s:
            self.since = None

    def lasted(self) -> float:
        """Seconds from the first to the latest out-of-limit reading (0 when none)."""
        return 0.0 if self.since is None else self.last - self.since

    @property
    def mean(self) -> float:
        """Mean of the episode's out-of-limit values on the side it is said on."""
        above = self.above_count > self.count or (
            self.above_count == self.count and self.began_above
        )
        total, count = (self.above_total, self.above_count) if above else (self.total, self.count)
        return total / count if count else 0.0


@dataclass(slots=True)
class _State:
    voltage: list[_Episode] = field(default_factory=lambda: [_Episode() for _ in range(PHASES)])
    current: list[_Episode] = field(default_factory=lambda: [_Episode() for _ in range(PHASES)])
    supplied: list[bool] = field(default_factory=lambda: [False] * PHASES)  # reports a voltage
    # readings in a row with a voltage, of a phase not yet supplied (absent from older states)
    reports: list[int] = field(default_factory=lambda: [0] * PHASES)


class PowerQualityCheck:
    """Streaming voltage/current limit check for one home: `update` per reading, in time order.

    A Finding's score is how far outside the limit the phase is: the voltage's deviation from
    nominal over the tolerance, or the current over the fuse; at least 1 while reported.
    """

    key = "power_quality"

    def __init__(self, config: DetectorConfig | None = None, state: _State | None = None) -> None:
        """Create a check with no episode in progress (or continue from `state`)."""
        self.config = (config or DetectorConfig()).power_quality
        self._s = state or _State()
        # The score of the violation reported after the last reading (0 when none); a plain
        # attribute, as the engine reads every check's score on every reading
        self.score = 0.0
        self._open = any(e.since is not None for e in (*self._s.voltage, *self._s.current))
        self._supplied_all = all(self._s.supplied)  # every phase has reported a voltage
        c = self.config  # its limits, worked out once (the common case checks them every reading)
        self._limits = (c.low_v, c.high_v, c.fuse_a)

    def update(self, reading: Reading) -> Finding | None:
        """Account for one reading; a Finding while a phase has been out of limits long enough.

        When several phases are, the one out of limits longest is reported (`_judge`). The
        common case on a three-phase meter is told here, in one expression and without a call:
        no episode open, every phase reports a voltage inside the limits and none a current
        above the fuse (a third of this check's time per reading went to the general path's
        loops).
        """
        if not self._open and self._supplied_all:
            v1, v2, v3 = reading.voltage
            a1, a2, a3 = reading.current
            low, high, fuse = self._limits
            if (
                v1 is not None
                and v2 is not None
                and v3 is not None
                and low <= v1 <= high
                and low <= v2 <= high
                and low <= v3 <= high
                and (
                    fuse is None
                    or (
                        (a1 is None or not abs(a1) > fuse)
                        and (a2 is None or not abs(a2) > fuse)
                        and (a3 is None or not abs(a3) > fuse)
                    )
                )
            ):
                self.score = 0.0
                return None
        return self._judge(reading)

    def _judge(self, reading: Reading) -> Finding | None:
        """The general path of `update`: supply, limits and every phase's episodes."""
        voltage = self._supply(reading)
        if not self._open and self._within_limits(voltage, reading.current):
            self.score = 0.0
            return None
        c = self.config
        now = reading.epoch
        any_voltage = any(volts is not None for volts in voltage)
        best: tuple[Cause, int, _Episode] | None = None
        longest = 0.0
        for phase in range(PHASES):
            volts = voltage[phase]
            episode = self._s.voltage[phase]
            outside = volts is not None and not c.low_v <= volts <= c.high_v
            if any_voltage:
                above = volts is not None and volts > c.high_v
                episode.update(now, volts, outside, c.recover_s, above=above)
            lasted = episode.lasted()
            if lasted >= c.voltage_min_s and lasted > longest:
                cause = _voltage_cause(episode.mean, c)
                best, longest = (cause, phase, episode), lasted
            if c.fuse_a is None:
                continue
            # A signed sensor reads a current exported as below 0: as hard on the fuse
            amps = reading.current[phase]
            amps = None if amps is None else abs(amps)
            episode = self._s.current[phase]
            over = amps is not None and amps > c.fuse_a
            episode.update(now, amps, over, c.recover_s, above=False)
            lasted = episode.lasted()
            if lasted >= c.current_min_s and lasted > longest:
                best, longest = (Cause.OVERCURRENT, phase, episode), lasted
        found = None if best is None else self._finding(*best, reading.timestamp)
        self.score = 0.0 if found is None else found.score
        self._open = any(e.since is not None for e in (*self._s.voltage, *self._s.current))
        return found

    def _supply(self, reading: Reading) -> tuple[float | None, ...]:
        """Each phase's voltage, a lost phase's as 0 V (see the module docstring).

        Lost: the phase reported a voltage before, reports none now and no current above
        `lost_current_a`, while another phase reports a voltage.
        """
        voltage = reading.voltage
        if None not in voltage:  # every phase reports
            if not self._supplied_all:
                for phase in range(PHASES):
                    self._reported(phase)
            return voltage
        if voltage.count(None) == PHASES:
            return voltage
        supplied, c = self._s.supplied, self.config
        out: list[float | None] = []
        for phase, volts in enumerate(voltage):
            amps = reading.current[phase]
            if volts is not None:
                self._reported(phase)
                out.append(volts)
                continue
            if not supplied[phase]:
                self._s.reports[phase] = 0
            silent = amps is None and c.silent_is_lost
            if supplied[phase] and (silent or (amps is not None and abs(amps) <= c.lost_current_a)):
                out.append(0.0)
            else:
                out.append(None)
        return tuple(out)

    def _reported(self, phase: int) -> None:
        """`phase` reported a voltage: supplied once it did in `supplied_readings` in a row."""
        s = self._s
        if s.supplied[phase]:
            return
        s.reports[phase] += 1
        if s.reports[phase] >= self.config.supplied_readings:
            s.supplied[phase] = True
            s.reports[phase] = 0
            self._supplied_all = all(s.supplied)

    def _within_limits(
        self, voltage: tuple[float | None, ...], current: tuple[float | None, ...]
    ) -> bool:
        """Every reported phase inside the limits (the common case, checked cheaply)."""
        low, high, fuse = self._limits
        for volts in voltage:
            if volts is not None and not low <= volts <= high:
                return False
        return fuse is None or self._currents_within(current, fuse)

    @staticmethod
    def _currents_within(current: tuple[float | None, ...], fuse: float) -> bool:
        """No reported phase current beyond the main fuse (A), drawn or exported."""
        return not any(amps is not None and abs(amps) > fuse for amps in current)

    def _finding(self, cause: Cause, phase: int, episode: _Episode, now: datetime) -> Finding:
        """The violation of `phase`: mean value of the episode against the limit it broke."""
        c = self.config
        value = episode.mean
        facts = {"phase": phase + 1.0, "lasted_s": episode.lasted()}
        since = datetime.fromtimestamp(episode.since or 0.0, now.tzinfo)
        if cause is Cause.OVERCURRENT:
            fuse = c.fuse_a or 0.0
            return Finding(Kind.POWER_QUALITY, cause, value / fuse, since, value, fuse, "A", facts)
        score = abs(value - c.nominal_v) / (c.nominal_v * c.tolerance)
        facts |= {"low_v": c.low_v, "high_v": c.high_v}
        return Finding(Kind.POWER_QUALITY, cause, score, since, value, c.nominal_v, "V", facts)

    def to_state(self) -> dict[str, Any]:
        """The episodes in progress, as JSON-ready plain data."""
        return asdict(self._s)

    @classmethod
    def from_state(
        cls, state: object, config: DetectorConfig | None = None, *, judged_at: float | None = None
    ) -> Self:
        """Restore a check saved by `to_state` (StateError when the data is not valid).

        `judged_at`: the grid's nominal voltage (V) the stored episodes were judged against.
        Under another grid's (the home's voltage sensors were found to read a 120 V phase), a
        voltage episode in progress would go on, judged against limits it never crossed: the
        voltage episodes start afresh.
        """
        loaded = load_state(_State, state)
        config = config or DetectorConfig()
        if judged_at is not None and judged_at != config.nominal_v:
            loaded.voltage = [_Episode() for _ in range(PHASES)]
        counts = (loaded.voltage, loaded.current, loaded.supplied, loaded.reports)
        if {len(values) for values in counts} != {PHASES}:
            raise StateError(f"power_quality: expected {PHASES} phases")
        for episode in loaded.voltage:
            if episode.count and episode.total / episode.count > config.nominal_v:
                # Stored with one mean (before the sides were kept apart): an overvoltage's, as
                # values below the range cannot average above the nominal
                episode.above_total, episode.above_count = episode.total, episode.count
                episode.total, episode.count, episode.began_above = 0.0, 0, True
        if min(loaded.reports) < 0:
            raise StateError("power_quality: a negative count of readings")
        if isinstance(state, dict) and "reports" not in state:
            # Stored when one frame with a phase's voltage made it supplied (a stray frame latched
            # a lost phase): the phases qualify again by reporting in a row
            loaded.supplied = [False] * PHASES
        return cls(config, loaded)


def _voltage_cause(mean: float, config: PowerQualityConfig) -> Cause:
    """What a voltage episode with this mean (V) is: a lost phase, an undervoltage or over."""
    if mean < config.lost_v:
        return Cause.LOST_PHASE
    return Cause.UNDERVOLTAGE if mean < config.nominal_v else Cause.OVERVOLTAGE
