"""The anomaly binary sensor: on while the detector flags the home, with the reason why."""

from typing import Any

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)

from .const import ANOMALY_KEY
from .entity import EnergyAnomalyEntity, one_per_home
from .events import anomaly_details

PARALLEL_UPDATES = 0

ANOMALY = BinarySensorEntityDescription(
    key=ANOMALY_KEY,
    translation_key="anomaly",
    device_class=BinarySensorDeviceClass.PROBLEM,
)


class EnergyAnomalyBinarySensor(EnergyAnomalyEntity, BinarySensorEntity):
    """On while the latest result is an anomaly; its attributes say what and why."""

    def _write_due(self, written: tuple[Any, ...], shown: tuple[Any, ...], since: float) -> bool:
        """Written when an episode starts, changes kind or ends, not as its numbers move.

        The reason, observed and expected value stay as they were when the episode (or its
        kind) began: one row per episode instead of one per reading while it lasts.
        """
        return bool(written[1] != shown[1] or written[2]["kind"] != shown[2]["kind"])

    @property
    def is_on(self) -> bool:
        """Whether the home is in an anomaly right now."""
        return self.data.result.anomaly

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Kind, reason, observed and expected value (in `unit`), since when; all None while off.

        While off they stay None, so a normal reading changes nothing and writes no new state
        (the recorder would otherwise store this sensor every 2 seconds).
        """
        finding = self.data.result.finding
        if finding is None:
            return dict.fromkeys(("kind", "reason", "observed", "expected", "unit", "since"))
        return anomaly_details(self.hass, finding)


async_setup_entry = one_per_home(EnergyAnomalyBinarySensor, ANOMALY)
