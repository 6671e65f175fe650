"""Upgrading from 0.2.0 keeps every home: its entry, what it learned, its entities and options.

The files under `fixtures/0.2.0/` are what a real Home Assistant with Energy Anomaly 0.2.0 stored:
its config entries (the demo home; *House*, a power-sensor home with production, three voltages,
three currents and an outdoor temperature; *Cottage*, a net power sensor with one voltage; a
Tibber account watching *Cabin* and *Flat*, whose ids are the local Tibber server's), each with
options set, the integration's entity registry entries (entity id, unique id, home), and each
home's `.storage/energy_anomaly.<home id>` as 0.2.0 wrote it when Home Assistant stopped. The
demo learned its past itself; House, Cottage and Cabin had 16 days of minute readings learned by
0.2.0's own detector, then restored and stored again by 0.2.0; Flat had learned a few minutes.
"""

from datetime import datetime, timedelta
import json
import logging
from pathlib import Path
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.energy_anomaly.const import DOMAIN
from custom_components.energy_anomaly.entity_source import SAMPLE_INTERVAL

from .conftest import HOME_A, HOME_B
from .test_live_data import state_of, wait_until
from .tibber_server import LocalTibberServer

FIXTURES = Path(__file__).parent / "fixtures" / "0.2.0"
HOUSE = "01M8FC7H6RYW2ABXY6R1BCED70"  # the entry id, which is the home's id
COTTAGE = "01M8FC7H73D0AJBGRG0EH2664F"
DEMO = "demo"
DEMO_ENTRY = "01M8FC7GRVA0H3Y8VZ5AET64ZD"
TIBBER_ENTRY = "01M8FC7HAW0ST51HES6C2D1V9A"
WATT = {"unit_of_measurement": "W", "device_class": "power", "state_class": "measurement"}
KILOWATT = WATT | {"unit_of_measurement": "kW"}
VOLT = {"unit_of_measurement": "V", "device_class": "voltage", "state_class": "measurement"}
AMPERE = {"unit_of_measurement": "A", "device_class": "current", "state_class": "measurement"}
CELSIUS = {"unit_of_measurement": "°C", "device_class": "temperature"}
# The sensors the power-sensor homes were set up with, as they read when 0.2.0 stopped.
METERS: dict[str, tuple[str, dict[str, str]]] = {
    "sensor.house_meter_power": ("650", WATT),
    "sensor.house_meter_production": ("0", WATT),  # 21:51 in Oslo
    **{f"sensor.house_meter_voltage_{phase}": ("231", VOLT) for phase in (1, 2, 3)},
    **{f"sensor.house_meter_current_{phase}": ("2.2", AMPERE) for phase in (1, 2, 3)},
    "sensor.outdoor_temperature": ("4.5", CELSIUS),
    "sensor.cottage_meter_net_power": ("0.3", KILOWATT),
    "sensor.cottage_meter_voltage_1": ("231", VOLT),
}


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def stored_by_0_2_0(home_id: str) -> dict[str, Any]:
    """The home's `.storage/energy_anomaly.<home id>` file as 0.2.0 wrote it."""
    stored: dict[str, Any] = fixture(f"{DOMAIN}.{home_id}.json")
    return stored


def saved_at(home_id: str) -> datetime:
    """When the home's last reading before 0.2.0 stopped was taken."""
    return dt_util.utc_from_timestamp(stored_by_0_2_0(home_id)["data"]["detector"]["last_epoch"])


def registered_by_0_2_0() -> list[dict[str, str]]:
    """0.2.0's entity registry entries: entity id, unique id, config entry and home."""
    entities: list[dict[str, str]] = fixture("entity_registry.json")
    return entities


@pytest.fixture(autouse=True)
def stored(hass_storage: dict[str, Any]) -> None:
    """Each home's stored state as 0.2.0 left it."""
    for path in FIXTURES.glob(f"{DOMAIN}.*.json"):
        hass_storage[path.stem] = json.loads(path.read_text())


async def upgrade(hass: HomeAssistant, *entry_ids: str) -> dict[str, MockConfigEntry]:
    """Set up 0.2.0's entries `entry_ids` (all without), with 0.2.0's devices and entity ids.

    The power-sensor homes' sensors read as when 0.2.0 stopped.
    """
    added: dict[str, MockConfigEntry] = {}
    for data in fixture("config_entries.json"):
        if not entry_ids or data["entry_id"] in entry_ids:
            entry = MockConfigEntry(**data)
            entry.add_to_hass(hass)
            added[entry.entry_id] = entry
    devices, entities = dr.async_get(hass), er.async_get(hass)
    for entity in registered_by_0_2_0():
        if (entry := added.get(entity["config_entry_id"])) is None:
            continue
        device = devices.async_get_or_create(
            config_entry_id=entry.entry_id, identifiers={(DOMAIN, entity["home_id"])}
        )
        domain, object_id = entity["entity_id"].split(".")
        entities.async_get_or_create(
            domain,
            DOMAIN,
            entity["unique_id"],
            config_entry=entry,
            device_id=device.id,
            suggested_object_id=object_id,
        )
    for entity_id, (value, attributes) in METERS.items():
        hass.states.async_set(entity_id, value, attributes)
    assert await async_setup_component(hass, DOMAIN, {})
    await hass.async_block_till_done(wait_background_tasks=True)
    return added


async def sampled(hass: HomeAssistant, freezer: FrozenDateTimeFactory, samples: int = 1) -> None:
    """Let the power-sensor homes take `samples` readings, SAMPLE_INTERVAL apart."""
    for _ in range(samples):
        freezer.tick(SAMPLE_INTERVAL)
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)


async def upgrade_a_minute_later(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, entry_id: str
) -> MockConfigEntry:
    """Set up 0.2.0's entry a minute after House's last reading (the demo's clock is its own)."""
    freezer.move_to(saved_at(HOUSE) + timedelta(minutes=1))
    entry = (await upgrade(hass, entry_id))[entry_id]
    await sampled(hass, freezer)
    return entry


async def cabin_and_flat_read(hass: HomeAssistant, server: LocalTibberServer) -> None:
    """Cabin and Flat stream again: a reading each, a minute after their last before the upgrade."""
    await server.wait_for_subscriptions(2)
    for home_id in (HOME_A, HOME_B):
        stamp = dt_util.as_local(saved_at(home_id) + timedelta(minutes=1)).isoformat()
        await server.push(home_id, power=420.0, timestamp=stamp)
    await wait_until(hass, lambda: state_of(hass, "sensor.flat_power") == "420.0")


def warnings_of_the_integration(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name.startswith("custom_components.energy_anomaly")
        and record.levelno >= logging.WARNING
    ]


async def test_every_entry_of_0_2_0_loads_without_a_warning(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    entries = await upgrade(hass)
    await cabin_and_flat_read(hass, tibber_server)

    assert {entry.title: entry.state for entry in entries.values()} == dict.fromkeys(
        ("Demo home", "House", "Cottage", "Ada Lovelace"), ConfigEntryState.LOADED
    )
    assert warnings_of_the_integration(caplog) == []


async def test_a_power_sensor_home_is_active_at_once_with_what_0_2_0_learned(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    await upgrade_a_minute_later(hass, freezer, HOUSE)

    status = hass.states.get("sensor.house_detector_status")
    assert status.state == "active"
    assert status.attributes["learning_progress"] == 100


async def test_a_tibber_home_is_active_at_once_with_what_0_2_0_learned(
    hass: HomeAssistant, tibber_server: LocalTibberServer
) -> None:
    await upgrade(hass, TIBBER_ENTRY)
    await cabin_and_flat_read(hass, tibber_server)

    assert state_of(hass, "sensor.cabin_detector_status") == "active"
    assert state_of(hass, "sensor.flat_detector_status") == "learning"  # as it was


async def test_the_demo_home_is_active_at_once_with_what_0_2_0_learned(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    await upgrade_a_minute_later(hass, freezer, DEMO_ENTRY)

    assert state_of(hass, "sensor.demo_home_detector_status") == "active"


@pytest.mark.parametrize("home_id", [HOUSE, COTTAGE, DEMO])
async def test_the_state_stored_after_the_upgrade_keeps_the_days_0_2_0_learned(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
    home_id: str,
) -> None:
    before = stored_by_0_2_0(home_id)["data"]
    entry = await upgrade_a_minute_later(hass, freezer, DEMO_ENTRY if home_id == DEMO else home_id)
    assert await hass.config_entries.async_unload(entry.entry_id)  # writes the state

    stored = hass_storage[f"{DOMAIN}.{home_id}"]
    after = stored["data"]
    assert stored["version"] == 1
    assert after["reported"] == before["reported"]
    learned, kept = before["detector"], after["detector"]
    assert kept["options"]["fuse_amps"] == learned["options"]["fuse_amps"]
    # each day of the last 14: its quarter-hours' means and temperatures as 0.2.0 learned them
    assert [day[:2] for day in kept["consumption"]["past"]] == learned["consumption"]["past"]
    # the hours of each day the daily-pattern model keeps, but today's, which goes on
    today = max(learned["pattern"]["model"]["days"], key=int)
    past_days = {day for day in learned["pattern"]["model"]["days"] if day != today}
    assert {day: kept["pattern"]["model"]["days"][day] for day in past_days} == {
        day: learned["pattern"]["model"]["days"][day] for day in past_days
    }
    assert [list(night) for night in kept["baseload"]["history"]] == learned["baseload"]["history"]


async def test_the_entity_ids_0_2_0_registered_are_kept_and_shown(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    entity_registry: er.EntityRegistry,
) -> None:
    await upgrade(hass)
    await cabin_and_flat_read(hass, tibber_server)

    for entity in registered_by_0_2_0():
        registered = entity_registry.async_get(entity["entity_id"])
        assert registered is not None, entity["entity_id"]
        assert registered.unique_id == entity["unique_id"]
        state = hass.states.get(entity["entity_id"])
        assert state is not None, entity["entity_id"]
        assert "restored" not in state.attributes, entity["entity_id"]  # not a leftover
    ours = [entity.entity_id for entity in entity_registry.entities.values()]
    assert not [entity_id for entity_id in ours if entity_id.endswith("_2")]


async def test_the_options_0_2_0_saved_are_kept_and_open_in_the_options_form(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    house = await upgrade_a_minute_later(hass, freezer, HOUSE)
    saved = next(e["options"] for e in fixture("config_entries.json") if e["entry_id"] == HOUSE)
    assert house.options == saved

    form = await hass.config_entries.options.async_init(house.entry_id)
    assert form["type"] is FlowResultType.FORM
    result = await hass.config_entries.options.async_configure(form["flow_id"], saved)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert house.options == saved


async def test_a_meter_reading_zeros_after_the_upgrade_is_a_meter_fault(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The least House draws, learned by 0.2.0, still tells that exact zeros are a fault."""
    await upgrade_a_minute_later(hass, freezer, HOUSE)
    hass.states.async_set("sensor.house_meter_power", "0", WATT)
    await sampled(hass, freezer, samples=30)  # two and a half minutes

    assert state_of(hass, "binary_sensor.house_anomaly") == "on"
    assert state_of(hass, "sensor.house_anomaly_kind") == "meter_fault"


@pytest.mark.parametrize("home_id", [HOUSE, COTTAGE])
async def test_what_0_2_0_learned_is_still_restored_at_the_restart_after_the_upgrade(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    home_id: str,
) -> None:
    """An upgrade keeps what was learned at the next restart too, not only at the first.

    The state this release writes after restoring 0.2.0's must be one it reads back: else the
    first restart after the upgrade (an update of Home Assistant, a power cut) throws away the
    weeks the home learned, and it learns two weeks afresh.
    """
    entry = await upgrade_a_minute_later(hass, freezer, home_id)
    assert await hass.config_entries.async_unload(entry.entry_id)  # writes the state

    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    await sampled(hass, freezer)

    assert warnings_of_the_integration(caplog) == []
    assert state_of(hass, f"sensor.{entry.title.lower()}_detector_status") == "active"


async def test_deleting_the_account_deletes_what_a_home_unticked_under_0_2_0_learned(
    hass: HomeAssistant, hass_storage: dict[str, Any], tibber_server: LocalTibberServer
) -> None:
    """README: deleting the entry deletes what was learned for every home it watched.

    Homes the user stopped watching in Reconfigure included. 0.2.0 kept no list of them: Flat,
    unticked there, left its 0.2.0 state behind; once the account is deleted nothing else would
    ever delete it (nor tell the user it is there).
    """
    data = next(e for e in fixture("config_entries.json") if e["entry_id"] == TIBBER_ENTRY)
    data["data"]["homes"] = {HOME_A: "Cabin"}  # Flat unticked under 0.2.0
    entry = MockConfigEntry(**data)
    entry.add_to_hass(hass)
    assert await async_setup_component(hass, DOMAIN, {})
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED
    assert f"{DOMAIN}.{HOME_B}" in hass_storage  # what Flat learned under 0.2.0

    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()

    assert f"{DOMAIN}.{HOME_A}" not in hass_storage
    assert f"{DOMAIN}.{HOME_B}" not in hass_storage
