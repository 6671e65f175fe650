"""A synthetic household, minute by minute, for the detector's specifications.

Ordinary days have standby (~150 W), a fridge cycling 15 min in 45, lights and a 2 kW kettle
at breakfast (around 07:30), an oven at dinner (around 17:30) and lights until 23:00.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, timezone

import numpy as np

from custom_components.energy_anomaly.detector.engine import Detector
from custom_components.energy_anomaly.detector.model import Reading, Result

TZ = timezone(timedelta(hours=1))
START = datetime(2024, 1, 8, tzinfo=TZ)  # a Monday, midnight
DAY = 1440  # minutes


def at(day: int, hour: int, minute: int = 0) -> int:
    """The minute index of `hour:minute` on `day` (0-based) since START."""
    return day * DAY + hour * 60 + minute


def normal_days(days: int, seed: int = 0) -> np.ndarray:
    """Per-minute power (W) of `days` ordinary days."""
    rng = np.random.default_rng(seed)
    minutes = np.arange(days * DAY)
    power = 150.0 + rng.normal(0.0, 5.0, minutes.size)
    power += 100.0 * ((minutes + rng.integers(45)) % 45 < 15)
    for day in range(days):
        power[at(day, 6, 45) : at(day, 8)] += 120.0
        kettle = at(day, 7, 30) + rng.integers(-15, 16)
        power[kettle : kettle + 3] += 2000.0
        dinner = at(day, 17, 30) + rng.integers(-15, 16)
        power[dinner : dinner + 10] += 2000.0
        power[dinner + 10 : dinner + 40 : 2] += 2000.0  # the oven's thermostat
        power[at(day, 17) : at(day, 23)] += 200.0
    return power


def with_load(power: np.ndarray, start: int, minutes: int, watts: float) -> np.ndarray:
    """A copy of `power` with an appliance drawing `watts` for `minutes` from minute `start`."""
    changed = power.copy()
    changed[start : start + minutes] += watts
    return changed


def readings(power: np.ndarray, spacing_s: float = 60.0, first_s: float = 0.0) -> list[Reading]:
    """Readings every `spacing_s` seconds from `first_s`, each showing that minute's power."""
    offsets = np.arange(first_s, power.size * 60.0, spacing_s)
    return [
        Reading(
            timestamp=START + timedelta(seconds=float(offset)),
            power=float(power[int(offset // 60)]),
        )
        for offset in offsets
    ]


def run(detector: Detector, stream: Iterable[Reading]) -> list[Result]:
    """Feed every reading in order; the results, one per reading."""
    return [detector.update(reading) for reading in stream]


def minute_of(result: Result) -> float:
    """Minutes since START of a result."""
    return (result.timestamp - START).total_seconds() / 60


def first_alarm(results: Sequence[Result]) -> Result | None:
    """The first result with the anomaly flag on, if any."""
    return next((result for result in results if result.anomaly), None)
