"""Which readings write a new state: power always, voltage, current and score when it matters."""

from dataclasses import replace
from datetime import datetime
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_anomaly import sensor as sensor_module
from custom_components.energy_anomaly.const import CONF_FUSE_SIZE
from custom_components.energy_anomaly.coordinator import EnergyAnomalyCoordinator

from .conftest import HOME_A
from .test_live_data import start, wait_until
from .tibber_server import LocalTibberServer

START = datetime.fromisoformat("2026-11-24T18:00:00+01:00")


def has_seen(coordinator: EnergyAnomalyCoordinator, timestamp: datetime) -> bool:
    """Whether the home's entities have been given the reading stamped `timestamp`."""
    # by the moment: in the hour the clocks go back a time in two zones never compares equal
    return coordinator.data is not None and coordinator.data.reading.epoch == timestamp.timestamp()


class Cabin:
    """Pushes the Cabin's readings one at a time and counts the states each entity wrote."""

    def __init__(self, hass: HomeAssistant, server: LocalTibberServer, entry: MockConfigEntry):
        self.hass, self.server, self.entry = hass, server, entry
        self.start = START  # what `push` counts its seconds from
        self.writes: dict[str, list[str]] = {}
        hass.bus.async_listen("state_changed", self._count)

    def _count(self, event: Any) -> None:
        if (state := event.data["new_state"]) is not None:
            self.writes.setdefault(state.entity_id, []).append(state.state)

    async def push(self, seconds: float, **fields: Any) -> None:
        """The reading `seconds` after `start`, seen by the entities before this returns."""
        timestamp = datetime.fromtimestamp(self.start.timestamp() + seconds, self.start.tzinfo)
        await self.server.push(HOME_A, timestamp=timestamp.isoformat(), **fields)
        coordinator = self.entry.runtime_data.coordinators[0]
        await wait_until(self.hass, lambda: has_seen(coordinator, timestamp))


async def cabin(
    hass: HomeAssistant, server: LocalTibberServer, entry: MockConfigEntry, fuse: float = 25
) -> Cabin:
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, options={CONF_FUSE_SIZE: fuse})
    await start(hass, entry, server)
    return Cabin(hass, server, entry)


async def test_power_drifting_is_written_every_10_seconds_not_at_every_reading(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    home = await cabin(hass, tibber_server, tibber_entry)
    for i in range(11):  # 1 W more every 2 s
        await home.push(2 * i, power=1000.0 + i)

    assert home.writes["sensor.cabin_power"][-3:] == ["1000.0", "1005.0", "1010.0"]


async def test_power_drifting_as_the_clocks_go_back_is_written_every_10_seconds(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    await hass.config.async_set_time_zone("Europe/Oslo")
    home = await cabin(hass, tibber_server, tibber_entry)
    home.start = datetime(2024, 10, 27, 2, 59, 54, tzinfo=ZoneInfo("Europe/Oslo"))
    for i in range(6):  # 1 W more every 2 s, on to 02:00:04 when the clocks went back
        await home.push(2 * i, power=1000.0 + i)

    assert home.writes["sensor.cabin_power"][-2:] == ["1000.0", "1005.0"]


async def test_power_moving_by_100_w_is_written_at_once(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    home = await cabin(hass, tibber_server, tibber_entry)
    for i, watts in enumerate((1000.0, 1100.0, 1050.0, 950.0)):  # on, 50 W back, off
        await home.push(2 * i, power=watts)

    assert home.writes["sensor.cabin_power"][-3:] == ["1000.0", "1100.0", "950.0"]


async def test_power_shown_in_kw_moving_by_2_kw_is_written_at_once(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    home = await cabin(hass, tibber_server, tibber_entry)
    entity_registry.async_update_entity_options(
        "sensor.cabin_power", "sensor", {"unit_of_measurement": "kW"}
    )
    await home.push(0, power=1000.0)
    await home.push(2, power=3000.0)  # a 2 kW kettle switched on

    assert hass.states.get("sensor.cabin_power").state == "3.0"


async def test_voltage_moving_less_than_a_volt_is_not_written(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    home = await cabin(hass, tibber_server, tibber_entry)
    await home.push(0, voltagePhase1=230.0)
    for i in range(1, 40):  # 78 s of readings, never 1 V from 230 V
        await home.push(2 * i, voltagePhase1=230.0 + (i % 9) / 10)

    assert hass.states.get("sensor.cabin_voltage_l1").state == "230.0"


@pytest.mark.parametrize(
    ("field", "entity_id", "moved"),
    [
        ("voltagePhase1", "sensor.cabin_voltage_l1", 1.0),
        ("currentL1", "sensor.cabin_current_l1", 0.5),
    ],
)
async def test_a_phase_moving_by_its_deadband_is_written_after_30_seconds_not_before(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    field: str,
    entity_id: str,
    moved: float,
) -> None:
    home = await cabin(hass, tibber_server, tibber_entry)
    await home.push(0, **{field: 230.0})
    await home.push(2, **{field: 230.0 + moved})
    await home.push(28, **{field: 230.0 + moved})
    assert hass.states.get(entity_id).state == "230.0"

    await home.push(30, **{field: 230.0 + moved})

    assert hass.states.get(entity_id).state == f"{230.0 + moved}"


async def test_voltage_leaving_the_normal_band_is_written_at_once(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    home = await cabin(hass, tibber_server, tibber_entry)
    await home.push(0, voltagePhase1=208.0)
    await home.push(2, voltagePhase1=206.5)

    assert hass.states.get("sensor.cabin_voltage_l1").state == "206.5"


async def test_current_is_live_during_a_power_quality_alarm(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    home = await cabin(hass, tibber_server, tibber_entry, fuse=25)
    for i in range(8):  # 32 A on L1 for 70 s: over the fuse for more than a minute
        await home.push(10 * i, currentL1=32.0)
    assert hass.states.get("binary_sensor.cabin_anomaly").state == "on"

    await home.push(72, currentL1=32.2)

    assert hass.states.get("sensor.cabin_current_l1").state == "32.2"


async def test_only_the_phase_in_a_power_quality_alarm_is_live(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    home = await cabin(hass, tibber_server, tibber_entry, fuse=25)
    for i in range(8):  # 32 A on L1 for 70 s: over the fuse for more than a minute
        await home.push(10 * i, currentL1=32.0, currentL2=5.0)
    assert hass.states.get("binary_sensor.cabin_anomaly").state == "on"
    written = len(home.writes["sensor.cabin_current_l2"])

    for i in range(10):  # 20 s more: L2 moves by a whole ampere at every reading
        await home.push(72 + 2 * i, currentL1=32.0 + i / 10, currentL2=6.0 + i)

    assert hass.states.get("sensor.cabin_current_l1").state == "32.9"
    assert len(home.writes["sensor.cabin_current_l2"]) <= written + 1  # its 30 s throttle


async def test_score_is_written_at_the_reading_it_crosses_1_then_once_a_minute(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    home = await cabin(hass, tibber_server, tibber_entry)
    for i in range(31):  # L1 sinking from 200 V for 5 minutes: the score moves with every reading
        await home.push(10 * i, voltagePhase1=200.0 - i / 2)
        anomaly = hass.states.get("binary_sensor.cabin_anomaly").state
        score = float(hass.states.get("sensor.cabin_anomaly_score").state)
        assert (score >= 1) == (anomaly == "on"), f"at {10 * i} s"

    # The first reading, the one that crossed 1, then once a minute: not 31 times.
    assert len(home.writes["sensor.cabin_anomaly_score"]) <= 2 + 5


async def test_score_is_written_at_once_when_it_crosses_1_whenever_it_was_last_written(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # With ten minutes between writes, only crossing 1 can write the score in these 5 minutes.
    score = next(d for d in sensor_module.SENSORS if d.key == "anomaly_score")
    assert score.throttle is not None
    slow = replace(score, throttle=replace(score.throttle, interval_s=600.0))
    sensors = tuple(slow if d is score else d for d in sensor_module.SENSORS)
    monkeypatch.setattr(sensor_module, "SENSORS", sensors)
    home = await cabin(hass, tibber_server, tibber_entry)
    for i in range(31):  # L1 sinking from 200 V for 5 minutes
        await home.push(10 * i, voltagePhase1=200.0 - i / 2)
        anomaly = hass.states.get("binary_sensor.cabin_anomaly").state
        shown = float(hass.states.get("sensor.cabin_anomaly_score").state)
        assert (shown >= 1) == (anomaly == "on"), f"at {10 * i} s"

    assert len(home.writes["sensor.cabin_anomaly_score"]) == 2  # the first value, then above 1


async def test_anomaly_is_written_once_while_an_episode_lasts(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    home = await cabin(hass, tibber_server, tibber_entry, fuse=25)
    for i in range(19):  # over the fuse from 60 s on
        await home.push(10 * i, currentL1=32.0 + i / 10)
    for i in range(19, 25):  # back under it; the episode ends after 30 s inside
        await home.push(10 * i, currentL1=10.0)

    assert home.writes["binary_sensor.cabin_anomaly"] == ["off", "on", "off"]


@pytest.mark.parametrize(
    ("field", "value", "sensor"),
    [
        ("voltagePhase1", 231.0, "sensor.cabin_voltage_l1"),
        ("powerProduction", 1500.0, "sensor.cabin_power_production"),
    ],
)
async def test_a_value_the_meter_sends_every_tenth_second_keeps_its_value_in_between(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    field: str,
    value: float,
    sensor: str,
) -> None:
    home = await cabin(hass, tibber_server, tibber_entry)
    for second in range(0, 60, 2):  # a Kaifa meter: voltage, production on each tenth second
        await home.push(second, **{field: value if second % 10 == 0 else None})

    assert set(home.writes[sensor]) == {str(value)}


async def test_a_phase_that_stops_coming_is_unknown_after_a_minute(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    home = await cabin(hass, tibber_server, tibber_entry)
    await home.push(0, voltagePhase1=231.0)
    await home.push(60, voltagePhase1=None)
    assert hass.states.get("sensor.cabin_voltage_l1").state == "231.0"

    await home.push(62, voltagePhase1=None)

    assert hass.states.get("sensor.cabin_voltage_l1").state == "unknown"


async def test_detector_status_is_written_once_per_whole_percent_of_learning(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    home = await cabin(hass, tibber_server, tibber_entry)
    for minutes in range(0, 24 * 60 + 1, 10):  # a learning day, a reading every 10 minutes
        await home.push(60 * minutes, power=300.0 + minutes % 7)

    status = hass.states.get("sensor.cabin_detector_status")
    # The evening the home started on counts as a day seen, then 18 of the next day's 24 hours:
    # (1 + 18 / 24) / 14 learning days.
    assert status.attributes["learning_progress"] == 12
    assert len(home.writes["sensor.cabin_detector_status"]) <= 13  # 0 % to 12 %


@pytest.mark.parametrize(
    "volts",
    [
        pytest.param((253.2, 252.8), id="0.4 V of meter noise"),
        pytest.param((252.0, 253.0, 254.0, 253.0), id="in whole volts"),
    ],
)
async def test_a_voltage_hovering_at_the_253_v_limit_is_not_written_at_every_reading(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    volts: tuple[float, ...],
) -> None:
    home = await cabin(hass, tibber_server, tibber_entry)
    for i in range(30):  # a minute of a solar home's high voltage, a reading every 2 s
        await home.push(2 * i, voltagePhase1=volts[i % len(volts)])
    assert hass.states.get("binary_sensor.cabin_anomaly").state == "off"

    # The first value, then once per 30 s of readings, and a crossing or two: not 15-30 rows.
    assert len(home.writes["sensor.cabin_voltage_l1"]) <= 6


async def test_score_is_written_at_once_when_an_alarm_starts_just_above_1(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As test_score_is_written_at_once_when_it_crosses_1_whenever_it_was_last_written
    score = next(d for d in sensor_module.SENSORS if d.key == "anomaly_score")
    assert score.throttle is not None
    slow = replace(score, throttle=replace(score.throttle, interval_s=600.0))
    sensors = tuple(slow if d is score else d for d in sensor_module.SENSORS)
    monkeypatch.setattr(sensor_module, "SENSORS", sensors)
    home = await cabin(hass, tibber_server, tibber_entry)
    for i in range(31):  # L1 at 253.5 V for 5 minutes: an overvoltage alarm after 2 minutes
        await home.push(10 * i, voltagePhase1=253.5)
        anomaly = hass.states.get("binary_sensor.cabin_anomaly").state
        shown = float(hass.states.get("sensor.cabin_anomaly_score").state)
        assert (shown >= 1) == (anomaly == "on"), f"at {10 * i} s"


async def test_a_voltage_leaving_the_band_at_207_v_just_after_a_253_v_crossing_is_written(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    home = await cabin(hass, tibber_server, tibber_entry)
    await home.push(0, voltagePhase1=252.8)
    await home.push(2, voltagePhase1=253.2)  # a crossing of 253 V: written at once
    assert hass.states.get("sensor.cabin_voltage_l1").state == "253.2"

    await home.push(10, voltagePhase1=200.0)  # the phase sags far out of the band's bottom

    assert hass.states.get("sensor.cabin_voltage_l1").state == "200.0"


async def test_a_voltage_jumping_to_260_v_after_hovering_at_253_v_is_written_at_once(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    home = await cabin(hass, tibber_server, tibber_entry)
    await home.push(0, voltagePhase1=253.2)
    await home.push(2, voltagePhase1=252.8)  # a crossing back into the band: written at once
    assert hass.states.get("sensor.cabin_voltage_l1").state == "252.8"

    await home.push(4, voltagePhase1=260.0)  # 7 V over the limit: no meter noise

    assert hass.states.get("sensor.cabin_voltage_l1").state == "260.0"


def voltage_sensor_at(epoch: float) -> Any:
    """Voltage L1's sensor, its home's data a reading at `epoch` with no finding."""
    sensor: Any = sensor_module.EnergyAnomalySensor.__new__(sensor_module.EnergyAnomalySensor)
    sensor.entity_description = sensor_module.OPTIONAL_SENSORS["voltage_l1"]
    data = SimpleNamespace(
        reading=SimpleNamespace(epoch=epoch), result=SimpleNamespace(finding=None)
    )
    sensor.coordinator = SimpleNamespace(data=data)
    return sensor


def test_a_voltage_crossing_after_the_readings_clock_went_back_is_written_at_once() -> None:
    # A power sensor home's readings are stamped by the host's clock, shown also when it went back
    sensor = voltage_sensor_at(1000.0)
    assert sensor._write_due((True, 250.0, None), (True, 254.0, None), 2.0)  # over 253 V
    sensor.coordinator.data.reading.epoch = 1000.0 - 3600  # NTP set the clock back an hour
    assert sensor._write_due((True, 254.0, None), (True, 256.0, None), 3600.0)  # by the interval

    sensor.coordinator.data.reading.epoch = 1000.0 - 3598
    # back into the band, 2 s after the last write and an hour from the last crossing written
    assert sensor._write_due((True, 256.0, None), (True, 250.0, None), 2.0)
