"""A home's mode (Normal, Guests, Away, Paused) and sensitivity (low, normal, high) selects."""

from typing import Any

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.const import EntityCategory

from .detector.model import Mode, Sensitivity
from .entity import EnergyAnomalyControl, controls_per_home

PARALLEL_UPDATES = 0

MODE = SelectEntityDescription(key="mode", translation_key="mode", options=list(Mode))
SENSITIVITY = SelectEntityDescription(
    key="sensitivity",
    translation_key="sensitivity",
    entity_category=EntityCategory.CONFIG,
    options=list(Sensitivity),
)


class ModeSelect(EnergyAnomalyControl, SelectEntity):
    """The home's mode; Paused and Guests end by themselves (attribute `until`)."""

    @property
    def current_option(self) -> str:
        """The mode the detector is in (back to Normal once a mode's end passed)."""
        return self.controls.mode.value

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """When the mode ends on its own; None for a mode that lasts until changed."""
        until = self.controls.mode_until
        return {"until": None if until is None else until.isoformat()}

    async def async_select_option(self, option: str) -> None:
        """Switch mode: Paused lasts until the end of today, Guests for 24 h (from the UI)."""
        await self.runner.async_set_mode(Mode(option))


class SensitivitySelect(EnergyAnomalyControl, SelectEntity):
    """How readily the learned checks alarm: high sooner, low later."""

    @property
    def current_option(self) -> str:
        """The sensitivity the detector uses."""
        return self.controls.sensitivity.value

    async def async_select_option(self, option: str) -> None:
        """Move the alarm bar of every learned check."""
        await self.runner.async_set_sensitivity(Sensitivity(option))


async_setup_entry = controls_per_home([(ModeSelect, MODE), (SensitivitySelect, SENSITIVITY)])
