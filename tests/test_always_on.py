"""What the always-on power costs: its energy in a year, and that energy at the user's price."""

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.icon import async_get_icons
from homeassistant.helpers.selector import EntitySelector
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_anomaly.const import CONF_PRICE_ENTITY, DOMAIN

from .test_demo import set_up_demo
from .test_entity_source import HOME_POWER, home_entry, set_up_home_drawing
from .test_live_data import state_of, wait_until

ENERGY = "sensor.demo_home_always_on_energy_per_year"
COST = "sensor.demo_home_always_on_cost_per_year"
PRICE = "sensor.electricity_price"
NOK_PER_KWH = {"unit_of_measurement": "NOK/kWh"}
# The demo home's learned baseload is 135 W: 135 W for 8766 hours is 1183 kWh.
DEMO_ALWAYS_ON_KWH = 1183


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

    assert state_of(hass, "sensor.demo_home_baseload") == "135.0"
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
        "always_on_energy": "Demo home Grundlast-Energie pro Jahr",
        "always_on_cost": "Demo home Grundlast-Kosten pro Jahr",
    }


async def test_the_always_on_sensors_have_icons(hass: HomeAssistant) -> None:
    icons = (await async_get_icons(hass, "entity", integrations=[DOMAIN]))[DOMAIN]["sensor"]

    assert icons["always_on_energy"]["default"] != icons["always_on_cost"]["default"]
