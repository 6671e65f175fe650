"""Every check has one shape, and no input or stored state can stop the detector."""

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from custom_components.energy_anomaly.detector.check import Check, RoundedFloat, StateError
from custom_components.energy_anomaly.detector.config import DetectorConfig
from custom_components.energy_anomaly.detector.engine import Detector
from custom_components.energy_anomaly.detector.model import Reading, Status
from custom_components.energy_anomaly.detector.validation import (
    reading_problem,
    without_implausible_values,
)

from .household import START, at, normal_days, readings, run, with_load

LEARNED_DAYS = 15  # a little over the two-week learning period


def learned() -> Detector:
    """A detector that has learned a little over two weeks of an ordinary home (3-phase, temp)."""
    detector = Detector(DetectorConfig(fuse_amps=25.0))
    for reading in readings(normal_days(LEARNED_DAYS), 300.0):
        detector.update(
            Reading(
                reading.timestamp,
                reading.power,
                voltage=(230.0, 231.0, 229.0),
                current=(2.0, 1.0, 1.5),
                temperature=3.0,
            )
        )
    return detector


def test_a_remembered_rounding_is_round_itself() -> None:
    """Equal values again, zeros of either sign, NaN: each is what `round` gives, sign kept."""
    rounded = RoundedFloat(2)
    values = [1.005, 1.005, -3.14159, -3.14159, 0.0, -0.0, -0.0, 0.0, float("nan"), 2.675, 2.675]

    results = [rounded.of(v) for v in values]

    assert [repr(r) for r in results] == [repr(round(v, 2)) for v in values]


def test_every_check_has_the_one_shape() -> None:
    detector = learned()
    checks: tuple[Check, ...] = detector._checks()

    assert [check.key for check in checks] == [
        "faults",
        "power_quality",
        "consumption",
        "pattern",
        "baseload",
    ]
    for check in checks:
        state = json.loads(json.dumps(check.to_state()))
        restored = type(check).from_state(state, detector.config)
        assert json.loads(json.dumps(restored.to_state())) == state
        assert isinstance(check.score, float)
        with pytest.raises(StateError):
            type(check).from_state("garbage", detector.config)


def _mutations(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """(path, replacement) for every leaf and container: wrong types, NaN, huge, gone."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _mutations(value, (*path, key))
        yield path, []
    elif isinstance(node, list):
        for index, value in list(enumerate(node))[:2]:
            yield from _mutations(value, (*path, index))
        yield path, node[:-1]
        yield path, "garbage"
    else:
        for bad in ("garbage", None, float("nan"), float("inf"), 1e300, -1, [], {}):
            yield path, bad


def _replaced(text: str, path: tuple[Any, ...], value: Any) -> Any:
    mutated = json.loads(text)  # a fresh copy, faster than deepcopy
    if not path:
        return value
    node = mutated
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return mutated


def test_a_damaged_state_is_refused_or_works_never_anything_else() -> None:
    detector = learned()
    text = json.dumps(detector.to_state())
    state = json.loads(text)
    tried = refused = 0
    following = readings(normal_days(LEARNED_DAYS + 1), 300.0)[-300:]
    for path, value in _mutations(state):
        tried += 1
        try:
            restored = Detector.from_state(_replaced(text, path, value))
        except StateError:
            refused += 1
            continue
        for reading in following[:10]:
            restored.update(reading)
        orjson.dumps(restored.to_state())

    assert tried > 1000
    assert refused > tried // 2


@pytest.mark.parametrize("power", [float("nan"), float("inf"), float("-inf"), 1e20, -1e20])
def test_an_impossible_power_is_skipped_and_never_stored(power: float) -> None:
    detector = learned()
    last = readings(normal_days(LEARNED_DAYS + 1), 300.0)[-10:]
    run(detector, last[:5])

    odd = detector.update(Reading(last[5].timestamp, power))
    after = run(detector, last[6:])

    assert odd.timestamp == last[5].timestamp
    assert all(not r.anomaly for r in after)
    orjson.dumps(detector.to_state())  # raises on NaN, inf or a 64-bit overflow
    json.dumps(detector.to_state(), allow_nan=False)


def test_one_reading_from_the_far_future_latches_nothing() -> None:
    detector = learned()
    stream = readings(normal_days(LEARNED_DAYS + 1), 60.0)[-120:]
    run(detector, stream[:60])

    detector.update(Reading(datetime(2100, 1, 1, tzinfo=START.tzinfo), 500.0))
    after = run(detector, stream[60:])

    assert not any(r.anomaly for r in after)
    assert detector.to_state()["last_epoch"] == stream[-1].timestamp.timestamp()


def test_a_long_silence_is_taken_once_the_next_reading_confirms_it() -> None:
    detector = learned()
    stream = readings(normal_days(LEARNED_DAYS + 2), 60.0)
    later = stream[-200:]

    held = detector.update(later[0])
    taken = detector.update(later[1])

    assert held.timestamp == later[0].timestamp
    assert taken.anomaly  # the gap (meter fault) is reported once both were taken
    assert detector.to_state()["last_epoch"] == later[1].timestamp.timestamp()


def test_after_two_weeks_without_readings_the_detector_learns_again() -> None:
    detector = learned()
    assert detector.status is Status.ACTIVE
    back = START + timedelta(days=LEARNED_DAYS + 20)

    run(detector, [Reading(back + timedelta(minutes=m), 200.0) for m in range(24 * 60)])

    assert detector.status is Status.LEARNING
    assert detector.learning_progress < 0.2


NAN = float("nan")


@pytest.mark.parametrize(
    ("reading", "problem"),
    [
        (Reading(datetime(2024, 1, 1), 100.0), "no UTC offset"),
        (Reading(datetime(1, 1, 1, tzinfo=START.tzinfo), 100.0), "before 2000"),
        (Reading(datetime(9999, 12, 31, 12, tzinfo=START.tzinfo), 100.0), "after 9000"),
        (Reading(START, float("nan")), "power"),
        (Reading(START, 100.0, voltage=(float("inf"), None, None)), "voltage L1"),
        (Reading(START, 100.0, current=(None, None, 5000.0)), "current L3"),
        (Reading(START, 100.0, temperature=-300.0), "temperature"),
        (Reading(START, 100.0, power_production=-5.0), "production"),
        (Reading(START, 100.0, None, (230.0, NAN, 231.0), (1.0, 2.0, 3.0)), "voltage L2"),
        (Reading(START, 100.0, None, (230.0, 231.0, 229.0), (1.0, NAN, 3.0)), "current L2"),
        (Reading(START, 100.0, 0.0, (230.0, 231.0, 229.0), temperature=NAN), "temperature"),
    ],
)
def test_implausible_readings_are_named(reading: Reading, problem: str) -> None:
    found = reading_problem(reading)

    assert found is not None
    assert problem in found


def test_a_reading_with_every_value_plausible_has_no_problem() -> None:
    full = Reading(START, 100.0, 0.0, (0.0, 250.0, 500.0), (-1000.0, 0.0, 1000.0), -80.0)

    assert reading_problem(full) is None


def test_only_the_implausible_optional_values_are_left_out() -> None:
    odd = Reading(START, 100.0, -2.0, (230.0, 600.0, None), (1.0, NAN, 3.0), 90.0)

    kept = without_implausible_values(odd)

    assert kept == Reading(START, 100.0, None, (230.0, None, None), (1.0, None, 3.0), None)
    assert reading_problem(kept) is None


def test_the_detector_takes_a_reading_without_its_implausible_production() -> None:
    detector = Detector()

    detector.update(Reading(START, 100.0, power_production=-2.0))

    assert detector.to_state()["last_epoch"] == START.timestamp()


def test_a_reading_from_the_future_of_the_host_clock_is_refused() -> None:
    now = START + timedelta(hours=1)

    assert reading_problem(Reading(now + timedelta(minutes=1), 100.0), now) is None
    assert "future" in (reading_problem(Reading(now + timedelta(hours=1), 100.0), now) or "")
    assert reading_problem(Reading(START, 100.0, 0.0, (230.0, None, None)), now) is None


def test_a_state_stored_by_version_0_1_0_keeps_what_was_learned() -> None:
    """The previous release's state after 15 days and 3.5 hours (a heater on from 03:00) decides
    like this release fed the same readings (with the running means 0.1.0 had: a newer one
    learns from the upgrade on).
    """
    stored = json.loads((Path(__file__).parent / "data" / "state_v2.json").read_text())
    stream = readings(with_load(normal_days(16), at(15, 3), 180, 2000.0), 300.0)
    cut = (15 * 1440 + 3 * 60 + 30) // 5  # where the old release stopped
    config = DetectorConfig(fuse_amps=25.0)
    tiers_of_0_1_0 = config.consumption.tiers[:2]
    fresh = Detector(replace(config, consumption=replace(config.consumption, tiers=tiers_of_0_1_0)))
    for reading in stream[:cut]:
        fresh.update(
            Reading(
                reading.timestamp,
                reading.power,
                voltage=(230.0, None, None),
                current=(2.0, None, None),
                temperature=2.0,
            )
        )
    last = stream[cut - 1]
    fresh.update(Reading(last.timestamp, last.power))  # the old release saw the last one twice

    upgraded = Detector.from_state(stored)

    assert upgraded.status is Status.ACTIVE
    assert upgraded.to_state()["version"] == 3
    learned_since = {  # what this release learns that 0.1.0 did not (defaults when upgraded)
        "baseload": {"memory", "learned", "floors", "minute_day"},
        # and min_draw, learned otherwise: 0.1.0 took the smallest reading, not a lasting one
        "faults": {"dark_min_draw", "exports", "low_since", "low_least", "low_dark", "min_draw"},
        "power_quality": {"supplied", "reports"},
    }
    for key, new in learned_since.items():
        fresh_check = {k: v for k, v in fresh.to_state()[key].items() if k not in new}
        assert {k: v for k, v in upgraded.to_state()[key].items() if k not in new} == fresh_check
    # the hour's expected power, made again; the hours' offsets, kept from the next hour on
    unknown_to_v2 = {"expected_hour", "expected", "hour_offset", "judged_offset"}
    pattern = fresh.to_state()["pattern"]
    assert upgraded.to_state()["pattern"] == pattern | dict.fromkeys(unknown_to_v2)
    assert [(r.anomaly, r.score) for r in run(upgraded, stream[cut:])] == [
        (r.anomaly, r.score) for r in run(fresh, stream[cut:])
    ]
