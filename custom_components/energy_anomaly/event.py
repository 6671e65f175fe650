"""The anomaly event entity: an event per home each time an anomaly starts or changes kind."""

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.core import callback

from .detector.model import Kind
from .entity import EnergyAnomalyEntity, one_per_home
from .events import anomaly_details

PARALLEL_UPDATES = 0

ANOMALY_STARTED = EventEntityDescription(
    key="anomaly_started",
    translation_key="anomaly_started",
    event_types=[kind.value for kind in Kind],
)


class EnergyAnomalyEvent(EnergyAnomalyEntity, EventEntity):
    """Fires with the anomaly's kind as event type, and its reason, observed and expected value.

    Reads only `coordinator.data`, as every entity: an anomaly that starts and ends within one
    batch of readings (the demo's catch-up) is not seen; live, a batch is one reading. An
    anomaly that goes on through a restart or reload (`resumed`) fired before it.
    """

    _kind: Kind | None = None

    @callback
    def _handle_coordinator_update(self) -> None:
        """Fire when an anomaly starts or its kind changes; then write, as every entity does."""
        data = self.coordinator.data
        finding = data.result.finding if data else None
        kind = None if finding is None else finding.kind
        if finding is not None and kind is not self._kind and not (data and data.resumed):
            details = anomaly_details(self.hass, finding)
            del details["kind"]  # the event type
            self._trigger_event(finding.kind.value, details)
        self._kind = kind
        super()._handle_coordinator_update()


async_setup_entry = one_per_home(EnergyAnomalyEvent, ANOMALY_STARTED)
