"""The detector: every reading goes through every check; one verdict per reading comes out.

Checks, in priority order (the verdict's finding is the first one in alarm, see `Kind`):

1. meter_fault (`faults.py`): zeros, negatives without production, a frozen value, gaps;
2. power_quality (`power_quality.py`): voltage outside the grid's nominal (230 V, or 120 V)
   +/- 10 %, current above the fuse;
3. unusual_consumption (`consumption.py`): power that stays above what this home draws at this
   time of day;
4. new_pattern (`parx.py`): the last 24 hours do not follow the daily pattern PARX predicts
   (temperature is used when readings carry it);
5. baseload (`baseload.py`): a lasting step up of the always-on power.

Readings during a meter fault teach neither the consumption model nor PARX. The learned models
alarm only once they know the home: two weeks of data, as the consumption model compares with
the last 14 days (PARX's alarms wait for it too; baseload waits for 14 nights of its own); until
then the consumption check alarms only on a load far above anything the home drew so far. The
fault and power-quality rules need no model of the home and alarm from the start (the zero and
frozen-value rules first watch the home for a day). The score is the highest of the checks'
scores: 1 is the bar at which a check alarms.

Before the first live reading the detector can learn from coarse history (`history.py`): days
of history count towards the learning period like days of live readings.

Times of day are the readings' own wall clock: pass local timestamps (Tibber does).

The household answers back (`feedback.py`), and the engine applies it:

- **Sensitivity** moves the alarm bar of the learned checks (consumption, pattern, baseload) by
  the factor `config.SENSITIVITY_BARS` gives (LOW 1.5, HIGH 0.7); the result's score is on the
  moved bar's scale, so 1 is still where it alarms. Meter-fault and power-quality rules keep their
  limits.
- **GUESTS**: the consumption and pattern checks do not judge the readings and do not learn
  them, so the guests' day does not become the home's normal. (A raised bar is not enough: the
  hour-long mean's margin is 200 W, so a guest-room heater is several times past it even at
  twice the bar.) Faults, power quality and baseload watch as always.
- **AWAY**: the same, and instead any load clearly above what runs on its own at night (the
  baseload, the fridge, a heat pump cycling) for a few minutes alarms as unusual consumption
  (`feedback.AwayWatch`).
- In both, the consumption check is fed the power the pattern model expected for the hour in
  place of each reading (`Feedback.stand_in`): the day still counts as a day of the home (a
  holiday does not start the learning period again) but teaches only what the home usually
  does. PARX is not fed: it leaves the hours out.
- **PAUSED**: no alarms; every check goes on learning as in NORMAL (meter faults still keep
  their readings from the models).
- Silenced kinds and episodes marked normal never become the verdict's finding.
"""

from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields, replace
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from .baseload import BaseloadCheck
from .check import Epoch, StateError, load_state
from .config import HOUR_S, NOMINAL_V, SENSITIVITY_BARS, DetectorConfig
from .consumption import ConsumptionCheck
from .faults import FaultCheck
from .feedback import Feedback
from .history import HistoryLearner
from .migrate import upgrade
from .model import (
    NO_PHASES,
    Finding,
    HistoryRow,
    HistorySummary,
    Kind,
    Mode,
    Reading,
    Result,
    Sensitivity,
    Status,
)
from .parx import PatternCheck
from .power_quality import PowerQualityCheck
from .validation import plausible_part

STATE_VERSION = 3
# A reading this far (s) after the previous one is held until the next reading confirms the new
# time: one reading stamped years ahead must not make every later reading "older" and ignored.
MAX_UNCONFIRMED_JUMP_S = HOUR_S
NOTHING_FOUND = (None, None, None, None, None)  # every check's finding when all is normal


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
        # A restart (epoch) to tell the fault check once the held reading is taken or dropped
        self._restart_at: float | None = None
        self._finding: Finding | None = None
        self._highest = self._rounded = 0.0  # the checks' highest score, and it rounded (`score`)
        self._history_days = 0  # days learned from history ("learned from N days of history")
        self._history_end: float | None = None  # epoch where the learned history ends
        self._feedback = Feedback()
        # Every check's finding after the last reading; None when not known: restored, and no
        # reading taken since (the findings are not stored)
        self._findings: tuple[Finding | None, ...] | None = ()
        self._bar = 1.0  # the learned checks' alarm bar (the sensitivity's)
        self._set_bars()

    @property
    def mode(self) -> Mode:
        """The household's mode; NORMAL again once a reading is stamped at or after its end."""
        return self._feedback.mode_at(self._last_epoch)

    @property
    def mode_until(self) -> datetime | None:
        """When the mode ends (None: until changed, or NORMAL)."""
        return self._feedback.until if self.mode is not Mode.NORMAL else None

    def set_mode(self, mode: Mode, until: datetime | None = None) -> None:
        """Set the household's mode until `until` (aware; None: until changed, GUESTS a day).

        The verdict is made again at once: paused, the alarm ends now, not at the next reading
        taken (a reading refused or held until confirmed is not).
        """
        self._feedback.set_mode(mode, until, self._last_epoch)
        if self._findings is not None:  # else the next reading gives the verdict
            guarded = self._feedback.mode in {Mode.GUESTS, Mode.AWAY}
            if guarded and len(self._findings) == len(NOTHING_FOUND):
                # Consumption and the daily pattern are not judged with guests or away: what
                # they found before (paused, a guests' dinner) is not this mode's alarm
                fault, quality, _, _, baseload = self._findings
                self._findings = (fault, quality, None, None, baseload)
            self._finding = self._feedback.verdict(self._findings, self._last_epoch or 0.0)

    @property
    def sensitivity(self) -> Sensitivity:
        """How readily the learned checks alarm."""
        return self._feedback.sensitivity

    def set_sensitivity(self, sensitivity: Sensitivity) -> None:
        """Move the alarm bar of the learned checks (`config.SENSITIVITY_BARS`)."""
        self._feedback.sensitivity = sensitivity
        self._set_bars()

    @property
    def silenced(self) -> frozenset[Kind]:
        """The kinds that never become the verdict's finding."""
        return self._feedback.silenced

    def set_silenced(self, kind: Kind, silenced: bool) -> None:
        """Silence one kind of finding (its score is still shown), or hear it again."""
        self._feedback.set_silenced(kind, silenced)
        if self._findings is not None:  # else the next reading gives the verdict
            self._finding = self._feedback.verdict(self._findings, self._last_epoch or 0.0)

    def restarted_at(self, moment: datetime) -> None:
        """Home Assistant (re)started at `moment` (a restored detector, before its first reading).

        The silence since the last reading is then counted as a meter's gap only from `moment`:
        the time Home Assistant was off says nothing about the meter.
        """
        epoch = moment.timestamp()
        if self._held is not None and self._held.epoch < epoch:
            # A reading held through the restart came after a silence of the meter's: the
            # restart's silence is counted from the reading after it
            self._restart_at = epoch
        else:
            self._faults.restarted_at(epoch)

    def judge_against(self, nominal_v: float) -> None:
        """Judge the phases against the grid of `nominal_v` (V) from now on.

        A power sensor home whose voltage sensors gave no value on the form learns its grid from
        their first readings. A voltage episode open against the grid before starts afresh, as
        in a state restored under another grid (`PowerQualityCheck.from_state`): it was judged
        against limits the phase never crossed.
        """
        judged_at, self.config = self.config.nominal_v, replace(self.config, nominal_v=nominal_v)
        self._power_quality = PowerQualityCheck.from_state(
            self._power_quality.to_state(), self.config, judged_at=judged_at
        )

    def mark_normal(self) -> Finding | None:
        """The current, else the latest, episode was normal: it ends now and is learned.

        Returns the episode marked (None when there was none); the latest one marked already is
        returned again, and nothing is learned twice. See `feedback.py` for what is learned: the
        same load at the same time no longer alarms.
        """
        marked = self._feedback.mark_normal(self._finding, self._findings, self._last_epoch)
        if self._findings is not None:  # else the next reading gives the verdict
            self._finding = self._feedback.verdict(self._findings, self._last_epoch or 0.0)
        return marked

    def _set_bars(self) -> None:
        """Set the learned checks' alarm bar for the sensitivity."""
        self._bar = bar = SENSITIVITY_BARS[self._feedback.sensitivity]
        self._consumption.bar = self._pattern.model.bar = self._baseload.bar = bar

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
        """ACTIVE once the consumption model has learned enough days.

        It goes back to LEARNING only when fewer than half of its last two weeks had readings
        (Home Assistant off for over a week): a day or a weekend without readings keeps it active.
        """
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
        The learned checks' score in NORMAL and PAUSED (every check fed) is worked out here,
        without a call: it is asked for after every reading.
        """
        mode = self._feedback.mode
        learned = (
            max(self._consumption.score, self._pattern.score, self._baseload.score) / self._bar
            if mode is Mode.NORMAL or mode is Mode.PAUSED
            else self._guarded_score(mode)
        )
        highest = max(self._faults.score, self._power_quality.score, learned)
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
        learned from; it gets the current verdict. One whose only implausible values are optional
        ones is taken without them. A reading more than an hour after the previous
        one is held until the very next reading confirms the clock moved on (a later time within
        the hour after it: then both are taken); otherwise it was a stray time and is dropped.
        """
        if (taken := plausible_part(reading)) is not None:
            self.take_plausible(taken)
        elif self._held is not None:
            self._held = None
            self._tell_restart()
        return self._result(reading)

    def update_plausible(self, reading: Reading) -> Result:
        """`update` for a reading its caller found plausible (`reading_problem` returned None).

        For the Home Assistant runner, which checks every reading against the host's clock
        first (and warns about the ones it rejects): the check is not made a second time.
        """
        self.take_plausible(reading)
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
            if held is not None:
                self._tell_restart()
            return
        if last is not None and epoch - last > MAX_UNCONFIRMED_JUMP_S:
            after_held = None if held is None else epoch - held.epoch
            if held is None or after_held is None or not 0 < after_held <= MAX_UNCONFIRMED_JUMP_S:
                self._held = reading
                self._tell_restart()
                return
            self._take(held)
        if self._restart_at is not None:  # after the held reading: its silence was the meter's
            self._tell_restart()
        self._take(reading)

    def _tell_restart(self) -> None:
        """Tell the fault check of a restart that waited for the reading held through it."""
        if self._restart_at is not None:
            self._faults.restarted_at(self._restart_at)
            self._restart_at = None

    def _take(self, reading: Reading) -> None:
        """Run every check the mode wants on a plausible reading that is in time order."""
        self._last_epoch = reading.epoch
        feedback = self._feedback
        mode = feedback.mode
        if mode is not Mode.NORMAL:  # nothing to end in the common case
            feedback.expire(reading)
            mode = feedback.mode
        fault = self._faults.update(reading)
        quality = self._power_quality.update(reading)
        consumption = pattern = None
        if fault is None:
            feedback.away.learn(reading)
            if mode is Mode.NORMAL or mode is Mode.PAUSED:  # the common case, inline
                consumption = self._consumption.update(reading)
                pattern = self._pattern.update(reading)
            else:
                consumption = self._stand_in(reading, mode)
        # A faulty meter's readings (a frozen value) teach the baseload nothing, as they teach
        # the other checks nothing
        baseload = self._baseload.update(reading) if fault is None else None
        if pattern is not None and not self._consumption.active:  # learning: no pattern alarm yet
            pattern = None
        if (
            fault is None
            and quality is None
            and consumption is None
            and pattern is None
            and baseload is None
            and not feedback.cleared
        ):  # all is normal (the common case): nothing to weigh
            self._findings, self._finding = NOTHING_FOUND, None
        else:
            self._findings = findings = (fault, quality, consumption, pattern, baseload)
            self._finding = feedback.verdict(findings, reading.epoch)

    def _stand_in(self, reading: Reading, mode: Mode) -> Finding | None:
        """With guests or away: the consumption check sees the usual power; Away's finding."""
        usual = self._feedback.stand_in(reading, self._pattern.expected_power(reading))
        if usual is not None:
            self._consumption.update(usual)
        if mode is Mode.AWAY:
            return self._feedback.away.update(reading, self._baseload.value)
        return None

    def _guarded_score(self, mode: Mode) -> float:
        """With guests or away: the learned checks' highest score, on the sensitivity's bar.

        Consumption and pattern are not fed then; away, the away watch's score counts instead.
        """
        if mode is Mode.AWAY:  # the away watch's score is on its own bar
            return max(self._feedback.away.score, self._baseload.score / self._bar)
        return self._baseload.score / self._bar

    def _result(self, reading: Reading) -> Result:
        consumption = self._consumption
        active = consumption.active
        expected = self._pattern.expected_power(reading)
        if expected is not None and (floor := self._baseload.floor) is not None:
            # Never below what the home always draws: a daily pattern fitted through two
            # weekend lunches and a quiet day can predict 0 W for a noon hour
            expected = max(expected, floor)
        return Result(  # by position: a third cheaper than by keyword, on every reading
            reading.timestamp,
            self.score,
            Status.ACTIVE if active else Status.LEARNING,
            reading.power,
            expected,
            self._baseload.value,
            self._finding,
            1.0 if active else consumption.learning_progress,
            self.mode,
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
            Feedback.key: self._feedback.to_state(),
            "held": None if self._held is None else asdict(_Held.of(self._held)),
        }

    def household_state(self) -> dict[str, Any]:
        """What the household said (`Feedback.to_state`).

        Compared before and after a command, it tells whether the command changed anything.
        """
        return self._feedback.to_state()

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

        `config` overrides the stored user options and grid. Raises StateError (a ValueError) for
        a state of an unknown format version or one that is not valid.
        """
        if not isinstance(state, dict):
            raise StateError("the detector state is not an object")
        state = upgrade(state)
        if state.get("version") != STATE_VERSION:
            raise StateError(f"unsupported detector state version {state.get('version')!r}")
        header = load_state(_Header, {key: state[key] for key in _HEADER_KEYS if key in state})
        try:
            config = config or DetectorConfig.from_options(header.options)
        except ValueError as err:  # a fuse of 0 A, say
            raise StateError(f"the stored options are not valid: {err}") from err
        detector = cls(config)
        detector._last_epoch = header.last_epoch
        detector._findings = None
        if header.history_days < 0:
            raise StateError("the detector state has a negative number of history days")
        detector._history_days, detector._history_end = header.history_days, header.history_end
        try:
            detector._faults = FaultCheck.from_state(state["faults"], config)
            detector._power_quality = PowerQualityCheck.from_state(
                state["power_quality"], config, judged_at=header.options.get("nominal_v", NOMINAL_V)
            )
            detector._consumption = ConsumptionCheck.from_state(state["consumption"], config)
            detector._pattern = PatternCheck.from_state(state["pattern"], config)
            detector._baseload = BaseloadCheck.from_state(state["baseload"], config)
        except KeyError as err:
            raise StateError(f"the detector state has no {err}") from err
        if Feedback.key in state:  # absent from states stored before the household could answer
            detector._feedback = Feedback.from_state(state[Feedback.key])
        if (held := state.get("held")) is not None:  # absent from states stored before it was
            detector._held = load_state(_Held, held).reading()
        detector._set_bars()
        return detector


@dataclass(slots=True)
class _Header:
    """The engine's own part of the stored state."""

    version: int
    options: dict[str, float | None]
    last_epoch: Epoch | None
    history_days: int = 0  # absent from states stored before history was learned
    history_end: Epoch | None = None


_HEADER_KEYS = tuple(spec.name for spec in fields(_Header))


@dataclass(slots=True)
class _Held:
    """A reading held after a silence until the next one confirms it, as plain data.

    Stored, so that a detector restored meanwhile goes on as the one saved: with the reading
    confirmed by the next, and the silence before it found as a gap. Its time zone is kept by
    its name (a fixed offset when it has none), for the local hour and day of its checks.
    """

    epoch: Epoch
    zone: str | None
    offset_s: float
    power: float
    power_production: float | None
    voltage: list[float | None]
    current: list[float | None]
    temperature: float | None

    @classmethod
    def of(cls, reading: Reading) -> _Held:
        """The held `reading` as plain data."""
        moment = reading.timestamp
        offset = moment.utcoffset() or timedelta()
        zone = moment.tzinfo.key if isinstance(moment.tzinfo, ZoneInfo) else None
        return cls(
            reading.epoch,
            zone,
            offset.total_seconds(),
            reading.power,
            reading.power_production,
            list(reading.voltage),
            list(reading.current),
            reading.temperature,
        )

    def reading(self) -> Reading:
        """The held reading again; StateError for a zone, phases or values it cannot have had."""
        if len(self.voltage) != len(self.current) or len(self.voltage) != len(NO_PHASES):
            raise StateError("the held reading has not three phases")
        try:
            zone = (
                ZoneInfo(self.zone)
                if self.zone is not None
                else timezone(timedelta(seconds=self.offset_s))
            )
        except (KeyError, ValueError) as err:  # an unknown zone (a KeyError), an offset of days
            raise StateError(f"the held reading's time zone is not valid: {err}") from err
        stored = Reading(
            datetime.fromtimestamp(self.epoch, zone),
            self.power,
            self.power_production,
            (self.voltage[0], self.voltage[1], self.voltage[2]),
            (self.current[0], self.current[1], self.current[2]),
            self.temperature,
        )
        # Held readings are plausible ones: a damaged state's must not bypass `validation.py`
        if (reading := plausible_part(stored)) != stored or reading is None:
            raise StateError("the held reading is not a plausible one")
        return reading
