"""The diagnostics download describes the connection and each home, never the token."""

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from .conftest import HOME_A, HOME_B
from .test_live_data import set_up, state_of, wait_until
from .tibber_server import DEFAULT_TOKEN, LocalTibberServer


async def test_diagnostics_redact_the_token_and_describe_each_home(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
) -> None:
    await set_up(hass, tibber_entry, tibber_server)
    await tibber_server.push(
        HOME_A,
        power=640.0,
        voltagePhase1=229.0,
        voltagePhase2=None,
        voltagePhase3=None,
        currentL1=None,
        currentL2=None,
        currentL3=None,
    )
    await wait_until(hass, lambda: state_of(hass, "sensor.cabin_power") == "640.0")

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, tibber_entry)

    assert DEFAULT_TOKEN not in str(diagnostics)
    assert diagnostics["entry"]["access_token"] == "**REDACTED**"
    assert diagnostics["source"]["connected"] is True
    assert diagnostics["source"]["data_flowing"] is True
    assert diagnostics["source"]["connection_attempts"] == 1
    assert diagnostics["homes"][HOME_A]["status"] == "learning"
    assert diagnostics["homes"][HOME_A]["reported"] == ["power_production", "voltage_l1"]
    assert diagnostics["homes"][HOME_B]["last_reading"] is None
