"""Sensors of a home: live power, voltage and current, the detector's view, the always-on cost."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
import math
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    EntityCategory,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
    UnitOfEnergy,
    UnitOfPower,
)
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.event import (
    async_track_state_change_event,
    async_track_time_interval,
)
import tibber

from .const import CONF_PRICE_ENTITY, DOMAIN
from .coordinator import EnergyAnomalyCoordinator, HistoryImport, HomeData
from .detector.config import GRIDS_V, PowerQualityConfig
from .detector.model import Kind, Status
from .entity import EnergyAnomalyEntity, async_for_each_home
from .live_source import tibber_home_of
from .price import Price, async_recorded_mean_price, read_price, tibber_mean_price
from .runner import HomeRunner
from .runtime import EnergyAnomalyConfigEntry

PARALLEL_UPDATES = 0

# Voltage and current move a little with every reading; the recorder keeps a row per write. They
# are written at most every PHASE_WRITE_INTERVAL_S (of the readings' time), and then only once they
# moved by their deadband: 1 V is below what a meter's voltage reading resolves reliably (±0.5-1 %)
# and 4 % of the 23 V between 230 V and a power-quality limit (8 % of a 120 V grid's 12 V); 0.5 A
# is 115 W on one phase, which the live Power sensor already shows, and 1-2 % of a main fuse
# (25-63 A).
# Power moves by a few watts with nearly every reading (every 2 s from a Pulse: 43,200 rows a
# day). A move of POWER_JUMP_W or more is written at once: a load switching on or off, down to a
# fridge's compressor (about 100 W). A smaller one waits until POWER_WRITE_INTERVAL_S of readings
# passed since the last write, which the recorder's time-weighted means hardly notice.
POWER_WRITE_INTERVAL_S = 10.0
POWER_JUMP_W = 100.0
PHASE_WRITE_INTERVAL_S = 30.0
VOLTAGE_DEADBAND_V = 1.0
CURRENT_DEADBAND_A = 0.5
# The score is a graph of how unusual things are: once a minute, unless it crosses the alarm bar.
SCORE_WRITE_INTERVAL_S = 60.0
SCORE_ALARM_BAR = 1.0
# A voltage crossing a power-quality limit is written at once: the limits of every grid a home can
# be on, as the sensor's description is every home's. Another grid's limits cost a 230 V home a
# write only on the way to a lost phase (0 V), a 120 V home none (it never reads 207 V).
_VOLTAGE_LIMITS = tuple(
    limit
    for limits in (PowerQualityConfig(nominal_v=nominal) for nominal in GRIDS_V)
    for limit in (limits.low_v, limits.high_v)
)
# The Anomaly kind sensor's state while nothing is unusual.
NO_ANOMALY = "normal"
# A watt drawn all year (365.25 days of 24 h) is 8.766 kWh.
KWH_PER_WATT_YEAR = 365.25 * 24 / 1000
# The always-on cost's recorded mean price is read again this often (spot prices are hourly).
PRICE_MEAN_REFRESH = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Throttle:
    """How a sensor whose value moves with nearly every reading is kept from writing each time.

    A moved value is written once `interval_s` seconds of readings passed since the last write and
    it moved by at least `deadband` from the value written; at once when it moved by `jump` or
    more, when it crosses one of `limits` (a value on either side means something different to
    the user; a value hovering at one is throttled, see `due`), when it appears or disappears,
    and, with `live_in_alarm` (a unit and a phase), during a power-quality alarm about that
    quantity on that phase: the one the user looks at then. The other five stay throttled, so an
    afternoon of overvoltage on one phase writes one sensor at every reading, not six.
    """

    interval_s: float
    deadband: float = 0.0
    jump: float = math.inf
    limits: tuple[float, ...] = ()
    live_in_alarm: tuple[str, int] | None = None

    def due(
        self,
        written: float | None,
        shown: float | None,
        since: float,
        data: HomeData,
        crossed_since: float | None = None,
    ) -> bool:
        """Whether `shown` is written now, `since` seconds of readings after `written` was.

        `crossed_since`: seconds of readings since a crossing of a limit was last written at
        once (None: never). A value hovering at a limit (a solar home's 253 V with the meter's
        noise, or in whole volts 252, 253, 254) crosses it at every reading: within
        `interval_s` of the last, a crossing is written at once only when it lands more than
        `deadband` beyond the limit (a real excursion: 260 V, a sag to 200 V), else as any
        other move.
        """
        if written is None or shown is None:
            return True
        if self.live_in_alarm is not None and _power_quality_alarm(data, *self.live_in_alarm):
            return True
        moved = abs(shown - written)
        crossed = self.crossed(written, shown)
        if moved >= self.jump or (
            crossed
            and (
                crossed_since is None
                or crossed_since >= self.interval_s
                or any(abs(shown - limit) > self.deadband for limit in crossed)
            )
        ):
            return True
        return since >= self.interval_s and moved >= self.deadband

    def crossed(self, written: float | None, shown: float | None) -> list[float]:
        """The `limits` that lie between the value written and the value now."""
        if written is None or shown is None:
            return []
        return [limit for limit in self.limits if (written < limit) != (shown < limit)]


def _power_quality_alarm(data: HomeData, unit: str, phase: int) -> bool:
    """Whether the home is in a power-quality alarm about `unit` (V or A) on `phase` (1-3)."""
    finding = data.result.finding
    return (
        finding is not None
        and finding.kind is Kind.POWER_QUALITY
        and finding.unit == unit
        and finding.facts.get("phase") == phase
    )


@dataclass(frozen=True, kw_only=True)
class EnergyAnomalySensorDescription(SensorEntityDescription):
    """A sensor and how to read its value from the latest reading and result.

    `throttle` is None for a sensor that writes every change.
    """

    value_fn: Callable[[HomeData], float | str | None]
    attributes_fn: Callable[[HomeData], dict[str, Any]] | None = None
    throttle: Throttle | None = None


def _watts(
    key: str,
    value_fn: Callable[[HomeData], float | str | None],
    throttle: Throttle | None = None,
) -> EnergyAnomalySensorDescription:
    """A power sensor (W) with long-term statistics."""
    return EnergyAnomalySensorDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        throttle=throttle,
        value_fn=value_fn,
    )


def _live_watts(
    key: str, value_fn: Callable[[HomeData], float | None]
) -> EnergyAnomalySensorDescription:
    """A power the meter reports with every reading: a switching load at once, drift every 10 s."""
    return _watts(key, value_fn, Throttle(interval_s=POWER_WRITE_INTERVAL_S, jump=POWER_JUMP_W))


def _phase(quantity: str, phase: int) -> EnergyAnomalySensorDescription:
    """A per-phase voltage or current sensor, created only once the meter reports that phase."""
    voltage = quantity == "voltage"
    return EnergyAnomalySensorDescription(
        key=f"{quantity}_l{phase}",
        translation_key=f"{quantity}_phase",
        translation_placeholders={"phase": str(phase)},
        device_class=SensorDeviceClass.VOLTAGE if voltage else SensorDeviceClass.CURRENT,
        native_unit_of_measurement=(
            UnitOfElectricPotential.VOLT if voltage else UnitOfElectricCurrent.AMPERE
        ),
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        throttle=Throttle(
            interval_s=PHASE_WRITE_INTERVAL_S,
            deadband=VOLTAGE_DEADBAND_V if voltage else CURRENT_DEADBAND_A,
            limits=_VOLTAGE_LIMITS if voltage else (),
            live_in_alarm=(
                UnitOfElectricPotential.VOLT if voltage else UnitOfElectricCurrent.AMPERE,
                phase,
            ),
        ),
        value_fn=lambda data: (data.reading.voltage if voltage else data.reading.current)[
            phase - 1
        ],
    )


def _always_on_kwh(data: HomeData) -> float | None:
    """The learned baseload drawn for a whole year, in kWh; None until the baseload is learned."""
    baseload = data.result.baseload
    return None if baseload is None else round(baseload * KWH_PER_WATT_YEAR)


# Estimates, not meters: no state class, so Home Assistant keeps no statistics of them and the
# energy dashboard (which offers only statistics with a sum, i.e. state class total) never takes
# them for a meter or a running cost. They move only when the baseload (each morning) or the
# price moves; the Baseload sensor keeps the statistics. The energy's device class still lets
# the user show it in MWh.
ALWAYS_ON_ENERGY = EnergyAnomalySensorDescription(
    key="always_on_energy",
    translation_key="always_on_energy",
    device_class=SensorDeviceClass.ENERGY,
    native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
    suggested_display_precision=0,
    value_fn=_always_on_kwh,
)
# The value is the energy; the sensor prices it (see AlwaysOnCostSensor).
ALWAYS_ON_COST = EnergyAnomalySensorDescription(
    key="always_on_cost",
    translation_key="always_on_cost",
    device_class=SensorDeviceClass.MONETARY,
    suggested_display_precision=0,
    value_fn=_always_on_kwh,
)

DETECTOR_STATUS = EnergyAnomalySensorDescription(
    key="detector_status",
    translation_key="detector_status",
    device_class=SensorDeviceClass.ENUM,
    options=[status.value for status in Status],
    entity_category=EntityCategory.DIAGNOSTIC,
    value_fn=lambda data: data.status.value,
    attributes_fn=lambda data: {
        "learning_progress": data.learning_progress,
        "history": data.history.value,
        "history_days": data.history_days,
    },
)

SENSORS: tuple[EnergyAnomalySensorDescription, ...] = (
    _live_watts("power", lambda data: data.reading.power),
    EnergyAnomalySensorDescription(
        key="anomaly_score",
        translation_key="anomaly_score",
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=2,
        throttle=Throttle(interval_s=SCORE_WRITE_INTERVAL_S, limits=(SCORE_ALARM_BAR,)),
        value_fn=lambda data: round(data.result.score, 3),
    ),
    EnergyAnomalySensorDescription(
        key="anomaly_kind",
        translation_key="anomaly_kind",
        device_class=SensorDeviceClass.ENUM,
        options=[NO_ANOMALY, *(kind.value for kind in Kind)],
        value_fn=lambda data: (
            NO_ANOMALY if data.result.finding is None else data.result.finding.kind.value
        ),
    ),
    _watts("expected_power", lambda data: data.result.expected),
    _watts("baseload", lambda data: data.result.baseload),
    DETECTOR_STATUS,
    ALWAYS_ON_ENERGY,
)

POWER_PRODUCTION = _live_watts("power_production", lambda data: data.reading.power_production)
# Created once the meter reports the quantity (see runner.reported_quantities).
OPTIONAL_SENSORS = {
    POWER_PRODUCTION.key: POWER_PRODUCTION,
    **{
        description.key: description
        for quantity in ("voltage", "current")
        for description in (_phase(quantity, phase) for phase in (1, 2, 3))
    },
}


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EnergyAnomalyConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add each home's sensors; optional ones as soon as the meter reports their quantity.

    The always-on cost exists while a price entity is chosen in the options, or for a Tibber
    account's home (at Tibber's price); choosing none elsewhere removes it (the options reload
    the entry). So does a power sensor home's optional sensor whose quantity none of its chosen
    sensors gives any more (left out under Reconfigure): it would stay unknown for good.
    """

    @callback
    def add_home(runner: HomeRunner) -> None:
        coordinator = runner.coordinator
        async_add_entities(
            (DetectorStatusSensor if description is DETECTOR_STATUS else EnergyAnomalySensor)(
                coordinator, description
            )
            for description in SENSORS
        )
        if cost := _cost_sensor(entry, coordinator):
            async_add_entities([cost])
        else:
            _async_remove_sensor(hass, coordinator, ALWAYS_ON_COST.key)
        for key in OPTIONAL_SENSORS.keys() - coordinator.home.reportable:
            _async_remove_sensor(hass, coordinator, key)
        add_reported = _optional_adder(coordinator, async_add_entities)
        add_reported()
        entry.async_on_unload(coordinator.async_add_listener(add_reported))

    async_for_each_home(hass, entry, add_home)


def _cost_sensor(
    entry: EnergyAnomalyConfigEntry, coordinator: EnergyAnomalyCoordinator
) -> CostSensor | None:
    """The home's always-on cost at the chosen price entity's price, else at Tibber's price."""
    if price_entity := entry.options.get(CONF_PRICE_ENTITY):
        return AlwaysOnCostSensor(coordinator, price_entity)
    connection = entry.runtime_data.tibber
    if connection is not None and (home := tibber_home_of(connection, coordinator.home.home_id)):
        return TibberCostSensor(coordinator, home)
    return None


def _async_remove_sensor(
    hass: HomeAssistant, coordinator: EnergyAnomalyCoordinator, key: str
) -> None:
    """Remove the home's sensor `key` from the registry, if it had one."""
    registry = er.async_get(hass)
    unique_id = f"{coordinator.home.home_id}_{key}"
    if entity_id := registry.async_get_entity_id("sensor", DOMAIN, unique_id):
        registry.async_remove(entity_id)


def _optional_adder(
    coordinator: EnergyAnomalyCoordinator, async_add_entities: AddConfigEntryEntitiesCallback
) -> Callable[[], None]:
    """Return a coordinator listener adding the sensors of quantities reported for the first time.

    Compares what the home's data reports with the sensors already added (core's pattern for
    entities that appear at runtime), so no reading is missed and none is added twice.
    """
    added: set[str] = set()

    @callback
    def add() -> None:
        data = coordinator.data
        reported = coordinator.restored_quantities if data is None else data.reported
        new = sorted(reported - added)
        added.update(new)
        async_add_entities(EnergyAnomalySensor(coordinator, OPTIONAL_SENSORS[key]) for key in new)

    return add


class EnergyAnomalySensor(EnergyAnomalyEntity, SensorEntity):
    """A home's sensor."""

    entity_description: EnergyAnomalySensorDescription
    _crossed_at: float | None = None  # the readings' time a limit's crossing was last written

    @property
    def native_value(self) -> float | str | None:
        """The value for the latest reading."""
        return self.entity_description.value_fn(self.data)

    def _value(self) -> float | str | None:
        """The value in its native unit (W, V, A), as the `Throttle` judges it.

        Not the state, which is in the unit the user chose to show (a power in kW moves by 0.1).
        """
        return self.native_value

    def _write_due(self, written: tuple[Any, ...], shown: tuple[Any, ...], since: float) -> bool:
        """A throttled sensor writes a moved value only when its `Throttle` says it is due.

        Remembers when (by the readings' time) a crossing of a limit was last written, which
        the throttle lets through once per interval.
        """
        throttle = self.entity_description.throttle
        if throttle is None or written[2] != shown[2]:
            return True
        before, now = _number(written[1]), _number(shown[1])
        at = self.data.reading.epoch
        # abs: readings stamped by a host clock that went back come earlier than the last
        crossed_since = None if self._crossed_at is None else abs(at - self._crossed_at)
        due = throttle.due(before, now, since, self.data, crossed_since)
        if due and throttle.crossed(before, now):
            self._crossed_at = at
        return due

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Extra detail some sensors carry (learning progress in percent, history learned)."""
        if self.entity_description.attributes_fn is None:
            return None
        return self.entity_description.attributes_fn(self.data)


class DetectorStatusSensor(EnergyAnomalySensor):
    """Learning or active; also while a new home learns its past, before its first reading.

    The first reading waits for that (the past is learned first), which takes up to about 12
    minutes while Tibber rate-limits it: every other entity of the home is unavailable then, and
    this one says why. The detector has learned nothing yet, as a home that did would not import.
    """

    @property
    def available(self) -> bool:
        """Available with the home's data, and while its past is learned before that."""
        return super().available or self.coordinator.importing

    @property
    def native_value(self) -> float | str | None:
        """The detector's status; learning while the past is learned before the first data."""
        if self.coordinator.data is None:
            return Status.LEARNING.value
        return super().native_value

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Learning progress and history; an import under way before the first data."""
        if self.coordinator.data is None:
            return {
                "learning_progress": 0,
                "history": HistoryImport.IMPORTING.value,
                "history_days": 0,
            }
        return super().extra_state_attributes


class CostSensor(EnergyAnomalySensor):
    """The always-on energy of a year at a price per kWh (`_price`), in the price's currency.

    Unknown until the baseload is learned and while there is no price.
    """

    def __init__(self, coordinator: EnergyAnomalyCoordinator) -> None:
        """Price the home's always-on energy."""
        super().__init__(coordinator, ALWAYS_ON_COST)

    def _price(self) -> Price | None:
        """The price per kWh the cost is worked out with, None while there is none."""
        raise NotImplementedError

    @property
    def native_value(self) -> float | None:
        """The always-on energy (kWh) times the price per kWh, in whole cents or øre."""
        kwh = super().native_value
        price = self._price()
        if not isinstance(kwh, float | int) or price is None:
            return None
        return round(kwh * price.per_kwh, 2)

    @property
    def native_unit_of_measurement(self) -> str | None:
        """The price's currency, None while there is no price."""
        price = self._price()
        return None if price is None else price.currency

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """The price per kWh the cost is worked out with."""
        price = self._price()
        return {"price_per_kwh": None if price is None else round(price.per_kwh, 4)}


class TibberCostSensor(CostSensor):
    """The always-on cost at Tibber's price for the home (no price entity chosen).

    The mean of today's (and tomorrow's) prices, which pyTibber reads again with the hourly
    listing of the account's homes; the cost follows at the home's next reading.
    """

    def __init__(self, coordinator: EnergyAnomalyCoordinator, home: tibber.TibberHome) -> None:
        """Price the home's always-on energy with Tibber's prices for `home`."""
        super().__init__(coordinator)
        self._tibber_home = home

    def _price(self) -> Price | None:
        return tibber_mean_price(self._tibber_home)


class AlwaysOnCostSensor(CostSensor):
    """The always-on energy of a year at the chosen price entity's price, in its currency.

    The price is the recorded mean of the last days (see `price`), refreshed hourly, else the
    current one. Unknown while the price entity has no price: a broken price source should show,
    not hide behind last week's mean.
    """

    def __init__(self, coordinator: EnergyAnomalyCoordinator, price_entity: str) -> None:
        """Price the home's always-on energy with `price_entity`."""
        super().__init__(coordinator)
        self._price_entity = price_entity
        self._mean: Price | None = None

    async def async_added_to_hass(self) -> None:
        """Follow the price entity and its recorded mean as well as the home's data."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_track_state_change_event(self.hass, self._price_entity, self._async_price_moved)
        )
        self.async_on_remove(
            async_track_time_interval(self.hass, self._async_refresh_mean, PRICE_MEAN_REFRESH)
        )
        await self._async_refresh_mean()

    async def _async_refresh_mean(self, _now: datetime | None = None) -> None:
        self._mean = await async_recorded_mean_price(self.hass, self._price_entity)
        self._handle_coordinator_update()

    @callback
    def _async_price_moved(self, _event: Event[EventStateChangedData]) -> None:
        self._handle_coordinator_update()

    def _price(self) -> Price | None:
        """The recorded mean in the current price's currency, else the current price."""
        current = read_price(self.hass.states.get(self._price_entity))
        if current is None or self._mean is None or self._mean.currency != current.currency:
            return current
        return self._mean


def _number(value: Any) -> float | None:
    """A throttled sensor's value as written: a number, or None when it has no value."""
    return None if value is None else float(value)
