"""The live payload parser: any JSON-like message gives a Reading or MalformedMeasurementError.

Property-based (hypothesis), with bounded example counts so the suite stays fast.
"""

from datetime import UTC, datetime, timedelta, timezone
import math
from typing import Any
from zoneinfo import ZoneInfo

from homeassistant.core import HomeAssistant
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
import pytest

from custom_components.energy_anomaly.detector.model import Reading
from custom_components.energy_anomaly.detector.validation import (
    MAX_CURRENT_A,
    MAX_POWER_W,
    MAX_VOLTAGE_V,
)
from custom_components.energy_anomaly.tibber_payload import (
    CURRENT_FIELDS,
    VOLTAGE_FIELDS,
    MalformedMeasurementError,
    reading_from_live_data,
)

BOUNDED = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

NUMBER_FIELDS = ("power", "powerProduction", *VOLTAGE_FIELDS, *CURRENT_FIELDS)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(["nan", "NaN", "Infinity", "-Infinity", "1e999", "2024-03-01T18:00:00"])
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
timestamps = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)).map(
    lambda moment: moment.isoformat()
)
offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
aware_timestamps = st.builds(
    lambda moment, zone: moment.replace(tzinfo=zone).isoformat(),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
    offsets,
)
# A measurement whose fields are Tibber's, each with any JSON value or a plausible one.
measurements = st.fixed_dictionaries(
    {},
    optional={
        "timestamp": aware_timestamps | timestamps | json_values,
        **{field: st.floats(-500.0, 500.0) | json_values for field in NUMBER_FIELDS},
        "accumulatedConsumption": json_values,
    },
)
# A well-formed measurement with any value in one of its fields: most of these give a reading,
# so what a reading may hold is tested, not only what the parser refuses.
one_odd_field = st.builds(
    lambda stamp, power, field, value: {
        "liveMeasurement": {"timestamp": stamp, "power": power} | {field: value}
    },
    aware_timestamps,
    st.floats(-500.0, 500.0),
    st.sampled_from(["timestamp", *NUMBER_FIELDS]),
    st.none() | st.floats(-500.0, 500.0) | timestamps | st.floats() | json_values,
)
messages = (
    json_values
    | st.builds(lambda measurement: {"liveMeasurement": measurement}, measurements)
    | st.builds(lambda value: {"liveMeasurement": value}, json_values)
    | one_odd_field
)


def parse_outcome(data: object) -> Reading | MalformedMeasurementError:
    try:
        return reading_from_live_data(data)
    except MalformedMeasurementError as err:
        return err


@BOUNDED
@given(messages)
def test_any_json_message_gives_a_reading_or_the_one_defined_error(data: Any) -> None:
    outcome = parse_outcome(data)  # anything else raised fails the test

    if isinstance(outcome, Reading):
        _assert_aware_and_finite(outcome)


STAMP = "2024-03-01T18:00:00+01:00"


@BOUNDED
@given(one_odd_field)
@example({"liveMeasurement": {"timestamp": STAMP, "power": math.nan}})
@example({"liveMeasurement": {"timestamp": STAMP[:19], "power": 100.0}})
@example({"liveMeasurement": {"timestamp": STAMP, "power": 100.0, "voltagePhase2": math.inf}})
def test_any_value_in_one_field_gives_an_aware_finite_reading_or_the_error(data: Any) -> None:
    outcome = parse_outcome(data)

    if isinstance(outcome, Reading):
        _assert_aware_and_finite(outcome)


def _assert_aware_and_finite(reading: Reading) -> None:
    assert reading.timestamp.utcoffset() is not None
    values = [reading.power, reading.power_production, *reading.voltage, *reading.current]
    assert all(math.isfinite(value) for value in values if value is not None)


@BOUNDED
@given(
    timestamp=aware_timestamps,
    power=st.floats(-MAX_POWER_W, MAX_POWER_W),
    production=st.none() | st.floats(0, MAX_POWER_W),
    voltage=st.lists(st.none() | st.floats(0, MAX_VOLTAGE_V), min_size=3, max_size=3),
    current=st.lists(st.none() | st.floats(-MAX_CURRENT_A, MAX_CURRENT_A), min_size=3, max_size=3),
)
def test_a_plausible_measurement_becomes_a_reading_with_its_values(
    timestamp: str,
    power: float,
    production: float | None,
    voltage: list[float | None],
    current: list[float | None],
) -> None:
    measurement = {
        "timestamp": timestamp,
        "power": power,
        "powerProduction": production,
        **dict(zip(VOLTAGE_FIELDS, voltage, strict=True)),
        **dict(zip(CURRENT_FIELDS, current, strict=True)),
    }

    reading = reading_from_live_data({"liveMeasurement": measurement})

    assert reading.timestamp == datetime.fromisoformat(timestamp)
    assert (reading.power, reading.power_production) == (power, production)
    assert list(reading.voltage) == voltage
    assert list(reading.current) == current


def valid(**fields: object) -> dict[str, object]:
    return {"liveMeasurement": {"timestamp": "2024-03-01T18:00:00+01:00", "power": 950.0} | fields}


def test_an_integer_power_is_read_as_watts() -> None:
    reading = reading_from_live_data(valid(power=950))
    assert reading == Reading(
        timestamp=datetime(2024, 3, 1, 17, 0, tzinfo=UTC), power=950.0, power_production=None
    )


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        pytest.param(None, "message", id="no data"),
        pytest.param({"errors": ["Pulse is offline"]}, "errors", id="Tibber's errors"),
        pytest.param({"liveMeasurement": None}, "message", id="liveMeasurement null"),
        pytest.param({"liveMeasurement": [1, 2]}, "message", id="liveMeasurement a list"),
        pytest.param(valid(timestamp="2024-03-01T18:00:00"), "timestamp", id="naive timestamp"),
        pytest.param(valid(timestamp="yesterday"), "timestamp", id="not a time"),
        pytest.param(valid(timestamp=1709312400), "timestamp", id="epoch number"),
        pytest.param(valid(power=None), "power", id="power null"),
        pytest.param(valid(power="950"), "power", id="power as string"),
        pytest.param(valid(power=True), "power", id="power a bool"),
        pytest.param(valid(power="nan"), "power", id="string nan"),
        pytest.param(valid(power="Infinity"), "power", id="string Infinity"),
        pytest.param(valid(power="1e999"), "power", id="string 1e999"),
        pytest.param(valid(power=math.nan), "power", id="JSON NaN"),
        pytest.param(valid(power=-math.inf), "power", id="JSON -Infinity"),
        pytest.param(valid(power=10**400), "power", id="400-digit integer"),
        pytest.param(valid(power=2e6), "power", id="2 MW"),
    ],
)
def test_a_malformed_message_is_rejected_naming_the_fault(data: object, kind: str) -> None:
    with pytest.raises(MalformedMeasurementError) as err:
        reading_from_live_data(data)
    assert err.value.kind == kind


@pytest.mark.parametrize(
    ("fields", "kind"),
    [
        pytest.param({"voltagePhase2": -230.0}, "voltagePhase2", id="negative voltage"),
        pytest.param({"voltagePhase2": 6553.5}, "voltagePhase2", id="a meter's 0xFFFF"),
        pytest.param({"currentL3": math.inf}, "currentL3", id="infinite current"),
        pytest.param({"powerProduction": "0"}, "powerProduction", id="production as string"),
    ],
)
def test_an_odd_optional_value_is_left_out_and_named_and_the_reading_kept(
    fields: dict[str, object], kind: str
) -> None:
    left_out: list[MalformedMeasurementError] = []

    reading = reading_from_live_data(valid(voltagePhase1=231.0, **fields), left_out)

    assert (reading.power, reading.voltage[0]) == (950.0, 231.0)
    assert reading.power_production is None
    assert reading.voltage[1] is None
    assert reading.current[2] is None
    assert [err.kind for err in left_out] == [kind]


def live_at(stamp: str) -> Reading:
    """The reading of a message Tibber sends at `stamp` (ISO 8601 with the home's offset)."""
    return reading_from_live_data({"liveMeasurement": {"timestamp": stamp, "power": 500.0}})


async def test_a_home_on_home_assistants_clock_is_read_in_its_time_zone(
    hass: HomeAssistant,
) -> None:
    await hass.config.async_set_time_zone("Europe/Oslo")

    reading = live_at("2024-03-31T01:40:00+01:00")

    assert reading.timestamp.tzinfo == ZoneInfo("Europe/Oslo")
    assert reading.timestamp == datetime(2024, 3, 31, 0, 40, tzinfo=UTC)
    # the zone knows the offset of any moment: an hour later the clocks showed 03:40
    later = datetime.fromtimestamp(reading.epoch + 3600, reading.timestamp.tzinfo)
    assert f"{later:%H:%M}" == "03:40"


async def test_a_home_on_another_clock_keeps_tibbers_offset(hass: HomeAssistant) -> None:
    await hass.config.async_set_time_zone("Europe/London")

    reading = live_at("2024-03-31T01:40:00+01:00")

    assert reading.timestamp.utcoffset() == timedelta(hours=1)
    assert f"{reading.timestamp:%H:%M}" == "01:40"


@pytest.mark.parametrize("stamp", ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00"])
async def test_a_time_at_the_ends_of_the_calendar_is_read_as_tibber_sent_it(
    hass: HomeAssistant, stamp: str
) -> None:
    """In Home Assistant's zone it would overflow; the reading is judged implausible later."""
    await hass.config.async_set_time_zone("Europe/Oslo")

    reading = live_at(stamp)

    assert reading.timestamp == datetime.fromisoformat(stamp)
