"""Sensors of a home: live power, voltage and current, and the detector's score and status."""

from collections.abc import Callable
from dataclasses import dataclass
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
    UnitOfPower,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import EnergyAnomalyCoordinator, HomeData
from .detector.model import Status
from .entity import EnergyAnomalyEntity
from .runtime import EnergyAnomalyConfigEntry

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class EnergyAnomalySensorDescription(SensorEntityDescription):
    """A sensor and how to read its value from the latest reading and result."""

    value_fn: Callable[[HomeData], float | str | None]
    attributes_fn: Callable[[HomeData], dict[str, Any]] | None = None


def _watts(
    key: str, value_fn: Callable[[HomeData], float | str | None]
) -> EnergyAnomalySensorDescription:
    """A power sensor (W) with long-term statistics."""
    return EnergyAnomalySensorDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=value_fn,
    )


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
        value_fn=lambda data: (data.reading.voltage if voltage else data.reading.current)[
            phase - 1
        ],
    )


SENSORS: tuple[EnergyAnomalySensorDescription, ...] = (
    _watts("power", lambda data: data.reading.power),
    EnergyAnomalySensorDescription(
        key="anomaly_score",
        translation_key="anomaly_score",
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=2,
        value_fn=lambda data: round(data.result.score, 3),
    ),
    _watts("expected_power", lambda data: data.result.expected),
    _watts("baseload", lambda data: data.result.baseload),
    EnergyAnomalySensorDescription(
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
    ),
)
POWER_PRODUCTION = _watts("power_production", lambda data: data.reading.power_production)
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
    """Add each home's sensors; optional ones as soon as the meter reports their quantity."""
    for coordinator in entry.runtime_data.coordinators:
        async_add_entities(EnergyAnomalySensor(coordinator, description) for description in SENSORS)
        add_reported = _optional_adder(coordinator, async_add_entities)
        add_reported()
        entry.async_on_unload(coordinator.async_add_listener(add_reported))


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
        if coordinator.data is None:
            return
        new = sorted(coordinator.data.reported - added)
        added.update(new)
        async_add_entities(EnergyAnomalySensor(coordinator, OPTIONAL_SENSORS[key]) for key in new)

    return add


class EnergyAnomalySensor(EnergyAnomalyEntity, SensorEntity):
    """A home's sensor."""

    entity_description: EnergyAnomalySensorDescription

    @property
    def native_value(self) -> float | str | None:
        """The value for the latest reading."""
        return self.entity_description.value_fn(self.data)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Extra detail some sensors carry (learning progress in percent, history learned)."""
        if self.entity_description.attributes_fn is None:
            return None
        return self.entity_description.attributes_fn(self.data)
