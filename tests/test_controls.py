"""Answering back: the mark_normal and set_mode actions, the mode and sensitivity selects, and a
switch per kind of anomaly, each shown from the detector's state and kept over a restart."""

import asyncio
from datetime import datetime, timedelta
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryDisabler
from homeassistant.const import (
    ATTR_DEVICE_ID,
    ATTR_ENTITY_ID,
    EVENT_HOMEASSISTANT_STOP,
    EntityCategory,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import area_registry as ar
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import frame
from homeassistant.helpers import label_registry as lr
from homeassistant.helpers.icon import async_get_icons
from homeassistant.helpers.service import async_get_all_descriptions
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
import yaml

from custom_components.energy_anomaly.const import DOMAIN
from custom_components.energy_anomaly.detector.engine import Detector
from custom_components.energy_anomaly.detector.model import Mode, Reading, Sensitivity
from custom_components.energy_anomaly.diagnostics import hashed_id
from custom_components.energy_anomaly.runner import HomeRunner

from .conftest import HISTORY_DAYS, HOME_A, HOME_B
from .test_demo import set_up_demo
from .test_entity_source import home_entry, set_up_home_drawing
from .test_live_data import Clock, state_of, wait_until
from .test_persistence import held_batches
from .test_write_throttles import START, Cabin, cabin
from .tibber_server import LocalTibberServer

MODE = "select.cabin_mode"
SENSITIVITY = "select.cabin_sensitivity"
POWER_QUALITY_ALARMS = "switch.cabin_power_quality_alarms"
ANOMALY = "binary_sensor.cabin_anomaly"
ALARM_SWITCHES = [
    "switch.cabin_meter_fault_alarms",
    POWER_QUALITY_ALARMS,
    "switch.cabin_unusual_consumption_alarms",
    "switch.cabin_new_daily_pattern_alarms",
    "switch.cabin_higher_baseload_alarms",
]


def device_of(hass: HomeAssistant, home_id: str) -> str:
    (entry,) = hass.config_entries.async_entries(DOMAIN)
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    return next(device.id for device in devices if (DOMAIN, home_id) in device.identifiers)


def cabin_device(hass: HomeAssistant) -> str:
    return device_of(hass, HOME_A)


async def select(hass: HomeAssistant, entity_id: str, option: str) -> None:
    await hass.services.async_call(
        "select", "select_option", {ATTR_ENTITY_ID: entity_id, "option": option}, blocking=True
    )


async def switch(hass: HomeAssistant, entity_id: str, service: str) -> None:
    await hass.services.async_call("switch", service, {ATTR_ENTITY_ID: entity_id}, blocking=True)


async def set_mode(hass: HomeAssistant, mode: str, **data: Any) -> None:
    await hass.services.async_call(
        DOMAIN,
        "set_mode",
        {"mode": mode, **data},
        target={"device_id": cabin_device(hass)},
        blocking=True,
    )


async def mark_normal(hass: HomeAssistant) -> Any:
    return await hass.services.async_call(
        DOMAIN,
        "mark_normal",
        target={"device_id": cabin_device(hass)},
        blocking=True,
        return_response=True,
    )


@pytest.fixture
async def home(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> Cabin:
    """The Cabin (25 A main fuse) set up, its entities showing a first ordinary reading."""
    home = await cabin(hass, tibber_server, tibber_entry, fuse=25)
    await home.push(0, power=400.0, currentL1=10.0)
    return home


async def over_the_fuse_for_70_s(home: Cabin) -> None:
    """32 A on L1 from 10 s to 80 s: a power quality alarm (over the fuse for over a minute)."""
    for at in range(10, 81, 10):
        await home.push(at, currentL1=32.0)


async def restart(hass: HomeAssistant, home: Cabin) -> None:
    """Unload the entry (which stores the detector) and set it up again, as a restart does."""
    assert await hass.config_entries.async_unload(home.entry.entry_id)
    assert hass.states.get(MODE).state == "unavailable"
    assert await hass.config_entries.async_setup(home.entry.entry_id)
    await home.server.wait_for_subscriptions(2)


async def test_a_home_has_a_mode_and_a_sensitivity_select_and_an_alarm_switch_per_kind(
    hass: HomeAssistant, home: Cabin, entity_registry: er.EntityRegistry
) -> None:
    mode, sensitivity = hass.states.get(MODE), hass.states.get(SENSITIVITY)
    assert (mode.state, mode.attributes["options"]) == (
        "normal",
        ["normal", "guests", "away", "paused"],
    )
    assert (mode.attributes["friendly_name"], mode.attributes["until"]) == ("Cabin Mode", None)
    assert (sensitivity.state, sensitivity.attributes["options"]) == (
        "normal",
        ["low", "normal", "high"],
    )
    assert [hass.states.get(switch).state for switch in ALARM_SWITCHES] == ["on"] * 5
    assert hass.states.get(POWER_QUALITY_ALARMS).attributes["friendly_name"] == (
        "Cabin Power quality alarms"
    )
    categories = {
        entity_id: entity_registry.async_get(entity_id).entity_category
        for entity_id in (MODE, SENSITIVITY, *ALARM_SWITCHES)
    }
    assert categories == {MODE: None} | dict.fromkeys(
        (SENSITIVITY, *ALARM_SWITCHES), EntityCategory.CONFIG
    )


async def test_each_mode_and_a_silenced_kind_have_their_own_icon(hass: HomeAssistant) -> None:
    icons = (await async_get_icons(hass, "entity", integrations=[DOMAIN]))[DOMAIN]

    modes = icons["select"]["mode"]["state"]
    assert set(modes) == {"normal", "guests", "away", "paused"}
    assert len(set(modes.values())) == 4
    alarms = icons["switch"]["power_quality_alarms"]
    assert alarms["state"]["off"] != alarms["default"]


async def test_choosing_away_shows_it_and_it_lasts_until_changed(
    hass: HomeAssistant, home: Cabin
) -> None:
    await select(hass, MODE, "away")

    state = hass.states.get(MODE)
    assert (state.state, state.attributes["until"]) == ("away", None)


async def test_paused_from_the_select_ends_at_midnight_and_guests_after_a_day(
    hass: HomeAssistant, midnight_tonight: datetime, home: Cabin
) -> None:
    await select(hass, MODE, "paused")
    paused_until = hass.states.get(MODE).attributes["until"]
    before = dt_util.now()
    await select(hass, MODE, "guests")
    guests_until = datetime.fromisoformat(hass.states.get(MODE).attributes["until"])

    assert datetime.fromisoformat(paused_until) == midnight_tonight
    assert before + timedelta(hours=24) <= guests_until <= dt_util.now() + timedelta(hours=24)


async def test_a_mode_ends_by_itself_once_the_readings_pass_its_end(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    home = await cabin(hass, tibber_server, tibber_entry)
    now = (dt_util.now() - START).total_seconds()  # the Cabin's readings are stamped START + s
    await home.push(now, power=400.0)
    await set_mode(hass, "paused", until=(START + timedelta(seconds=now + 60)).isoformat())
    await home.push(now + 30, power=400.0)
    assert hass.states.get(MODE).state == "paused"

    await home.push(now + 60, power=400.0)

    assert hass.states.get(MODE).state == "normal"


async def test_set_mode_refuses_an_end_that_has_passed(hass: HomeAssistant, home: Cabin) -> None:
    with pytest.raises(ServiceValidationError) as refused:
        await set_mode(hass, "paused", until=(dt_util.now() - timedelta(hours=1)).isoformat())

    assert refused.value.translation_key == "until_in_the_past"
    assert hass.states.get(MODE).state == "normal"


async def test_a_mode_whose_end_passes_while_the_meter_is_offline_shows_normal_then(
    hass: HomeAssistant, home: Cabin
) -> None:
    """Restarted with Paused until a minute later, and no reading comes: the detector ends the
    mode at its next reading, but the select must not show Paused past its end meanwhile."""
    await set_mode(hass, "paused", until=(dt_util.now() + timedelta(minutes=1)).isoformat())
    await restart(hass, home)
    assert state_of(hass, MODE) == "paused"

    await Clock(hass).advance(timedelta(minutes=2))

    assert (state_of(hass, MODE), hass.states.get(MODE).attributes["until"]) == ("normal", None)


async def test_set_mode_paused_without_an_end_pauses_until_midnight(
    hass: HomeAssistant, midnight_tonight: datetime, home: Cabin
) -> None:
    await set_mode(hass, "paused")

    state = hass.states.get(MODE)
    assert (state.state, state.attributes["until"]) == ("paused", midnight_tonight.isoformat())


async def test_a_naive_end_is_in_home_assistants_time_zone(
    hass: HomeAssistant, midnight_tonight: datetime, home: Cabin
) -> None:
    tomorrow_noon = midnight_tonight + timedelta(hours=12)

    await set_mode(hass, "guests", until=tomorrow_noon.replace(tzinfo=None).isoformat())

    assert hass.states.get(MODE).attributes["until"] == tomorrow_noon.isoformat()


HOME_MODE = "select.home_mode"  # of the power sensor home of `test_entity_source`


async def power_sensor_home_at(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, now: str
) -> datetime:
    """A power sensor home set up and showing its power at `now` (Home Assistant's clock
    stopped there, in its zone: US/Pacific); returns `now` in that zone."""
    freezer.move_to(now)
    await set_up_home_drawing(hass, home_entry(), 400)
    return dt_util.now()


async def refusal_of(hass: HomeAssistant, mode: str, **data: Any) -> str | None:
    """Put the power sensor home in `mode`; the translation key of a refusal, None if taken."""
    try:
        await hass.services.async_call(
            DOMAIN,
            "set_mode",
            {"mode": mode, **data},
            target={ATTR_ENTITY_ID: HOME_MODE},
            blocking=True,
        )
    except ServiceValidationError as refused:
        return refused.translation_key
    return None


async def test_guests_from_the_select_last_24_hours_across_the_night_the_clocks_go_forward(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """README: chosen in the select, Guests ends "after 24 h" (as the detector counts a Guests
    mode given no end: from the epoch). 12:00 the day before 02:00 becomes 03:00."""
    now = await power_sensor_home_at(hass, freezer, "2026-03-07 12:00:00-08:00")

    await select(hass, HOME_MODE, "guests")

    until = datetime.fromisoformat(hass.states.get(HOME_MODE).attributes["until"])
    assert until - now == timedelta(hours=24)


async def test_a_naive_end_in_the_hour_the_clocks_repeat_is_refused_or_kept_never_ignored(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """ "01:45", as the UI's date and time picker gives it, at 01:15 of the hour's second pass
    (PST): the action takes it as the first pass's (PDT), half an hour ago. It must then refuse
    it as passed, or else pause the home; not accept it and leave the home in Normal."""
    await power_sensor_home_at(hass, freezer, "2026-11-01 01:15:00-08:00")

    refused = await refusal_of(hass, "paused", until="2026-11-01T01:45:00")

    assert refused == "until_in_the_past" or (
        refused is None and state_of(hass, HOME_MODE) == "paused"
    )


async def test_an_end_in_the_repeated_hours_second_pass_set_in_its_first_shows_the_mode_until_then(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """At 01:50 PDT, "01:20" is its next pass, 01:20 PST in half an hour (CHANGELOG: "an end
    without a time zone ... is its next pass"): the action takes it, so the select shows Paused
    until then, not Normal at once."""
    await power_sensor_home_at(hass, freezer, "2026-11-01 01:50:00-07:00")

    refused = await refusal_of(hass, "paused", until="2026-11-01T01:20:00")

    assert refused is None
    assert state_of(hass, HOME_MODE) == "paused"
    assert hass.states.get(HOME_MODE).attributes["until"] == "2026-11-01T01:20:00-08:00"


async def test_paused_raises_no_alarm(hass: HomeAssistant, home: Cabin) -> None:
    await set_mode(hass, "paused")

    await over_the_fuse_for_70_s(home)

    assert home.writes[ANOMALY] == ["off"]


async def test_choosing_a_sensitivity_shows_it(hass: HomeAssistant, home: Cabin) -> None:
    await select(hass, SENSITIVITY, "high")

    assert hass.states.get(SENSITIVITY).state == "high"


async def test_a_kind_switched_off_raises_no_alarm_and_on_again_it_does(
    hass: HomeAssistant, home: Cabin
) -> None:
    await switch(hass, POWER_QUALITY_ALARMS, "turn_off")
    assert hass.states.get(POWER_QUALITY_ALARMS).state == "off"
    await over_the_fuse_for_70_s(home)
    assert hass.states.get(ANOMALY).state == "off"

    await switch(hass, POWER_QUALITY_ALARMS, "turn_on")
    await home.push(90, currentL1=32.0)

    assert hass.states.get(POWER_QUALITY_ALARMS).state == "on"
    assert hass.states.get(ANOMALY).state == "on"


async def test_mode_sensitivity_and_silenced_kinds_survive_a_restart(
    hass: HomeAssistant, home: Cabin
) -> None:
    await select(hass, MODE, "away")
    await select(hass, SENSITIVITY, "low")
    await switch(hass, "switch.cabin_meter_fault_alarms", "turn_off")

    await restart(hass, home)
    await home.push(10, power=400.0)

    assert hass.states.get(MODE).state == "away"
    assert hass.states.get(SENSITIVITY).state == "low"
    assert hass.states.get("switch.cabin_meter_fault_alarms").state == "off"
    assert hass.states.get(POWER_QUALITY_ALARMS).state == "on"


async def test_the_mode_can_be_chosen_while_live_data_is_down(
    hass: HomeAssistant, home: Cabin
) -> None:
    clock = Clock(hass)
    for _ in range(7):  # no reading for over a minute: the home's live data is down
        await clock.advance(timedelta(seconds=10))
    assert state_of(hass, "sensor.cabin_power") == "unavailable"

    await select(hass, MODE, "away")

    assert state_of(hass, MODE) == "away"


async def test_after_a_restart_the_controls_show_what_was_chosen_before_any_reading(
    hass: HomeAssistant, home: Cabin
) -> None:
    await select(hass, MODE, "away")
    await switch(hass, POWER_QUALITY_ALARMS, "turn_off")

    await restart(hass, home)  # and the meter stays offline: no reading comes
    await hass.async_block_till_done()

    assert state_of(hass, MODE) == "away"
    assert state_of(hass, POWER_QUALITY_ALARMS) == "off"
    assert state_of(hass, "sensor.cabin_power") == "unavailable"


async def test_after_a_restart_the_mode_can_be_chosen_before_any_reading(
    hass: HomeAssistant, home: Cabin
) -> None:
    await restart(hass, home)

    await select(hass, MODE, "away")

    assert state_of(hass, MODE) == "away"


async def test_a_change_is_stored_at_once_not_at_the_next_snapshot(
    hass: HomeAssistant, home: Cabin, hass_storage: dict[str, Any]
) -> None:
    store_key = f"{DOMAIN}.{HOME_A}"
    assert store_key not in hass_storage

    await select(hass, MODE, "away")
    async_fire_time_changed(hass)  # the store's write, due at once
    await hass.async_block_till_done(wait_background_tasks=True)

    stored = Detector.from_state(hass_storage[store_key]["data"]["detector"])
    assert stored.mode is Mode.AWAY


async def test_a_command_that_changes_nothing_writes_nothing(
    hass: HomeAssistant, home: Cabin, hass_storage: dict[str, Any]
) -> None:
    """An automation turning on an alarm switch that is on, every minute, wears no SD card."""
    store_key = f"{DOMAIN}.{HOME_A}"
    await switch(hass, "switch.cabin_meter_fault_alarms", "turn_on")
    await select(hass, SENSITIVITY, "normal")
    async_fire_time_changed(hass)  # a write would be due at once
    await hass.async_block_till_done(wait_background_tasks=True)

    assert store_key not in hass_storage


async def test_mark_normal_ends_the_anomaly_and_answers_what_was_marked(
    hass: HomeAssistant, home: Cabin
) -> None:
    await over_the_fuse_for_70_s(home)
    assert hass.states.get(ANOMALY).state == "on"

    response = await mark_normal(hass)
    await home.push(90, currentL1=32.0)

    (marked,) = response["marked"]
    assert marked["home"] == "Cabin"
    assert marked["kind"] == "power_quality"
    assert marked["reason"] == "Current on L1 is 32 A, above the 25 A fuse, for 1 minute"
    assert hass.states.get(ANOMALY).state == "off"


async def test_mark_normal_again_answers_the_marked_anomaly_and_changes_nothing(
    hass: HomeAssistant, home: Cabin, hass_storage: dict[str, Any]
) -> None:
    """A notification's *That was us* pressed twice, or after the dashboard marked it."""
    store_key = f"{DOMAIN}.{HOME_A}"
    await over_the_fuse_for_70_s(home)
    first = await mark_normal(hass)
    await home.push(90, currentL1=32.0)
    async_fire_time_changed(hass)  # the first answer's write, due at once
    await hass.async_block_till_done(wait_background_tasks=True)
    del hass_storage[store_key]

    again = await mark_normal(hass)
    async_fire_time_changed(hass)  # a write would be due at once
    await hass.async_block_till_done(wait_background_tasks=True)

    assert again == first
    assert store_key not in hass_storage  # nothing learned or said again


async def test_mark_normal_without_any_anomaly_is_refused_with_a_message(
    hass: HomeAssistant, home: Cabin
) -> None:
    with pytest.raises(ServiceValidationError) as refused:
        await mark_normal(hass)

    assert refused.value.translation_key == "no_episode"
    assert str(refused.value).startswith("There is no anomaly to mark as normal")


async def test_a_command_runs_after_the_readings_queued_before_it(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    await cabin(hass, tibber_server, tibber_entry, fuse=25)
    sink = tibber_entry.runtime_data.sink

    def at(seconds: int, amps: float) -> Reading:
        return Reading(START + timedelta(seconds=seconds), power=400.0, current=(amps, None, None))

    sink.async_add_readings(HOME_A, [at(s, 10.0) for s in range(-3000, 1)])
    await asyncio.sleep(0)  # the worker takes these 50 minutes of readings to the detector
    sink.async_add_readings(HOME_A, [at(s, 32.0) for s in range(10, 81, 10)])  # these wait
    response = await mark_normal(hass)  # the anomaly the waiting readings start is marked

    assert response["marked"][0]["kind"] == "power_quality"


@pytest.mark.usefixtures("home")
async def test_actions_refuse_a_device_of_another_integration(hass: HomeAssistant) -> None:
    other = MockConfigEntry(domain="other")
    other.add_to_hass(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=other.entry_id, identifiers={("other", "x")}
    )

    with pytest.raises(ServiceValidationError) as refused:
        await hass.services.async_call(
            DOMAIN, "set_mode", {"mode": "away"}, target={"device_id": device.id}, blocking=True
        )

    assert refused.value.translation_key == "unknown_device"


async def test_set_mode_on_an_area_puts_its_home_in_that_mode_and_passes_other_devices_by(
    hass: HomeAssistant, home: Cabin
) -> None:
    kitchen = ar.async_get(hass).async_create("Kitchen")
    devices = dr.async_get(hass)
    devices.async_update_device(cabin_device(hass), area_id=kitchen.id)
    other = MockConfigEntry(domain="other")
    other.add_to_hass(hass)
    lamp = devices.async_get_or_create(config_entry_id=other.entry_id, identifiers={("other", "x")})
    devices.async_update_device(lamp.id, area_id=kitchen.id)

    await hass.services.async_call(
        DOMAIN, "set_mode", {"mode": "away"}, target={"area_id": kitchen.id}, blocking=True
    )

    assert hass.states.get(MODE).state == "away"


async def test_set_mode_on_one_of_a_homes_entities_puts_the_home_in_that_mode(
    hass: HomeAssistant, home: Cabin
) -> None:
    await hass.services.async_call(
        DOMAIN, "set_mode", {"mode": "guests"}, target={"entity_id": ANOMALY}, blocking=True
    )

    assert hass.states.get(MODE).state == "guests"


@pytest.mark.parametrize(
    "target",
    [{}, {"device_id": []}, {"area_id": "nowhere"}],
    ids=["no target", "no device", "an empty area"],
)
async def test_an_action_that_leads_to_no_home_is_refused(
    hass: HomeAssistant, home: Cabin, target: dict[str, Any]
) -> None:
    with pytest.raises(ServiceValidationError) as refused:
        await hass.services.async_call(
            DOMAIN, "set_mode", {"mode": "away"}, target=target, blocking=True
        )

    assert refused.value.translation_key == "no_home_targeted"
    assert hass.states.get(MODE).state == "normal"


async def test_controls_are_named_in_home_assistants_language(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    hass.config.language = "de"
    home = await cabin(hass, tibber_server, tibber_entry)
    await home.push(0, power=400.0)

    controls = (("select", "mode"), ("select", "sensitivity"), ("switch", "power_quality_alarms"))
    names = [
        hass.states.get(
            entity_registry.async_get_entity_id(platform, DOMAIN, f"{HOME_A}_{key}") or ""
        ).attributes["friendly_name"]
        for platform, key in controls
    ]
    assert names == [
        "Cabin Modus",
        "Cabin Empfindlichkeit",
        "Cabin Alarme bei Netzqualitätsproblemen",
    ]


async def test_diagnostics_say_why_a_home_raises_no_alarm(
    hass: HomeAssistant,
    midnight_tonight: datetime,
    home: Cabin,
    hass_client: ClientSessionGenerator,
) -> None:
    await set_mode(hass, "paused")
    await switch(hass, POWER_QUALITY_ALARMS, "turn_off")
    await switch(hass, "switch.cabin_meter_fault_alarms", "turn_off")

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, home.entry)

    assert diagnostics["homes"][hashed_id(HOME_A)]["controls"] == {
        "mode": "paused",
        "mode_until": midnight_tonight.isoformat(),
        "sensitivity": "normal",
        "silenced": ["meter_fault", "power_quality"],
    }


async def set_up_fetching_history(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    """Set up both homes, new ones: their history is being fetched, their readings wait for it."""
    tibber_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(tibber_entry.entry_id)
    await tibber_server.wait_for_subscriptions(2)


async def queued(runner: HomeRunner, readings: int) -> None:
    """Wait until the home holds `readings` live readings back (without waiting for history)."""
    async with asyncio.timeout(5):
        while True:
            if runner.diagnostics()["queued_readings"] == readings:
                return
            await asyncio.sleep(0.01)


async def test_a_mode_chosen_while_the_history_is_fetched_is_kept_at_once(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    held_history: asyncio.Event,
    hass_storage: dict[str, Any],
) -> None:
    await set_up_fetching_history(hass, tibber_server, tibber_entry)

    async with asyncio.timeout(5):  # not once the fetch ends (minutes while Tibber rate-limits)
        await set_mode(hass, "away")
    async_fire_time_changed(hass)  # the store's write, due at once
    await hass.async_block_till_done()
    stored = Detector.from_state(hass_storage[f"{DOMAIN}.{HOME_A}"]["data"]["detector"])
    held_history.set()
    await tibber_server.push(HOME_A, power=400.0, timestamp=dt_util.now().isoformat())
    await wait_until(hass, lambda: state_of(hass, "sensor.cabin_power") == "400.0")

    assert stored.mode is Mode.AWAY
    assert hass.states.get(MODE).state == "away"


async def test_readings_around_a_command_while_the_history_is_fetched_still_wait_for_it(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    held_history: asyncio.Event,
) -> None:
    await set_up_fetching_history(hass, tibber_server, tibber_entry)
    runner = tibber_entry.runtime_data.sink.runners[HOME_A]
    first = dt_util.now()
    await tibber_server.push(HOME_A, power=400.0, timestamp=first.isoformat())
    await queued(runner, 1)
    async with asyncio.timeout(5):
        await runner.async_set_sensitivity(Sensitivity.HIGH)
    await tibber_server.push(
        HOME_A, power=450.0, timestamp=(first + timedelta(seconds=2)).isoformat()
    )
    await queued(runner, 2)

    held_history.set()
    await wait_until(hass, lambda: state_of(hass, "sensor.cabin_power") == "450.0")

    status = hass.states.get("sensor.cabin_detector_status")
    assert status.attributes["history_days"] == HISTORY_DAYS  # a reading first: every row skipped
    assert hass.states.get(SENSITIVITY).state == "high"


async def test_a_command_left_queued_when_home_assistant_stops_fails_its_caller(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    # Home Assistant cancels its background tasks, the home's worker among them, before it
    # fires the stop event: a command queued behind the batch the worker was taking never runs.
    await cabin(hass, tibber_server, tibber_entry)
    runner = tibber_entry.runtime_data.sink.runners[HOME_A]
    with held_batches(runner) as (entered, release):
        await tibber_server.push(HOME_A, power=500.0, timestamp=START.isoformat())
        assert await hass.async_add_executor_job(entered.wait, 10)
        command = hass.async_create_task(runner.async_set_mode(Mode.AWAY))  # queued
        assert runner._worker is not None
        runner._worker.cancel("Home Assistant is stopping")
        hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
        release.set()

        with pytest.raises(HomeAssistantError) as failed:
            await asyncio.wait_for(command, timeout=5)
    assert failed.value.translation_key == "not_loaded"


async def test_a_command_that_reaches_a_home_after_it_unloaded_fails_as_not_loaded(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    """A stopped home fails a command: an action's turn may come to it as Home Assistant stops
    the homes, whose entries stay loaded (so the action still finds this runner)."""
    tibber_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(tibber_entry.entry_id)
    await tibber_server.wait_for_subscriptions(2)
    runner = tibber_entry.runtime_data.sink.runners[HOME_A]
    assert await hass.config_entries.async_unload(tibber_entry.entry_id)

    with pytest.raises(HomeAssistantError) as failed:
        await asyncio.wait_for(runner.async_set_mode(Mode.AWAY), timeout=5)
    assert failed.value.translation_key == "not_loaded"


async def test_a_command_the_detector_fails_on_fails_its_caller_and_the_home_carries_on(
    hass: HomeAssistant, home: Cabin, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(_: Detector, sensitivity: Any) -> None:
        raise RuntimeError(f"no {sensitivity}")

    monkeypatch.setattr(Detector, "set_sensitivity", fail)
    with pytest.raises(RuntimeError, match="no high"):
        await select(hass, SENSITIVITY, "high")

    await home.push(10, power=777.0)

    assert hass.states.get("sensor.cabin_power").state == "777.0"
    assert hass.states.get(SENSITIVITY).state == "normal"


async def test_mark_normal_on_two_homes_marks_the_one_with_an_anomaly(
    hass: HomeAssistant, home: Cabin
) -> None:
    await over_the_fuse_for_70_s(home)

    response = await hass.services.async_call(
        DOMAIN,
        "mark_normal",
        target={"device_id": [device_of(hass, HOME_A), device_of(hass, HOME_B)]},
        blocking=True,
        return_response=True,
    )

    assert [(marked["home"], marked["kind"]) for marked in response["marked"]] == [
        ("Cabin", "power_quality")
    ]


async def test_fill_example_data_gives_every_field_but_the_device_a_value_the_action_accepts(
    hass: HomeAssistant,
) -> None:
    """The action dialog's "Fill example data" loads each field's example as YAML; the device,
    a field or the target, the user picks, and a date and time too (a fixed one would be in the
    past one day)."""
    assert await async_setup_component(hass, DOMAIN, {})
    descriptions = (await async_get_all_descriptions(hass))[DOMAIN]
    actions = hass.services.async_services_for_domain(DOMAIN)

    for action, description in descriptions.items():
        fields = description.get("fields", {})
        devices = {key for key, field in fields.items() if "device" in field["selector"]}
        dates = {key for key, field in fields.items() if "datetime" in field["selector"]}
        assert {key for key, field in fields.items() if "example" not in field} == devices | dates
        example = {
            key: yaml.safe_load(str(field["example"]))
            for key, field in fields.items()
            if key not in devices | dates
        }
        assert all(isinstance(value, str | int) for value in example.values()), example
        schema = actions[action].schema
        assert schema is not None
        if "target" in description:
            devices.add(ATTR_DEVICE_ID)
        schema({**example, **dict.fromkeys(devices, "0123456789abcdef")})


async def test_a_command_running_while_its_home_unloads_stores_nothing_after_the_final_write(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    held_history: asyncio.Event,
) -> None:
    """A command during the history import runs at once; the entry unloads while the detector
    runs it. The unload's write is the home's last: one after it could bring back the file of a
    home whose entry is then deleted."""
    await set_up_fetching_history(hass, tibber_server, tibber_entry)
    runner = tibber_entry.runtime_data.sink.runners[HOME_A]
    writes: list[str] = []
    store = runner._store
    final_save, scheduled_save = store.async_save, store.async_schedule_save
    save_state, stopping = runner.async_save_state, asyncio.Event()

    async def noting_the_stop() -> None:
        stopping.set()
        await save_state()

    async def recording_save(data: Any) -> None:
        writes.append("final")
        await final_save(data)

    def recording_schedule(data: Any) -> None:
        writes.append("scheduled")
        scheduled_save(data)

    with (
        held_batches(runner) as (entered, release),
        patch.object(store, "async_save", recording_save),
        patch.object(store, "async_schedule_save", recording_schedule),
        patch.object(runner, "async_save_state", noting_the_stop),
    ):
        command = hass.async_create_task(runner.async_set_mode(Mode.AWAY))
        assert await hass.async_add_executor_job(entered.wait, 10)
        unload = hass.async_create_task(hass.config_entries.async_unload(tibber_entry.entry_id))
        # The unload reaches the final write, which waits for the detector (waited for, not
        # counted in loop turns: the unload took 19 of the 20 the test gave it)
        await asyncio.wait_for(stopping.wait(), timeout=5)
        release.set()
        await asyncio.wait_for(command, timeout=5)
        assert await asyncio.wait_for(unload, timeout=5)
        await hass.async_block_till_done()

    assert writes == ["final"]


async def test_an_action_logs_no_deprecation_warning(
    hass: HomeAssistant, home: Cabin, caplog: pytest.LogCaptureFixture
) -> None:
    with patch.object(frame, "_REPORTED_INTEGRATIONS", set()):  # as in a fresh Home Assistant
        await set_mode(hass, "away")

    assert [r.getMessage() for r in caplog.records if "deprecated" in r.getMessage()] == []


@pytest.mark.parametrize(("action", "data"), [("set_mode", {"mode": "away"}), ("mark_normal", {})])
async def test_an_action_with_the_frontends_metadata_is_accepted_as_core_accepts_it(
    hass: HomeAssistant, home: Cabin, action: str, data: dict[str, Any]
) -> None:
    target = {"device_id": [cabin_device(hass)]}
    # Core's entity action schema, the actions' own before, takes the key and drops it
    assert cv.make_entity_service_schema({})(target | {"metadata": {}}) == target
    await over_the_fuse_for_70_s(home)

    response = await hass.services.async_call(
        DOMAIN,
        action,
        data | {"metadata": {}},
        target=target,
        blocking=True,
        return_response=action == "mark_normal",
    )

    if action == "set_mode":
        assert hass.states.get(MODE).state == "away"
    else:
        assert response is not None
        assert [marked["kind"] for marked in response["marked"]] == ["power_quality"]


async def update_entity(hass: HomeAssistant, entity_id: str) -> None:
    """Home Assistant's own `homeassistant.update_entity` action, as an automation calls it."""
    assert await async_setup_component(hass, "homeassistant", {})
    await hass.services.async_call(
        "homeassistant", "update_entity", {ATTR_ENTITY_ID: entity_id}, blocking=True
    )


async def test_updating_an_entity_with_home_assistants_action_logs_no_error(
    hass: HomeAssistant, home: Cabin, caplog: pytest.LogCaptureFixture
) -> None:
    await update_entity(hass, "sensor.cabin_power")

    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == []


async def test_a_mode_chosen_after_home_assistant_updated_an_entity_is_kept(
    hass: HomeAssistant, home: Cabin
) -> None:
    await update_entity(hass, "sensor.cabin_power")

    await select(hass, MODE, "away")
    await home.push(2, power=400.0)

    assert state_of(hass, MODE) == "away"


async def test_an_end_in_the_year_9999_is_refused_and_the_mode_select_survives_a_restart(
    hass: HomeAssistant, home: Cabin, caplog: pytest.LogCaptureFixture
) -> None:
    """The datetime picker (or YAML) takes any date up to 9999: "away until I say so"."""
    with pytest.raises(ServiceValidationError) as refused:
        await set_mode(hass, "away", until="9999-12-31 23:00:00")
    shown = state_of(hass, MODE)

    await restart(hass, home)
    await hass.async_block_till_done()

    assert refused.value.translation_key == "until_too_far"
    assert (shown, state_of(hass, MODE)) == ("normal", "normal")
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == []


async def test_set_mode_on_all_entities_puts_every_home_in_that_mode(
    hass: HomeAssistant, home: Cabin
) -> None:
    await hass.services.async_call(
        DOMAIN, "set_mode", {"mode": "away"}, target={"entity_id": "all"}, blocking=True
    )

    assert (state_of(hass, MODE), state_of(hass, "select.flat_mode")) == ("away", "away")


async def test_a_mode_whose_end_passed_while_home_assistant_was_off_is_not_shown_after_the_restart(
    hass: HomeAssistant, home: Cabin
) -> None:
    await set_mode(hass, "paused", until=(dt_util.now() + timedelta(seconds=1)).isoformat())
    assert await hass.config_entries.async_unload(home.entry.entry_id)
    await asyncio.sleep(1.5)  # Home Assistant is off past the end (real time: the store's)
    home.writes.pop(MODE, None)

    assert await hass.config_entries.async_setup(home.entry.entry_id)
    await home.server.wait_for_subscriptions(2)  # not ended while its websocket connects

    assert home.writes[MODE] == ["normal"]


async def test_set_mode_on_an_area_passes_over_the_home_of_an_entry_the_user_disabled(
    hass: HomeAssistant, home: Cabin, demo_entry: MockConfigEntry
) -> None:
    """The demo tried and disabled (not deleted); its device still sits in the Kitchen."""
    await set_up_demo(hass, demo_entry)
    devices = dr.async_get(hass)
    kitchen = ar.async_get(hass).async_create("Kitchen")
    for entry in (home.entry, demo_entry):
        for device in dr.async_entries_for_config_entry(devices, entry.entry_id):
            devices.async_update_device(device.id, area_id=kitchen.id)
    assert await hass.config_entries.async_set_disabled_by(
        demo_entry.entry_id, ConfigEntryDisabler.USER
    )
    await hass.async_block_till_done()

    await hass.services.async_call(
        DOMAIN, "set_mode", {"mode": "away"}, target={"area_id": kitchen.id}, blocking=True
    )

    assert state_of(hass, MODE) == "away"


async def test_set_mode_on_a_label_of_an_entity_the_user_disabled_reaches_its_home(
    hass: HomeAssistant, home: Cabin
) -> None:
    """The label "Alarms" sits on the Cabin's Anomaly sensor, which the user then hid from the
    dashboard by disabling it: the home still runs, and the label still means it."""
    entities = er.async_get(hass)
    alarms = lr.async_get(hass).async_create("Alarms").label_id
    entities.async_update_entity(ANOMALY, labels={alarms})
    entities.async_update_entity(ANOMALY, disabled_by=er.RegistryEntryDisabler.USER)
    await hass.async_block_till_done()

    await hass.services.async_call(
        DOMAIN, "set_mode", {"mode": "away"}, target={"label_id": alarms}, blocking=True
    )

    assert state_of(hass, MODE) == "away"


@pytest.mark.parametrize("by", ["label", "area"])
async def test_set_mode_on_a_label_or_an_entitys_area_passes_over_a_disabled_entrys_home(
    hass: HomeAssistant, home: Cabin, demo_entry: MockConfigEntry, by: str
) -> None:
    """Both homes' Anomaly sensors carry the label "Alarms", or sit in the Kitchen themselves
    (not through their device); the demo was tried and disabled (not deleted)."""
    await set_up_demo(hass, demo_entry)
    entities = er.async_get(hass)
    if by == "label":
        target = {"label_id": lr.async_get(hass).async_create("Alarms").label_id}
        change: dict[str, Any] = {"labels": {target["label_id"]}}
    else:
        target = {"area_id": ar.async_get(hass).async_create("Kitchen").id}
        change = {"area_id": target["area_id"]}
    for entity_id in (ANOMALY, "binary_sensor.demo_home_anomaly"):
        entities.async_update_entity(entity_id, **change)
    assert await hass.config_entries.async_set_disabled_by(
        demo_entry.entry_id, ConfigEntryDisabler.USER
    )
    await hass.async_block_till_done()

    await hass.services.async_call(
        DOMAIN, "set_mode", {"mode": "away"}, target=target, blocking=True
    )

    assert state_of(hass, MODE) == "away"


async def test_an_action_on_a_home_not_loaded_names_it_as_the_user_renamed_it(
    hass: HomeAssistant, home: Cabin
) -> None:
    """The user renamed the Cabin "Hytta" (Settings → Devices): the error must name the device
    they see in their device list and automations, not the name Tibber gave it."""
    device_id = cabin_device(hass)
    dr.async_get(hass).async_update_device(device_id, name_by_user="Hytta")
    assert await hass.config_entries.async_unload(home.entry.entry_id)

    with pytest.raises(ServiceValidationError) as refused:
        await hass.services.async_call(
            DOMAIN, "set_mode", {"mode": "away"}, target={"device_id": device_id}, blocking=True
        )

    assert refused.value.translation_key == "not_loaded"
    assert str(refused.value).startswith("Hytta is not loaded")


async def test_normal_with_an_end_that_has_passed_is_taken(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Normal has no end: an automation that sends its usual `until` along with Normal (one
    that has passed by now) gets Normal, not "the end has already passed"."""
    now = await power_sensor_home_at(hass, freezer, "2027-03-02 12:00:00-08:00")
    assert await refusal_of(hass, "away") is None

    refused = await refusal_of(hass, "normal", until=(now - timedelta(hours=1)).isoformat())

    assert refused is None
    assert state_of(hass, HOME_MODE) == "normal"


async def test_an_end_less_than_10_years_away_across_a_clock_change_is_taken(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """CHANGELOG: "an end less than ten calendar years away is taken". On 2 November 2027 at
    noon (PDT), "away until 11:30 on 2 November 2037" is half an hour short of ten years; that
    day is in PST (the clocks went back on 1 November 2037)."""
    await power_sensor_home_at(hass, freezer, "2027-11-02 12:00:00-07:00")

    refused = await refusal_of(hass, "away", until="2037-11-02T11:30:00")

    assert refused is None
    assert state_of(hass, HOME_MODE) == "away"
