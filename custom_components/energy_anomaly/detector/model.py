"""The detector's vocabulary: a reading goes in, findings and a result come out.

Findings carry facts, not sentences: which kind of anomaly, what caused it, since when, what was
observed and expected, and the numbers a sentence needs. `render.py` words them in English; the Home
Assistant shell may word them in the user's language.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Status(StrEnum):
    """Whether the detector has learned enough to raise consumption alarms."""

    LEARNING = "learning"
    ACTIVE = "active"


class Kind(StrEnum):
    """What sort of anomaly a finding is, in the order of importance (first = most important)."""

    METER_FAULT = "meter_fault"
    POWER_QUALITY = "power_quality"
    UNUSUAL_CONSUMPTION = "unusual_consumption"
    NEW_PATTERN = "new_pattern"
    BASELOAD = "baseload"


class Mode(StrEnum):
    """What the household says about the days ahead; decides what may alarm (see `feedback.py`).

    NORMAL: every check. GUESTS: looser for a day (see `engine.py`). AWAY: any load beyond the
    always-on power is unusual. PAUSED: no alarms, until the end the user gave.
    """

    NORMAL = "normal"
    GUESTS = "guests"
    AWAY = "away"
    PAUSED = "paused"


class Sensitivity(StrEnum):
    """How readily the learned checks alarm: a factor on their alarm bar (`config.py`)."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"


class Cause(StrEnum):
    """What exactly a check saw; decides how a finding is worded."""

    ZEROS = "zeros"
    NEGATIVE = "negative"
    FROZEN = "frozen"
    GAP = "gap"
    UNDERVOLTAGE = "undervoltage"
    OVERVOLTAGE = "overvoltage"
    LOST_PHASE = "lost_phase"
    OVERCURRENT = "overcurrent"
    HIGH_CONSUMPTION = "high_consumption"
    DAILY_PATTERN = "daily_pattern"
    BASELOAD_STEP = "baseload_step"
    LOAD_WHILE_AWAY = "load_while_away"


type Phases = tuple[float | None, float | None, float | None]
NO_PHASES: Phases = (None, None, None)  # a meter that reports no phase


@dataclass(frozen=True, slots=True, init=False)
class Reading:
    """One live measurement of a home, as the meter reported it.

    Phase values are None when the meter does not report that phase. `temperature` is the outdoor
    temperature (°C) when the user chose a temperature entity. `epoch` is the timestamp in seconds
    since 1970 (UTC), worked out once here because every check needs it.
    """

    timestamp: datetime
    power: float
    power_production: float | None = None
    voltage: Phases = NO_PHASES
    current: Phases = NO_PHASES
    temperature: float | None = None
    epoch: float = field(init=False, repr=False, compare=False)

    def __init__(  # noqa: PLR0917
        self,
        timestamp: datetime,
        power: float,
        power_production: float | None = None,
        voltage: Phases = NO_PHASES,
        current: Phases = NO_PHASES,
        temperature: float | None = None,
    ) -> None:
        """The generated `__init__`'s work and the epoch, without a `__post_init__` call.

        A reading is made for every row `scripts/score` reads: its fields are set as the frozen
        dataclass sets them, through `object.__setattr__`, the epoch with them.
        """
        set_field = object.__setattr__
        set_field(self, "timestamp", timestamp)
        set_field(self, "power", power)
        set_field(self, "power_production", power_production)
        set_field(self, "voltage", voltage)
        set_field(self, "current", current)
        set_field(self, "temperature", temperature)
        set_field(self, "epoch", timestamp.timestamp())


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """One aggregate of past consumption: [start, start + duration) on the home's wall clock.

    Home Assistant's recorder statistics (hourly, 5-minute) have mean, min and max; Tibber's hourly
    consumption is an energy, i.e. only the mean.
    """

    start: datetime  # aware
    duration_s: float  # 3600 (hourly) or 300 (5-minute)
    mean: float  # W
    minimum: float | None = None  # W, when known
    maximum: float | None = None  # W, when known
    temperature: float | None = None  # °C, outdoor


@dataclass(frozen=True, slots=True)
class HistorySummary:
    """What `Detector.learn_history` made of the rows it was given.

    `days` are the local days with used rows ("learned from N days of history"); `end` is the end
    of the last used row, None when none was used.
    """

    days: int
    used: int
    skipped: int
    end: datetime | None = None


# An unusual consumption's fact while learning: its `expected` is the most the home drew near this
# time of day (from a week of learning on), not at any hour
TIME_OF_DAY = "time_of_day"


@dataclass(frozen=True, slots=True)
class Finding:
    """One check's alarm right after a reading, as facts.

    `score` is how far past the check's alarm bar the condition is (1 = at the bar). `since` is
    when the condition began. `observed` and `expected` are in `unit` (W, V or A); `facts` holds
    the other numbers a sentence about it needs (durations in seconds, a phase number, ...).
    """

    kind: Kind
    cause: Cause
    score: float
    since: datetime
    observed: float | None
    expected: float | None
    unit: str = "W"
    facts: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Result:
    """The detector's verdict right after one reading.

    `score` is one number a user can graph (0 = normal, 1 = the bar at which a check alarms).
    `finding` is the most important check's alarm, None while nothing is unusual. `observed` is
    the reading's power (W); `expected` the power (W) the daily-pattern model expected for this
    hour, None until it knows; `baseload` the home's always-on power (W) as last estimated.
    `learning_progress` is the share (0..1) of the learning period done; `mode` the household's
    mode in force for this reading.
    """

    timestamp: datetime
    score: float
    status: Status
    observed: float
    expected: float | None = None
    baseload: float | None = None
    finding: Finding | None = None
    learning_progress: float = 1.0
    mode: Mode = Mode.NORMAL

    @property
    def anomaly(self) -> bool:
        """Whether the home is in an anomaly (the binary sensor's state)."""
        return self.finding is not None
