"""What the detector flags once it has learned a home, and what it leaves alone."""

from functools import cache
import re
import statistics

import pytest

from custom_components.energy_anomaly.detector.engine import Detector
from custom_components.energy_anomaly.detector.model import Result, Status

from .household import at, first_alarm, minute_of, normal_days, readings, run, with_load

HEATER_ON = at(2, 3)  # 03:00 on the third day, after the two-day learning period
HEATER_MINUTES = 180


@cache
def heater_night(spacing_s: float) -> tuple[Result, ...]:
    """Two ordinary days, then a 2 kW heater left on from 03:00 to 06:00; results until 08:00."""
    power = with_load(normal_days(3)[: at(2, 8)], HEATER_ON, HEATER_MINUTES, 2000.0)
    return tuple(run(Detector(), readings(power, spacing_s)))


def test_a_kettle_at_breakfast_every_day_never_raises_the_alarm() -> None:
    results = run(Detector(), readings(normal_days(4)))

    assert results[-1].status is Status.ACTIVE
    assert first_alarm(results) is None


@pytest.mark.parametrize("spacing_s", [60.0, 2.0])
def test_a_heater_left_on_at_night_is_flagged_within_15_minutes(spacing_s: float) -> None:
    alarm = first_alarm(heater_night(spacing_s))

    assert alarm is not None
    assert HEATER_ON <= minute_of(alarm) <= HEATER_ON + 15


def test_the_alarm_says_what_is_unusual() -> None:
    alarm = first_alarm(heater_night(60.0))

    assert alarm is not None
    assert alarm.kind == "unusual_consumption"
    assert alarm.observed > 2000
    assert alarm.expected is not None
    assert 150 < alarm.expected < 400
    assert alarm.reason is not None
    assert re.fullmatch(
        r"2\.\d kW drawn since 03:0\d, usually about 0\.[23] kW at this hour", alarm.reason
    )


def test_the_alarm_stays_on_while_the_heater_is_on_and_ends_after() -> None:
    results = heater_night(60.0)
    during = [
        r.anomaly for r in results if HEATER_ON + 15 <= minute_of(r) < HEATER_ON + HEATER_MINUTES
    ]
    after = [r.anomaly for r in results if minute_of(r) >= HEATER_ON + HEATER_MINUTES + 15]

    assert sum(during) / len(during) > 0.9
    assert not any(after)


def test_the_score_is_low_on_ordinary_nights_and_high_for_the_heater() -> None:
    results = heater_night(60.0)
    before = [r.score for r in results if at(2, 0) <= minute_of(r) < HEATER_ON]
    during = [r.score for r in results if HEATER_ON + 10 <= minute_of(r) < HEATER_ON + 60]

    assert max(before) < 1.0
    assert statistics.median(during) > 2.0
