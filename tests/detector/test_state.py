"""The detector's state: plain JSON that survives a restart without losing what was learned."""

import json

import pytest

from custom_components.energy_anomaly.detector.engine import Detector
from custom_components.energy_anomaly.detector.model import Status

from .household import at, first_alarm, minute_of, normal_days, readings, run, with_load


def _through_json(detector: Detector) -> tuple[Detector, int]:
    """A detector restored from `detector`'s state after a JSON round trip; and the JSON size."""
    text = json.dumps(detector.to_state())
    return Detector.from_state(json.loads(text)), len(text)


def test_a_restart_during_learning_does_not_restart_learning() -> None:
    stream = readings(normal_days(3)[: at(2, 1)])
    split = at(1, 6)
    uninterrupted, interrupted = Detector(), Detector()
    run(uninterrupted, stream[:split])
    run(interrupted, stream[:split])

    restored, _ = _through_json(interrupted)

    assert restored.status is Status.LEARNING
    assert restored.learning_progress == uninterrupted.learning_progress
    statuses = [r.status for r in run(restored, stream[split:])]
    assert statuses == [r.status for r in run(uninterrupted, stream[split:])]


def test_a_restored_detector_keeps_detecting() -> None:
    heater_on = at(2, 3)
    stream = readings(with_load(normal_days(3)[: at(2, 5)], heater_on, 120, 2000.0))
    detector = Detector()
    run(detector, stream[: at(2, 2)])

    restored, size = _through_json(detector)
    alarm = first_alarm(run(restored, stream[at(2, 2) :]))

    assert restored.status is Status.ACTIVE
    assert size < 300_000
    assert alarm is not None
    assert heater_on <= minute_of(alarm) <= heater_on + 15


def test_a_state_of_an_unknown_version_is_refused() -> None:
    state = Detector().to_state() | {"version": 999}

    with pytest.raises(ValueError, match="999"):
        Detector.from_state(state)
