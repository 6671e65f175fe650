"""Tibber live data end to end: local Tibber server → real pyTibber → detector → entities."""

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
import logging
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import EVENT_STATE_CHANGED, EVENT_STATE_REPORTED, STATE_UNAVAILABLE
from homeassistant.core import (
    Event,
    EventStateChangedData,
    EventStateReportedData,
    HomeAssistant,
    callback,
)
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.energy_anomaly import runner as runner_module
from custom_components.energy_anomaly.const import CONNECTION_STABLE_AFTER, DOMAIN
from custom_components.energy_anomaly.detector import validation as validation_module
from custom_components.energy_anomaly.detector.engine import Detector
from custom_components.energy_anomaly.detector.model import Reading, Result
from custom_components.energy_anomaly.detector.validation import reading_problem
from custom_components.energy_anomaly.diagnostics import hashed_id

from .conftest import HOME_A, HOME_B
from .tibber_server import SETTLE_TIMEOUT_S, HttpFault, LocalTibberServer


async def wait_until(hass: HomeAssistant, condition: Callable[[], bool]) -> None:
    """Let the websocket, the detector's executor job and HA settle until `condition` holds."""
    async with asyncio.timeout(SETTLE_TIMEOUT_S):
        while True:
            await hass.async_block_till_done(wait_background_tasks=True)
            if condition():
                return
            await asyncio.sleep(0.02)


class Clock:
    """Moves Home Assistant's timers forward while sockets keep running on real time.

    (Freezing time would also freeze the event loop's clock the websocket relies on.)
    """

    def __init__(self, hass: HomeAssistant) -> None:
        self._hass = hass
        self._start = dt_util.utcnow()
        self._elapsed = timedelta()

    async def advance(self, delta: timedelta) -> None:
        self._elapsed += delta
        async_fire_time_changed(self._hass, self._start + self._elapsed)
        await self._hass.async_block_till_done(wait_background_tasks=True)
        await asyncio.sleep(0.05)  # let socket I/O (e.g. the answer to a keepalive ping) happen


async def wait_for_retry(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Wait until the live source noticed its connection ended and set its reconnect timer."""
    await wait_until(hass, lambda: entry.runtime_data.source.diagnostics()["retry_at"] is not None)


def state_of(hass: HomeAssistant, entity_id: str) -> str | None:
    state = hass.states.get(entity_id)
    return None if state is None else state.state


async def set_up(hass: HomeAssistant, entry: MockConfigEntry, server: LocalTibberServer) -> None:
    entry.add_to_hass(hass)
    await start(hass, entry, server)


async def start(hass: HomeAssistant, entry: MockConfigEntry, server: LocalTibberServer) -> None:
    """Set up an entry already added (and perhaps changed) and wait for its homes' streams."""
    assert await hass.config_entries.async_setup(entry.entry_id)
    await server.wait_for_subscriptions(len(entry.data["homes"]))
    await hass.async_block_till_done(wait_background_tasks=True)  # the history import


async def test_two_homes_share_one_websocket_and_become_devices(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    await set_up(hass, tibber_entry, tibber_server)

    assert tibber_server.connections_total == 1
    assert tibber_server.open_connections == 1
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), tibber_entry.entry_id)
    assert sorted(device.name for device in devices) == ["Cabin", "Flat"]


async def test_live_measurements_become_entity_states_with_units(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    await set_up(hass, tibber_entry, tibber_server)

    await tibber_server.push(
        HOME_A, power=1234.0, powerProduction=0.0, voltagePhase1=231.5, currentL1=5.4
    )
    await tibber_server.push(HOME_B, power=321.0)
    await wait_until(
        hass,
        lambda: (
            state_of(hass, "sensor.cabin_power") == "1234.0"
            and state_of(hass, "sensor.flat_power") == "321.0"
        ),
    )

    power = hass.states.get("sensor.cabin_power")
    assert power.attributes["unit_of_measurement"] == "W"
    assert power.attributes["device_class"] == "power"
    assert power.attributes["state_class"] == "measurement"
    voltage = hass.states.get("sensor.cabin_voltage_l1")
    assert (voltage.state, voltage.attributes["unit_of_measurement"]) == ("231.5", "V")
    current = hass.states.get("sensor.cabin_current_l1")
    assert (current.state, current.attributes["unit_of_measurement"]) == ("5.4", "A")
    assert state_of(hass, "sensor.cabin_power_production") == "0.0"
    assert state_of(hass, "sensor.cabin_detector_status") == "learning"
    assert hass.states.get("sensor.cabin_detector_status").attributes["learning_progress"] == 0
    assert state_of(hass, "binary_sensor.cabin_anomaly") == "off"
    assert state_of(hass, "sensor.cabin_anomaly_score") is not None


async def test_phases_the_meter_does_not_report_create_no_entities(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    await set_up(hass, tibber_entry, tibber_server)

    await tibber_server.push(
        HOME_A,
        power=500.0,
        voltagePhase1=230.0,
        voltagePhase2=None,
        voltagePhase3=None,
        currentL1=2.2,
        currentL2=None,
        currentL3=None,
    )
    await wait_until(hass, lambda: state_of(hass, "sensor.cabin_power") == "500.0")

    registry = er.async_get(hass)
    cabin_phase_entities = sorted(
        entry.unique_id.removeprefix(f"{HOME_A}_")
        for entry in er.async_entries_for_config_entry(registry, tibber_entry.entry_id)
        if entry.unique_id.startswith(HOME_A) and "_l" in entry.unique_id[-3:]
    )
    assert cabin_phase_entities == ["current_l1", "voltage_l1"]


async def test_entities_go_unavailable_when_the_stream_drops_and_recover_when_it_returns(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await set_up(hass, tibber_entry, tibber_server)
    await tibber_server.push(HOME_A, power=700.0)
    await wait_until(hass, lambda: state_of(hass, "sensor.cabin_power") == "700.0")

    tibber_server.refuse_websockets = True
    await tibber_server.drop_connections()
    clock = Clock(hass)
    for _ in range(2):  # two reconnects, refused (after 10 and 20 s ± 20 %)
        await wait_for_retry(hass, tibber_entry)
        await clock.advance(timedelta(seconds=25))
    await wait_for_retry(hass, tibber_entry)
    assert state_of(hass, "sensor.cabin_power") == STATE_UNAVAILABLE
    assert state_of(hass, "binary_sensor.cabin_anomaly") == STATE_UNAVAILABLE
    assert caplog.text.count("Live data for Cabin is unavailable") == 1

    tibber_server.refuse_websockets = False
    await clock.advance(timedelta(minutes=1))  # past the third backoff (40 s ± 20 %)
    await tibber_server.wait_for_subscriptions(2)
    await tibber_server.push(HOME_A, power=800.0)
    await wait_until(hass, lambda: state_of(hass, "sensor.cabin_power") == "800.0")
    assert tibber_server.open_connections == 1
    assert "Live data for Cabin is back" not in caplog.text  # until it has flowed a while
    await clock.advance(CONNECTION_STABLE_AFTER)
    assert caplog.text.count("Live data for Cabin is back") == 1


async def test_a_home_silent_for_a_minute_goes_unavailable(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await set_up(hass, tibber_entry, tibber_server)
    await tibber_server.push(HOME_B, power=150.0)
    await wait_until(hass, lambda: state_of(hass, "sensor.flat_power") == "150.0")

    clock = Clock(hass)
    for _ in range(5):
        await clock.advance(timedelta(seconds=10))
    assert state_of(hass, "sensor.flat_power") == "150.0"
    for _ in range(2):
        await clock.advance(timedelta(seconds=10))

    assert state_of(hass, "sensor.flat_power") == STATE_UNAVAILABLE
    assert "Live data for Flat is unavailable: no reading for 60 s" in caplog.text


async def test_a_lost_connection_is_logged_once_per_home_with_its_reason(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await set_up(hass, tibber_entry, tibber_server)
    await tibber_server.push(HOME_A, power=700.0)
    await wait_until(hass, lambda: state_of(hass, "sensor.cabin_power") == "700.0")
    caplog.clear()

    tibber_server.refuse_websockets = True
    await tibber_server.drop_connections()
    await wait_for_retry(hass, tibber_entry)

    logged = [
        record.getMessage()
        for record in caplog.records
        if record.name == "custom_components.energy_anomaly" and record.levelno >= logging.INFO
    ]
    assert [line.split(":")[0] for line in logged] == [
        "Live data for Cabin is unavailable",
        "Live data for Flat is unavailable",
    ]
    assert all("retrying in" in line for line in logged)


async def test_a_home_that_never_sends_a_reading_is_logged_as_unavailable(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await set_up(hass, tibber_entry, tibber_server)
    clock = Clock(hass)
    for _ in range(7):  # the Flat streams for over a minute, the Cabin stays silent
        await tibber_server.push(HOME_B, power=150.0)
        await clock.advance(timedelta(seconds=10))

    assert state_of(hass, "sensor.flat_power") == "150.0"
    assert "Live data for Cabin is unavailable: no reading for 60 s" in caplog.text
    assert "Live data for Flat is unavailable" not in caplog.text


async def test_too_many_connections_backs_off_for_minutes_and_raises_a_repair_issue(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    tibber_server.reject_all_connections = True
    tibber_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(tibber_entry.entry_id)
    await wait_until(hass, lambda: len(issue_registry.issues) == 1)
    assert (
        DOMAIN,
        f"too_many_connections_{hashed_id(tibber_entry.entry_id)}",
    ) in issue_registry.issues
    assert tibber_server.connections_total == 1

    clock = Clock(hass)
    for _ in range(12):  # two minutes of health checks: no reconnect loop
        await clock.advance(timedelta(seconds=10))
    assert tibber_server.connections_total == 1

    tibber_server.reject_all_connections = False
    await clock.advance(timedelta(minutes=5))
    await tibber_server.wait_for_subscriptions(2)
    await tibber_server.push(HOME_A, power=100.0)
    await wait_until(hass, lambda: len(issue_registry.issues) == 0)
    assert tibber_server.connections_total == 2


async def test_rejected_token_at_start_asks_for_reauthentication(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    tibber_server.valid_tokens = {"another-token"}
    tibber_entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(tibber_entry.entry_id)

    assert tibber_entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]


async def test_unreachable_tibber_at_start_retries_setup_later(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    tibber_server.http_fault = HttpFault.SERVER_ERROR
    tibber_entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(tibber_entry.entry_id)
    assert tibber_entry.state is ConfigEntryState.SETUP_RETRY


async def test_an_error_in_tibbers_prices_does_not_hold_up_the_setup(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    for home in tibber_server.account.homes:
        home.price_error = "Price service unavailable"
    tibber_entry.add_to_hass(hass)

    await hass.config_entries.async_setup(tibber_entry.entry_id)

    assert tibber_entry.state is ConfigEntryState.LOADED


async def test_homes_tibber_gives_no_prices_for_stream_and_their_cost_has_no_price(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    for home in tibber_server.account.homes:
        home.has_prices = False  # priceInfo null, no error
    await set_up(hass, tibber_entry, tibber_server)

    await tibber_server.push(HOME_A, power=640.0)
    await wait_until(hass, lambda: state_of(hass, "sensor.cabin_power") == "640.0")
    cost = hass.states.get("sensor.cabin_always_on_cost_per_year")
    assert cost.attributes["price_per_kwh"] is None


async def test_while_tibbers_prices_fail_the_cost_has_no_tibber_price(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, "custom_components.energy_anomaly")
    await set_up(hass, tibber_entry, tibber_server)
    await tibber_server.push(HOME_A, power=640.0)
    await wait_until(hass, lambda: state_of(hass, "sensor.cabin_power") == "640.0")
    cost = hass.states.get("sensor.cabin_always_on_cost_per_year")
    assert cost.attributes["price_per_kwh"] is not None  # Tibber's price, read at setup
    for home in tibber_server.account.homes:
        home.price_error = "Price service unavailable"

    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(hours=1, seconds=1))  # listed
    await hass.async_block_till_done(wait_background_tasks=True)
    assert "Could not read Tibber's prices" in caplog.text
    later = dt_util.now() + timedelta(seconds=10)  # a reading of its own, not the same second's
    await tibber_server.push(HOME_A, power=650.0, timestamp=later.isoformat())
    await wait_until(hass, lambda: state_of(hass, "sensor.cabin_power") == "650.0")

    cost = hass.states.get("sensor.cabin_always_on_cost_per_year")
    assert cost.attributes["price_per_kwh"] is None


async def test_unload_closes_the_websocket(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    await set_up(hass, tibber_entry, tibber_server)
    assert await hass.config_entries.async_unload(tibber_entry.entry_id)
    await tibber_server.wait_for(lambda: tibber_server.open_connections == 0)
    assert tibber_entry.state is ConfigEntryState.NOT_LOADED


@pytest.fixture
async def debug_log(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> pytest.LogCaptureFixture:
    """The Tibber entry set up, with the integration's debug log captured from then on."""
    caplog.set_level(logging.DEBUG, logger="custom_components.energy_anomaly")
    await set_up(hass, tibber_entry, tibber_server)
    caplog.clear()
    return caplog


async def test_malformed_live_message_is_skipped_and_logged(
    hass: HomeAssistant, tibber_server: LocalTibberServer, debug_log: pytest.LogCaptureFixture
) -> None:
    await tibber_server.push(HOME_A, power=None)
    await tibber_server.push(HOME_A, power=900.0)
    await wait_until(hass, lambda: state_of(hass, "sensor.cabin_power") == "900.0")
    assert "Skipping malformed live message" in debug_log.text


async def test_readings_write_no_debug_line_each(
    hass: HomeAssistant, tibber_server: LocalTibberServer, debug_log: pytest.LogCaptureFixture
) -> None:
    for power in (500.0, 600.0, 700.0):
        await tibber_server.push(HOME_A, power=power)
    await wait_until(hass, lambda: state_of(hass, "sensor.cabin_power") == "700.0")

    assert "Manually updated" not in debug_log.text


async def test_a_reading_the_detector_fails_on_is_logged_and_the_next_ones_still_count(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await set_up(hass, tibber_entry, tibber_server)
    original = Detector.update_plausible

    def fail_on_13_watts(self: Detector, reading: Reading) -> Result:
        if reading.power == 13.0:
            raise ArithmeticError("unforeseen")
        return original(self, reading)

    with patch.object(Detector, "update_plausible", fail_on_13_watts):
        await tibber_server.push(HOME_A, power=13.0)
        await tibber_server.push(HOME_A, power=14.0)
        await wait_until(hass, lambda: state_of(hass, "sensor.cabin_power") == "14.0")

    assert "Skipped a reading for Cabin the detector failed on" in caplog.text


async def test_a_reading_older_than_the_last_is_not_shown_as_the_power_now(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await set_up(hass, tibber_entry, tibber_server)
    now = dt_util.now()
    await tibber_server.push(HOME_A, power=500.0, timestamp=now.isoformat())
    await wait_until(hass, lambda: state_of(hass, "sensor.cabin_power") == "500.0")

    replayed = (now - timedelta(minutes=2)).isoformat()
    await tibber_server.push(HOME_A, power=100.0, timestamp=replayed)
    await wait_until(
        hass,
        lambda: (
            "older than the one before it" in caplog.text
            or state_of(hass, "sensor.cabin_power") != "500.0"
        ),
    )

    assert state_of(hass, "sensor.cabin_power") == "500.0"


async def test_each_kind_of_skipped_reading_is_warned_about_on_its_own(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await set_up(hass, tibber_entry, tibber_server)
    now = dt_util.now()
    await tibber_server.push(HOME_A, power=500.0, powerProduction=-2.0, timestamp=now.isoformat())
    await wait_until(hass, lambda: "Left out a value of a reading for Cabin" in caplog.text)

    earlier = (now - timedelta(minutes=2)).isoformat()
    await tibber_server.push(HOME_A, power=100.0, powerProduction=-2.0, timestamp=earlier)

    await wait_until(hass, lambda: "older than the one before it" in caplog.text)


async def test_a_detector_that_fails_on_every_reading_logs_its_traceback_once(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await set_up(hass, tibber_entry, tibber_server)

    failed: list[Reading] = []

    def fail(self: Detector, reading: Reading) -> Result:
        failed.append(reading)
        raise ArithmeticError("unforeseen")

    with patch.object(Detector, "update_plausible", fail):
        for watts in range(100, 105):
            await tibber_server.push(HOME_A, power=float(watts))
        await wait_until(hass, lambda: len(failed) == 5)

    assert caplog.text.count("Skipped a reading for Cabin the detector failed on") == 1
    assert caplog.text.count("Traceback") == 1


async def test_a_home_removed_from_the_account_while_stopped_is_removed_at_setup(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    tibber_server.account.homes = [h for h in tibber_server.account.homes if h.home_id != HOME_B]
    tibber_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(tibber_entry.entry_id)
    await tibber_server.wait_for_subscriptions(1)
    await tibber_server.push(HOME_A, power=610.0)
    await wait_until(hass, lambda: state_of(hass, "sensor.cabin_power") == "610.0")

    assert "Flat is no longer on the Tibber account: removing its device" in caplog.text
    assert hass.states.get("sensor.flat_power") is None
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), tibber_entry.entry_id)
    assert [device.name for device in devices] == ["Cabin"]


async def test_a_home_removed_from_the_account_while_stopped_is_logged_once_by_its_name(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    tibber_server.account.homes = [h for h in tibber_server.account.homes if h.home_id != HOME_B]

    await set_up(hass, tibber_entry, tibber_server)

    shown = [
        f"{record.name}: {record.getMessage()}"
        for record in caplog.records
        if record.levelno >= logging.WARNING
        and record.name.startswith(("custom_components.energy_anomaly", "tibber"))
    ]
    assert shown == [
        "custom_components.energy_anomaly: Flat is no longer on the Tibber account: "
        "removing its device"
    ]


async def test_the_anomaly_sensor_does_not_change_state_on_normal_readings(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    await set_up(hass, tibber_entry, tibber_server)
    await tibber_server.push(HOME_A, power=300.0)
    await wait_until(hass, lambda: state_of(hass, "sensor.cabin_power") == "300.0")
    before = hass.states.get("binary_sensor.cabin_anomaly")

    await tibber_server.push(HOME_A, power=420.0)
    await wait_until(hass, lambda: state_of(hass, "sensor.cabin_power") == "420.0")

    after = hass.states.get("binary_sensor.cabin_anomaly")
    assert after.state == "off"
    assert after.last_updated == before.last_updated  # nothing new for the recorder
    assert after.attributes["observed"] is None


async def test_a_reading_that_moves_only_the_power_writes_only_the_power_sensor(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    await set_up(hass, tibber_entry, tibber_server)
    await tibber_server.push(HOME_A, power=300.0, timestamp="2026-11-02T08:00:00+01:00")
    await wait_until(hass, lambda: state_of(hass, "sensor.cabin_power") == "300.0")
    written: list[str] = []

    @callback
    def record(event: Event[EventStateChangedData] | Event[EventStateReportedData]) -> None:
        written.append(event.data["entity_id"])

    @callback
    def of_the_cabin(data: EventStateChangedData | EventStateReportedData) -> bool:
        return data["entity_id"].split(".")[1].startswith("cabin_")

    for event_type in (EVENT_STATE_CHANGED, EVENT_STATE_REPORTED):
        hass.bus.async_listen(event_type, record, event_filter=of_the_cabin)
    await tibber_server.push(HOME_A, power=310.0, timestamp="2026-11-02T08:00:10+01:00")
    await wait_until(hass, lambda: state_of(hass, "sensor.cabin_power") == "310.0")

    assert written == ["sensor.cabin_power"]


async def test_implausible_readings_are_dropped_counted_and_warned_about_once(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await set_up(hass, tibber_entry, tibber_server)
    future = (dt_util.now() + timedelta(hours=1)).isoformat()
    await tibber_server.push(HOME_A, power=400.0, timestamp=future)
    await tibber_server.push(HOME_A, power=405.0, timestamp=future)
    await tibber_server.push(HOME_A, power=410.0)
    await wait_until(hass, lambda: state_of(hass, "sensor.cabin_power") == "410.0")

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, tibber_entry)
    assert diagnostics["homes"][hashed_id(HOME_A)]["rejected_readings"] == 2
    assert caplog.text.count("Rejected a reading for Cabin") == 1
    assert f"Rejected a reading for Cabin: its timestamp {future} is in the future" in caplog.text


async def test_an_implausible_production_costs_only_itself(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # An inverter's standby read as -2 W of production: the power read with it still counts.
    await set_up(hass, tibber_entry, tibber_server)
    await tibber_server.push(HOME_A, power=444.0, powerProduction=-2.0)
    await wait_until(hass, lambda: state_of(hass, "sensor.cabin_power") == "444.0")

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, tibber_entry)
    assert diagnostics["homes"][hashed_id(HOME_A)]["rejected_readings"] == 0
    assert (
        "Left out a value of a reading for Cabin: its power production -2.0 W is not a "
        "plausible value" in caplog.text
    )


async def test_each_reading_is_checked_for_plausibility_once(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The runner checks a reading against the host's clock; the detector does not again."""
    checked: list[Reading] = []

    def counted(reading: Reading, now: datetime | None = None) -> str | None:
        checked.append(reading)
        return reading_problem(reading, now)

    # Every check goes through validation (`plausible_part`); the runner's own name for it
    # only words a warning
    monkeypatch.setattr(validation_module, "reading_problem", counted)
    monkeypatch.setattr(runner_module, "reading_problem", counted)
    await set_up(hass, tibber_entry, tibber_server)
    await tibber_server.push(HOME_A, power=410.0)
    await wait_until(hass, lambda: state_of(hass, "sensor.cabin_power") == "410.0")

    assert [r.power for r in checked] == [410.0]


class RunnerClock:
    """Stands in for `dt_util` in the runner only: its clock moves when the test says so."""

    def __init__(self) -> None:
        self.now = dt_util.utcnow()

    def utcnow(self) -> datetime:
        return self.now


async def test_implausible_readings_are_warned_about_again_after_ten_minutes(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = RunnerClock()
    monkeypatch.setattr(runner_module, "dt_util", clock)
    await set_up(hass, tibber_entry, tibber_server)
    start = clock.now

    ahead = {hours: (dt_util.now() + timedelta(hours=hours)).isoformat() for hours in (2, 3, 4)}
    for minutes, hours, good in ((0, 2, 400.0), (9, 3, 600.0), (10, 4, 800.0)):
        clock.now = start + timedelta(minutes=minutes)
        await tibber_server.push(HOME_A, power=300.0, timestamp=ahead[hours])
        await tibber_server.push(HOME_A, power=good)
        await wait_until(hass, lambda good=good: state_of(hass, "sensor.cabin_power") == str(good))

    assert caplog.text.count("Rejected a reading for Cabin") == 2
    assert f"its timestamp {ahead[4]} is in the future" in caplog.text
    assert f"its timestamp {ahead[3]} is in the future" not in caplog.text


async def test_the_first_data_after_setup_is_written_entity_by_entity(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every entity writes its first state then: one loop step each, not all in one (CPU budget)."""
    written_inside: list[int] = []
    changes: list[Event] = []
    hass.bus.async_listen(EVENT_STATE_CHANGED, changes.append)
    publish = runner_module.HomeRunner._async_publish

    def counting(runner: runner_module.HomeRunner, done: Any) -> None:
        before = len(changes)
        publish(runner, done)
        written_inside.append(len(changes) - before)

    monkeypatch.setattr(runner_module.HomeRunner, "_async_publish", counting)
    await set_up(hass, tibber_entry, tibber_server)
    await tibber_server.push(HOME_A, power=400.0)
    await wait_until(hass, lambda: state_of(hass, "sensor.cabin_power") == "400.0")

    assert written_inside[0] == 0  # the first data: every entity writes in a later step
