"""What a loaded config entry owns, and the typed config entry the platforms receive."""

import asyncio
from dataclasses import dataclass, field

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.util.hass_dict import HassKey
import tibber

from .const import CONF_HOMES, DOMAIN
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
    # Homes new on the account whose stored state could not be read yet (logged once)
    unread_homes: set[str] = field(default_factory=set)

    @property
    def coordinators(self) -> list[EnergyAnomalyCoordinator]:
        """Each watched home's coordinator, for the entity platforms."""
        return [runner.coordinator for runner in self.sink.runners.values()]


type EnergyAnomalyConfigEntry = ConfigEntry[EnergyAnomalyRuntimeData]


def new_home_signal(entry: ConfigEntry) -> str:
    """The dispatcher signal, sent with the home's runner, of a home added while `entry` runs."""
    return f"{DOMAIN}_{entry.entry_id}_new_home"


# Taken while an entry decides which homes it watches, so that two accounts that list a shared
# home at once (their hourly listings, set up together at a start) do not both take it
_HOMES_TURN: HassKey[asyncio.Lock] = HassKey(f"{DOMAIN}_homes_turn")


def homes_turn(hass: HomeAssistant) -> asyncio.Lock:
    """The lock an entry holds from reading `homes_watched_elsewhere` to saving its homes."""
    return hass.data.setdefault(_HOMES_TURN, asyncio.Lock())


def homes_watched_elsewhere(hass: HomeAssistant, entry_id: str | None) -> set[str]:
    """The Tibber homes watched by the entries other than `entry_id`.

    Tibber lists a home shared with a second user on both accounts, under one id. A home's
    device, entities and stored state are keyed by that id, so one entry watches it: a second
    would get no entities and share (and on removal delete) the first one's learned state.
    """
    return {
        home_id
        for other in hass.config_entries.async_entries(DOMAIN)
        if other.entry_id != entry_id
        for home_id in other.data.get(CONF_HOMES, {})
    }
