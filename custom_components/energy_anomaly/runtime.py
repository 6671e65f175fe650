"""What a loaded config entry owns, and the typed config entry the platforms receive."""

from dataclasses import dataclass

from homeassistant.config_entries import ConfigEntry
import tibber

from .const import DOMAIN
from .coordinator import EnergyAnomalyCoordinator
from .sink import HomesSink
from .source import ReadingSource


@dataclass(frozen=True, kw_only=True)
class EnergyAnomalyRuntimeData:
    """The entry's source, the sink that holds a runner per watched home, a Tibber connection."""

    source: ReadingSource
    sink: HomesSink
    # A Tibber account's connection (its homes' prices), None for other entries.
    tibber: tibber.Tibber | None = None

    @property
    def coordinators(self) -> list[EnergyAnomalyCoordinator]:
        """Each watched home's coordinator, for the entity platforms."""
        return [runner.coordinator for runner in self.sink.runners.values()]


type EnergyAnomalyConfigEntry = ConfigEntry[EnergyAnomalyRuntimeData]


def new_home_signal(entry: ConfigEntry) -> str:
    """The dispatcher signal, sent with the home's runner, of a home added while `entry` runs."""
    return f"{DOMAIN}_{entry.entry_id}_new_home"
