"""Learning from the past with hostile data: the recorder's statistics as real homes leave them.

The real recorder of the test harness (SQLite), filled with imported hourly and 5-minute
statistics; the integration set up as a user does, its *Detector status* and log read back.
"""

from datetime import timedelta
import logging

from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.db_schema import StatisticsShortTerm
from homeassistant.components.recorder.models import StatisticData
from homeassistant.components.recorder.statistics import async_import_statistics
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.energy_anomaly.const import (
    CONF_TEMPERATURE_ENTITY,
    DOMAIN,
    HISTORY_IMPORT_DAYS,
)

from .conftest import HOME_A
from .test_demo import set_up_demo
from .test_entity_source import POWER, home_entry, set_up_home_drawing
from .test_history_demo import PAST_DAYS, hours_of_the_past
from .test_history_import import (
    OUTDOOR,
    STATUS,
    hours_before_now,
    import_power_history,
    local_days,
)
from .test_history_recorder import metadata
from .test_live_data import start, state_of, wait_until
from .tibber_server import LocalTibberServer

LOGGER_NAME = "custom_components.energy_anomaly"
DEMO_POWER = "sensor.demo_home_power"
DEMO_STATUS = "sensor.demo_home_detector_status"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(recorder_db_url: str, enable_custom_integrations: None) -> None:
    """As the shared fixture, but the recorder's database is prepared before Home Assistant."""


async def test_a_disconnected_outdoor_sensors_minus_127_c_costs_the_temperatures_not_the_power(
    recorder_mock: Recorder, hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    # A DS18B20 that lost its wire reads -127 °C: its hourly means for the four weeks say so.
    await import_power_history(hass, days=HISTORY_IMPORT_DAYS)
    async_import_statistics(
        hass,
        metadata("°C", "temperature", statistic_id=OUTDOOR),
        [
            StatisticData(start=hour, mean=-127.0, min=-127.0, max=-127.0)
            for hour in hours_before_now(HISTORY_IMPORT_DAYS)
        ],
    )
    await async_wait_recording_done(hass)
    hass.states.async_set(OUTDOOR, "-127", {"unit_of_measurement": "°C"})
    entry = home_entry()
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, options={CONF_TEMPERATURE_ENTITY: OUTDOOR})

    with caplog.at_level(logging.INFO, LOGGER_NAME):
        await set_up_home_drawing(hass, entry, 350)

    assert f"({HISTORY_IMPORT_DAYS * 24} rows, 0 skipped)" in caplog.text
    status = hass.states.get(STATUS)
    assert status is not None
    assert status.attributes["history"] == "done"
    assert status.attributes["history_days"] == local_days(HISTORY_IMPORT_DAYS)
    assert status.state == "active"


async def test_a_meter_reading_a_few_watts_below_zero_now_and_then_keeps_its_hours(
    recorder_mock: Recorder, hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    # A CT clamp's offset: with little on, it reads -2 W now and then (hourly minimum -2 W).
    async_import_statistics(
        hass,
        metadata(statistic_id=POWER),
        [
            StatisticData(start=hour, mean=300.0 + hour.hour, min=-2.0, max=900.0)
            for hour in hours_before_now(HISTORY_IMPORT_DAYS)
        ],
    )
    await async_wait_recording_done(hass)

    with caplog.at_level(logging.INFO, LOGGER_NAME):
        await set_up_home_drawing(hass, home_entry(), 350)

    assert f"({HISTORY_IMPORT_DAYS * 24} rows, 0 skipped)" in caplog.text
    status = hass.states.get(STATUS)
    assert status is not None
    assert status.attributes["history"] == "done"
    assert status.attributes["history_days"] == local_days(HISTORY_IMPORT_DAYS)


async def test_a_demo_added_again_learns_all_its_four_weeks_after_an_earlier_runs_statistics(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    demo_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The demo, tried for an hour three days ago and deleted, left its Power sensor's 5-minute
    # statistics of that hour (the recorder keeps them 10 days) under the entity id it gets again.
    tried = dt_util.utcnow().replace(minute=0, second=0, microsecond=0) - timedelta(days=3)
    recorder_mock.async_import_statistics(
        metadata(statistic_id=DEMO_POWER),
        [
            StatisticData(start=tried + timedelta(minutes=5 * i), mean=400.0, min=300.0, max=500.0)
            for i in range(12)
        ],
        StatisticsShortTerm,
    )
    await async_wait_recording_done(hass)

    with caplog.at_level(logging.INFO, LOGGER_NAME):
        await set_up_demo(hass, demo_entry)
        await hass.async_block_till_done(wait_background_tasks=True)

    # Every hour of the four weeks (that one hour as its twelve 5-minute rows, finer), none lost
    rows = hours_of_the_past() - 1 + 12
    assert f"learned from {PAST_DAYS} days of history ({rows} rows, 0 skipped)" in caplog.text
    status = hass.states.get(DEMO_STATUS)
    assert status is not None
    assert status.attributes["history"] == "done"
    assert status.attributes["history_days"] == PAST_DAYS


async def test_a_tibber_home_reinstalled_weeks_after_its_removal_learns_tibbers_weeks_since(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
) -> None:
    local_home = tibber_server.account.home(HOME_A)
    assert local_home is not None
    local_home.history_days = HISTORY_IMPORT_DAYS
    # Installed for a day three weeks ago, then removed: Home Assistant kept the Power sensor's
    # entity id and its statistics of that day, and has none since.
    tibber_entry.add_to_hass(hass)
    own_power = er.async_get(hass).async_get_or_create(
        "sensor", DOMAIN, f"{HOME_A}_power", suggested_object_id="cabin_power"
    )
    that_day = hours_before_now(HISTORY_IMPORT_DAYS)[7 * 24 : 8 * 24]
    async_import_statistics(
        hass,
        metadata(statistic_id=own_power.entity_id),
        [StatisticData(start=hour, mean=400.0, min=200.0, max=900.0) for hour in that_day],
    )
    await async_wait_recording_done(hass)

    await start(hass, tibber_entry, tibber_server)
    await tibber_server.push(HOME_A, power=350.0, timestamp=dt_util.now().isoformat())
    await wait_until(hass, lambda: state_of(hass, "sensor.cabin_power") == "350.0")

    status = hass.states.get("sensor.cabin_detector_status")
    assert status is not None
    assert status.attributes["history"] == "done"
    assert status.attributes["history_days"] >= HISTORY_IMPORT_DAYS
    assert status.state == "active"
