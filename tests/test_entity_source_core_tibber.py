"""Beside Home Assistant's own `tibber` integration: its live power sensor as our source.

Core `tibber` (OAuth2 token of the same account, the real pyTibber) streams the Pulse through its
own websocket to the local Tibber server. A home of ours fed by core tibber's power sensor must
open no second websocket: Tibber allows two live connections per account.
"""

import time

from homeassistant.components.application_credentials import (
    ClientCredential,
    async_import_client_credential,
)
from homeassistant.components.recorder import Recorder
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_anomaly.sensor import POWER_JUMP_W

from .conftest import HOME_A, USER_ID
from .test_entity_source import home_entry, shown
from .test_live_data import state_of, wait_until
from .tibber_server import DEFAULT_TOKEN, LocalAccount, LocalHome, LocalTibberServer

CORE = "tibber"
TOKEN_LIFETIME_S = 3600


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(recorder_db_url: str, enable_custom_integrations: None) -> None:
    """As the shared fixture, but the recorder (core tibber needs it) is prepared before HA."""


@pytest.fixture
def tibber_account() -> LocalAccount:
    """One Pulse home without a power deal: core tibber streams its power and fetches no prices."""
    return LocalAccount(
        user_id=USER_ID, homes=[LocalHome(HOME_A, nickname="Cabin", subscription_status=None)]
    )


async def set_up_core_tibber(hass: HomeAssistant, server: LocalTibberServer) -> str:
    """Core tibber for the account, as after its OAuth2 login; returns its live power sensor."""
    assert await async_setup_component(hass, "application_credentials", {})
    await async_import_client_credential(
        hass, CORE, ClientCredential("client-id", "client-secret"), CORE
    )
    entry = MockConfigEntry(
        domain=CORE,
        unique_id=USER_ID,
        data={
            "auth_implementation": CORE,
            "token": {
                "access_token": DEFAULT_TOKEN,
                "refresh_token": "refresh",
                "token_type": "Bearer",
                "expires_in": TOKEN_LIFETIME_S,
                "expires_at": time.time() + TOKEN_LIFETIME_S,
            },
        },
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await server.wait_for_subscriptions(1)
    await server.push(HOME_A, power=420.0, timestamp=dt_util.now().isoformat())
    registry = er.async_get(hass)
    await wait_until(
        hass, lambda: registry.async_get_entity_id("sensor", CORE, f"{HOME_A}_rt_power") is not None
    )
    power = registry.async_get_entity_id("sensor", CORE, f"{HOME_A}_rt_power")
    assert power is not None
    await wait_until(hass, lambda: state_of(hass, power) == "420.0")
    return power


async def test_a_home_fed_by_core_tibbers_power_sensor_opens_no_websocket(
    recorder_mock: Recorder, hass: HomeAssistant, tibber_server: LocalTibberServer
) -> None:
    core_power = await set_up_core_tibber(hass, tibber_server)
    assert tibber_server.connections_total == 1  # core tibber's websocket
    entry = home_entry(power=core_power, title="Cabin meter")
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)

    moved = 420.0 + POWER_JUMP_W  # by exactly the jump written at once: see `shown`
    await tibber_server.push(HOME_A, power=moved, timestamp=dt_util.now().isoformat())
    await shown(hass, "sensor.cabin_meter_power", str(moved))

    assert tibber_server.connections_total == 1  # still only core tibber's
    assert tibber_server.subscriptions_per_home[HOME_A] == 1
