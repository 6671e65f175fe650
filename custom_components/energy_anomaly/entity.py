"""Base entity: one device per watched home, entities keyed by home and description."""

from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import EnergyAnomalyCoordinator


class EnergyAnomalyEntity(CoordinatorEntity[EnergyAnomalyCoordinator]):
    """An entity of one home's device, updated whenever the home's detector produced a result."""

    _attr_has_entity_name = True

    def __init__(
        self, coordinator: EnergyAnomalyCoordinator, description: EntityDescription
    ) -> None:
        """Attach the entity to the home's device."""
        super().__init__(coordinator)
        self.entity_description = description
        home = coordinator.home
        self._attr_unique_id = f"{home.home_id}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, home.home_id)},
            name=home.name,
            manufacturer="Energy Anomaly",
            model=home.model,
        )

    @property
    def available(self) -> bool:
        """Available while the home's live data flows (and after the first reading)."""
        return super().available and self.coordinator.data is not None
