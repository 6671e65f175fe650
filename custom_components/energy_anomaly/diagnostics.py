"""Diagnostics download: connection and detector state, never the token."""

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_ACCESS_TOKEN
from homeassistant.core import HomeAssistant

from .coordinator import EnergyAnomalyConfigEntry


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: EnergyAnomalyConfigEntry
) -> dict[str, Any]:
    """Return the entry's data (redacted), its source's state and each home's detector."""
    return {
        "entry": async_redact_data(dict(entry.data), {CONF_ACCESS_TOKEN}),
        "source": entry.runtime_data.source.diagnostics(),
        "homes": {
            home_id: coordinator.diagnostics()
            for home_id, coordinator in entry.runtime_data.homes.items()
        },
    }
