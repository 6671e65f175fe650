"""Meter and data faults: readings that cannot be the home's real consumption.

A meter or its reader can fail in ways that look like "no consumption" or "constant
consumption" to a model of the home. These checks catch them by rule, because a learned model
would either call them anomalies of the wrong kind or, worse, learn them:

- exact zeros in a home that always draws something (a fridge and a router never stop);
- negative consumption while nothing is produced (an import meter cannot run backwards);
- the same value repeated far longer than the home ever repeated one (a frozen reader);
- a gap in the stream, much longer than the usual spacing of readings. After Home Assistant
  restarted (`restarted_at`), the silence is counted from the restart: the time it was off (an
  update on a Pi takes 15 minutes) says nothing about the meter; a meter silent since still is.

A PV home imports exactly 0 W while it exports: a zero with `power_production > 0` is normal,
no zero fault; so is any zero outside the dark hours in a home that has exported: its production
sensor may be offline, and a battery or the panels may balance the draw exactly (a net meter at
0 W: nothing imported, nothing exported). A frozen value is judged on what the meter reads, the
draw less the production: an export written again and again is as frozen as an import. Nor is
its daytime import a floor: when the panels cover nearly all the home draws without exporting,
it imports a few watts. A home that has exported
learns the least it draws from the dark hours only (`dark_start_hour` to `dark_end_hour`), so 0 W at
night, with nothing produced, is still a fault there.

The least a home draws is learned from runs of readings below it that last `min_duration_s`,
as the run's second-lowest reading: one odd 0.5 W reading at a transition would otherwise have
turned the zero rule off for good.
"""

from dataclasses import asdict, dataclass, field
from datetime import datetime, tzinfo
from typing import Any, Self

from .check import Epoch, StateError, load_state
from .config import DetectorConfig
from .model import Cause, Finding, Kind, Reading


@dataclass(slots=True)
class _State:
    """What the fault checks have learned and the runs in progress (all plain data)."""

    first_epoch: Epoch | None = None
    last_epoch: Epoch | None = None
    spacing: float | None = None  # usual seconds between readings (slow moving average)
    min_draw: float | None = None  # least positive power drawn for a while, without production
    dark_min_draw: float | None = None  # the same in the dark hours only
    low_since: Epoch | None = None  # a run of draws below the floors began (epoch s)
    low_dark: bool = False  # whether that run is in the dark hours (a run stays on one side)
    low_least: list[float] = field(default_factory=list)  # that run's two lowest draws (W)
    exports: bool = False  # the home has reported production (PV export)
    zeros_seen_learning: bool = False  # the home read 0 for a while during learning
    history_minima_s: float = 0.0  # the span of the history rows that gave their minimum (s)
    history_drew_nothing: bool = False  # whether one of those minima was 0 W (or below)
    zero_since: Epoch | None = None
    negative_since: Epoch | None = None
    negative_low: float = 0.0
    run_value: float | None = None
    run_start: Epoch | None = None
    run_alarmed: bool = False
    longest_run: float = 0.0
    gap_start: Epoch | None = None
    gap_end: Epoch | None = None


class FaultCheck:
    """Streaming meter/data fault check for one home: `update` per reading, in time order.

    A Finding's score is how far past its rule's limit the fault is (the time it has lasted over
    the time it must last, the silence over the longest usual one): at least 1 while reported.
    """

    key = "faults"

    def __init__(self, config: DetectorConfig | None = None, state: _State | None = None) -> None:
        """Create a check that has learned nothing yet (or continues from `state`)."""
        self.config = (config or DetectorConfig()).faults
        self._s = state or _State()
        # The score of the fault reported after the last reading (0 when none); a plain
        # attribute, as the engine reads every check's score on every reading
        self.score = 0.0
        self._zone: tzinfo | None = None  # the clock of the reading being checked
        self._restarted: float | None = None  # when Home Assistant restarted (`restarted_at`)

    def update(self, reading: Reading) -> Finding | None:
        """Account for one reading; a Finding while a fault holds, else None.

        A reading older than the previous one is ignored (it cannot start or end a fault).
        """
        s = self._s
        now = reading.epoch
        if s.last_epoch is not None and now < s.last_epoch:
            return None
        if s.first_epoch is None:
            s.first_epoch = now
        self._zone = reading.timestamp.tzinfo
        c, last, spacing = self.config, s.last_epoch, s.spacing
        if (
            last is not None
            and spacing is not None
            and 0 < (silence := now - last) <= c.gap_min_s
            and self._restarted is None
            and (s.gap_end is None or now - s.gap_end > c.gap_hold_s)
        ):  # the next reading of a stream, no gap to report: `_gap` would only move the spacing
            s.spacing = spacing + c.spacing_weight * (silence - spacing)
            gap, broken = None, False
        else:
            gap, broken = self._gap(now)
        production = reading.power_production
        producing = production is not None and production > 0
        power = reading.power
        drawing = power > 0 and not producing
        if drawing:  # the common case: neither negative nor zero
            s.negative_since = s.zero_since = None
            negative = zeros = None
        else:
            negative = self._negative(now, power, producing)
            # By day in a home that exports, an import of 0 W is no fault without a production
            # either: one unknown (a chosen sensor's inverter offline) may be exporting, and a
            # battery or the panels may balance the draw exactly (a net meter then reads 0 W)
            by_day = s.exports and not self.is_dark(reading.timestamp.hour)
            zeros = self._zeros(now, power, producing or by_day)
        # What the meter reads, signed: an export frozen is as frozen as an import
        metered = power - production if producing and production is not None else power
        stale = self._stale(now, metered, gap is not None or broken)
        # The dark hours' floor is never below the all-day one: a draw not under it is under
        # neither (the common case, without the hour)
        if drawing and (s.dark_min_draw is None or power < s.dark_min_draw):
            self._low_draw(now, power, self.is_dark(reading.timestamp.hour))
        elif s.low_since is not None:
            s.low_since = None
        if producing:
            s.exports = True
        s.last_epoch = now
        found = gap or negative or zeros or stale
        self.score = 0.0 if found is None else found.score
        return found

    def learn_min_draw(self, watts: float, *, dark: bool) -> None:
        """The least the history drew (W), in the dark hours or at any hour: as a live one."""
        if watts > 0:
            self._learn_draw(watts, dark)

    def learn_history_minimum(self, watts: float, duration_s: float) -> None:
        """A history row's minimum (W) over `duration_s`: what the zero rule's live day learns.

        Minima over at least `learn_s`, none of them 0 W, tell what that day would, so the rule
        then judges zeros from the first live reading: waiting would miss a meter that reads
        zeros on the first day, and zeros then would pass for the home's own (turning the rule
        off for good, `zeros_seen_learning`). Kept with the state, as history may come in parts.
        """
        s = self._s
        s.history_minima_s += duration_s
        s.history_drew_nothing |= watts <= 0

    def _history_floor_known(self) -> bool:
        """Whether the history's minima stand in for the zero rule's live day."""
        s = self._s
        return s.history_minima_s >= self.config.learn_s and not s.history_drew_nothing

    def is_dark(self, hour: int) -> bool:
        """Whether a local `hour` is one in which no panel produces."""
        return self.config.dark_start_hour <= hour < self.config.dark_end_hour

    def _low_draw(self, now: float, watts: float, dark: bool) -> None:
        """A draw, maybe below its hours' floor: lowered to a lasting run's second-lowest.

        A run ends at a draw not below the floor, and where the dark hours begin or end (an
        afternoon's few watts are no floor of the dark hours).
        """
        s = self._s
        floor = s.dark_min_draw if dark else s.min_draw
        if floor is not None and watts >= floor:
            s.low_since = None
            return
        if s.low_since is None or s.low_dark is not dark:
            s.low_since, s.low_least, s.low_dark = now, [], dark
        s.low_least = sorted([*s.low_least, watts])[:2]
        if now - s.low_since >= self.config.min_duration_s:
            self._learn_draw(s.low_least[-1], dark)

    def _learn_draw(self, watts: float, dark: bool) -> None:
        """A positive draw without production (in the dark hours or not) may lower the floors."""
        s = self._s
        if s.min_draw is None or watts < s.min_draw:
            s.min_draw = watts
        if dark and (s.dark_min_draw is None or watts < s.dark_min_draw):
            s.dark_min_draw = watts

    def _floor(self) -> float | None:
        """The least this home draws (W): from the dark hours alone once it has exported."""
        s = self._s
        return s.dark_min_draw if s.exports else s.min_draw

    def restarted_at(self, epoch: float) -> None:
        """Home Assistant (re)started at `epoch`: a silence before it is not the meter's."""
        self._restarted = epoch

    def _gap(self, now: float) -> tuple[Finding | None, bool]:
        """A reading after a silence much longer than usual; reported for `gap_hold_s`.

        Also whether this reading ended such a silence (the meter's, or Home Assistant's
        downtime): a value repeated before and after it is no run of one value.
        """
        s, c = self._s, self.config
        restarted, self._restarted = self._restarted, None
        broken = False
        if s.last_epoch is not None and s.spacing is not None:
            silence = now - s.last_epoch
            # `_long`, written out: on every reading
            if broken := silence > c.gap_min_s and silence > c.gap_factor * s.spacing:
                start = s.last_epoch if restarted is None else max(s.last_epoch, restarted)
                if self._long(now - start, s.spacing):
                    s.gap_start, s.gap_end = start, now
            elif silence > 0:
                s.spacing += c.spacing_weight * (silence - s.spacing)
        elif s.last_epoch is not None and now > s.last_epoch:
            s.spacing = now - s.last_epoch
        if s.gap_start is None or s.gap_end is None or now - s.gap_end > c.gap_hold_s:
            return None, broken
        silence = s.gap_end - s.gap_start
        spacing = s.spacing or 0.0
        found = self._finding(
            Cause.GAP,
            silence / max(c.gap_min_s, c.gap_factor * spacing),
            s.gap_start,
            None,
            lasted_s=silence,
            spacing_s=spacing,
        )
        return found, broken

    def _long(self, silence: float, spacing: float) -> bool:
        """Whether a silence (s) is much longer than the usual `spacing` (s): a gap."""
        c = self.config
        return silence > c.gap_min_s and silence > c.gap_factor * spacing

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
        return self._finding(
            Cause.NEGATIVE,
            lasted / c.min_duration_s,
            s.negative_since,
            s.negative_low,
            expected=0.0,
            lasted_s=lasted,
        )

    def _learned(self, now: float) -> bool:
        """Whether the home has been watched for `learn_s` by `now` (asked only when it counts)."""
        first = self._s.first_epoch
        return first is not None and now - first >= self.config.learn_s

    def _zeros(self, now: float, power: float, producing: bool) -> Finding | None:
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
        if not self._learned(now) and not self._history_floor_known():
            s.zeros_seen_learning = True
            return None
        floor = self._floor()
        if s.zeros_seen_learning or floor is None or floor < c.min_draw_w:
            return None
        return self._finding(
            Cause.ZEROS,
            lasted / c.min_duration_s,
            s.zero_since,
            0.0,
            expected=floor,
            lasted_s=lasted,
        )

    def _stale(self, now: float, metered: float, after_gap: bool) -> Finding | None:
        """The same non-zero value repeated far longer than any run seen before.

        `metered` is the power drawn less the production: a reader stuck on an export (a net
        sensor's last value, written again and again) is frozen too, and reads below 0. Zeros
        are the zero check's business; a run broken by a gap (or by Home Assistant's downtime)
        starts again, since the gap is reported on its own.
        """
        s, c = self._s, self.config
        if metered == 0 or metered != s.run_value or after_gap or s.run_start is None:
            # The run ended (nearly every reading): its length is learned unless it was reported
            # as frozen
            if (
                s.run_start is not None
                and not s.run_alarmed
                and s.last_epoch is not None
                and (lasted := s.last_epoch - s.run_start) > s.longest_run
            ):  # `max` of the two, without the call
                s.longest_run = lasted
            s.run_alarmed = False
            s.run_value = None if metered == 0 else metered
            s.run_start = None if s.run_value is None else now
            return None
        lasted = now - s.run_start
        limit = max(c.stale_min_s, c.stale_factor * s.longest_run)
        if lasted < limit or not self._learned(now):
            return None
        s.run_alarmed = True
        return self._finding(
            Cause.FROZEN,
            lasted / limit,
            s.run_start,
            metered,
            lasted_s=lasted,
            longest_s=s.longest_run,
        )

    def _finding(
        self,
        cause: Cause,
        score: float,
        since: float,
        observed: float | None,
        expected: float | None = None,
        **facts: float,
    ) -> Finding:
        """A meter-fault finding that began at `since` (epoch seconds)."""
        moment = datetime.fromtimestamp(since, self._zone)
        return Finding(Kind.METER_FAULT, cause, score, moment, observed, expected, "W", facts)

    def to_state(self) -> dict[str, Any]:
        """Everything learned and in progress, as JSON-ready plain data."""
        return asdict(self._s)

    @classmethod
    def from_state(cls, state: object, config: DetectorConfig | None = None) -> Self:
        """Restore a check saved by `to_state` (StateError when the data is not valid)."""
        loaded = load_state(_State, state)
        if len(loaded.low_least) > 2 or any(watts <= 0 for watts in loaded.low_least):
            raise StateError("faults: low_least is not a run's two lowest draws")
        check = cls(config, loaded)
        # Stored before the floors were learned from lasting draws (0.2.0): a floor below
        # min_draw_w may be one odd reading, which turned the zero rule off for good; both are
        # learned again from now on (the dark hours' is never below the all-day one). A floor at
        # or above it kept the rule on and is kept, so a meter that reads zeros right after the
        # upgrade is still a fault.
        if (
            isinstance(state, dict)
            and "low_least" not in state
            and (loaded.min_draw is None or loaded.min_draw < check.config.min_draw_w)
        ):
            loaded.min_draw = loaded.dark_min_draw = None
        return check
