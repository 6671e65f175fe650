"""Activity (logbook) wording of the `energy_anomaly_detected` event: where, and why."""

from collections.abc import Callable

from homeassistant.components.logbook import LOGBOOK_ENTRY_MESSAGE, LOGBOOK_ENTRY_NAME
from homeassistant.components.logbook.models import LazyEventPartialState
from homeassistant.core import HomeAssistant, callback

from .const import DOMAIN, EVENT_ANOMALY

type Describer = Callable[[LazyEventPartialState], dict[str, str]]


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[
        [str, str, Callable[[LazyEventPartialState], dict[str, str]]], None
    ],
) -> None:
    """Describe the anomaly event so Activity reads "Anomaly at Cabin: 2.3 kW drawn since ..."."""
    async_describe_event(DOMAIN, EVENT_ANOMALY, describe_anomaly)


@callback
def describe_anomaly(event: LazyEventPartialState) -> dict[str, str]:
    """The logbook entry of one anomaly event."""
    return {
        LOGBOOK_ENTRY_NAME: f"Anomaly at {event.data['home']}:",
        LOGBOOK_ENTRY_MESSAGE: event.data["reason"],
    }
