"""What happens when an anomaly starts: a log line and the `energy_anomaly_detected` event."""

from typing import Any

from homeassistant.const import ATTR_ENTITY_ID, Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er

from .const import ANOMALY_KEY, DOMAIN, EVENT_ANOMALY, LOGGER
from .coordinator import HomeInfo
from .detector.model import Finding, Result
from .detector.render import render
from .reasons import async_reason


@callback
def anomaly_details(hass: HomeAssistant, finding: Finding) -> dict[str, Any]:
    """What an anomaly is and why, as the event and the anomaly sensor both describe it.

    The reason is a sentence in Home Assistant's language; kind, observed, expected and unit stay
    beside it as values, for automations and for other languages.
    """
    return {
        "kind": finding.kind.value,
        "reason": async_reason(hass, finding),
        "observed": _rounded(finding.observed),
        "expected": _rounded(finding.expected),
        "unit": finding.unit,
        "since": finding.since.isoformat(),
    }


def _rounded(value: float | None) -> float | None:
    """One decimal: W, V and A are not measured more finely."""
    return None if value is None else round(float(value), 1)


@callback
def async_anomaly_started(
    hass: HomeAssistant, home: HomeInfo, result: Result, finding: Finding
) -> None:
    """Tell automations (and the log, in English as every log line) that an anomaly started.

    The event names the home's Anomaly binary sensor as `entity_id`, so the logbook attaches its
    description to that entity: a logbook card of the sensor shows the reason.
    """
    details = anomaly_details(hass, finding)
    LOGGER.info("Anomaly at %s (%s): %s", home.name, details["kind"], render(finding))
    hass.bus.async_fire(
        EVENT_ANOMALY,
        {
            ATTR_ENTITY_ID: _anomaly_sensor(hass, home),
            "home_id": home.home_id,
            "home": home.name,
            **details,
            "timestamp": result.timestamp.isoformat(),
        },
    )


def _anomaly_sensor(hass: HomeAssistant, home: HomeInfo) -> str | None:
    """The entity id of the home's Anomaly binary sensor (the user may have renamed it)."""
    return er.async_get(hass).async_get_entity_id(
        Platform.BINARY_SENSOR, DOMAIN, f"{home.home_id}_{ANOMALY_KEY}"
    )
