"""Meter and data faults: readings that cannot be the home's real consumption.

A meter or its reader can fail in ways that look like "no consumption" or "constant
consumption" to a model of the home. These checks catch them by rule, because a learned model
would either call them anomalies of the wrong kind or, worse, learn them:

- exact zeros in a home that always draws something (a fridge and a router never stop);
- negative consumption while nothing is produced (an import meter cannot run backwards);
- the same value repeated far longer than the home ever repeated one (a frozen reader);
- a gap in the stream, much longer than the usual spacing of readings.

A PV home imports exactly 0 W while it exports: a zero with `power_production > 0` is normal
and neither a zero fault nor a frozen value.
"""

from dataclasses import asdict, dataclass
from typing import Any

from .model import Finding, Reading

KIND = "meter_fault"


@dataclass(frozen=True, slots=True)
class FaultConfig:
    """Thresholds for the fault checks (seconds and watts).

    `min_duration_s`: how long zeros or negatives must persist, so one odd reading at a
    transition (import and export both rounding to 0) stays quiet.
    `learn_s`: how long the zero and stale checks only learn (the home's minimum draw, whether
    it reads 0 on its own, its longest run of identical values) before they may alarm.
    `min_draw_w`: a home whose smallest positive draw is below this may really draw nothing.
    `stale_min_s`, `stale_factor`: a value is frozen after max(stale_min_s, stale_factor x the
    longest run of identical values seen before).
    `gap_min_s`, `gap_factor`: a silence is a gap when longer than max(gap_min_s, gap_factor x
    the usual spacing of readings); `gap_hold_s` keeps it reported after the first reading that
    ends it, so the alarm is visible. `negative_tolerance_w` absorbs a meter's rounding noise.
    """

    min_duration_s: float = 60.0
    learn_s: float = 86_400.0
    min_draw_w: float = 10.0
    stale_min_s: float = 600.0
    stale_factor: float = 5.0
    gap_min_s: float = 600.0
    gap_factor: float = 5.0
    gap_hold_s: float = 300.0
    negative_tolerance_w: float = 1.0


@dataclass(slots=True)
class _State:
    """What the fault checks have learned and the runs in progress (all plain data)."""

    first_epoch: float | None = None
    last_epoch: float | None = None
    spacing: float | None = None  # usual seconds between readings (slow moving average)
    min_draw: float | None = None  # smallest positive power drawn without production
    zeros_seen_learning: bool = False  # the home read 0 for a while during learning
    zero_since: float | None = None
    negative_since: float | None = None
    negative_low: float = 0.0
    run_value: float | None = None
    run_start: float | None = None
    run_alarmed: bool = False
    longest_run: float = 0.0
    gap_start: float | None = None
    gap_end: float | None = None


class FaultCheck:
    """Streaming meter/data fault check for one home: `update` per reading, in time order.

    A Finding's score is how far past its rule's limit the fault is (the time it has lasted over
    the time it must last, the silence over the longest usual one): at least 1 while reported.
    """

    def __init__(self, config: FaultConfig | None = None, state: _State | None = None) -> None:
        """Create a check that has learned nothing yet (or continues from `state`)."""
        self.config = config or FaultConfig()
        self._s = state or _State()

    def update(self, reading: Reading) -> Finding | None:
        """Account for one reading; a Finding while a fault holds, else None.

        A reading older than the previous one is ignored (it cannot start or end a fault).
        """
        s, c = self._s, self.config
        now = reading.timestamp.timestamp()
        if s.last_epoch is not None and now < s.last_epoch:
            return None
        if s.first_epoch is None:
            s.first_epoch = now
        gap = self._gap(now)
        learned = now - s.first_epoch >= c.learn_s
        producing = reading.power_production is not None and reading.power_production > 0
        power = reading.power
        negative = self._negative(now, power, producing)
        zeros = self._zeros(now, power, producing, learned)
        stale = self._stale(now, power, producing, learned, gap is not None)
        if power > 0 and not producing and (s.min_draw is None or power < s.min_draw):
            s.min_draw = power
        s.last_epoch = now
        return gap or negative or zeros or stale

    def _gap(self, now: float) -> Finding | None:
        """A reading after a silence much longer than usual; reported for `gap_hold_s`."""
        s, c = self._s, self.config
        if s.last_epoch is not None and s.spacing is not None:
            silence = now - s.last_epoch
            limit = max(c.gap_min_s, c.gap_factor * s.spacing)
            if silence > limit:
                s.gap_start, s.gap_end = s.last_epoch, now
            elif silence > 0:
                s.spacing += 0.01 * (silence - s.spacing)
        elif s.last_epoch is not None and now > s.last_epoch:
            s.spacing = now - s.last_epoch
        if s.gap_start is None or s.gap_end is None or now - s.gap_end > c.gap_hold_s:
            return None
        silence = s.gap_end - s.gap_start
        return Finding(
            KIND,
            f"No readings for {_duration(silence)} (usually one every "
            f"{_duration(s.spacing or 0.0)})",
            silence / max(c.gap_min_s, c.gap_factor * (s.spacing or 0.0)),
        )

    def _negative(self, now: float, power: float, producing: bool) -> Finding | None:
        """Negative consumption while nothing is produced, for at least `min_duration_s`."""
        s, c = self._s, self.config
        if power >= -c.negative_tolerance_w or producing:
            s.negative_since = None
            return None
        if s.negative_since is None:
            s.negative_since, s.negative_low = now, power
        s.negative_low = min(s.negative_low, power)
        lasted = now - s.negative_since
        if lasted < c.min_duration_s:
            return None
        return Finding(
            KIND,
            f"Power has been negative (down to {s.negative_low:.0f} W) for {_duration(lasted)} "
            "without any production",
            lasted / c.min_duration_s,
            expected=0.0,
        )

    def _zeros(self, now: float, power: float, producing: bool, learned: bool) -> Finding | None:
        """Exact zeros without production in a home that has always drawn something."""
        s, c = self._s, self.config
        if power != 0 or producing:
            s.zero_since = None
            return None
        if s.zero_since is None:
            s.zero_since = now
        lasted = now - s.zero_since
        if lasted < c.min_duration_s:
            return None
        if not learned:
            s.zeros_seen_learning = True
            return None
        if s.zeros_seen_learning or s.min_draw is None or s.min_draw < c.min_draw_w:
            return None
        return Finding(
            KIND,
            f"Power has been reported as exactly 0 W for {_duration(lasted)}, but this home "
            f"always draws at least {s.min_draw:.0f} W",
            lasted / c.min_duration_s,
            expected=s.min_draw,
        )

    def _stale(
        self, now: float, power: float, producing: bool, learned: bool, after_gap: bool
    ) -> Finding | None:
        """The same non-zero value repeated far longer than any run seen before.

        Zeros are the zero check's business (and normal while exporting); a run broken by a gap
        starts again, since the gap is reported on its own.
        """
        s, c = self._s, self.config
        if power == 0 or producing or power != s.run_value or after_gap or s.run_start is None:
            self._end_run()
            s.run_value = None if power == 0 or producing else power
            s.run_start = None if s.run_value is None else now
            return None
        lasted = now - s.run_start
        limit = max(c.stale_min_s, c.stale_factor * s.longest_run)
        if not learned or lasted < limit:
            return None
        s.run_alarmed = True
        return Finding(
            KIND,
            f"Power has been exactly {power:.0f} W for {_duration(lasted)}; it never stayed "
            f"the same for more than {_duration(s.longest_run)} before",
            lasted / limit,
        )

    def _end_run(self) -> None:
        """Learn the finished run's length unless it was reported as frozen."""
        s = self._s
        if s.run_start is not None and not s.run_alarmed and s.last_epoch is not None:
            s.longest_run = max(s.longest_run, s.last_epoch - s.run_start)
        s.run_alarmed = False

    def to_state(self) -> dict[str, Any]:
        """Everything learned and in progress, as JSON-ready plain data."""
        return asdict(self._s)

    @classmethod
    def from_state(cls, state: dict[str, Any], config: FaultConfig | None = None) -> FaultCheck:
        """Restore a check saved by `to_state`."""
        return cls(config, _State(**state))


def _duration(seconds: float) -> str:
    """A duration the way people say it: "40 s", "12 minutes", "1.5 hours"."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} minutes"
    return f"{seconds / 3600:.1f} hours"
