"""Properties of the detector for any input (hypothesis, bounded so the suite stays fast)."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from functools import cache
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
import orjson
import pytest

from custom_components.energy_anomaly.detector.check import StateError
from custom_components.energy_anomaly.detector.config import DetectorConfig
from custom_components.energy_anomaly.detector.engine import Detector
from custom_components.energy_anomaly.detector.model import Reading
from custom_components.energy_anomaly.detector.validation import (
    CURRENT,
    PRODUCTION,
    TEMPERATURE,
    VOLTAGE,
    reading_problem,
    without_implausible_values,
)

from .household import normal_days, readings

ANY_FLOAT = st.floats(allow_nan=True, allow_infinity=True)
MAYBE_FLOAT = st.none() | ANY_FLOAT
PHASES = st.tuples(MAYBE_FLOAT, MAYBE_FLOAT, MAYBE_FLOAT)
ZONES = st.sampled_from(
    [UTC, timezone(timedelta(hours=1)), timezone(timedelta(hours=-9, minutes=-30))]
)
# The times `validation` lets through (2000 to 9000): the engine is given no others, and a stored
# time outside them is refused as damage (`check.Epoch`)
MOMENTS = st.datetimes(
    min_value=datetime(2000, 1, 2), max_value=datetime(8999, 12, 30), timezones=ZONES
)
READINGS = st.builds(
    Reading,
    timestamp=MOMENTS,
    power=ANY_FLOAT,
    power_production=MAYBE_FLOAT,
    voltage=PHASES,
    current=PHASES,
    temperature=MAYBE_FLOAT,
)
# Each optional value's bounds and the values just beyond them, besides any float at all.
EDGES = sorted(
    {
        edge + step
        for b in (PRODUCTION, TEMPERATURE, VOLTAGE, CURRENT)
        for edge in b
        for step in (-0.5, 0.0, 0.5)
    }
)
NEAR_EDGES = st.none() | st.sampled_from(EDGES) | ANY_FLOAT
NEAR_EDGE_PHASES = st.tuples(NEAR_EDGES, NEAR_EDGES, NEAR_EDGES)
# Plausible readings a few seconds to hours apart, with an odd one mixed in.
STEPS = st.lists(
    st.tuples(st.integers(min_value=-600, max_value=7200), st.floats(-2000, 20_000), READINGS),
    min_size=1,
    max_size=60,
)
START = datetime(2024, 3, 30, 22, tzinfo=timezone(timedelta(hours=1)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(READINGS, max_size=25))
def test_any_readings_give_a_result_and_a_serialisable_state(readings: list[Reading]) -> None:
    detector = Detector(DetectorConfig(fuse_amps=25.0))

    for reading in readings:
        result = detector.update(reading)
        assert result.timestamp == reading.timestamp

    state = detector.to_state()
    orjson.dumps(state)  # no NaN, no infinity, no integer beyond 64 bits
    restored = Detector.from_state(json.loads(json.dumps(state, allow_nan=False)))
    assert restored.to_state() == state


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(STEPS)
def test_a_stream_with_odd_readings_mixed_in_keeps_learning_in_order(
    steps: list[tuple[int, float, Reading]],
) -> None:
    detector = Detector()
    moment = START
    for seconds, power, odd in steps:
        moment += timedelta(seconds=seconds)
        detector.update(Reading(moment, power))
        detector.update(odd)
    last = START + timedelta(days=365)
    detector.update(Reading(last, 300.0))
    detector.update(Reading(last + timedelta(seconds=10), 300.0))

    assert detector.to_state()["last_epoch"] == (last + timedelta(seconds=10)).timestamp()


def _paths(node: object, path: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Every path into a JSON-like tree (the first items of each list only, to stay small)."""
    found = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in list(enumerate(node))[:2]:
            found += _paths(value, (*path, index))
    return found


@cache
def _learned_state() -> str:
    """A detector's stored state after two weeks and a day of an ordinary home, as JSON text."""
    detector = Detector(DetectorConfig(fuse_amps=25.0))
    for reading in readings(normal_days(15), 600.0):
        detector.update(Reading(reading.timestamp, reading.power, voltage=(231.0, None, None)))
    return json.dumps(detector.to_state())


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children)
    ),
    max_leaves=5,
)


def test_a_stored_time_before_the_years_of_readings_is_refused() -> None:
    """A voltage episode's start a second before year 1: as a date it fails on every reading."""
    state = json.loads(_learned_state())
    state["power_quality"]["voltage"][0]["since"] = -62_135_596_801

    with pytest.raises(StateError, match="since: -62135596801 is not within"):
        Detector.from_state(state)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_a_mutated_state_is_refused_or_restores_a_working_detector(data: st.DataObject) -> None:
    state = json.loads(_learned_state())
    path = data.draw(st.sampled_from(_paths(state)))
    value = data.draw(JSON_VALUES)
    if path:
        node = state
        for step in path[:-1]:
            node = node[step]  # type: ignore[index]
        node[path[-1]] = value  # type: ignore[index]
    else:
        state = value

    try:
        detector = Detector.from_state(state)
    except StateError:
        return
    for reading in readings(normal_days(16), 600.0)[-20:]:
        detector.update(reading)
    orjson.dumps(detector.to_state())


PLAUSIBLE = Reading(START, 100.0, 0.0, (230.0, 231.0, 229.0), (1.0, 2.0, 3.0), 5.0)


def _with_value(field: int, value: float | None) -> Reading:
    """`PLAUSIBLE` with one optional value set: 0 production, 1 temperature, 2-4 and 5-7 the
    voltage and current of L1-L3."""
    if field < 2:
        return replace(PLAUSIBLE, **{("power_production", "temperature")[field]: value})
    name, phase = ("voltage", field - 2) if field < 5 else ("current", field - 5)
    phases = list(getattr(PLAUSIBLE, name))
    phases[phase] = value
    return replace(PLAUSIBLE, **{name: tuple(phases)})


@settings(max_examples=400, deadline=None)
@given(st.integers(min_value=0, max_value=7), NEAR_EDGES)
def test_the_quick_check_refuses_exactly_the_readings_with_a_value_the_bounds_leave_out(
    field: int, value: float | None
) -> None:
    reading = _with_value(field, value)

    kept = without_implausible_values(reading)

    assert (reading_problem(reading) is None) == (kept == reading)
    assert reading_problem(kept) is None
