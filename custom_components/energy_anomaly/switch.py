"""A switch per kind of anomaly and home: off silences that kind (e.g. meter faults)."""

from dataclasses import dataclass
from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory

from .detector.model import Kind
from .entity import EnergyAnomalyControl, controls_per_home

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class AlarmSwitchDescription(SwitchEntityDescription):
    """The switch of one kind: "Meter fault alarms" (`switch.<home>_meter_fault_alarms`)."""

    kind: Kind


ALARMS = tuple(
    AlarmSwitchDescription(
        key=f"{kind}_alarms",
        translation_key=f"{kind}_alarms",
        entity_category=EntityCategory.CONFIG,
        kind=kind,
    )
    for kind in Kind
)


class AlarmSwitch(EnergyAnomalyControl, SwitchEntity):
    """On while the kind alarms; off, its findings no longer turn the Anomaly sensor on.

    Silencing a kind hides its alarms only: the detector keeps checking for it (the score still
    shows it), and readings during a meter fault still teach the models nothing.
    """

    entity_description: AlarmSwitchDescription

    @property
    def is_on(self) -> bool:
        """Whether this kind of anomaly is heard."""
        return self.entity_description.kind not in self.controls.silenced

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Hear this kind of anomaly again."""
        await self.runner.async_set_silenced(self.entity_description.kind, False)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Silence this kind of anomaly at the home."""
        await self.runner.async_set_silenced(self.entity_description.kind, True)


async_setup_entry = controls_per_home([(AlarmSwitch, description) for description in ALARMS])
