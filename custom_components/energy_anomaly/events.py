"""What happens when an anomaly starts: a log line and the `energy_anomaly_detected` event."""

from typing import Any

from homeassistant.core import HomeAssistant, callback

from .const import EVENT_ANOMALY, LOGGER
from .coordinator import HomeInfo
from .detector.model import Result


def anomaly_details(result: Result) -> dict[str, Any]:
    """What an anomaly is and why, as the event and the anomaly sensor both describe it."""
    return {
        "kind": result.kind,
        "reason": result.reason,
        "observed": round(result.observed, 1),
        "expected": None if result.expected is None else round(result.expected, 1),
    }


@callback
def async_anomaly_started(hass: HomeAssistant, home: HomeInfo, result: Result) -> None:
    """Tell automations (and the log) that an anomaly started at `home`, and why."""
    LOGGER.info("Anomaly at %s (%s): %s", home.name, result.kind, result.reason)
    hass.bus.async_fire(
        EVENT_ANOMALY,
        {
            "home_id": home.home_id,
            "home": home.name,
            **anomaly_details(result),
            "timestamp": result.timestamp.isoformat(),
        },
    )
