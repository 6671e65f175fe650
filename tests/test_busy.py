"""Changes a user makes while a home is busy (history import, an action, a reload, the stop)."""

import asyncio
from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_NAME, EVENT_HOMEASSISTANT_STOP
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_state_change_event
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.energy_anomaly import runner as runner_module
from custom_components.energy_anomaly import services
from custom_components.energy_anomaly.const import (
    CONF_CURRENT_ENTITIES,
    CONF_FUSE_SIZE,
    CONF_FUSE_SIZES,
    CONF_POWER_ENTITY,
    CONF_POWER_IS_NET,
    CONF_TEMPERATURE_ENTITY,
    DOMAIN,
)
from custom_components.energy_anomaly.detector.engine import Detector
from custom_components.energy_anomaly.detector.model import Mode
from custom_components.energy_anomaly.redact import hashed_id
from custom_components.energy_anomaly.temperature import ISSUE_AFTER

from .conftest import HOME_A, HOME_B
from .test_controls import cabin_device
from .test_entity_source import WATT, home_entry, power_shown, set_up_home, shown
from .test_live_data import start, state_of
from .test_options import answer
from .test_persistence import held_batches
from .test_temperature_issue import CELSIUS
from .test_write_throttles import cabin
from .tibber_server import LocalTibberServer


async def test_an_action_the_detector_is_taking_when_home_assistant_stops_still_returns(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """Home Assistant cancels the home's worker (a background task) before the stop event; a
    command in the batch the detector is taking runs, is stored, and its caller must hear so."""
    await cabin(hass, tibber_server, tibber_entry)
    runner = tibber_entry.runtime_data.sink.runners[HOME_A]
    with held_batches(runner) as (entered, release):
        action = hass.async_create_task(
            hass.services.async_call(
                DOMAIN,
                "set_mode",
                {"mode": "away"},
                target={"device_id": cabin_device(hass)},
                blocking=True,
            )
        )
        assert await hass.async_add_executor_job(entered.wait, 10)
        assert runner._worker is not None
        runner._worker.cancel("Home Assistant is stopping")
        hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
        release.set()
        done, _ = await asyncio.wait([action], timeout=5)
        if action not in done:
            action.cancel()  # else the test's own stop waits for it

    stored = Detector.from_state(hass_storage[f"{DOMAIN}.{HOME_A}"]["data"]["detector"])
    assert stored.mode is Mode.AWAY
    assert action in done, "the set_mode action never returned"
    action.result()


async def test_an_entry_unloaded_while_home_assistant_stops_stops_without_an_error(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A reload just as Home Assistant stops: the stop closes the websocket while the entry
    unloads, and the stop's saving of the homes must not need the entry still loaded."""
    await cabin(hass, tibber_server, tibber_entry)
    source = tibber_entry.runtime_data.source
    closing, close = asyncio.Event(), asyncio.Event()
    stop_source = source.async_stop

    async def held_stop() -> None:  # the stop's closing is held, the unload's is not
        if not closing.is_set():
            closing.set()
            await close.wait()
        await stop_source()

    monkeypatch.setattr(source, "async_stop", held_stop)
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await closing.wait()
    assert await hass.config_entries.async_unload(tibber_entry.entry_id)
    close.set()
    await asyncio.wait_for(hass.async_block_till_done(), 5)

    assert [r.getMessage() for r in caplog.records if r.exc_info] == []


async def test_a_new_fuse_size_is_saved_while_the_chosen_weather_entity_is_unavailable(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    """The weather entity was chosen while it gave a temperature; it is unavailable (the weather
    service is down) when the user opens Configure to change the fuse size. A temperature sensor
    in that state is accepted; an unchanged weather entity must not block the other options."""
    hass.states.async_set("weather.home", "sunny", {"temperature": 4, "temperature_unit": "°C"})
    tibber_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        tibber_entry, options={CONF_TEMPERATURE_ENTITY: "weather.home"}
    )
    await start(hass, tibber_entry, tibber_server)
    hass.states.async_set("weather.home", "unavailable", {"friendly_name": "Home"})

    result = await hass.config_entries.options.async_init(tibber_entry.entry_id)
    result = await answer(hass, result, **{CONF_TEMPERATURE_ENTITY: "weather.home"})
    result = await answer(hass, result, **{CONF_FUSE_SIZE: 35})  # Cabin's
    result = await answer(hass, result, **{CONF_FUSE_SIZE: 35})  # Flat's
    await hass.async_block_till_done(wait_background_tasks=True)

    assert result.get("errors") is None
    assert tibber_entry.options == {
        CONF_TEMPERATURE_ENTITY: "weather.home",
        CONF_FUSE_SIZES: {HOME_A: 35, HOME_B: 35},
    }


async def two_homes_in_action_order(
    hass: HomeAssistant,
) -> tuple[list[str], MockConfigEntry, MockConfigEntry]:
    """A house and a cabin fed by power sensors: their devices, and entries in action order."""
    hass.states.async_set("sensor.house_meter", "400", WATT)
    hass.states.async_set("sensor.cabin_meter", "300", WATT)
    house = home_entry("sensor.house_meter", title="House")
    cabin_home = home_entry("sensor.cabin_meter", title="Cabin")
    await set_up_home(hass, house)
    await set_up_home(hass, cabin_home)
    devices = dr.async_get(hass)
    entry_of = {
        device.id: entry
        for entry in (house, cabin_home)
        for device in dr.async_entries_for_config_entry(devices, entry.entry_id)
    }
    device_ids = sorted(entry_of)  # the order the action takes the homes in
    first, second = (entry_of[device_id] for device_id in device_ids)
    return device_ids, first, second


async def away(hass: HomeAssistant, device_ids: list[str]) -> None:
    """One set_mode action putting the homes of `device_ids` away."""
    await hass.services.async_call(
        DOMAIN, "set_mode", {"mode": "away"}, target={"device_id": device_ids}, blocking=True
    )


def modes(hass: HomeAssistant) -> dict[str, str | None]:
    """Each home's mode, by its select."""
    return {
        entity.entity_id: state_of(hass, entity.entity_id)
        for entity in er.async_get(hass).entities.values()
        if entity.entity_id.endswith("_mode")
    }


async def state_written(hass: HomeAssistant, entity_id: str, state: str) -> None:
    """Return once `entity_id` is written as `state` (not wait_until: it waits for every
    background task, a held reload among them)."""
    written = asyncio.Event()

    @callback
    def check(event: Event[EventStateChangedData]) -> None:
        if (new := event.data["new_state"]) is not None and new.state == state:
            written.set()

    unsubscribe = async_track_state_change_event(hass, entity_id, check)
    try:
        if state_of(hass, entity_id) != state:
            await written.wait()
    finally:
        unsubscribe()


async def test_set_mode_on_two_homes_sets_both_when_one_reloads_meanwhile(
    hass: HomeAssistant,
) -> None:
    """Away for the house and the cabin (an area, a label: one action). While the first home
    takes its command, the second home's entry reloads (its options saved, a sensor renamed):
    it is loaded again before its turn, yet the action fails for it with the first home changed."""
    device_ids, first, second = await two_homes_in_action_order(hass)
    runner = first.runtime_data.sink.runners[first.entry_id]

    with held_batches(runner) as (entered, release):
        action = hass.async_create_task(away(hass, device_ids))
        assert await hass.async_add_executor_job(entered.wait, 10)
        assert await hass.config_entries.async_reload(second.entry_id)
        release.set()
        failed = None
        try:
            await asyncio.wait_for(action, timeout=5)
        except HomeAssistantError as err:
            failed = err
    await hass.async_block_till_done(wait_background_tasks=True)

    assert modes(hass) == {"select.house_mode": "away", "select.cabin_mode": "away"}, failed


async def test_the_temperature_issue_stays_when_options_are_saved_while_the_entity_is_unavailable(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The outdoor temperature has been unavailable for over an hour: a repair issue says so.
    Saving another option (the fuse size) reloads the entry; the entity is as broken as before,
    so the issue must not vanish (for another hour) as if it had been fixed."""
    hass.states.async_set("sensor.meter_power", "400", WATT)
    hass.states.async_set("sensor.meter_current", "2", {"unit_of_measurement": "A"})
    hass.states.async_set("sensor.outside", "5", CELSIUS)
    entry = home_entry("sensor.meter_power", **{CONF_CURRENT_ENTITIES[0]: "sensor.meter_current"})
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        entry, options={CONF_TEMPERATURE_ENTITY: "sensor.outside"}
    )
    await set_up_home(hass, entry)
    hass.states.async_set("sensor.outside", "unavailable", CELSIUS)
    freezer.tick(ISSUE_AFTER + timedelta(minutes=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    issue_id = f"temperature_{hashed_id(entry.entry_id)}"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None

    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_TEMPERATURE_ENTITY: "sensor.outside", CONF_FUSE_SIZE: 35}
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.options[CONF_FUSE_SIZE] == 35

    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None


async def test_a_home_reconfigured_without_production_keeps_no_production_sensor(
    hass: HomeAssistant,
) -> None:
    """A net power sensor gave the home a Power production sensor. The user turns Power is net
    off under Reconfigure (the sensor was never signed, or a new meter): nothing can report a
    production any more, and the sensor must not stay behind, unknown for good."""
    hass.states.async_set("sensor.meter_power", "-500", WATT)
    entry = home_entry("sensor.meter_power", power_is_net=True)
    await set_up_home(hass, entry)
    await shown(hass, "sensor.home_power_production", "500.0")
    hass.states.async_set("sensor.meter_power", "400", WATT)

    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_NAME: "Home", CONF_POWER_ENTITY: "sensor.meter_power", CONF_POWER_IS_NET: False},
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert result["reason"] == "reconfigure_successful"
    await power_shown(hass, 400.0)

    assert state_of(hass, "sensor.home_power_production") is None


async def _set_mode(hass: HomeAssistant, mode: str) -> None:
    await hass.services.async_call(
        DOMAIN, "set_mode", {"mode": mode}, target={"device_id": cabin_device(hass)}, blocking=True
    )


async def test_an_action_in_the_batch_cancelled_by_the_stop_returns_when_another_comes_after(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    """Home Assistant cancels the home's worker while it takes set_mode away; before the stop
    event reaches the home (a Tibber source closing its websocket, another home's write) an
    automation sets the mode again. Both actions must return."""
    await cabin(hass, tibber_server, tibber_entry)
    runner = tibber_entry.runtime_data.sink.runners[HOME_A]
    with held_batches(runner) as (entered, release):
        first = hass.async_create_task(_set_mode(hass, "away"))
        assert await hass.async_add_executor_job(entered.wait, 10)
        worker = runner._worker
        assert worker is not None
        worker.cancel("Home Assistant is stopping")
        release.set()
        await asyncio.wait([worker])  # it waited out its batch in the executor
    await asyncio.wait_for(_set_mode(hass, "paused"), timeout=5)

    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    done, _ = await asyncio.wait([first], timeout=5)
    if first not in done:
        first.cancel()  # else the test's own stop waits for it
    # The stop goes on after the actions returned (it closes the websocket, then writes each
    # home): the tibber_server fixture's unload, run after the test, must not overtake it
    await asyncio.wait_for(hass.async_block_till_done(), timeout=5)

    assert first in done, "the first set_mode action never returned"


def held_restore(
    monkeypatch: pytest.MonkeyPatch, entry: MockConfigEntry
) -> tuple[asyncio.Event, asyncio.Event]:
    """Hold the restore of `entry`'s home (its setup) until the second event is set; the first
    is set once it is held."""
    restoring, restored = asyncio.Event(), asyncio.Event()
    restore = runner_module._async_restore

    async def slow_restore(hass: HomeAssistant, home: Any, *args: Any) -> Any:
        if home.home_id == entry.entry_id:
            restoring.set()
            await restored.wait()
        return await restore(hass, home, *args)

    monkeypatch.setattr(runner_module, "_async_restore", slow_restore)
    return restoring, restored


async def test_set_mode_on_two_homes_sets_both_when_one_is_still_reloading_at_its_turn(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As test_set_mode_on_two_homes_sets_both_when_one_reloads_meanwhile, but the second
    home's reload is not done yet when the action comes to it (a Tibber entry reaching Tibber,
    a slow disk restoring what it learned): the first home is away, the second one not."""
    device_ids, first, second = await two_homes_in_action_order(hass)
    runner = first.runtime_data.sink.runners[first.entry_id]
    first_mode = "select.house_mode" if first.title == "House" else "select.cabin_mode"

    restoring, restored = held_restore(monkeypatch, second)
    with held_batches(runner) as (entered, release):
        action = hass.async_create_task(away(hass, device_ids))
        assert await hass.async_add_executor_job(entered.wait, 10)
        reload = hass.async_create_task(hass.config_entries.async_reload(second.entry_id))
        await asyncio.wait_for(restoring.wait(), timeout=5)
        assert second.state is ConfigEntryState.SETUP_IN_PROGRESS
        release.set()
        await asyncio.wait_for(state_written(hass, first_mode, "away"), timeout=5)
        await asyncio.sleep(0.1)  # the action's turn comes to the second home, still restoring
        assert not action.done()
        assert second.state is ConfigEntryState.SETUP_IN_PROGRESS
        restored.set()
        failed = None
        try:
            await asyncio.wait_for(action, timeout=5)
        except HomeAssistantError as err:
            failed = err
        assert await reload
    await hass.async_block_till_done(wait_background_tasks=True)

    assert modes(hass) == {"select.house_mode": "away", "select.cabin_mode": "away"}, failed


async def test_set_mode_on_a_home_reloading_for_longer_than_the_wait_fails_as_not_loaded(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reload held up (a Tibber entry that cannot reach Tibber) does not hold the action."""
    monkeypatch.setattr(services, "RELOAD_WAIT_S", 0.2)
    device_ids, _, second = await two_homes_in_action_order(hass)
    restoring, restored = held_restore(monkeypatch, second)
    reload = hass.async_create_task(hass.config_entries.async_reload(second.entry_id))
    await asyncio.wait_for(restoring.wait(), timeout=5)

    with pytest.raises(HomeAssistantError) as failed:
        await asyncio.wait_for(away(hass, device_ids[1:]), timeout=5)

    assert failed.value.translation_key == "not_loaded"
    restored.set()
    assert await reload


async def test_set_mode_on_all_entities_sets_a_home_whose_entry_is_reloading(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Everyone leaves: away for every home (entity_id: all) just after the cabin's options were
    saved, while its entry reloads."""
    _, _, second = await two_homes_in_action_order(hass)
    restoring, restored = held_restore(monkeypatch, second)
    reload = hass.async_create_task(hass.config_entries.async_reload(second.entry_id))
    await asyncio.wait_for(restoring.wait(), timeout=5)

    action = hass.async_create_task(
        hass.services.async_call(
            DOMAIN, "set_mode", {"mode": "away"}, target={"entity_id": "all"}, blocking=True
        )
    )
    await asyncio.sleep(0.1)
    restored.set()
    await asyncio.wait_for(action, timeout=5)
    assert await reload
    await hass.async_block_till_done(wait_background_tasks=True)

    assert modes(hass) == {"select.house_mode": "away", "select.cabin_mode": "away"}
