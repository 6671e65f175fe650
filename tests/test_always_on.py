"""What the always-on power costs: its energy in a year, and that energy at the user's price."""

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.core import HomeAssistant, State
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.icon import async_get_icons
from homeassistant.helpers.selector import EntitySelector
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from sqlalchemy.exc import OperationalError

from custom_components.energy_anomaly.const import CONF_HOMES, CONF_PRICE_ENTITY, DOMAIN
from custom_components.energy_anomaly.price import Price, mean_price

from .conftest import HOME_A
from .test_demo import set_up_demo
from .test_entity_source import HOME_POWER, home_entry, set_up_home_drawing
from .test_live_data import start, state_of, wait_until
from .tibber_server import LocalTibberServer

ENERGY = "sensor.demo_home_always_on_energy_per_year"
COST = "sensor.demo_home_always_on_cost_per_year"
PRICE = "sensor.electricity_price"
NOK_PER_KWH = {"unit_of_measurement": "NOK/kWh"}
# The demo home's learned baseload is 134 W: 134 W for 8766 hours is 1175 kWh.
DEMO_ALWAYS_ON_KWH = 1175


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(recorder_db_url: str, enable_custom_integrations: None) -> None:
    """As the shared fixture, but the recorder's database is prepared before Home Assistant."""


async def set_up_priced_demo(
    hass: HomeAssistant, demo_entry: MockConfigEntry, price: str, attributes: dict[str, Any]
) -> None:
    """The demo home showing its data, with PRICE chosen in the options reading `price`."""
    hass.states.async_set(PRICE, price, attributes)
    demo_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(demo_entry, options={CONF_PRICE_ENTITY: PRICE})
    assert await hass.config_entries.async_setup(demo_entry.entry_id)
    coordinator = demo_entry.runtime_data.coordinators[0]
    await wait_until(hass, lambda: coordinator.data is not None)


async def test_always_on_energy_is_the_baseload_drawn_for_a_year(
    hass: HomeAssistant, demo_entry: MockConfigEntry
) -> None:
    await set_up_demo(hass, demo_entry)

    assert state_of(hass, "sensor.demo_home_baseload") == "134.0"
    energy = hass.states.get(ENERGY)
    assert energy is not None
    assert energy.state == str(DEMO_ALWAYS_ON_KWH)
    assert energy.attributes["unit_of_measurement"] == "kWh"
    assert energy.attributes["device_class"] == "energy"


async def test_always_on_energy_keeps_no_statistics_so_the_energy_dashboard_cannot_take_it(
    hass: HomeAssistant, demo_entry: MockConfigEntry
) -> None:
    await set_up_priced_demo(hass, demo_entry, "1.25", NOK_PER_KWH)

    for entity_id in (ENERGY, COST):
        assert "state_class" not in hass.states.get(entity_id).attributes


async def test_always_on_energy_is_unknown_until_the_baseload_is_learned(
    hass: HomeAssistant,
) -> None:
    await set_up_home_drawing(hass, home_entry(), 400)  # a new home, no history

    assert state_of(hass, HOME_POWER) == "400.0"
    assert state_of(hass, "sensor.home_baseload") == "unknown"
    assert state_of(hass, "sensor.home_always_on_energy_per_year") == "unknown"


async def test_always_on_cost_is_the_energy_at_the_price_in_its_currency(
    hass: HomeAssistant, demo_entry: MockConfigEntry
) -> None:
    await set_up_priced_demo(hass, demo_entry, "1.25", NOK_PER_KWH)

    cost = hass.states.get(COST)
    assert cost is not None
    assert float(cost.state) == pytest.approx(DEMO_ALWAYS_ON_KWH * 1.25)
    assert cost.attributes["unit_of_measurement"] == "NOK"
    assert cost.attributes["device_class"] == "monetary"


async def test_a_price_per_mwh_is_taken_per_kwh(
    hass: HomeAssistant, demo_entry: MockConfigEntry
) -> None:
    await set_up_priced_demo(hass, demo_entry, "100", {"unit_of_measurement": "EUR/MWh"})

    assert float(state_of(hass, COST)) == pytest.approx(DEMO_ALWAYS_ON_KWH * 0.1)
    assert hass.states.get(COST).attributes["unit_of_measurement"] == "EUR"


async def test_always_on_cost_follows_the_price(
    hass: HomeAssistant, demo_entry: MockConfigEntry
) -> None:
    await set_up_priced_demo(hass, demo_entry, "1.25", NOK_PER_KWH)

    hass.states.async_set(PRICE, "2.0", NOK_PER_KWH)
    await hass.async_block_till_done()

    assert float(state_of(hass, COST)) == pytest.approx(DEMO_ALWAYS_ON_KWH * 2.0)


@pytest.mark.parametrize(
    ("price", "attributes"),
    [
        ("unavailable", NOK_PER_KWH),
        ("unknown", NOK_PER_KWH),
        ("nan", NOK_PER_KWH),
        ("1.25", {"unit_of_measurement": "W"}),
    ],
)
async def test_always_on_cost_is_unknown_while_the_price_entity_gives_no_price(
    hass: HomeAssistant, demo_entry: MockConfigEntry, price: str, attributes: dict[str, Any]
) -> None:
    await set_up_priced_demo(hass, demo_entry, "1.25", NOK_PER_KWH)

    hass.states.async_set(PRICE, price, attributes)
    await hass.async_block_till_done()

    assert state_of(hass, COST) == "unknown"
    assert state_of(hass, ENERGY) == str(DEMO_ALWAYS_ON_KWH)


async def test_always_on_cost_is_unknown_while_the_price_entity_is_missing(
    hass: HomeAssistant, demo_entry: MockConfigEntry
) -> None:
    await set_up_priced_demo(hass, demo_entry, "1.25", NOK_PER_KWH)

    hass.states.async_remove(PRICE)
    await hass.async_block_till_done()

    assert state_of(hass, COST) == "unknown"


async def test_without_a_price_entity_there_is_no_cost_sensor(
    hass: HomeAssistant, demo_entry: MockConfigEntry
) -> None:
    await set_up_demo(hass, demo_entry)

    assert hass.states.get(COST) is None
    assert hass.states.get(ENERGY) is not None


async def test_options_offer_a_price_entity_and_choosing_one_adds_the_cost(
    hass: HomeAssistant, demo_entry: MockConfigEntry
) -> None:
    hass.states.async_set(PRICE, "1.25", NOK_PER_KWH)
    await set_up_demo(hass, demo_entry)
    result = await hass.config_entries.options.async_init(demo_entry.entry_id)
    selector = {str(key): value for key, value in result["data_schema"].schema.items()}
    assert isinstance(selector[CONF_PRICE_ENTITY], EntitySelector)

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_PRICE_ENTITY: PRICE}
    )
    await hass.async_block_till_done(wait_background_tasks=True)

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert demo_entry.options == {CONF_PRICE_ENTITY: PRICE}
    await wait_until(hass, lambda: state_of(hass, COST) not in (None, "unavailable"))
    assert float(state_of(hass, COST)) == pytest.approx(DEMO_ALWAYS_ON_KWH * 1.25)


async def test_choosing_no_price_entity_removes_the_cost_sensor(
    hass: HomeAssistant, demo_entry: MockConfigEntry
) -> None:
    await set_up_priced_demo(hass, demo_entry, "1.25", NOK_PER_KWH)
    result = await hass.config_entries.options.async_init(demo_entry.entry_id)

    await hass.config_entries.options.async_configure(result["flow_id"], {})
    await hass.async_block_till_done(wait_background_tasks=True)

    assert er.async_get(hass).async_get(COST) is None
    assert hass.states.get(COST) is None


@pytest.mark.parametrize(
    ("state", "attributes", "error"),
    [
        (None, {}, "entity_not_found"),
        ("400", {"unit_of_measurement": "W"}, "not_a_price"),
        ("1.25", {"unit_of_measurement": "NOK"}, "not_a_price"),
        ("1.25", {}, "not_a_price"),
    ],
)
async def test_options_refuse_an_entity_that_gives_no_price_per_energy(
    hass: HomeAssistant,
    demo_entry: MockConfigEntry,
    state: str | None,
    attributes: dict[str, Any],
    error: str,
) -> None:
    if state is not None:
        hass.states.async_set(PRICE, state, attributes)
    await set_up_demo(hass, demo_entry)
    result = await hass.config_entries.options.async_init(demo_entry.entry_id)

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_PRICE_ENTITY: PRICE}
    )

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_PRICE_ENTITY: error}
    assert demo_entry.options == {}
    hass.states.async_set(PRICE, "1.25", NOK_PER_KWH)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_PRICE_ENTITY: PRICE}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert demo_entry.options[CONF_PRICE_ENTITY] == PRICE
    await hass.async_block_till_done(wait_background_tasks=True)  # the entry reloads with it


async def test_the_always_on_sensors_are_named_in_the_users_language(
    hass: HomeAssistant, demo_entry: MockConfigEntry
) -> None:
    await hass.config.async_update(language="de")
    await set_up_priced_demo(hass, demo_entry, "0.30", {"unit_of_measurement": "EUR/kWh"})

    registry = er.async_get(hass)
    names = {
        key: hass.states.get(
            registry.async_get_entity_id("sensor", DOMAIN, f"demo_{key}") or ""
        ).attributes["friendly_name"]
        for key in ("always_on_energy", "always_on_cost")
    }
    assert names == {
        "always_on_energy": "Demo home Grundlastverbrauch pro Jahr",
        "always_on_cost": "Demo home Grundlastkosten pro Jahr",
    }


async def test_the_always_on_sensors_have_icons(hass: HomeAssistant) -> None:
    icons = (await async_get_icons(hass, "entity", integrations=[DOMAIN]))[DOMAIN]["sensor"]

    assert icons["always_on_energy"]["default"] != icons["always_on_cost"]["default"]


NOON = datetime.fromisoformat("2026-11-24T12:00:00+00:00")


def price_at(hour: int, price: str, unit: str = "NOK/kWh") -> State:
    """The price entity's state as the recorder returns it, changed at NOON + `hour` hours."""
    at = NOON + timedelta(hours=hour)
    return State(PRICE, price, {"unit_of_measurement": unit}, last_changed=at, last_updated=at)


def test_the_mean_price_weighs_each_price_by_how_long_it_held() -> None:
    states = [price_at(0, "1.0"), price_at(3, "3.0")]

    mean = mean_price(states, NOON, NOON + timedelta(hours=4))

    assert mean == Price(1.5, "NOK")


def test_the_mean_price_counts_a_price_from_the_start_of_the_period_only() -> None:
    states = [price_at(-10, "5.0"), price_at(1, "1.0")]

    mean = mean_price(states, NOON, NOON + timedelta(hours=2))

    assert mean == Price(3.0, "NOK")


def test_the_mean_price_leaves_out_the_time_without_a_price_or_in_another_currency() -> None:
    states = [
        price_at(0, "0.1", "EUR/kWh"),
        price_at(1, "2.0"),
        price_at(2, "unavailable"),
        price_at(5, "4.0"),
    ]

    mean = mean_price(states, NOON, NOON + timedelta(hours=6))

    assert mean == Price(3.0, "NOK")


@pytest.mark.parametrize("states", [[price_at(0, "unavailable")], [price_at(1, "2.0")]])
def test_without_time_at_a_price_there_is_no_mean(states: list[State]) -> None:
    assert mean_price(states, NOON, NOON + timedelta(hours=1)) is None


async def test_when_the_recorder_fails_the_cost_uses_the_current_price(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    demo_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    failing = patch(
        "homeassistant.components.recorder.history.state_changes_during_period",
        side_effect=OperationalError("SELECT", {}, Exception("database is locked")),
    )
    with failing:
        await set_up_priced_demo(hass, demo_entry, "1.25", NOK_PER_KWH)

    assert float(state_of(hass, COST)) == pytest.approx(DEMO_ALWAYS_ON_KWH * 1.25)
    assert f"Could not read the recorded prices of {PRICE}" in caplog.text


async def test_always_on_cost_uses_the_mean_price_the_recorder_kept(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    demo_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    now = dt_util.utcnow()
    freezer.move_to(now - timedelta(hours=4))
    hass.states.async_set(PRICE, "1.0", NOK_PER_KWH)
    await async_wait_recording_done(hass)
    freezer.move_to(now - timedelta(hours=1))
    hass.states.async_set(PRICE, "3.0", NOK_PER_KWH)
    await async_wait_recording_done(hass)
    freezer.move_to(now)

    await set_up_priced_demo(hass, demo_entry, "3.0", NOK_PER_KWH)

    cost = hass.states.get(COST)
    assert cost is not None
    assert cost.attributes["price_per_kwh"] == pytest.approx(1.5, rel=1e-3)
    assert float(cost.state) == pytest.approx(DEMO_ALWAYS_ON_KWH * 1.5, rel=1e-3)


async def test_the_mean_price_is_read_again_every_hour(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    demo_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await set_up_priced_demo(hass, demo_entry, "1.0", NOK_PER_KWH)
    await async_wait_recording_done(hass)
    freezer.tick(timedelta(hours=1))
    hass.states.async_set(PRICE, "3.0", NOK_PER_KWH)
    await async_wait_recording_done(hass)

    freezer.tick(timedelta(hours=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)

    # 1.0 for the first hour, 3.0 for the second
    assert hass.states.get(COST).attributes["price_per_kwh"] == pytest.approx(2.0, rel=1e-3)


COST_CABIN = "sensor.cabin_always_on_cost_per_year"


async def tibber_cabin_at(
    hass: HomeAssistant, server: LocalTibberServer, entry: MockConfigEntry, price: float
) -> None:
    """The Cabin alone on a Tibber entry without a price entity, Tibber's price at `price`."""
    for home in server.account.homes:
        home.price = price
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        entry, data={**entry.data, CONF_HOMES: {HOME_A: "Cabin"}}
    )
    await start(hass, entry, server)
    await reading(hass, server, 400.0)


async def reading(hass: HomeAssistant, server: LocalTibberServer, power: float) -> None:
    await server.push(HOME_A, power=power)
    await wait_until(hass, lambda: state_of(hass, "sensor.cabin_power") == str(power))


async def test_a_tibber_home_without_a_price_entity_is_priced_at_tibbers_price(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    await tibber_cabin_at(hass, tibber_server, tibber_entry, 1.25)

    cost = hass.states.get(COST_CABIN)
    assert cost.attributes["price_per_kwh"] == 1.25
    assert cost.attributes["unit_of_measurement"] == "NOK"


async def test_a_tibber_home_without_a_power_deal_has_an_unknown_cost(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    tibber_server.account.homes[0].subscription_status = None  # no price from Tibber
    await tibber_cabin_at(hass, tibber_server, tibber_entry, 1.25)

    cost = hass.states.get(COST_CABIN)
    assert cost.state == "unknown"
    assert cost.attributes["price_per_kwh"] is None


async def test_tibbers_price_is_read_again_every_hour(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    await tibber_cabin_at(hass, tibber_server, tibber_entry, 1.25)
    tibber_server.account.homes[0].price = 2.0

    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(hours=1, seconds=1))
    await hass.async_block_till_done(wait_background_tasks=True)
    await reading(hass, tibber_server, 510.0)

    assert hass.states.get(COST_CABIN).attributes["price_per_kwh"] == 2.0


async def test_a_tibber_cost_is_the_always_on_energy_at_tibbers_price(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    await tibber_cabin_at(hass, tibber_server, tibber_entry, 1.25)
    runner = tibber_entry.runtime_data.sink.runners[HOME_A]
    data = runner.coordinator.data
    learned = replace(data, result=replace(data.result, baseload=134.0))

    runner.coordinator.async_set_updated_data(learned)
    await hass.async_block_till_done()

    assert float(state_of(hass, COST_CABIN)) == pytest.approx(DEMO_ALWAYS_ON_KWH * 1.25)
