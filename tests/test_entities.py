"""Every entity's state and attributes, as Home Assistant core snapshots them."""

from collections.abc import Iterator
from datetime import datetime, timedelta
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion

from custom_components.energy_anomaly.const import CONF_FUSE_SIZE

from .conftest import HOME_A
from .test_live_data import wait_until
from .tibber_server import LocalTibberServer

OVERCURRENT_START = datetime.fromisoformat("2026-11-24T18:00:00+01:00")


@pytest.fixture(params=[Platform.BINARY_SENSOR, Platform.EVENT, Platform.SENSOR])
def platform(request: pytest.FixtureRequest) -> Iterator[Platform]:
    """Load one entity platform only, as `snapshot_platform` requires."""
    with patch("custom_components.energy_anomaly.PLATFORMS", [request.param]):
        yield request.param


@pytest.fixture(params=[Platform.BINARY_SENSOR, Platform.SENSOR])
def platform_on_real_time(request: pytest.FixtureRequest) -> Iterator[Platform]:
    """As `platform`, without the event entity: its state is the wall time it fired at, and the
    websocket needs real time (test_anomaly_surface.py checks what it carries)."""
    with patch("custom_components.energy_anomaly.PLATFORMS", [request.param]):
        yield request.param


async def test_tibber_entities_after_three_minutes_above_the_fuse(
    hass: HomeAssistant,
    platform_on_real_time: Platform,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    tibber_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(tibber_entry, options={CONF_FUSE_SIZE: 25})
    assert await hass.config_entries.async_setup(tibber_entry.entry_id)
    await tibber_server.wait_for_subscriptions(2)
    cabin = tibber_entry.runtime_data.coordinators[0]
    for seconds in range(0, 181, 10):  # the Cabin draws 32 A on L1; the Flat sends nothing
        power = 7400.0 + seconds
        await tibber_server.push(
            HOME_A,
            power=power,
            currentL1=32.0,
            timestamp=(OVERCURRENT_START + timedelta(seconds=seconds)).isoformat(),
        )
        # One reading at a time, as live: the anomaly's state is written when it starts.
        await wait_until(
            hass, lambda power=power: cabin.data is not None and cabin.data.reading.power == power
        )

    await snapshot_platform(hass, entity_registry, snapshot, tibber_entry.entry_id)


async def test_demo_entities_after_setup(
    hass: HomeAssistant,
    platform: Platform,
    demo_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to("2026-11-25T12:00:00+00:00")
    demo_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(demo_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)

    await snapshot_platform(hass, entity_registry, snapshot, demo_entry.entry_id)
    assert await hass.config_entries.async_unload(demo_entry.entry_id)
