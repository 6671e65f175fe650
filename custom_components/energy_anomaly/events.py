"""What happens when an anomaly starts: a log line and the `energy_anomaly_detected` event."""

from typing import Any

from homeassistant.const import ATTR_ENTITY_ID, Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er

from .const import ANOMALY_KEY, DOMAIN, EVENT_ANOMALY, LOGGER
from .coordinator import HomeInfo
from .detector.model import Finding, Result
from .detector.render import MOST_DECIMALS_BEYOND
from .reasons import async_log_reason, async_reason


@callback
def anomaly_details(hass: HomeAssistant, finding: Finding) -> dict[str, Any]:
    """What an anomaly is and why, as the event and the anomaly sensor both describe it.

    The reason is a sentence in Home Assistant's language; kind, observed, expected and unit stay
    beside it as values, for automations and for other languages.
    """
    return {
        "kind": finding.kind.value,
        "reason": async_reason(hass, finding),
        **_rounded_apart(finding.observed, finding.expected),
        "unit": finding.unit,
        "since": finding.since.isoformat(),
    }


def _rounded_apart(observed: float | None, expected: float | None) -> dict[str, float | None]:
    """Observed and expected with one decimal, or as many more as keep them apart (up to 3).

    W, V and A are hardly measured more finely, but 25.04 A on a 25 A fuse rounded to 25.0
    would tell an automation that tests `observed > expected` there was nothing above it.
    """
    decimals = 1
    if observed is not None and expected is not None and observed != expected:
        while decimals < MOST_DECIMALS_BEYOND and round(observed, decimals) == round(
            expected, decimals
        ):
            decimals += 1
    return {
        "observed": None if observed is None else round(float(observed), decimals),
        "expected": None if expected is None else round(float(expected), decimals),
    }


@callback
def async_anomaly_started(
    hass: HomeAssistant, home: HomeInfo, result: Result, finding: Finding
) -> None:
    """Tell automations (and the log, in English as every log line) that an anomaly started.

    The event names the home's Anomaly binary sensor as `entity_id`, so the logbook attaches its
    description to that entity: a logbook card of the sensor shows the reason.
    """
    details = anomaly_details(hass, finding)
    LOGGER.info(
        "Anomaly at %s (%s): %s", home.name, details["kind"], async_log_reason(hass, finding)
    )
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
