"""Properties of the detector for any input (hypothesis, bounded so the suite stays fast)."""

from datetime import UTC, datetime, timedelta, timezone
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
import orjson

from custom_components.energy_anomaly.detector.config import DetectorConfig
from custom_components.energy_anomaly.detector.engine import Detector
from custom_components.energy_anomaly.detector.model import Reading

ANY_FLOAT = st.floats(allow_nan=True, allow_infinity=True)
MAYBE_FLOAT = st.none() | ANY_FLOAT
PHASES = st.tuples(MAYBE_FLOAT, MAYBE_FLOAT, MAYBE_FLOAT)
ZONES = st.sampled_from(
    [UTC, timezone(timedelta(hours=1)), timezone(timedelta(hours=-9, minutes=-30))]
)
MOMENTS = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=ZONES
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
