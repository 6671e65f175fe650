"""A home fed by Home Assistant sensors under hostile input: a signed current sensor, the host's
clock stepped while sensors have no value, a production sensor signed as a net meter."""

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_anomaly.const import (
    CONF_CURRENT_ENTITIES,
    CONF_FUSE_SIZE,
    CONF_POWER_ENTITY,
    CONF_PRODUCTION_ENTITY,
    CONF_VOLTAGE_ENTITIES,
    DOMAIN,
)
from custom_components.energy_anomaly.entity_source import SAMPLE_INTERVAL, STALLED_AFTER

from .test_entity_source import (
    HOME_POWER,
    POWER,
    VOLT,
    VOLTAGE_L1,
    WATT,
    entity_issue,
    home_entry,
    host_clock_set_back,
    power_shown,
    running_for,
    sampled,
    set_up_home_drawing,
    start_with_sensors_not_yet_connected,
)
from .test_live_data import state_of

CURRENT_L1 = "sensor.meter_current_l1"
AMPERE = {"unit_of_measurement": "A", "device_class": "current"}


@pytest.fixture
def entity_entry() -> MockConfigEntry:
    """A home named Home, fed by POWER and the voltage of phase 1."""
    return home_entry(**{CONF_VOLTAGE_ENTITIES[0]: VOLTAGE_L1})


async def sampled_for(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, duration: timedelta
) -> None:
    """Let `duration` pass with a sample every SAMPLE_INTERVAL, as the host runs its timers."""
    for _ in range(int(duration / SAMPLE_INTERVAL)):
        freezer.tick(SAMPLE_INTERVAL)
        await sampled(hass)


async def test_a_phase_current_exported_beyond_the_fuse_alarms_as_one_drawn_does(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A signed current sensor (a HomeWizard P1 reads below 0 A while the home exports): 40 A
    exported through a 25 A main fuse overload it as 40 A drawn do (which alarm after a minute)."""
    hass.states.async_set(CURRENT_L1, "5", AMPERE)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Home",
        unique_id=POWER,
        data=dict(home_entry(**{CONF_CURRENT_ENTITIES[0]: CURRENT_L1}).data),
        options={CONF_FUSE_SIZE: 25},
    )
    await set_up_home_drawing(hass, entry, 400)
    await sampled_for(hass, freezer, timedelta(minutes=2))

    hass.states.async_set(CURRENT_L1, "-40", AMPERE)
    await sampled_for(hass, freezer, timedelta(minutes=3))

    anomaly = hass.states.get("binary_sensor.home_anomaly")
    assert anomaly.state == "on"
    assert anomaly.attributes["kind"] == "power_quality"


async def test_sensors_still_connecting_when_ntp_sets_the_clock_forward_raise_nothing(
    hass: HomeAssistant,
    entity_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A Pi without a real-time clock boots at the time it was switched off; Home Assistant
    starts while the meter's ESPHome device still connects, and NTP sets the clock 7 hours on:
    the sensors have been without a value for seconds, not for 7 hours."""
    await start_with_sensors_not_yet_connected(hass, entity_entry)
    freezer.tick(SAMPLE_INTERVAL)
    await sampled(hass)

    freezer.tick(timedelta(hours=7))  # NTP steps the clock
    await sampled(hass)

    assert entity_issue(hass, entity_entry, CONF_POWER_ENTITY) is None
    hass.states.async_set(POWER, "400", WATT)  # connected, 10 s after the start
    hass.states.async_set(VOLTAGE_L1, "230", VOLT)
    await power_shown(hass, 400.0)
    assert "Live data for Home is unavailable" not in caplog.text
    assert "readings go without it" not in caplog.text


async def test_a_power_sensor_that_drops_after_the_clock_went_back_is_named_after_the_grace(
    hass: HomeAssistant,
    entity_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
    freezer: FrozenDateTimeFactory,
) -> None:
    """NTP sets the host's clock back 30 minutes; a minute later the meter goes unavailable and
    stays so: the repair issue and the log must name it after the grace, not once the clock is
    past the time it had shown (the home merely goes silent meanwhile)."""
    await set_up_home_drawing(hass, entity_entry, 400)
    await host_clock_set_back(hass, freezer)
    await running_for(hass, freezer, timedelta(minutes=1))

    hass.states.async_set(POWER, "unavailable", WATT)
    await sampled_for(hass, freezer, timedelta(minutes=2))

    issue = entity_issue(hass, entity_entry, CONF_POWER_ENTITY)
    assert issue is not None
    assert issue.translation_key == "power_entity_unavailable"
    assert f"Live data for Home is unavailable: {POWER} is unavailable" in caplog.text


async def test_a_production_sensor_reading_its_export_below_0_gets_an_issue_and_one_log_line(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture, freezer: FrozenDateTimeFactory
) -> None:
    """An inverter's grid sensor signed as a net meter (below 0 while it exports), chosen as the
    production: its every value is left out. Like any sensor whose value is left out, it is
    named by a repair issue and logged once, not every 10 minutes for as long as it is chosen."""
    solar = "sensor.inverter_grid_power"
    hass.states.async_set(solar, "-1500", WATT)
    entry = home_entry(**{CONF_PRODUCTION_ENTITY: solar})
    await set_up_home_drawing(hass, entry, 0)

    await running_for(hass, freezer, timedelta(hours=1))

    assert entity_issue(hass, entry, CONF_PRODUCTION_ENTITY) is not None
    assert caplog.text.count("its power production -1500.0 W") <= 1


async def test_a_stalled_power_sensor_stays_stalled_when_the_clock_is_set_back_a_little(
    hass: HomeAssistant,
    entity_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A sensor silent for seven hours (a frozen MQTT meter) stalled the home an hour ago; NTP
    then sets the host's clock back 10 minutes, while the host ran its timers all along: the
    sensor has still been silent for almost seven hours, and its frozen value is no reading."""
    await set_up_home_drawing(hass, entity_entry, 400)
    await running_for(hass, freezer, STALLED_AFTER + timedelta(hours=1))
    assert state_of(hass, HOME_POWER) == "unavailable"
    assert entity_issue(hass, entity_entry, CONF_POWER_ENTITY) is not None

    await host_clock_set_back(hass, freezer, timedelta(minutes=10))
    await running_for(hass, freezer, timedelta(minutes=2))

    assert state_of(hass, HOME_POWER) == "unavailable"
    issue = entity_issue(hass, entity_entry, CONF_POWER_ENTITY)
    assert issue is not None
    assert issue.translation_key == "power_entity_stalled"


async def test_a_net_meter_chosen_as_production_is_logged_at_most_every_10_minutes_as_clouds_pass(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture, freezer: FrozenDateTimeFactory
) -> None:
    """A grid meter's net power set up as the production at night (it read its import, above
    0 W, so the form took it); by day passing clouds make the home import and export in turn."""
    net = "sensor.grid_net_power"
    hass.states.async_set(net, "400", WATT)
    entry = home_entry(**{CONF_PRODUCTION_ENTITY: net})
    await set_up_home_drawing(hass, entry, 400)

    for _ in range(15):  # half an hour of clouds: a minute exporting, a minute importing
        hass.states.async_set(net, "-1500", WATT)
        await running_for(hass, freezer, timedelta(minutes=1))
        hass.states.async_set(net, "300", WATT)
        await running_for(hass, freezer, timedelta(minutes=1))

    # no more often than the runner's warning did before: at most every 10 minutes
    assert caplog.text.count("reads far below 0 W") <= 3


async def test_a_net_meter_chosen_as_production_stays_left_out_after_it_dropped_for_a_minute(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The CHANGELOG: far below 0 once, its values stay left out until the entry reloads."""
    net = "sensor.grid_net_power"
    hass.states.async_set(net, "400", WATT)
    entry = home_entry(**{CONF_PRODUCTION_ENTITY: net})
    await set_up_home_drawing(hass, entry, 400)
    hass.states.async_set(net, "-1500", WATT)
    await running_for(hass, freezer, timedelta(minutes=1))
    assert entity_issue(hass, entry, CONF_PRODUCTION_ENTITY) is not None

    hass.states.async_set(net, "unavailable", WATT)  # the meter's Wi-Fi reconnects
    await running_for(hass, freezer, timedelta(minutes=1))
    hass.states.async_set(net, "300", WATT)  # importing again
    await running_for(hass, freezer, timedelta(minutes=1))

    assert state_of(hass, "sensor.home_power_production") == "unknown"
    assert entity_issue(hass, entry, CONF_PRODUCTION_ENTITY) is not None
