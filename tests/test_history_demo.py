"""The demo home's four weeks of past go through the recorder, as a new home's recorded past does.

The real recorder of the test harness (SQLite): the demo writes its trace's 28 days as the hourly
statistics of its own power sensor, and learns them back through the import at setup.
"""

from datetime import timedelta
import logging
import time

from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.statistics import statistics_during_period
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.energy_anomaly.const import EVENT_ANOMALY

from .test_demo import ANOMALY, set_up_demo
from .test_live_data import state_of

POWER = "sensor.demo_home_power"
STATUS = "sensor.demo_home_detector_status"
PAST_DAYS = 28
REPLAY_ROW_S = 10  # one trace row of the replayed day per second of Home Assistant's clock
DEMO_HOURS_TO_WAIT = 4  # the heater goes on at 02:00 on the demo clock: flagged by 04:00


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(recorder_db_url: str, enable_custom_integrations: None) -> None:
    """As the shared fixture, but the recorder's database is prepared before Home Assistant."""


def hours_of_the_past() -> int:
    """The hours in the 28 local days before today: 672, one less or more over a change."""
    midnight = dt_util.start_of_local_day()
    first = midnight - timedelta(days=PAST_DAYS)  # on the wall clock
    return round((dt_util.as_utc(midnight) - dt_util.as_utc(first)).total_seconds() / 3600)


async def test_the_demo_writes_its_four_weeks_as_hourly_statistics_of_its_power_sensor(
    recorder_mock: Recorder, hass: HomeAssistant, demo_entry: MockConfigEntry
) -> None:
    await set_up_demo(hass, demo_entry)
    await async_wait_recording_done(hass)

    midnight = dt_util.start_of_local_day()
    hours = await recorder_mock.async_add_executor_job(
        statistics_during_period,
        hass,
        midnight - timedelta(days=PAST_DAYS + 1),
        midnight,
        {POWER},
        "hour",
        None,
        {"mean", "min", "max"},
    )
    rows = hours[POWER]
    assert rows[0]["start"] == (midnight - timedelta(days=PAST_DAYS)).timestamp()
    assert rows[-1]["start"] == (midnight - timedelta(hours=1)).timestamp()
    assert len(rows) == hours_of_the_past()  # every hour once, across a change of summer time
    assert all(row["min"] <= row["mean"] <= row["max"] for row in rows)
    assert 100 < min(row["min"] for row in rows) < 200  # standby never stops
    assert max(row["max"] for row in rows) > 2000  # kettle, oven, washing machine


async def test_the_demo_home_learns_its_recorded_four_weeks_and_is_active_at_once(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    demo_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    started = time.monotonic()
    with caplog.at_level(logging.INFO):
        await set_up_demo(hass, demo_entry)
    seconds = time.monotonic() - started

    status = hass.states.get(STATUS)
    assert status is not None
    assert status.state == "active"
    assert status.attributes["history"] == "done"
    assert status.attributes["history_days"] == PAST_DAYS
    rows = hours_of_the_past()
    assert f"Demo home learned from {PAST_DAYS} days of history ({rows} rows" in caplog.text
    assert seconds < 60
    print(f"\ndemo home active {seconds:.1f} s after setup")  # shown with -s


async def test_the_demo_home_flags_the_heater_on_its_first_replayed_night(
    recorder_mock: Recorder, hass: HomeAssistant, demo_entry: MockConfigEntry
) -> None:
    events = async_capture_events(hass, EVENT_ANOMALY)
    await set_up_demo(hass, demo_entry)

    start = dt_util.utcnow()
    replayed = 0
    while state_of(hass, ANOMALY) != "on" and replayed < DEMO_HOURS_TO_WAIT * 3600 / REPLAY_ROW_S:
        replayed += 1
        async_fire_time_changed(hass, start + timedelta(seconds=replayed))
        await hass.async_block_till_done(wait_background_tasks=True)

    anomaly = hass.states.get(ANOMALY)
    assert anomaly is not None
    assert anomaly.state == "on"
    assert anomaly.attributes["kind"] == "unusual_consumption"
    assert [event.data["kind"] for event in events] == ["unusual_consumption"]
    demo_clock = timedelta(seconds=replayed * REPLAY_ROW_S)
    assert demo_clock > timedelta(hours=2)  # nothing before the heater
    print(f"\nheater flagged at {demo_clock} on the demo clock, {replayed} s after setup")
