"""Options: an outdoor temperature entity (°C or °F) and the fuse size reach the detector.

A temperature entity must exist and give a temperature; one that breaks later never costs a
reading, only its temperature. The account of these tests watches two homes (Cabin, Flat): their
fuses are asked in turn after the first form.
"""

from datetime import datetime, timedelta
from typing import Any

from homeassistant.config_entries import ConfigFlowResult
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.energy_anomaly.const import (
    CONF_FUSE_SIZE,
    CONF_FUSE_SIZES,
    CONF_HOMES,
    CONF_OFFERED_HOMES,
    CONF_TEMPERATURE_ENTITY,
)
from custom_components.energy_anomaly.diagnostics import hashed_id

from .conftest import HOME_A, HOME_B
from .test_dynamic_devices import HOME_NEW, an_hour_later
from .test_entity_source import home_entry
from .test_live_data import set_up, start, state_of, wait_until
from .tibber_server import LocalHome, LocalTibberServer


async def answer(hass: HomeAssistant, result: ConfigFlowResult, **fields: Any) -> ConfigFlowResult:
    """The flow's next step after the form of `result` was filled in with `fields`."""
    return await hass.config_entries.options.async_configure(result["flow_id"], fields)


async def through_the_fuses(hass: HomeAssistant, result: ConfigFlowResult) -> ConfigFlowResult:
    """The result of leaving each home's fuse empty, from the first fuse form of `result` on."""
    while result["type"] is FlowResultType.FORM and result["step_id"] == "fuse":
        result = await answer(hass, result)
    return result


async def started_with(
    hass: HomeAssistant, server: LocalTibberServer, entry: MockConfigEntry, options: dict[str, Any]
) -> None:
    """The account's entry set up with `options` (as saved before), its homes subscribed."""
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, options=options)
    await start(hass, entry, server)


async def test_options_are_saved_and_reload_the_entry(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    hass.states.async_set("sensor.outside", "4.5", {"unit_of_measurement": "°C"})
    await set_up(hass, tibber_entry, tibber_server)
    result = await hass.config_entries.options.async_init(tibber_entry.entry_id)
    assert result["type"] is FlowResultType.FORM

    result = await answer(hass, result, **{CONF_TEMPERATURE_ENTITY: "sensor.outside"})
    result = await answer(hass, result, **{CONF_FUSE_SIZE: 25})
    result = await answer(hass, result, **{CONF_FUSE_SIZE: 40})
    await hass.async_block_till_done(wait_background_tasks=True)

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert tibber_entry.options == {
        CONF_TEMPERATURE_ENTITY: "sensor.outside",
        CONF_FUSE_SIZES: {HOME_A: 25, HOME_B: 40},
    }
    await tibber_server.wait_for_subscriptions(2)
    assert tibber_server.connections_total == 2
    assert tibber_server.open_connections == 1


async def test_the_options_form_names_the_entry_it_configures(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    await set_up(hass, tibber_entry, tibber_server)

    result = await hass.config_entries.options.async_init(tibber_entry.entry_id)

    assert result["description_placeholders"] == {"entry": tibber_entry.title}


@pytest.mark.parametrize(
    ("entity_id", "state", "attributes", "error", "chosen_before"),
    [
        ("sensor.nowhere", None, {}, "entity_not_found", False),
        ("sensor.outside", "12", {"unit_of_measurement": "W"}, "not_a_temperature", False),
        ("sensor.outside", "12", {}, "not_a_temperature", False),
        ("weather.home", "unavailable", {}, "not_a_temperature", False),
        ("input_number.outside", "12", {"unit_of_measurement": "°C"}, "not_a_temperature", False),
        ("sensor.outside", None, {}, "entity_not_found", True),
        ("sensor.outside", "unavailable", {"unit_of_measurement": "W"}, "not_a_temperature", True),
        ("sensor.outside", "12", {"unit_of_measurement": "W"}, "not_a_temperature", True),
        ("weather.home", "unavailable", {"temperature_unit": "W"}, "not_a_temperature", True),
    ],
)
async def test_options_refuse_an_entity_that_gives_no_temperature(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    entity_id: str,
    state: str | None,
    attributes: dict[str, object],
    error: str,
    chosen_before: bool,
) -> None:
    """An entity newly chosen must give a temperature. The one `chosen_before` is kept while it
    gives no value (a weather service down), not once it is removed or shows a unit that is no
    longer a temperature: that will not mend."""
    options = {CONF_TEMPERATURE_ENTITY: entity_id} if chosen_before else {}
    tibber_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(tibber_entry, options=options)
    await start(hass, tibber_entry, tibber_server)
    if state is not None:
        hass.states.async_set(entity_id, state, attributes)
    result = await hass.config_entries.options.async_init(tibber_entry.entry_id)

    result = await answer(hass, result, **{CONF_TEMPERATURE_ENTITY: entity_id})

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_TEMPERATURE_ENTITY: error}
    assert tibber_entry.options == options
    kept = {
        str(key): key.description["suggested_value"]
        for key in result["data_schema"].schema
        if key.description  # the fields the user filled in
    }
    assert kept == {CONF_TEMPERATURE_ENTITY: entity_id}
    result = await through_the_fuses(hass, await answer(hass, result))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert tibber_entry.options == {CONF_FUSE_SIZES: {}}
    await hass.async_block_till_done(wait_background_tasks=True)  # the entry reloads with them


async def test_options_refuse_a_fuse_size_that_is_not_a_number(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    await set_up(hass, tibber_entry, tibber_server)
    result = await answer(hass, await hass.config_entries.options.async_init(tibber_entry.entry_id))

    result = await answer(hass, result, **{CONF_FUSE_SIZE: "nan"})

    assert (result["step_id"], result["errors"]) == ("fuse", {CONF_FUSE_SIZE: "fuse_not_a_number"})
    assert result["description_placeholders"] == {"home": "Cabin"}
    assert tibber_entry.options == {}


@pytest.mark.parametrize(
    ("entity_id", "state", "attributes"),
    [
        ("sensor.outside", "unavailable", {"unit_of_measurement": "°F"}),
        ("sensor.outside", "280", {"unit_of_measurement": "K"}),
        ("weather.home", "sunny", {"temperature": 50, "temperature_unit": "°F"}),
    ],
)
async def test_options_accept_a_temperature_entity_even_while_it_is_unavailable(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    entity_id: str,
    state: str,
    attributes: dict[str, object],
) -> None:
    hass.states.async_set(entity_id, state, attributes)
    await set_up(hass, tibber_entry, tibber_server)
    result = await hass.config_entries.options.async_init(tibber_entry.entry_id)

    result = await answer(hass, result, **{CONF_TEMPERATURE_ENTITY: entity_id})
    result = await through_the_fuses(hass, result)
    await hass.async_block_till_done(wait_background_tasks=True)

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert tibber_entry.options == {CONF_TEMPERATURE_ENTITY: entity_id, CONF_FUSE_SIZES: {}}


@pytest.mark.parametrize(
    ("entity_id", "state", "attributes", "celsius"),
    [
        (
            "sensor.outside",
            "-3.5",
            {"unit_of_measurement": "°C", "device_class": "temperature"},
            -3.5,
        ),
        (
            "sensor.outside",
            "50",
            {"unit_of_measurement": "°F", "device_class": "temperature"},
            10.0,
        ),
        ("weather.home", "sunny", {"temperature": 50, "temperature_unit": "°F"}, 10.0),
        ("sensor.outside", "273.15", {"unit_of_measurement": "K"}, 0.0),
        ("sensor.outside", "unavailable", {"unit_of_measurement": "°C"}, None),
        ("sensor.outside", "12", {"unit_of_measurement": "W"}, None),
        ("sensor.outside", "12", {}, None),
        ("sensor.outside", "nan", {"unit_of_measurement": "°C"}, None),
        ("sensor.outside", "inf", {"unit_of_measurement": "°C"}, None),
        ("sensor.outside", "-85", {"unit_of_measurement": "°C"}, None),
        ("sensor.outside", "160", {"unit_of_measurement": "°F"}, None),
        ("weather.home", "sunny", {"temperature": "nan", "temperature_unit": "°C"}, None),
        ("sensor.removed", None, {}, None),
    ],
)
async def test_readings_carry_the_outdoor_temperature_in_celsius_or_none_when_unusable(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    entity_id: str,
    state: str | None,
    attributes: dict[str, object],
    celsius: float | None,
) -> None:
    if state is not None:
        hass.states.async_set(entity_id, state, attributes)
    tibber_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        tibber_entry, options={CONF_TEMPERATURE_ENTITY: entity_id}
    )
    assert await hass.config_entries.async_setup(tibber_entry.entry_id)
    await tibber_server.wait_for_subscriptions(2)
    await tibber_server.push(HOME_A, power=420.0)
    await wait_until(hass, lambda: state_of(hass, "sensor.cabin_power") == "420.0")

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, tibber_entry)

    assert diagnostics["homes"][hashed_id(HOME_A)]["last_reading"]["temperature"] == celsius


async def three_minutes_at_32_amperes(hass: HomeAssistant, server: LocalTibberServer) -> None:
    """Push three minutes of readings at 32 A on L1 for Cabin and wait until they are shown."""
    start_at = datetime.fromisoformat("2026-11-24T18:00:00+01:00")
    for seconds in range(0, 181, 10):
        await server.push(
            HOME_A,
            power=7400.0 + seconds,
            currentL1=32.0,
            timestamp=(start_at + timedelta(seconds=seconds)).isoformat(),
        )
    await wait_until(hass, lambda: state_of(hass, "sensor.cabin_power") == "7580.0")


async def test_current_above_the_fuse_size_raises_a_power_quality_alarm(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    tibber_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(tibber_entry, options={CONF_FUSE_SIZE: 25})
    assert await hass.config_entries.async_setup(tibber_entry.entry_id)
    await tibber_server.wait_for_subscriptions(2)

    await three_minutes_at_32_amperes(hass, tibber_server)

    anomaly = hass.states.get("binary_sensor.cabin_anomaly")
    assert anomaly.state == "on"
    assert anomaly.attributes["kind"] == "power_quality"
    assert "above the 25 A fuse" in anomaly.attributes["reason"]


async def test_a_nan_fuse_saved_by_an_older_release_sets_up_without_the_fuse_check(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    await started_with(hass, tibber_server, tibber_entry, {CONF_FUSE_SIZE: float("nan")})

    await three_minutes_at_32_amperes(hass, tibber_server)

    assert state_of(hass, "binary_sensor.cabin_anomaly") == "off"


async def test_the_options_of_an_account_with_two_homes_ask_each_homes_fuse_in_turn(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    """A main fuse is one home's: a cabin's 25 A is not the house's 40 A. Each form names its
    home and shows the fuse the entry's older options gave every home."""
    await started_with(hass, tibber_server, tibber_entry, {CONF_FUSE_SIZE: 25})
    result = await hass.config_entries.options.async_init(tibber_entry.entry_id)
    assert CONF_FUSE_SIZE not in result["data_schema"].schema

    first = await answer(hass, result)
    second = await answer(hass, first, **{CONF_FUSE_SIZE: 25})

    assert [form["description_placeholders"] for form in (first, second)] == [
        {"home": "Cabin"},
        {"home": "Flat"},
    ]
    [key] = second["data_schema"].schema
    assert key.description == {"suggested_value": 25}


async def test_the_diagnostics_name_each_homes_fuse_by_the_homes_hash(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
) -> None:
    await started_with(
        hass, tibber_server, tibber_entry, {CONF_FUSE_SIZES: {HOME_A: 40, HOME_B: 25}}
    )

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, tibber_entry)

    assert diagnostics["options"] == {
        CONF_FUSE_SIZES: {hashed_id(HOME_A): 40, hashed_id(HOME_B): 25}
    }


async def test_each_home_of_an_account_is_judged_against_its_own_fuse(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    await started_with(
        hass,
        tibber_server,
        tibber_entry,
        {CONF_FUSE_SIZE: 25, CONF_FUSE_SIZES: {HOME_A: 40, HOME_B: 25}},
    )

    await three_minutes_at_32_amperes(hass, tibber_server)

    assert state_of(hass, "binary_sensor.cabin_anomaly") == "off"


async def cabin_alone_after_fuses_of_two(
    hass: HomeAssistant, server: LocalTibberServer, entry: MockConfigEntry
) -> None:
    """Fuses saved while the account watched Cabin (40 A) and Flat (25 A); Reconfigure then left
    Flat out. The entry set up, Cabin subscribed."""
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        entry,
        data={**entry.data, CONF_HOMES: {HOME_A: "Cabin"}},
        options={CONF_FUSE_SIZES: {HOME_A: 40, HOME_B: 25}},
    )
    await start(hass, entry, server)


async def test_the_options_of_an_account_down_to_one_home_show_the_fuse_it_is_judged_against(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    """Cabin is still judged against its 40 A, so its one options form shows 40 A."""
    await cabin_alone_after_fuses_of_two(hass, tibber_server, tibber_entry)
    assert tibber_entry.runtime_data.sink.runners[HOME_A].detector_config.fuse_amps == 40

    result = await hass.config_entries.options.async_init(tibber_entry.entry_id)

    fuse = next(key for key in result["data_schema"].schema if key == CONF_FUSE_SIZE)
    assert fuse.description == {"suggested_value": 40}


async def test_the_options_of_a_power_sensor_home_without_current_sensors_offer_no_fuse(
    hass: HomeAssistant,
) -> None:
    """The over-current check compares phase currents with the fuse; this home has none, so a
    fuse saved here would turn nothing on."""
    entry = home_entry()  # a power sensor and nothing else
    entry.add_to_hass(hass)

    result = await hass.config_entries.options.async_init(entry.entry_id)

    assert result["type"] is FlowResultType.FORM
    assert CONF_FUSE_SIZE not in result["data_schema"].schema


async def started_watching_the_cabin_alone(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    """The account's entry, set up watching the Cabin alone (the Flat offered and left out)."""
    tibber_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        tibber_entry,
        data={
            **tibber_entry.data,
            CONF_HOMES: {HOME_A: "Cabin"},
            CONF_OFFERED_HOMES: [HOME_A, HOME_B],
        },
    )
    await start(hass, tibber_entry, tibber_server)


async def test_a_home_added_after_the_fuse_of_an_account_of_one_home_was_saved_has_no_fuse(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    """As the README says: a home added to the account later has no fuse until one is given it
    here (a cottage's 16 A fuse is not the cabin's 25 A)."""
    await started_watching_the_cabin_alone(hass, tibber_server, tibber_entry)
    result = await hass.config_entries.options.async_init(tibber_entry.entry_id)
    result = await answer(hass, result, **{CONF_FUSE_SIZE: 25})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)  # the reload
    await tibber_server.wait_for_subscriptions(1)

    tibber_server.account.homes.append(LocalHome(HOME_NEW, nickname="Cottage"))
    await an_hour_later(hass)
    await tibber_server.wait_for_subscriptions(1, HOME_NEW)

    runners = tibber_entry.runtime_data.sink.runners
    assert runners[HOME_A].detector_config.fuse_amps == 25
    assert runners[HOME_NEW].detector_config.fuse_amps is None


async def test_the_fuse_of_a_home_left_out_in_reconfigure_is_kept_for_when_it_is_ticked_again(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    """Flat (25 A) is not watched now; Cabin's fuse is changed to 35 A."""
    await cabin_alone_after_fuses_of_two(hass, tibber_server, tibber_entry)
    result = await hass.config_entries.options.async_init(tibber_entry.entry_id)

    result = await answer(hass, result, **{CONF_FUSE_SIZE: 35})
    await hass.async_block_till_done(wait_background_tasks=True)  # the reload
    await tibber_server.wait_for_subscriptions(1)

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert tibber_entry.options == {CONF_FUSE_SIZES: {HOME_A: 35, HOME_B: 25}}


async def test_a_fuse_saved_before_the_current_sensors_were_left_out_is_kept_by_the_options(
    hass: HomeAssistant,
) -> None:
    """Kept for current sensors chosen again under Reconfigure; the form does not offer it."""
    hass.states.async_set("sensor.outside", "4.5", {"unit_of_measurement": "°C"})
    entry = home_entry()
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, options={CONF_FUSE_SIZE: 25})
    result = await hass.config_entries.options.async_init(entry.entry_id)

    result = await answer(hass, result, **{CONF_TEMPERATURE_ENTITY: "sensor.outside"})
    await hass.async_block_till_done(wait_background_tasks=True)  # the reload, which sets it up

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {CONF_TEMPERATURE_ENTITY: "sensor.outside", CONF_FUSE_SIZE: 25}


async def test_the_options_of_a_tibber_account_watching_no_home_offer_no_fuse(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    """Every home left out under Reconfigure: a fuse saved here would be no home's."""
    tibber_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(tibber_entry, data={**tibber_entry.data, CONF_HOMES: {}})

    result = await hass.config_entries.options.async_init(tibber_entry.entry_id)

    assert result["type"] is FlowResultType.FORM
    assert CONF_FUSE_SIZE not in result["data_schema"].schema


async def test_a_home_listed_while_the_options_form_is_open_is_judged_against_its_own_fuse(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    """The form showed Cabin's fuse alone (25 A typed); the Cottage listed meanwhile is then asked
    its own, left empty: it has no over-current check, as its fuse is not the Cabin's."""
    await started_watching_the_cabin_alone(hass, tibber_server, tibber_entry)
    result = await hass.config_entries.options.async_init(tibber_entry.entry_id)
    assert CONF_FUSE_SIZE in result["data_schema"].schema  # Cabin's, on the one form
    tibber_server.account.homes.append(LocalHome(HOME_NEW, nickname="Cottage"))
    await an_hour_later(hass)
    await tibber_server.wait_for_subscriptions(1, HOME_NEW)

    result = await answer(hass, result, **{CONF_FUSE_SIZE: 25})
    assert result["description_placeholders"] == {"home": "Cabin"}
    result = await answer(hass, result, **{CONF_FUSE_SIZE: 25})
    assert result["description_placeholders"] == {"home": "Cottage"}
    result = await answer(hass, result)  # left empty
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)  # the reload
    await tibber_server.wait_for_subscriptions(1, HOME_NEW)

    runners = tibber_entry.runtime_data.sink.runners
    assert runners[HOME_A].detector_config.fuse_amps == 25
    assert runners[HOME_NEW].detector_config.fuse_amps is None


async def test_a_home_gone_while_the_options_form_is_open_leaves_the_other_its_fuse(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    """Cabin 40 A, Flat 25 A: the first form of an account of two homes has no fuse field (each
    home's is asked after it). Flat leaves the account meanwhile; the form is sent as shown."""
    await started_with(
        hass, tibber_server, tibber_entry, {CONF_FUSE_SIZES: {HOME_A: 40, HOME_B: 25}}
    )
    result = await hass.config_entries.options.async_init(tibber_entry.entry_id)
    assert CONF_FUSE_SIZE not in result["data_schema"].schema
    tibber_server.account.homes = [
        home for home in tibber_server.account.homes if home.home_id != HOME_B
    ]
    await an_hour_later(hass)
    assert HOME_B not in tibber_entry.data[CONF_HOMES]

    result = await answer(hass, result)
    await hass.async_block_till_done(wait_background_tasks=True)  # a reload, if any
    await tibber_server.wait_for_subscriptions(1)

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert tibber_entry.runtime_data.sink.runners[HOME_A].detector_config.fuse_amps == 40
