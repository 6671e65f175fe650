"""Review 36 (898880e..f1e35d9): defects proven by tests that fail on f1e35d9 (xfail strict)."""

import asyncio
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
import pytest

from custom_components.energy_anomaly import runner as runner_module
from custom_components.energy_anomaly.const import DOMAIN

from .test_entity_source import WATT, _chose_voltages, home_entry, judged_at, phase_at, set_up_home
from .test_live_data import state_of
from .test_persistence import held_batches


@pytest.mark.xfail(
    strict=True,
    reason=(
        "_async_read_grid stores the grid of the first reading whose phases read one, for good: "
        "a 230 V home caught in a deep sag (108-145 V) then is a 120 V home in overvoltage"
    ),
)
async def test_a_230_v_home_whose_first_reading_is_a_deep_sag_is_judged_against_230_v_after_it(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Its voltage sensor was unavailable on the form; its first value is 120 V (a sag to half,
    a brownout), then 230 V as ever. One sample must not move the home to a 120 V grid."""
    entry = (await _chose_voltages(hass, l1="unavailable"))["result"]

    await phase_at(hass, freezer, "120", 5 / 60)  # one sample
    await phase_at(hass, freezer, "230", 5)

    assert (judged_at(entry), state_of(hass, "binary_sensor.home_anomaly")) == (230.0, "off")


@pytest.mark.xfail(
    strict=True,
    reason=(
        "_runner_at_turn finds a home whose entry is still setting up again (reload in "
        "progress) not loaded: the action fails with the homes before it changed"
    ),
)
async def test_set_mode_on_two_homes_sets_both_when_one_is_still_reloading_at_its_turn(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As test_set_mode_on_two_homes_sets_both_when_one_reloads_meanwhile, but the second
    home's reload is not done yet when the action comes to it (a Tibber entry reaching Tibber,
    a slow disk restoring what it learned): the first home is away, the second one not."""
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
    runner = first.runtime_data.sink.runners[first.entry_id]

    restoring, restored = asyncio.Event(), asyncio.Event()
    restore = runner_module._async_restore

    async def slow_restore(hass: HomeAssistant, home: Any, *args: Any) -> Any:
        if home.home_id == second.entry_id:
            restoring.set()
            await restored.wait()
        return await restore(hass, home, *args)

    monkeypatch.setattr(runner_module, "_async_restore", slow_restore)
    with held_batches(runner) as (entered, release):
        action = hass.async_create_task(
            hass.services.async_call(
                DOMAIN,
                "set_mode",
                {"mode": "away"},
                target={"device_id": device_ids},
                blocking=True,
            )
        )
        assert await hass.async_add_executor_job(entered.wait, 10)
        reload = hass.async_create_task(hass.config_entries.async_reload(second.entry_id))
        await asyncio.wait_for(restoring.wait(), timeout=5)
        assert second.state is ConfigEntryState.SETUP_IN_PROGRESS
        release.set()
        failed = None
        try:
            await asyncio.wait_for(asyncio.shield(action), timeout=5)
        except HomeAssistantError as err:
            failed = err
        restored.set()
        assert await reload
    await hass.async_block_till_done(wait_background_tasks=True)

    modes = {
        entity.entity_id: state_of(hass, entity.entity_id)
        for entity in er.async_get(hass).entities.values()
        if entity.entity_id.endswith("_mode")
    }
    assert modes == {"select.house_mode": "away", "select.cabin_mode": "away"}, failed
