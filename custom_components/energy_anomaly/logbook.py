"""Activity (logbook) wording of the `energy_anomaly_detected` event: where, and why."""

from collections.abc import Callable

from homeassistant.components.logbook import LOGBOOK_ENTRY_MESSAGE, LOGBOOK_ENTRY_NAME
from homeassistant.components.logbook.models import LazyEventPartialState
from homeassistant.core import HomeAssistant, callback

from .const import DOMAIN, EVENT_ANOMALY, NAME
from .reasons import async_logbook_name

type Describer = Callable[[LazyEventPartialState], dict[str, str]]


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[[str, str, Describer], None],
) -> None:
    """Describe the anomaly event so Activity reads "Anomaly at Cabin: 2.3 kW drawn since ...".

    The lead-in is in Home Assistant's language when Activity is read; the reason is the sentence
    the event carries, in the language of the moment the anomaly started. An event fired by hand
    (to try an automation) may lack either: Activity shows what it has.
    """

    @callback
    def describe_anomaly(event: LazyEventPartialState) -> dict[str, str]:
        home, reason = event.data.get("home"), event.data.get("reason")
        return {
            LOGBOOK_ENTRY_NAME: async_logbook_name(hass, home) if isinstance(home, str) else NAME,
            LOGBOOK_ENTRY_MESSAGE: reason if isinstance(reason, str) else "",
        }

    async_describe_event(DOMAIN, EVENT_ANOMALY, describe_anomaly)
