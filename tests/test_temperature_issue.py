"""A temperature entity that breaks after it was chosen: a repair issue, readings keep flowing."""

from collections.abc import Callable
from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
from homeassistant.util.unit_system import US_CUSTOMARY_SYSTEM
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.energy_anomaly.const import CONF_TEMPERATURE_ENTITY, DOMAIN
from custom_components.energy_anomaly.diagnostics import hashed_id
from custom_components.energy_anomaly.temperature import (
    ISSUE_AFTER,
    RAISED_BEFORE,
    OutdoorTemperature,
    TemperatureProblem,
    TemperatureReading,
    read_temperature,
)

from .conftest import HOME_A
from .test_entity_source import POWER, WATT, home_entry, set_up_home
from .test_live_data import state_of, wait_until
from .tibber_server import LocalTibberServer

OUTSIDE = "sensor.outside"
CELSIUS = {"unit_of_measurement": "°C", "device_class": "temperature"}


async def set_up_with_temperature(
    hass: HomeAssistant, entry: MockConfigEntry, server: LocalTibberServer
) -> None:
    """Load the entry with `sensor.outside` as its outdoor temperature."""
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, options={CONF_TEMPERATURE_ENTITY: OUTSIDE})
    assert await hass.config_entries.async_setup(entry.entry_id)
    await server.wait_for_subscriptions(2)


def temperature_issue(hass: HomeAssistant, entry: MockConfigEntry) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, f"temperature_{hashed_id(entry.entry_id)}")


async def test_a_unit_that_is_not_a_temperature_raises_a_repair_issue_at_once(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    hass.states.async_set(OUTSIDE, "5", CELSIUS)
    await set_up_with_temperature(hass, tibber_entry, tibber_server)
    assert temperature_issue(hass, tibber_entry) is None

    hass.states.async_set(OUTSIDE, "1200", {"unit_of_measurement": "W"})
    await hass.async_block_till_done()

    issue = temperature_issue(hass, tibber_entry)
    assert issue is not None
    assert issue.translation_key == "temperature_not_a_temperature"
    assert issue.translation_placeholders == {"entity_id": OUTSIDE, "entry": tibber_entry.title}


async def test_the_repair_issue_names_the_entry_by_its_new_name_once_renamed(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    hass.states.async_set(OUTSIDE, "1200", {"unit_of_measurement": "W"})
    await set_up_with_temperature(hass, tibber_entry, tibber_server)

    hass.config_entries.async_update_entry(tibber_entry, title="Hytta")
    await hass.async_block_till_done()

    issue = temperature_issue(hass, tibber_entry)
    assert issue is not None
    assert issue.translation_placeholders == {"entity_id": OUTSIDE, "entry": "Hytta"}


async def test_the_repair_issue_is_raised_once_while_the_entity_stays_broken(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    hass.states.async_set(OUTSIDE, "5", CELSIUS)
    await set_up_with_temperature(hass, tibber_entry, tibber_server)
    changes = async_capture_events(hass, ir.EVENT_REPAIRS_ISSUE_REGISTRY_UPDATED)

    for watts in ("1200", "1300", "900"):
        hass.states.async_set(OUTSIDE, watts, {"unit_of_measurement": "W"})
        await hass.async_block_till_done()

    assert [(event.data["issue_id"], event.data["action"]) for event in changes] == [
        (f"temperature_{hashed_id(tibber_entry.entry_id)}", "create")
    ]


async def test_readings_keep_flowing_without_temperature_while_the_entity_is_broken(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
) -> None:
    hass.states.async_set(OUTSIDE, "5", CELSIUS)
    await set_up_with_temperature(hass, tibber_entry, tibber_server)
    hass.states.async_set(OUTSIDE, "1200", {"unit_of_measurement": "W"})

    await tibber_server.push(HOME_A, power=610.0)
    await wait_until(hass, lambda: state_of(hass, "sensor.cabin_power") == "610.0")

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, tibber_entry)
    assert diagnostics["homes"][hashed_id(HOME_A)]["last_reading"]["temperature"] is None


async def test_the_repair_issue_goes_away_when_a_temperature_comes_in_again(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    hass.states.async_set(OUTSIDE, "1200", {"unit_of_measurement": "W"})
    await set_up_with_temperature(hass, tibber_entry, tibber_server)
    assert temperature_issue(hass, tibber_entry) is not None

    hass.states.async_set(OUTSIDE, "4.0", CELSIUS)
    await hass.async_block_till_done()

    assert temperature_issue(hass, tibber_entry) is None


@pytest.fixture
def watched(hass: HomeAssistant, tibber_entry: MockConfigEntry) -> MockConfigEntry:
    """An entry watching `sensor.outside` (5 °C) as a loaded one does, without a live connection.

    Time jumps of an hour would also fire the live websocket's own timeouts, so the watcher is
    started on its own here; the tests above show the entry starts it.
    """
    hass.states.async_set(OUTSIDE, "5", CELSIUS)
    tibber_entry.add_to_hass(hass)
    OutdoorTemperature(hass, tibber_entry, OUTSIDE).async_start()
    return tibber_entry


async def ticked(hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta) -> None:
    """Move the clock (wall and loop) on by `delta` and run the timers then due."""
    freezer.tick(delta)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


async def later(hass: HomeAssistant, delta: timedelta) -> None:
    """Let Home Assistant's timers run as if `delta` had passed."""
    async_fire_time_changed(hass, dt_util.utcnow() + delta)
    await hass.async_block_till_done()


async def test_an_entity_unavailable_for_over_an_hour_raises_a_repair_issue_not_before(
    hass: HomeAssistant, watched: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    hass.states.async_set(OUTSIDE, "unavailable", CELSIUS)
    await hass.async_block_till_done()
    await ticked(hass, freezer, ISSUE_AFTER - timedelta(minutes=1))
    hass.states.async_set(OUTSIDE, "unknown", CELSIUS)  # still no value: the hour keeps running
    await hass.async_block_till_done()
    assert temperature_issue(hass, watched) is None
    await ticked(hass, freezer, timedelta(minutes=2))

    issue = temperature_issue(hass, watched)
    assert issue is not None
    assert issue.translation_key == "temperature_no_value"


async def test_a_watcher_started_after_the_entity_broke_counts_the_hour_from_then(
    hass: HomeAssistant, tibber_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """The entry reloaded (options saved) 30 minutes into an outage: the issue comes 30 minutes
    later, an hour after the state's last change, not an hour after the reload."""
    hass.states.async_set(OUTSIDE, "unavailable", CELSIUS)
    tibber_entry.add_to_hass(hass)
    await ticked(hass, freezer, timedelta(minutes=30))
    OutdoorTemperature(hass, tibber_entry, OUTSIDE).async_start()
    await ticked(hass, freezer, timedelta(minutes=29))
    assert temperature_issue(hass, tibber_entry) is None

    await ticked(hass, freezer, timedelta(minutes=2))

    assert temperature_issue(hass, tibber_entry) is not None


async def test_a_short_outage_raises_no_repair_issue(
    hass: HomeAssistant, watched: MockConfigEntry
) -> None:
    hass.states.async_set(OUTSIDE, "unavailable", CELSIUS)
    await later(hass, timedelta(minutes=30))
    hass.states.async_set(OUTSIDE, "6", CELSIUS)
    await later(hass, ISSUE_AFTER + timedelta(minutes=1))

    assert temperature_issue(hass, watched) is None


@pytest.mark.parametrize(
    ("change", "translation_key"),
    [
        (lambda hass: hass.states.async_remove(OUTSIDE), "temperature_missing"),
        (lambda hass: hass.states.async_set(OUTSIDE, "nan", CELSIUS), "temperature_implausible"),
        (lambda hass: hass.states.async_set(OUTSIDE, "95", CELSIUS), "temperature_implausible"),
    ],
)
async def test_a_removed_entity_or_implausible_values_raise_a_repair_issue_after_an_hour(
    hass: HomeAssistant,
    watched: MockConfigEntry,
    change: Callable[[HomeAssistant], object],
    translation_key: str,
) -> None:
    change(hass)
    await hass.async_block_till_done()
    assert temperature_issue(hass, watched) is None
    await later(hass, ISSUE_AFTER + timedelta(minutes=1))

    issue = temperature_issue(hass, watched)
    assert issue is not None
    assert issue.translation_key == translation_key


async def test_the_implausible_range_is_named_in_home_assistants_unit(
    hass: HomeAssistant, watched: MockConfigEntry
) -> None:
    """A home set to °F is told its sensor (in °F) read outside -112 °F to 158 °F, not a range
    in °C it would have to convert."""
    hass.config.units = US_CUSTOMARY_SYSTEM
    hass.states.async_set(OUTSIDE, "200", {"unit_of_measurement": "°F"})
    await later(hass, ISSUE_AFTER + timedelta(minutes=1))

    issue = temperature_issue(hass, watched)
    assert issue is not None
    placeholders = issue.translation_placeholders or {}
    assert (placeholders["lowest"], placeholders["highest"]) == ("-112 °F", "158 °F")


def test_a_weather_temperature_beyond_any_float_is_implausible() -> None:
    """Not an OverflowError in the middle of a batch of readings (every home of the account's)."""
    weather = State("weather.home", "sunny", {"temperature": 10**400, "temperature_unit": "°C"})

    assert read_temperature(weather) == TemperatureReading(None, TemperatureProblem.IMPLAUSIBLE)


async def test_the_repair_issue_is_removed_when_the_entry_unloads(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    hass.states.async_set(OUTSIDE, "1200", {"unit_of_measurement": "W"})
    await set_up_with_temperature(hass, tibber_entry, tibber_server)
    assert temperature_issue(hass, tibber_entry) is not None

    assert await hass.config_entries.async_unload(tibber_entry.entry_id)

    assert temperature_issue(hass, tibber_entry) is None


async def test_a_weather_entity_without_a_temperature_for_a_minute_raises_no_issue(
    hass: HomeAssistant, tibber_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """README: the issue comes "after an hour when it is missing, unavailable or reports values
    outside -80 to 70 °C". A weather entity's state is its condition; the temperature is an
    attribute, whose change leaves last_changed as it was (the condition cloudy for 3 hours)."""
    hass.states.async_set("weather.home", "cloudy", {"temperature": 5.0, "temperature_unit": "°C"})
    tibber_entry.add_to_hass(hass)
    stop = OutdoorTemperature(hass, tibber_entry, "weather.home").async_start()
    try:
        await ticked(hass, freezer, timedelta(hours=3))  # cloudy all along

        # The provider's update lacks the temperature (WeatherEntity leaves the attribute out)
        hass.states.async_set("weather.home", "cloudy", {"temperature_unit": "°C"})
        await hass.async_block_till_done()
        await ticked(hass, freezer, timedelta(minutes=1))

        assert temperature_issue(hass, tibber_entry) is None
    finally:
        stop()


async def test_the_repair_issues_of_two_homes_sharing_a_temperature_entity_tell_them_apart(
    hass: HomeAssistant,
) -> None:
    hass.states.async_set(OUTSIDE, "5", CELSIUS)
    entries = [MockConfigEntry(domain=DOMAIN, title=title) for title in ("House", "Cabin")]
    for entry in entries:
        entry.add_to_hass(hass)
        OutdoorTemperature(hass, entry, OUTSIDE).async_start()

    hass.states.async_set(OUTSIDE, "1200", {"unit_of_measurement": "W"})
    await hass.async_block_till_done()

    shown = set()
    for entry in entries:
        issue = temperature_issue(hass, entry)
        assert issue is not None
        shown.add((issue.translation_key, tuple(sorted(issue.translation_placeholders.items()))))
    assert len(shown) == 2


async def a_home_whose_temperature_reads_kelvin(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> MockConfigEntry:
    """A home whose outdoor temperature gives 290 °C (Kelvin), its issue up an hour later."""
    hass.states.async_set(POWER, "400", WATT)
    hass.states.async_set(OUTSIDE, "290", CELSIUS)
    entry = home_entry()
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, options={CONF_TEMPERATURE_ENTITY: OUTSIDE})
    await set_up_home(hass, entry)
    await ticked(hass, freezer, ISSUE_AFTER + timedelta(minutes=1))
    assert temperature_issue(hass, entry) is not None
    return entry


async def test_saving_the_options_keeps_the_issue_of_an_entity_whose_wrong_values_move(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """README: saving the options (which reloads the entry) does not hide the issue of an
    entity still broken. A template sensor gives Kelvin and calls it °C: 290, 291, ... °C."""
    entry = await a_home_whose_temperature_reads_kelvin(hass, freezer)
    hass.states.async_set(OUTSIDE, "291", CELSIUS)  # the weather moves: still no temperature
    await ticked(hass, freezer, timedelta(minutes=10))
    assert temperature_issue(hass, entry) is not None

    assert await hass.config_entries.async_reload(entry.entry_id)  # as saving the options does
    await hass.async_block_till_done()

    assert temperature_issue(hass, entry) is not None


async def test_a_removed_entry_leaves_nothing_noted_of_its_issue(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    entry = await a_home_whose_temperature_reads_kelvin(hass, freezer)

    assert await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()

    assert temperature_issue(hass, entry) is None
    assert hass.data.get(RAISED_BEFORE, set()) == set()


@pytest.mark.parametrize(
    "meanwhile",
    [
        pytest.param({CONF_TEMPERATURE_ENTITY: "sensor.balcony"}, id="another entity"),
        pytest.param({}, id="none"),
    ],
)
async def test_an_entity_chosen_again_gets_its_hour_for_a_new_outage(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, meanwhile: dict[str, str]
) -> None:
    """The user works around a broken `sensor.outside` (with another entity, or without one),
    repairs it, and chooses it again a day later, a minute into a short outage of its own."""
    hass.states.async_set(POWER, "400", WATT)
    hass.states.async_set(OUTSIDE, "unavailable", CELSIUS)
    hass.states.async_set("sensor.balcony", "5", CELSIUS)
    entry = home_entry()
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, options={CONF_TEMPERATURE_ENTITY: OUTSIDE})
    assert await hass.config_entries.async_setup(entry.entry_id)
    await ticked(hass, freezer, ISSUE_AFTER + timedelta(minutes=1))
    assert temperature_issue(hass, entry) is not None
    hass.config_entries.async_update_entry(entry, options=meanwhile)
    assert await hass.config_entries.async_reload(entry.entry_id)  # as saving the options does
    hass.states.async_set(OUTSIDE, "6", CELSIUS)  # repaired
    await ticked(hass, freezer, timedelta(days=1))
    hass.states.async_set(OUTSIDE, "unavailable", CELSIUS)  # a short outage begins
    await ticked(hass, freezer, timedelta(minutes=1))
    assert temperature_issue(hass, entry) is None

    hass.config_entries.async_update_entry(entry, options={CONF_TEMPERATURE_ENTITY: OUTSIDE})
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()

    assert temperature_issue(hass, entry) is None

    hass.config_entries.async_update_entry(entry, options={CONF_TEMPERATURE_ENTITY: OUTSIDE})
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()

    assert temperature_issue(hass, entry) is None
