"""The household answers back: a mode, silenced kinds, and episodes marked normal.

The checks find what is unusual for the home; only the household knows that the sauna on Saturday
evening is theirs, that guests come tomorrow or that nobody is home. `Feedback` keeps what they
said and decides which of the checks' findings becomes the verdict:

- **Silenced kinds** never become the verdict's finding; their score is still shown, and a
  silenced meter fault still keeps its readings from teaching the models.
- **Marked normal** (`mark_normal`): the episode ends now (its kind stays quiet until its check
  reports nothing for a reading), and an *allowance* is learned. Marked again (a notification's
  button pressed twice, or after the dashboard marked it) it is answered as marked, and nothing
  changes: it is not learned twice. For unusual consumption and a new pattern the allowance covers
  the same weekday, the episode's start time of day +/- `REACH_MIN` and a load up to `POWER_FACTOR`
  times the one marked: the same sauna next Saturday stays quiet, a clearly larger load or another
  hour still alarms. For a baseload step it covers that baseload at any time (the new fridge is
  always on). Meter faults and power quality are facts about the meter and the grid, not habits:
  marking one ends the episode and learns nothing. Allowances are forgotten `KEEP_S` after they
  last covered anything (a weekly habit keeps its own alive); at most `MAX_ALLOWANCES` are kept
  (the longest unused goes first).
- **Mode**: NORMAL; GUESTS (looser for a day, `GUESTS_S` unless an end is given); AWAY (see
  `AwayWatch`); PAUSED (no alarms). A mode with an end falls back to NORMAL at the first reading
  stamped at or after it: the engine has no clock of its own. What each mode does to the checks
  is the engine's business (`engine.py`).

Everything is stored with the detector's state and validated when restored.
"""

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from statistics import median
from typing import Any, Self

from .check import DateOrdinal, Epoch, EpochMinute, Mean, StateError, load_state
from .config import DAY_S, MINUTE_S
from .model import Cause, Finding, Kind, Mode, Reading, Sensitivity

REACH_MIN = 60  # an allowance covers an episode starting this many minutes either side
POWER_FACTOR = 1.25  # ... drawing up to this many times the marked episode's power
KEEP_S = 6 * 7 * DAY_S  # forgotten after six weeks without covering anything
MAX_ALLOWANCES = 32  # a household marks a few habits, not hundreds
GUESTS_S = DAY_S  # guests without a given end: a day
MINUTES_PER_DAY = 1440
HOURS_PER_DAY = 24
DAYS_PER_WEEK = 7

TIMED_KINDS = frozenset({Kind.UNUSUAL_CONSUMPTION, Kind.NEW_PATTERN})  # habits at a time of day
LASTING_KINDS = frozenset({Kind.BASELOAD})  # always on: allowed at any time

AWAY_MARGIN_W = 300.0  # a fridge and a freezer compressor running together, with room
AWAY_MARGIN_SHARE = 1.0  # heating that cycles around the baseload doubles it at most
AWAY_NIGHT_HOURS = (0, 5)  # local hours [from, to) when what runs on its own is learned
AWAY_WINDOW_MIN = 15  # minutes of the running mean whose nightly peak is learned
AWAY_NIGHTS = 14  # nights kept (a fortnight, like the baseload's)
AWAY_MIN_NIGHTS = 3  # nights before their peaks count
AWAY_PEAK_FACTOR = 1.2  # room above a usual night's peak: a day may heat a little more
AWAY_PERSISTENCE_S = 300.0  # a few minutes: no compressor start or defrost lasts that long
AWAY_RECOVER_S = 60.0  # a dip below the bar shorter than this does not end the run


@dataclass(slots=True)
class Allowance:
    """An episode the household marked normal, as what covers it again.

    `weekday` (Monday = 0) and `minute` (of the day) are None for a kind allowed at any time.
    `observed` is the marked episode's value (W); `used` the epoch it last covered a finding.
    """

    kind: str
    cause: str
    weekday: int | None
    minute: int | None
    observed: float
    used: Epoch

    def covers(self, finding: Finding) -> bool:
        """Whether `finding` is the same load at the same time as the marked episode."""
        if finding.kind != self.kind or finding.cause != self.cause:
            return False
        if finding.observed is None or finding.observed > self.observed * POWER_FACTOR:
            return False
        if self.weekday is None or self.minute is None:
            return True
        since = finding.since
        minute = since.hour * 60 + since.minute
        apart = abs(minute - self.minute)
        return since.weekday() == self.weekday and min(apart, MINUTES_PER_DAY - apart) <= REACH_MIN


def allowance_of(finding: Finding, now: float) -> Allowance | None:
    """What marking `finding` normal allows from now on (None: a fault, nothing to learn)."""
    if finding.observed is None or finding.kind not in TIMED_KINDS | LASTING_KINDS:
        return None
    if finding.kind in LASTING_KINDS:
        return Allowance(finding.kind, finding.cause, None, None, finding.observed, now)
    since = finding.since
    minute = since.hour * 60 + since.minute
    return Allowance(finding.kind, finding.cause, since.weekday(), minute, finding.observed, now)


@dataclass(slots=True)
class AwayState:
    """The empty home's learned nights and the load in progress, as plain data.

    `since`, `last_above` and `power`: a load above the bar (epoch s, epoch s, W); `base` and
    `bar`: the baseload and the bar (W) when it began, which it is judged against (0: not kept,
    in a state stored before they were). `minute`,
    `minute_night`, `minute_power`: the open minute, its night (date ordinal, None outside the
    night) and its power. `recent`: the night's last minute means (W); `night_peak` its highest
    `AWAY_WINDOW_MIN`-minute mean so far; `peaks` those of the last `AWAY_NIGHTS` nights.
    """

    since: Epoch | None = None
    last_above: float = 0.0
    power: Mean = field(default_factory=Mean)
    base: float = 0.0
    bar: float = 0.0
    minute: EpochMinute | None = None
    minute_night: DateOrdinal | None = None
    minute_power: Mean = field(default_factory=Mean)
    night: DateOrdinal | None = None
    recent: list[float] = field(default_factory=list)
    night_peak: float | None = None
    peaks: list[float] = field(default_factory=list)


class AwayWatch:
    """While nobody is home, any load beyond what runs on its own is worth knowing.

    What runs on its own is learned from the nights (00:00-05:00, as for the baseload), when
    nobody is busy: the fridge, the freezer, a heat pump or heaters cycling. The bar is the
    highest of the learned baseload plus max(`AWAY_MARGIN_W`, `AWAY_MARGIN_SHARE` x baseload),
    and `AWAY_PEAK_FACTOR` x the median over recent nights of their highest `AWAY_WINDOW_MIN`-
    minute mean (once `AWAY_MIN_NIGHTS` are known). Power above the bar for `AWAY_PERSISTENCE_S`
    (dips shorter than `AWAY_RECOVER_S` do not count) alarms as unusual consumption, observed =
    the load's mean, expected = the bar it crossed (kept while it lasts). Before the first night
    there is no baseload and no bar.
    The nights are learned in every mode: an empty home's night is a night like any other.
    """

    def __init__(self, state: AwayState | None = None) -> None:
        """Start with nothing learned (or continue from `state`)."""
        self.state = state or AwayState()
        self._score = 0.0

    @property
    def score(self) -> float:
        """The load's excess over the baseload, over the bar's (1 at the bar; 0 without)."""
        return self._score

    def learn(self, reading: Reading) -> None:
        """Take one reading (every mode, not during a meter fault) into the nights' peaks."""
        s = self.state
        minute = int(reading.epoch // MINUTE_S)
        if minute == s.minute:
            if s.minute_night is not None:  # added in place (cheaper than `Mean.add`)
                night = s.minute_power
                night.total += reading.power
                night.count += 1
            return
        self._close_minute()
        moment = reading.timestamp
        in_night = AWAY_NIGHT_HOURS[0] <= moment.hour < AWAY_NIGHT_HOURS[1]
        s.minute, s.minute_power = minute, Mean()
        s.minute_night = moment.date().toordinal() if in_night else None
        if in_night:
            s.minute_power.add(reading.power)

    def _close_minute(self) -> None:
        """Fold the closed minute into its night; a minute of another night closes the last."""
        s = self.state
        mean = s.minute_power.mean
        if s.minute_night != s.night:
            if s.night_peak is not None:
                s.peaks = [*s.peaks, round(s.night_peak, 1)][-AWAY_NIGHTS:]
            s.night, s.recent, s.night_peak = s.minute_night, [], None
        if s.night is None or mean is None:
            return
        s.recent = [*s.recent, mean][-AWAY_WINDOW_MIN:]
        if len(s.recent) == AWAY_WINDOW_MIN:
            level = sum(s.recent) / AWAY_WINDOW_MIN
            s.night_peak = level if s.night_peak is None else max(s.night_peak, level)

    def bar(self, baseload: float) -> float:
        """The power (W) above which a load in the empty home is unusual."""
        bar = baseload + max(AWAY_MARGIN_W, AWAY_MARGIN_SHARE * baseload)
        if len(self.state.peaks) >= AWAY_MIN_NIGHTS:
            bar = max(bar, AWAY_PEAK_FACTOR * median(self.state.peaks))
        return bar

    def update(self, reading: Reading, baseload: float | None) -> Finding | None:
        """Take one reading while away; a Finding once a load stayed above the bar long enough."""
        s, now = self.state, reading.epoch
        if baseload is None:
            self.reset()
            return None
        if s.since is None or not s.bar:
            bar = self.bar(baseload)
            if s.since is not None:  # a load of a state stored before its bar was kept
                s.base, s.bar = baseload, bar
        else:
            # Judged against the bar it crossed: a load on all night is learned as the night's
            # baseload at 05:00, and the bar of then would say it is below it
            baseload, bar = s.base, s.bar
        if reading.power > bar:
            if s.since is None:
                s.since, s.power, s.base, s.bar = now, Mean(), baseload, bar
            s.last_above = now
            s.power.add(reading.power)
        elif s.since is not None and now - s.last_above > AWAY_RECOVER_S:
            self.reset()
        mean = s.power.mean
        if s.since is None or mean is None or s.last_above - s.since < AWAY_PERSISTENCE_S:
            self._score = 0.0
            return None
        self._score = (mean - baseload) / (bar - baseload)
        since = datetime.fromtimestamp(s.since, reading.timestamp.tzinfo)
        return Finding(
            Kind.UNUSUAL_CONSUMPTION,
            Cause.LOAD_WHILE_AWAY,
            max(self._score, 1.0),
            since,
            round(mean, 1),
            round(bar, 1),
            "W",
            {"baseload_w": round(baseload, 1)},
        )

    def reset(self) -> None:
        """No load in progress (the mode changed, or the power fell back)."""
        s = self.state
        s.since, s.last_above, s.power, s.base, s.bar = None, 0.0, Mean(), 0.0, 0.0
        self._score = 0.0


@dataclass(slots=True)
class _StoredFinding:
    """A finding as plain data: enums by value, `since` in ISO 8601 with its offset."""

    kind: str
    cause: str
    score: float
    since: str
    observed: float | None
    expected: float | None
    unit: str
    facts: dict[str, float]


@dataclass(slots=True)
class _Stored:
    """The stored form of `Feedback` (validated on restore); absent from older states."""

    mode: str = Mode.NORMAL
    mode_until: str | None = None
    sensitivity: str = Sensitivity.NORMAL
    silenced: list[str] = field(default_factory=list)
    cleared: list[str] = field(default_factory=list)
    allowances: list[Allowance] = field(default_factory=list)
    episode: _StoredFinding | None = None
    marked: bool = False
    away: AwayState = field(default_factory=AwayState)
    usual: list[float | None] = field(default_factory=lambda: [None] * HOURS_PER_DAY)


class Feedback:
    """What the household said, and the verdict it leaves of the checks' findings."""

    key = "feedback"

    def __init__(self) -> None:
        """Normal mode and sensitivity, nothing silenced, marked or in progress."""
        self.mode = Mode.NORMAL
        self.until: datetime | None = None
        self.sensitivity = Sensitivity.NORMAL
        self.silenced: frozenset[Kind] = frozenset()
        self.cleared: set[Kind] = set()  # kinds whose episode in progress was marked normal
        self.allowances: list[Allowance] = []
        self.episode: Finding | None = None  # the latest verdict finding (what mark_normal takes)
        self.marked = False  # whether `episode` was marked normal
        self.away = AwayWatch()
        self.usual: list[float | None] = [None] * HOURS_PER_DAY  # W per local hour of day

    def stand_in(self, reading: Reading, expected: float | None) -> Reading | None:
        """What the consumption check sees in place of `reading` with guests in or nobody home.

        The power expected for the hour (W), else the last one expected for that hour of day (a
        long absence outlasts the pattern model's recent days); None if never known.
        """
        hour = reading.timestamp.hour
        if expected is None:
            expected = self.usual[hour]
        else:
            self.usual[hour] = expected
        if expected is None:
            return None
        return Reading(reading.timestamp, expected, temperature=reading.temperature)

    def set_mode(self, mode: Mode, until: datetime | None, last_epoch: float | None) -> None:
        """Change the mode; GUESTS without an end lasts `GUESTS_S` from the latest reading.

        A load in progress while away is followed afresh in another mode, but not when only the
        end moves: an automation that sets the home away again each morning, or a holiday made
        longer, must not restart the alarm of a load left on.
        """
        if until is not None and until.utcoffset() is None:
            raise ValueError("the end of a mode must be an aware datetime")
        if mode is Mode.NORMAL or (
            until is not None and last_epoch is not None and until.timestamp() <= last_epoch
        ):  # an end the readings have passed: NORMAL at once, as at the end of any mode
            mode, until = Mode.NORMAL, None
        elif mode is Mode.GUESTS and until is None and last_epoch is not None:
            until = datetime.fromtimestamp(last_epoch, UTC) + timedelta(seconds=GUESTS_S)
        if mode is not self.mode:  # the same mode with another end (away longer) goes on
            self.away.reset()
        self.mode, self.until = mode, until

    def mode_at(self, epoch: float | None) -> Mode:
        """The mode in force for a reading stamped `epoch`: NORMAL once its end has come."""
        if self.until is not None and epoch is not None and epoch >= self.until.timestamp():
            return Mode.NORMAL
        return self.mode

    def expire(self, reading: Reading) -> None:
        """Bring the mode to the reading's time: GUESTS gets its end, an ended mode is NORMAL."""
        if self.mode is Mode.NORMAL:  # the common case, every reading: nothing ends
            return
        if self.mode is Mode.GUESTS and self.until is None:  # a day from now, counted in UTC
            self.until = datetime.fromtimestamp(reading.epoch + GUESTS_S, reading.timestamp.tzinfo)
        if self.mode_at(reading.epoch) is not self.mode:
            self.set_mode(Mode.NORMAL, None, reading.epoch)

    def set_silenced(self, kind: Kind, silenced: bool) -> None:
        """Silence one kind, or let it be heard again."""
        self.silenced = self.silenced | {kind} if silenced else self.silenced - {kind}

    def verdict(self, findings: Sequence[Finding | None], now: float) -> Finding | None:
        """The first finding (in order of importance) the household has not answered.

        Updates which marked episodes are over, and remembers the verdict as the latest episode.
        """
        if self.cleared:
            self.cleared &= {f.kind for f in findings if f is not None}
        if self.mode is Mode.PAUSED:
            return None
        for finding in findings:
            if finding is not None and self._heard(finding, now):
                self.episode, self.marked = finding, False
                return finding
        return None

    def _heard(self, finding: Finding, now: float) -> bool:
        """Neither silenced, nor marked normal, nor covered by an allowance."""
        if finding.kind in self.silenced or finding.kind in self.cleared:
            return False
        for allowance in self.allowances:
            if allowance.used > now - KEEP_S and allowance.covers(finding):
                allowance.used = now
                return False
        return True

    def mark_normal(
        self, current: Finding | None, findings: Iterable[Finding | None] | None, now: float | None
    ) -> Finding | None:
        """Mark the current (else the latest) episode normal; returns it, None if there was none.

        The latest one marked already is returned as it is, and nothing changes: the household
        answering twice (a notification's button, the dashboard) said it once.
        `findings` are the checks' findings now (None when not known: right after a restore):
        the marked kind stays quiet while its check still reports it. `now` is the latest
        reading's epoch (when the allowance was last used).
        """
        if current is None and self.marked:
            return self.episode
        finding = current or self.episode
        if finding is None:
            return None
        self.episode, self.marked = finding, True
        if findings is None or any(f is not None and f.kind == finding.kind for f in findings):
            self.cleared.add(finding.kind)  # the next verdict ends it if its check is quiet
        stamp = now if now is not None else finding.since.timestamp()
        if (allowance := allowance_of(finding, stamp)) is not None:
            self._learn(allowance)
        return finding

    def _learn(self, allowance: Allowance) -> None:
        """Keep `allowance`, replacing one it makes redundant; forget stale and surplus ones."""
        kept = [
            a
            for a in self.allowances
            if a.used > allowance.used - KEEP_S
            and not (
                a.kind == allowance.kind
                and a.cause == allowance.cause
                and a.weekday == allowance.weekday
                and a.minute == allowance.minute
                and a.observed <= allowance.observed
            )
        ]
        kept.append(allowance)
        kept.sort(key=lambda a: a.used)
        self.allowances = kept[-MAX_ALLOWANCES:]

    def to_state(self) -> dict[str, Any]:
        """Everything the household said, as JSON-ready plain data."""
        return {
            "mode": self.mode.value,
            "mode_until": None if self.until is None else self.until.isoformat(),
            "sensitivity": self.sensitivity.value,
            "silenced": sorted(self.silenced),
            "cleared": sorted(self.cleared),
            "allowances": [asdict(a) for a in self.allowances],
            "episode": None if self.episode is None else _plain_finding(self.episode),
            "marked": self.marked,
            "away": asdict(self.away.state),
            "usual": list(self.usual),
        }

    @classmethod
    def from_state(cls, state: object) -> Self:
        """Restore what `to_state` wrote (StateError when it is not valid)."""
        stored = load_state(_Stored, state)
        feedback = cls()
        feedback.mode = _enum(Mode, stored.mode)
        feedback.until = None if stored.mode_until is None else _moment(stored.mode_until)
        feedback.sensitivity = _enum(Sensitivity, stored.sensitivity)
        feedback.silenced = frozenset(_enum(Kind, k) for k in stored.silenced)
        feedback.cleared = {_enum(Kind, k) for k in stored.cleared}
        for allowance in stored.allowances:
            _check_allowance(allowance)
        feedback.allowances = stored.allowances[-MAX_ALLOWANCES:]
        feedback.episode = None if stored.episode is None else _finding(stored.episode)
        if stored.marked and feedback.episode is None:
            raise StateError("feedback: an episode marked normal, but none kept")
        feedback.marked = stored.marked
        away = stored.away
        if len(away.recent) > AWAY_WINDOW_MIN or len(away.peaks) > AWAY_NIGHTS:
            raise StateError("feedback: more minutes or nights than the away watch keeps")
        if away.bar and away.bar <= away.base:  # the load's score divides by their difference
            raise StateError("feedback: an away load's bar is not above its baseload")
        feedback.away = AwayWatch(away)
        if len(stored.usual) != HOURS_PER_DAY or any(w is not None and w < 0 for w in stored.usual):
            raise StateError(f"feedback: usual power is not {HOURS_PER_DAY} hours of watts")
        feedback.usual = stored.usual
        return feedback


def _enum[E: (Mode, Sensitivity, Kind, Cause)](enum: type[E], value: str) -> E:
    try:
        return enum(value)
    except ValueError as err:
        raise StateError(f"feedback: {value!r} is not a {enum.__name__}") from err


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as err:
        raise StateError(f"feedback: {text!r} is not a time") from err
    if moment.utcoffset() is None:
        raise StateError(f"feedback: {text!r} has no UTC offset")
    return moment


def _check_allowance(allowance: Allowance) -> None:
    _enum(Kind, allowance.kind)
    _enum(Cause, allowance.cause)
    timed = (allowance.weekday, allowance.minute)
    if timed != (None, None) and (
        allowance.weekday is None
        or allowance.minute is None
        or not 0 <= allowance.weekday < DAYS_PER_WEEK
        or not 0 <= allowance.minute < MINUTES_PER_DAY
    ):
        raise StateError(f"feedback: an allowance at an impossible time {timed}")
    if allowance.observed < 0:
        raise StateError("feedback: an allowance for a negative power")


def _plain_finding(finding: Finding) -> dict[str, Any]:
    return asdict(
        _StoredFinding(
            finding.kind.value,
            finding.cause.value,
            finding.score,
            finding.since.isoformat(),
            finding.observed,
            finding.expected,
            finding.unit,
            dict(finding.facts),
        )
    )


def _finding(stored: _StoredFinding) -> Finding:
    return Finding(
        _enum(Kind, stored.kind),
        _enum(Cause, stored.cause),
        stored.score,
        _moment(stored.since),
        stored.observed,
        stored.expected,
        stored.unit,
        stored.facts,
    )
