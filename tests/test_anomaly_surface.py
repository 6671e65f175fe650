"""Where users see an anomaly: the event entity, the Anomaly kind sensor, icons, Activity."""

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.icon import async_get_icons
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events

from custom_components.energy_anomaly.const import DOMAIN, EVENT_ANOMALY

from .conftest import HOME_A
from .test_write_throttles import Cabin, cabin
from .tibber_server import LocalTibberServer

EVENT = "event.cabin_anomaly_started"
KIND = "sensor.cabin_anomaly_kind"


async def over_the_fuse(
    hass: HomeAssistant, server: LocalTibberServer, entry: MockConfigEntry, seconds: int = 70
) -> Cabin:
    """The Cabin draws 32 A on L1 against a 25 A fuse, a reading every 10 s."""
    home = await cabin(hass, server, entry, fuse=25)
    for at in range(0, seconds + 1, 10):
        await home.push(at, currentL1=32.0)
    return home


async def still_over_the_fuse_once_back(home: Cabin) -> None:
    """The Cabin, subscribed again (a reload, a restart), draws 32 A on L1 for another minute."""
    await home.server.wait_for_subscriptions(1, HOME_A)
    for at in range(80, 141, 10):
        await home.push(at, currentL1=32.0)


async def test_event_fires_when_an_anomaly_starts_with_its_reason_and_values_in_units(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    await over_the_fuse(hass, tibber_server, tibber_entry)

    event = hass.states.get(EVENT)
    assert event.attributes["event_type"] == "power_quality"
    assert event.attributes["reason"] == "Current on L1 is 32 A, above the 25 A fuse, for 1 minute"
    assert (event.attributes["observed"], event.attributes["expected"]) == (32.0, 25.0)
    assert event.attributes["unit"] == "A"


async def test_event_since_is_the_homes_wall_clock_not_home_assistants(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    await over_the_fuse(hass, tibber_server, tibber_entry)

    assert hass.config.time_zone == "US/Pacific"
    assert hass.states.get(EVENT).attributes["since"] == "2026-11-24T18:00:00+01:00"  # Oslo


async def test_event_fires_once_while_the_anomaly_lasts(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    home = await over_the_fuse(hass, tibber_server, tibber_entry, seconds=180)

    first, *fired = home.writes[EVENT]
    assert (first, len(fired)) == ("unknown", 1)


async def test_an_anomaly_that_goes_on_through_a_reload_is_not_announced_again(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    fired = async_capture_events(hass, EVENT_ANOMALY)
    home = await over_the_fuse(hass, tibber_server, tibber_entry)
    announced = hass.states.get(EVENT).state
    assert len(fired) == 1

    assert await hass.config_entries.async_reload(tibber_entry.entry_id)
    await still_over_the_fuse_once_back(home)

    assert hass.states.get("binary_sensor.cabin_anomaly").state == "on"
    assert len(fired) == 1
    assert hass.states.get(EVENT).state == announced


async def test_an_anomaly_building_up_through_a_reload_is_announced_when_it_alarms(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    fired = async_capture_events(hass, EVENT_ANOMALY)
    home = await over_the_fuse(hass, tibber_server, tibber_entry, seconds=30)  # under a minute
    assert hass.states.get("binary_sensor.cabin_anomaly").state == "off"

    assert await hass.config_entries.async_reload(tibber_entry.entry_id)
    await tibber_server.wait_for_subscriptions(1, HOME_A)
    for at in range(40, 141, 10):  # still over the fuse: the alarm comes after the reload
        await home.push(at, currentL1=32.0)

    assert hass.states.get("binary_sensor.cabin_anomaly").state == "on"
    assert len(fired) == 1
    assert hass.states.get(EVENT).attributes["event_type"] == "power_quality"


async def test_no_event_before_an_anomaly(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    home = await cabin(hass, tibber_server, tibber_entry)
    await home.push(0, currentL1=10.0)

    assert hass.states.get(EVENT).state == "unknown"


async def test_anomaly_kind_is_normal_then_the_kind_of_the_anomaly(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    home = await over_the_fuse(hass, tibber_server, tibber_entry)
    for at in range(80, 141, 10):  # back under the fuse; the episode ends after 30 s inside
        await home.push(at, currentL1=10.0)

    assert home.writes[KIND] == ["normal", "power_quality", "normal"]


async def test_anomaly_and_its_kind_have_an_icon_per_state(hass: HomeAssistant) -> None:
    icons = (await async_get_icons(hass, "entity", integrations=[DOMAIN]))[DOMAIN]

    anomaly = icons["binary_sensor"]["anomaly"]["state"]
    assert anomaly["on"] != anomaly["off"]
    kinds = icons["sensor"]["anomaly_kind"]["state"]
    assert len(set(kinds.values())) == len(kinds) == 5
    assert icons["event"]["anomaly_started"]["state_attributes"]["event_type"]["state"] == kinds


async def test_event_fires_again_when_the_anomaly_changes_kind(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    home = await over_the_fuse(hass, tibber_server, tibber_entry)
    for at in range(80, 401, 10):  # still over the fuse, and now the meter reports negative power
        await home.push(at, currentL1=32.0, power=-300.0, powerProduction=0.0)

    assert home.writes[KIND] == ["normal", "power_quality", "meter_fault"]
    assert hass.states.get(EVENT).attributes["event_type"] == "meter_fault"
    first, *fired = home.writes[EVENT]
    assert (first, len(fired)) == ("unknown", 2)
    assert home.writes["binary_sensor.cabin_anomaly"] == ["off", "on", "on"]


async def test_an_anomaly_that_changed_kind_and_goes_on_through_a_reload_is_not_announced_again(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    fired = async_capture_events(hass, EVENT_ANOMALY)
    home = await over_the_fuse(hass, tibber_server, tibber_entry)
    for at in range(80, 401, 10):  # still over the fuse, and a meter fault on top of it
        await home.push(at, currentL1=32.0, power=-300.0, powerProduction=0.0)
    assert hass.states.get(KIND).state == "meter_fault"

    assert await hass.config_entries.async_reload(tibber_entry.entry_id)
    await tibber_server.wait_for_subscriptions(1, HOME_A)
    for at in range(410, 471, 10):  # the meter is right again; still over the fuse
        await home.push(at, currentL1=32.0, power=7000.0)

    assert hass.states.get(KIND).state == "power_quality"
    assert [(event.data["kind"], event.data["since"]) for event in fired] == [
        ("power_quality", "2026-11-24T18:00:00+01:00")
    ]


async def test_an_anomaly_stored_as_one_shown_pair_is_not_announced_again_after_the_upgrade(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    fired = async_capture_events(hass, EVENT_ANOMALY)
    home = await over_the_fuse(hass, tibber_server, tibber_entry)
    assert await hass.config_entries.async_unload(tibber_entry.entry_id)
    stored = hass_storage[f"{DOMAIN}.{HOME_A}"]["data"]
    [shown] = stored["shown"]
    stored["shown"] = shown  # as the release before stored it: the anomaly shown, not a list

    assert await hass.config_entries.async_setup(tibber_entry.entry_id)
    await still_over_the_fuse_once_back(home)

    assert hass.states.get("binary_sensor.cabin_anomaly").state == "on"
    assert len(fired) == 1
