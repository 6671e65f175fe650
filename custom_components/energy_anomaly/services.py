"""The `analyze_history` action: what the detector would have flagged over a home's past."""

from datetime import timedelta
from typing import Any, Final

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import HomeAssistant, ServiceCall, SupportsResponse, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util
import probatio

from .analysis import LEARNING_DAYS, Episode, find_anomalies
from .const import DOMAIN
from .history import HistoryFetchError
from .past import async_fetch_recorded_power
from .reasons import async_reason
from .runtime import EnergyAnomalyConfigEntry

SERVICE_ANALYZE_HISTORY: Final = "analyze_history"
ATTR_DAYS: Final = "days"
DEFAULT_DAYS: Final = 7
# The recorder keeps hourly statistics for good; this bounds one action's work (days analysed).
MAX_DAYS: Final = 90

ANALYZE_HISTORY_SCHEMA: Final = probatio.Schema(
    {
        probatio.Required(ATTR_DEVICE_ID): cv.string,
        probatio.Optional(ATTR_DAYS, default=DEFAULT_DAYS): probatio.All(
            probatio.Coerce(int), probatio.Range(min=1, max=MAX_DAYS)
        ),
    }
)


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's actions (once, in `async_setup`)."""
    hass.services.async_register(
        DOMAIN,
        SERVICE_ANALYZE_HISTORY,
        _async_analyze_history,
        schema=ANALYZE_HISTORY_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )


async def _async_analyze_history(call: ServiceCall) -> dict[str, Any]:
    """Run a fresh detector over the home's recorded power and list the anomalies it finds."""
    hass = call.hass
    entry, home_id = _loaded_home(hass, call.data[ATTR_DEVICE_ID])
    days: int = call.data[ATTR_DAYS]
    try:
        rows = await async_fetch_recorded_power(hass, entry, home_id, days + LEARNING_DAYS)
    except HistoryFetchError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="history_unavailable",
            translation_placeholders={"error": str(err)},
        ) from err
    window_start = dt_util.now() - timedelta(days=days)
    if not any(row.start >= window_start for row in rows):
        raise HomeAssistantError(translation_domain=DOMAIN, translation_key="no_history")
    runner = entry.runtime_data.sink.runners[home_id]
    episodes = await hass.async_add_executor_job(
        find_anomalies, rows, window_start, runner.detector_config
    )
    return {
        "start": max(window_start, rows[0].start).isoformat(),
        "end": rows[-1].start.isoformat(),
        "anomalies": [_describe(hass, episode) for episode in episodes],
    }


def _loaded_home(hass: HomeAssistant, device_id: str) -> tuple[EnergyAnomalyConfigEntry, str]:
    """The loaded entry and home id of one of the integration's devices.

    :raises ServiceValidationError: not a device of this integration, or its entry not loaded.
    """
    device = dr.async_get(hass).async_get(device_id)
    home_id = next(
        (ident for domain, ident in (device.identifiers if device else ()) if domain == DOMAIN),
        None,
    )
    if device is None or home_id is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="unknown_device",
            translation_placeholders={"device_id": device_id},
        )
    for entry_id in device.config_entries:
        entry = hass.config_entries.async_get_entry(entry_id)
        if (
            entry is not None
            and entry.domain == DOMAIN
            and entry.state is ConfigEntryState.LOADED
            and home_id in entry.runtime_data.sink.runners
        ):
            return entry, home_id
    raise ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="not_loaded",
        translation_placeholders={"device": device.name or device_id},
    )


def _describe(hass: HomeAssistant, episode: Episode) -> dict[str, Any]:
    """An anomaly as the response lists it: when, what kind, and why in a sentence.

    The sentence is in Home Assistant's language, as the anomaly sensor's reason.
    """
    return {
        "start": episode.start.isoformat(),
        "end": None if episode.end is None else episode.end.isoformat(),
        "kind": episode.finding.kind.value,
        "reason": async_reason(hass, episode.finding),
    }
