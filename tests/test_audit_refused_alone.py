"""Audit: a connection whose every watched home Tibber refuses."""

from datetime import timedelta

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_anomaly.const import CONF_HOMES

from .conftest import HOME_B
from .test_live_connection import jump
from .test_live_data import wait_until
from .tibber_server import LocalTibberServer


@pytest.mark.xfail(
    strict=True,
    reason="a connection whose only home Tibber refuses counts as silent: the stall check "
    "closes it after 90 s and it is reopened, instead of retrying the home on it",
)
async def test_a_home_tibber_refuses_alone_is_retried_on_the_same_connection(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """README: a refused home "is subscribed again on the same connection after the same kind of
    backoff"; Tibber answered each subscription, so the connection is not stalled."""
    tibber_server.refused_homes = {HOME_B}  # e.g. a Pulse moved to another account
    tibber_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        tibber_entry, data={**tibber_entry.data, CONF_HOMES: {HOME_B: "Flat"}}
    )
    assert await hass.config_entries.async_setup(tibber_entry.entry_id)
    await wait_until(hass, lambda: "Tibber refused the home's live data" in caplog.text)

    for _ in range(12):  # two minutes, health check by health check
        await jump(hass, timedelta(seconds=10))
    for _ in range(3):  # past the home's own retry and any reconnect backoff
        await jump(hass, timedelta(minutes=6))

    assert (tibber_server.connections_total, tibber_server.open_connections) == (1, 1)
    assert "no live message for 90 s" not in caplog.text
