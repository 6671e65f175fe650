"""The detector: every reading goes through every check; one verdict per reading comes out.

Checks, in priority order (the verdict's finding is the first one in alarm, see `Kind`):

1. meter_fault (`faults.py`): zeros, negatives without production, a frozen value, gaps;
2. power_quality (`power_quality.py`): voltage outside 230 V +/- 10 %, current above the fuse;
3. unusual_consumption (`consumption.py`): power that stays above what this home draws at this
   time of day;
4. new_pattern (`parx.py`): the last 24 hours do not follow the daily pattern PARX predicts
   (temperature is used when readings carry it);
5. baseload (`baseload.py`): a lasting step up of the always-on power.

Readings during a meter fault teach neither the consumption model nor PARX. The learned models
alarm only once they know the home: two weeks of data, as the consumption model compares with
the last 14 days (PARX's alarms wait for it too; baseload needs 7 nights of its own); until
then the consumption check alarms only on a load far above anything the home drew so far. The
fault and power-quality rules need no model of the home and alarm from the start (the zero and
frozen-value rules first watch the home for a day). The score is the highest of the checks'
scores: 1 is the bar at which a check alarms.

Before the first live reading the detector can learn from coarse history (`history.py`): days
of history count towards the learning period like days of live readings.

Times of day are the readings' own wall clock: pass local timestamps (Tibber does).
"""

from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any

from .baseload import BaseloadCheck
from .check import StateError, load_state
from .config import HOUR_S, DetectorConfig
from .consumption import ConsumptionCheck
from .faults import FaultCheck
from .history import HistoryLearner
from .migrate import upgrade
from .model import Finding, HistoryRow, HistorySummary, Reading, Result, Status
from .parx import PatternCheck
from .power_quality import PowerQualityCheck
from .validation import reading_problem

STATE_VERSION = 3
# A reading this far (s) after the previous one is held until the next reading confirms the new
# time: one reading stamped years ahead must not make every later reading "older" and ignored.
MAX_UNCONFIRMED_JUMP_S = HOUR_S


class Detector:
    """Streaming anomaly detector for one home. Not thread-safe: feed it from one worker."""

    def __init__(self, config: DetectorConfig | None = None) -> None:
        """Create a detector that has learned nothing yet."""
        self.config = config = config or DetectorConfig()
        self._faults = FaultCheck(config)
        self._power_quality = PowerQualityCheck(config)
        self._consumption = ConsumptionCheck(config)
        self._pattern = PatternCheck(config)
        self._baseload = BaseloadCheck(config)
        self._last_epoch: float | None = None
        self._held: Reading | None = None  # a reading after a long silence, until confirmed
        self._finding: Finding | None = None
        self._highest = self._rounded = 0.0  # the checks' highest score, and it rounded (`score`)
        self._history_days = 0  # days learned from history ("learned from N days of history")
        self._history_end: float | None = None  # epoch where the learned history ends

    @property
    def history_days(self) -> int:
        """Days the detector learned from history rather than live readings (0 without)."""
        return self._history_days

    def learn_history(self, rows: Iterable[HistoryRow]) -> HistorySummary:
        """Learn from aggregates of past consumption before the first live reading.

        Rows in time order; implausible or out-of-order ones are skipped. Once live readings were
        taken, history cannot be placed before them: every row is skipped.
        """
        if self._last_epoch is not None:
            return HistorySummary(days=0, used=0, skipped=sum(1 for _ in rows))
        learner = HistoryLearner(
            self.config,
            self._faults,
            self._consumption,
            self._pattern,
            self._baseload,
            after=self._history_end,
        )
        summary = learner.learn(rows)
        self._history_days += summary.days
        if summary.end is not None:
            self._history_end = summary.end.timestamp()
        return summary

    @property
    def status(self) -> Status:
        """ACTIVE once the consumption model has learned enough days; it never goes back."""
        return Status.ACTIVE if self._consumption.active else Status.LEARNING

    @property
    def last_epoch(self) -> float | None:
        """When (epoch s) the latest reading taken was stamped; None before the first."""
        return self._last_epoch

    @property
    def learning_progress(self) -> float:
        """How much of the learning period is done, from 0 to 1 (days with readings)."""
        return self._consumption.learning_progress

    @property
    def score(self) -> float:
        """How unusual things are after the latest reading: the highest of the checks' scores.

        Rounded to 3 decimals; as the highest score stays the same from one reading to the next
        almost always, it is rounded (which costs more than the rest of this) only when it moves.
        """
        highest = max(
            self._faults.score,
            self._power_quality.score,
            self._consumption.score,
            self._pattern.score,
            self._baseload.score,
        )
        if highest != self._highest:
            self._highest, self._rounded = highest, round(highest, 3)
        return self._rounded

    @property
    def finding(self) -> Finding | None:
        """The most important check's alarm after the latest reading, None while all is normal."""
        return self._finding

    def update(self, reading: Reading) -> Result:
        """Take one reading (in time order) and return the verdict right after it.

        A reading that is not plausible (`validation.py`) or older than the previous one is not
        learned from; it gets the current verdict. A reading more than an hour after the previous
        one is held until the very next reading confirms the clock moved on (a later time within
        the hour after it: then both are taken); otherwise it was a stray time and is dropped.
        """
        if reading_problem(reading) is None:
            self.take_plausible(reading)
        else:
            self._held = None
        return self._result(reading)

    def take_plausible(self, reading: Reading) -> None:
        """`update` for a reading its caller found plausible, without building the verdict.

        For `scripts/score`, which checks every row with `reading_problem` first (to say why one
        is skipped) and writes only `score` and `finding`: neither the check nor the `Result`
        (a quarter of the detector's time per reading) is repeated or built for nothing.
        """
        held, self._held = self._held, None
        epoch = reading.epoch
        last = self._last_epoch
        if last is not None and epoch < last:
            return
        if last is not None and epoch - last > MAX_UNCONFIRMED_JUMP_S:
            after_held = None if held is None else epoch - held.epoch
            if held is None or after_held is None or not 0 < after_held <= MAX_UNCONFIRMED_JUMP_S:
                self._held = reading
                return
            self._take(held)
        self._take(reading)

    def _take(self, reading: Reading) -> None:
        """Run every check on a plausible reading that is in time order."""
        self._last_epoch = reading.epoch
        fault = self._faults.update(reading)
        quality = self._power_quality.update(reading)
        consumption = pattern = None
        if fault is None:
            consumption = self._consumption.update(reading)
            pattern = self._pattern.update(reading)
        baseload = self._baseload.update(reading)
        if not self._consumption.active:  # the consumption check alarms sparingly on its own
            pattern = None
        self._finding = fault or quality or consumption or pattern or baseload

    def _result(self, reading: Reading) -> Result:
        consumption = self._consumption
        active = consumption.active
        return Result(  # by position: a third cheaper than by keyword, on every reading
            reading.timestamp,
            self.score,
            Status.ACTIVE if active else Status.LEARNING,
            reading.power,
            self._pattern.expected_power(reading),
            self._baseload.value,
            self._finding,
            1.0 if active else consumption.learning_progress,
        )

    def to_state(self) -> dict[str, Any]:
        """What was learned (and the user's options) as JSON-ready data; no tuning defaults."""
        return {
            "version": STATE_VERSION,
            "options": self.config.options(),
            "last_epoch": self._last_epoch,
            "history_days": self._history_days,
            "history_end": self._history_end,
            **{check.key: check.to_state() for check in self._checks()},
        }

    def _checks(
        self,
    ) -> tuple[FaultCheck, PowerQualityCheck, ConsumptionCheck, PatternCheck, BaseloadCheck]:
        return (
            self._faults,
            self._power_quality,
            self._consumption,
            self._pattern,
            self._baseload,
        )

    @classmethod
    def from_state(cls, state: object, config: DetectorConfig | None = None) -> Detector:
        """Restore a detector saved by `to_state`, with the current tuning defaults.

        `config` overrides the stored user options. Raises StateError (a ValueError) for a state
        of an unknown format version or one that is not valid.
        """
        if not isinstance(state, dict):
            raise StateError("the detector state is not an object")
        state = upgrade(state)
        if state.get("version") != STATE_VERSION:
            raise StateError(f"unsupported detector state version {state.get('version')!r}")
        header = load_state(_Header, {key: state[key] for key in _HEADER_KEYS if key in state})
        config = config or DetectorConfig.from_options(header.options)
        detector = cls(config)
        detector._last_epoch = header.last_epoch
        if header.history_days < 0:
            raise StateError("the detector state has a negative number of history days")
        detector._history_days, detector._history_end = header.history_days, header.history_end
        try:
            detector._faults = FaultCheck.from_state(state["faults"], config)
            detector._power_quality = PowerQualityCheck.from_state(state["power_quality"], config)
            detector._consumption = ConsumptionCheck.from_state(state["consumption"], config)
            detector._pattern = PatternCheck.from_state(state["pattern"], config)
            detector._baseload = BaseloadCheck.from_state(state["baseload"], config)
        except KeyError as err:
            raise StateError(f"the detector state has no {err}") from err
        return detector


@dataclass(slots=True)
class _Header:
    """The engine's own part of the stored state."""

    version: int
    options: dict[str, float | None]
    last_epoch: float | None
    history_days: int = 0  # absent from states stored before history was learned
    history_end: float | None = None


_HEADER_KEYS = tuple(spec.name for spec in fields(_Header))
