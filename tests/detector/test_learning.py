"""The learning period: no alarm until the detector knows the home."""

import pytest

from custom_components.energy_anomaly.detector.engine import Detector
from custom_components.energy_anomaly.detector.model import Status

from .household import START, at, normal_days, readings, run, with_load


def test_nothing_alarms_while_learning_even_a_heater_left_on() -> None:
    power = with_load(normal_days(2), at(1, 3), 180, 2000.0)
    results = run(Detector(), readings(power))

    assert all(result.status is Status.LEARNING for result in results[:-1])
    assert not any(result.anomaly for result in results)


def test_learning_ends_after_two_days_of_data() -> None:
    detector = Detector()
    results = run(detector, readings(normal_days(3)[: at(2, 1)]))
    active = [result for result in results if result.status is Status.ACTIVE]

    assert (active[0].timestamp - START).total_seconds() / 3600 == pytest.approx(48, abs=0.1)
    assert detector.learning_progress == 1.0


@pytest.mark.parametrize("spacing_s", [1.0, 10.0, 60.0, 600.0, 3600.0])
def test_any_input_spacing_works_and_learning_follows_the_clock(spacing_s: float) -> None:
    detector = Detector()
    stream = readings(normal_days(2)[: at(1, 6)], spacing_s)
    results = run(detector, stream)

    assert [r.timestamp for r in results] == [r.timestamp for r in stream]
    assert [r.observed for r in results] == [r.power for r in stream]
    assert detector.learning_progress == pytest.approx(30 / 48, abs=spacing_s / 48 / 3600 + 1e-6)
    assert detector.status is Status.LEARNING


def test_a_reading_older_than_the_last_is_answered_but_not_learned() -> None:
    detector = Detector()
    stream = readings(normal_days(1)[:120])
    run(detector, stream)
    progress = detector.learning_progress

    late = detector.update(stream[10])

    assert late.timestamp == stream[10].timestamp
    assert detector.learning_progress == progress
