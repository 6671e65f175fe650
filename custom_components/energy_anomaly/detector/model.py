"""The detector's vocabulary: a reading goes in, a result comes out."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Status(StrEnum):
    """Whether the detector has learned enough to raise alarms."""

    LEARNING = "learning"
    ACTIVE = "active"


@dataclass(frozen=True, slots=True)
class Reading:
    """One live measurement of a home, as the meter reported it.

    Phase values are None when the meter does not report that phase. `temperature` is the outdoor
    temperature (°C) when the user chose a temperature entity.
    """

    timestamp: datetime
    power: float
    power_production: float | None = None
    voltage: tuple[float | None, float | None, float | None] = (None, None, None)
    current: tuple[float | None, float | None, float | None] = (None, None, None)
    temperature: float | None = None


@dataclass(frozen=True, slots=True)
class Result:
    """The detector's verdict right after one reading.

    `score` is one number a user can graph (0 = normal, higher = more unusual). `anomaly` is the
    binary sensor's state; `kind` and `reason` say why when it is on. `expected` is the power (W)
    the model expected, None until it knows. `baseload` is the home's always-on power (W) as
    last estimated, None until known.
    """

    timestamp: datetime
    score: float
    anomaly: bool
    status: Status
    observed: float
    expected: float | None = None
    kind: str | None = None
    reason: str | None = None
    baseload: float | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """One check's alarm right after a reading: what kind, why, and how unusual.

    A check (meter faults, power quality, baseload, ...) returns a Finding while its condition
    holds and None otherwise; the engine turns findings into the Result the user sees.
    `expected` is the value (W, V or A) the check considered normal, when it has one.
    """

    kind: str
    reason: str
    score: float
    expected: float | None = None
