"""Activity (the logbook) says where an anomaly started and why."""

from homeassistant.components.logbook import DOMAIN as LOGBOOK
from homeassistant.components.logbook.models import LogbookConfig
from homeassistant.components.recorder import Recorder
from homeassistant.core import EventOrigin, HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    mock_component,
)
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.energy_anomaly.const import DOMAIN, EVENT_ANOMALY

from .test_anomaly_surface import over_the_fuse
from .tibber_server import LocalTibberServer


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(recorder_db_url: str, enable_custom_integrations: None) -> None:
    """As the shared fixture, but the recorder's database is prepared before Home Assistant."""


async def test_activity_reads_anomaly_at_the_home_then_the_reason(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
) -> None:
    fired = async_capture_events(hass, EVENT_ANOMALY)
    await over_the_fuse(hass, tibber_server, tibber_entry)
    mock_component(hass, "frontend")  # its panel files are not installed; Activity's data is
    assert await async_setup_component(hass, LOGBOOK, {})
    await hass.async_block_till_done()

    config: LogbookConfig = hass.data[LOGBOOK]
    _domain, describe = config.external_events[EVENT_ANOMALY]
    entry = describe(fired[0])  # type: ignore[arg-type]

    assert f"{entry['name']} {entry['message']}" == (
        "Anomaly at Cabin: Current on L1 is 32 A, above the 25 A fuse, for 1 minute"
    )


async def test_activity_of_the_anomaly_sensor_shows_the_reason(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
) -> None:
    """A logbook card (or Activity) filtered to the Anomaly sensor lists the anomaly's reason."""
    mock_component(hass, "frontend")
    assert await async_setup_component(hass, LOGBOOK, {})
    start = dt_util.utcnow()
    await over_the_fuse(hass, tibber_server, tibber_entry)
    await async_wait_recording_done(hass)

    client = await hass_ws_client()
    await client.send_json_auto_id(
        {
            "type": "logbook/get_events",
            "start_time": start.isoformat(),
            "entity_ids": ["binary_sensor.cabin_anomaly"],
        }
    )
    response = await client.receive_json()

    assert response["success"]
    reasons = [
        f"{row['name']} {row['message']}"
        for row in response["result"]
        if row.get("domain") == "energy_anomaly"
    ]
    assert reasons == ["Anomaly at Cabin: Current on L1 is 32 A, above the 25 A fuse, for 1 minute"]


async def test_activity_of_an_anomaly_event_fired_by_hand_logs_no_error(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Trying the README's automation: fire energy_anomaly_detected with only a home's name."""
    mock_component(hass, "frontend")
    assert await async_setup_component(hass, DOMAIN, {})
    assert await async_setup_component(hass, LOGBOOK, {})
    start = dt_util.utcnow()
    hass.bus.async_fire(EVENT_ANOMALY, {"home": "Cabin"}, EventOrigin.remote)
    await async_wait_recording_done(hass)

    client = await hass_ws_client()
    await client.send_json_auto_id({"type": "logbook/get_events", "start_time": start.isoformat()})
    response = await client.receive_json()

    assert response["success"]
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == []
