"""Fetching a power sensor's past consumption from Home Assistant's own long-term statistics.

The real recorder of the test harness (SQLite), filled with imported hourly and 5-minute statistics.
"""

from datetime import datetime, timedelta
import itertools
from unittest.mock import patch

from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.db_schema import StatisticsShortTerm
from homeassistant.components.recorder.models import (
    StatisticData,
    StatisticMeanType,
    StatisticMetaData,
)
from homeassistant.components.recorder.statistics import async_import_statistics
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from sqlalchemy.exc import OperationalError

from custom_components.energy_anomaly import history
from custom_components.energy_anomaly.history import (
    HistoryFetchError,
    HistoryRow,
    async_add_recorder_temperatures,
    async_fetch_recorder_history,
)

POWER = "sensor.house_power"
OUTDOOR = "sensor.outdoor_temperature"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(recorder_db_url: str, enable_custom_integrations: None) -> None:
    """As the shared fixture, but the recorder's database is prepared before Home Assistant."""


def this_hour() -> datetime:
    return dt_util.utcnow().replace(minute=0, second=0, microsecond=0)


def metadata(
    unit: str = "W", unit_class: str = "power", statistic_id: str = POWER
) -> StatisticMetaData:
    return StatisticMetaData(
        mean_type=StatisticMeanType.ARITHMETIC,
        has_sum=False,
        name=None,
        source="recorder",
        statistic_id=statistic_id,
        unit_class=unit_class,
        unit_of_measurement=unit,
    )


def statistic(start: datetime, mean: float) -> StatisticData:
    return StatisticData(start=start, mean=mean, min=mean / 2, max=mean * 2)


def hourly_mean(start: datetime) -> float:
    """A different mean for every hour of a week (W, or kW for a kW sensor)."""
    return float(100 + start.weekday() * 24 + start.hour)


def hours_before_now(count: int) -> list[datetime]:
    """The starts of the last ``count`` full hours, oldest first (UTC)."""
    return [this_hour() - timedelta(hours=count - i) for i in range(count)]


async def import_hourly(hass: HomeAssistant, days: int, unit: str = "W") -> None:
    unit_class = "power" if unit in {"W", "kW"} else "energy"
    async_import_statistics(
        hass,
        metadata(unit, unit_class),
        [statistic(start, hourly_mean(start)) for start in hours_before_now(days * 24)],
    )
    await async_wait_recording_done(hass)


async def import_five_minute(
    recorder: Recorder,
    hass: HomeAssistant,
    meta: StatisticMetaData,
    means: list[float],
    starts: list[datetime],
) -> None:
    recorder.async_import_statistics(
        meta,
        [statistic(start, mean) for start, mean in zip(starts, means, strict=True)],
        StatisticsShortTerm,
    )
    await async_wait_recording_done(hass)


def hourly_rows(days: int) -> list[HistoryRow]:
    return [
        HistoryRow(dt_util.as_local(start), 3600.0, mean := hourly_mean(start), mean / 2, mean * 2)
        for start in hours_before_now(days * 24)
    ]


def facts(rows: list[HistoryRow]) -> list[tuple[float, timedelta | None, float, float | None]]:
    """What a row says, its start as an instant and its UTC offset there.

    (Aware times are compared this way because a zone's time in the hour repeated when summer
    time ends never equals another zone's, and equals its own twin of the other fold.)
    """
    return [
        (row.start.timestamp(), row.start.utcoffset(), row.duration_s, row.mean, row.minimum)
        for row in rows
    ]


def contiguous(rows: list[HistoryRow]) -> bool:
    return all(
        later.start.timestamp() - earlier.start.timestamp() == earlier.duration_s
        for earlier, later in itertools.pairwise(rows)
    )


async def test_zero_days_give_no_rows(recorder_mock: Recorder, hass: HomeAssistant):
    await import_hourly(hass, days=2)

    assert await async_fetch_recorder_history(hass, POWER, 0) == []


async def test_three_days_are_72_hourly_rows_with_min_and_max(
    recorder_mock: Recorder, hass: HomeAssistant
):
    await import_hourly(hass, days=5)

    rows = await async_fetch_recorder_history(hass, POWER, 3)

    assert facts(rows) == facts(hourly_rows(3))
    assert rows[-1].start.utcoffset() == dt_util.as_local(rows[-1].start).utcoffset()
    assert rows[-1].start.hour == dt_util.as_local(rows[-1].start).hour


async def test_thirty_days_are_720_hourly_rows_oldest_first(
    recorder_mock: Recorder, hass: HomeAssistant
):
    await import_hourly(hass, days=40)

    rows = await async_fetch_recorder_history(hass, POWER, 30)

    assert len(rows) == 720
    assert facts(rows) == facts(hourly_rows(30))
    assert contiguous(rows)


async def test_a_kw_sensor_is_converted_to_watts(recorder_mock: Recorder, hass: HomeAssistant):
    async_import_statistics(
        hass, metadata("kW"), [statistic(this_hour() - timedelta(hours=1), 1.5)]
    )
    await async_wait_recording_done(hass)

    rows = await async_fetch_recorder_history(hass, POWER, 1)

    assert [(row.mean, row.minimum, row.maximum) for row in rows] == [(1500.0, 750.0, 3000.0)]


async def test_five_minute_statistics_take_over_from_the_hour_they_begin_in(
    recorder_mock: Recorder, hass: HomeAssistant
):
    await import_hourly(hass, days=5)
    five_minutes_from = this_hour() - timedelta(minutes=90)
    starts = [five_minutes_from + timedelta(minutes=5 * i) for i in range(18)]
    await import_five_minute(
        recorder_mock, hass, metadata(), [5000.0 + i for i in range(18)], starts
    )

    rows = await async_fetch_recorder_history(hass, POWER, 3)

    hourly, short = rows[:71], rows[71:]
    assert facts(hourly) == facts(hourly_rows(3)[:71])
    assert [(row.start.timestamp(), row.duration_s, row.mean) for row in short] == [
        (start.timestamp(), 300.0, 5000.0 + i) for i, start in enumerate(starts) if i >= 6
    ]
    assert contiguous(rows)
    assert rows[-1].start + timedelta(minutes=5) == this_hour()


async def test_an_entity_without_statistics_gives_no_rows(
    recorder_mock: Recorder, hass: HomeAssistant
):
    await import_hourly(hass, days=2)

    assert await async_fetch_recorder_history(hass, "sensor.not_recorded", 3) == []


async def test_statistics_not_in_a_power_unit_are_refused(
    recorder_mock: Recorder, hass: HomeAssistant
):
    await import_hourly(hass, days=2, unit="kWh")

    with pytest.raises(HistoryFetchError, match="are in kWh, not a power unit"):
        await async_fetch_recorder_history(hass, POWER, 1)


async def test_a_database_failure_is_reported_as_a_fetch_error(
    recorder_mock: Recorder, hass: HomeAssistant
):
    await import_hourly(hass, days=2)
    locked = OperationalError("SELECT", {}, Exception("database is locked"))

    with (
        patch.object(history, "statistics_during_period", side_effect=locked),
        pytest.raises(HistoryFetchError, match=r"statistics of sensor\.house_power failed"),
    ):
        await async_fetch_recorder_history(hass, POWER, 1)


async def test_a_negative_number_of_days_is_a_programming_error(
    recorder_mock: Recorder, hass: HomeAssistant
):
    with pytest.raises(ValueError, match="days must not be negative"):
        await async_fetch_recorder_history(hass, POWER, -1)


async def test_without_the_recorder_the_fetch_says_so(hass: HomeAssistant):
    with pytest.raises(HistoryFetchError, match="recorder is not running"):
        await async_fetch_recorder_history(hass, POWER, 3)


# Temperatures for the rows


def celsius(start: datetime) -> float:
    """A different outdoor temperature for every hour of the day (°C)."""
    return -5.0 + start.hour / 2


async def import_outdoor_fahrenheit(hass: HomeAssistant, hours: int) -> None:
    async_import_statistics(
        hass,
        metadata("°F", "temperature", OUTDOOR),
        [statistic(start, 32 + celsius(start) * 1.8) for start in hours_before_now(hours)],
    )
    await async_wait_recording_done(hass)


async def test_rows_get_their_hours_outdoor_temperature_in_celsius(
    recorder_mock: Recorder, hass: HomeAssistant
):
    await import_hourly(hass, days=3)
    await import_outdoor_fahrenheit(hass, hours=48)
    rows = await async_fetch_recorder_history(hass, POWER, 3)

    with_temperature = await async_add_recorder_temperatures(hass, rows, OUTDOOR)

    assert facts(with_temperature) == facts(rows)
    assert [row.temperature for row in with_temperature[:24]] == [None] * 24
    assert [row.temperature for row in with_temperature[24:]] == [
        pytest.approx(celsius(start)) for start in hours_before_now(48)
    ]


async def test_five_minute_rows_get_five_minute_temperatures_else_their_hours(
    recorder_mock: Recorder, hass: HomeAssistant
):
    await import_hourly(hass, days=1)
    await import_outdoor_fahrenheit(hass, hours=24)
    starts = [this_hour() - timedelta(minutes=60 - 5 * i) for i in range(12)]
    await import_five_minute(recorder_mock, hass, metadata(), [5000.0] * 12, starts)
    await import_five_minute(
        recorder_mock, hass, metadata("°F", "temperature", OUTDOOR), [68.0] * 6, starts[6:]
    )
    rows = await async_fetch_recorder_history(hass, POWER, 1)

    with_temperature = await async_add_recorder_temperatures(hass, rows, OUTDOOR)

    last_hour = celsius(this_hour() - timedelta(hours=1))
    assert [(row.duration_s, row.temperature) for row in with_temperature[-12:]] == [
        (300.0, pytest.approx(last_hour))
    ] * 6 + [(300.0, pytest.approx(20.0))] * 6


async def test_a_weather_entity_without_statistics_leaves_temperatures_unknown(
    recorder_mock: Recorder, hass: HomeAssistant
):
    await import_hourly(hass, days=1)
    rows = await async_fetch_recorder_history(hass, POWER, 1)

    with_temperature = await async_add_recorder_temperatures(hass, rows, "weather.home")

    assert with_temperature == rows
    assert {row.temperature for row in with_temperature} == {None}


async def test_temperature_statistics_in_another_unit_are_refused(
    recorder_mock: Recorder, hass: HomeAssistant
):
    await import_hourly(hass, days=1)
    rows = await async_fetch_recorder_history(hass, POWER, 1)

    with pytest.raises(HistoryFetchError, match="are in W, not a temperature unit"):
        await async_add_recorder_temperatures(hass, rows, POWER)


async def test_no_rows_need_no_temperatures(recorder_mock: Recorder, hass: HomeAssistant):
    assert await async_add_recorder_temperatures(hass, [], OUTDOOR) == []
