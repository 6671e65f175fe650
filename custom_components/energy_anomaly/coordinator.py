"""One coordinator per home: the home's current data, as its entities show it."""

from dataclasses import dataclass
from datetime import datetime, tzinfo
from enum import StrEnum

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator

from .const import DOMAIN, LOGGER, OPTIONAL_QUANTITIES
from .detector.model import Kind, Mode, Reading, Result, Sensitivity, Status


@dataclass(frozen=True, slots=True)
class HomeInfo:
    """A watched home: its id at the source and the name its device gets.

    `live_clock` is False for a replay on its own, faster clock (the demo home), whose
    timestamps may run ahead of now. `reportable`: the optional quantities its readings can
    carry (see `runner.reported_quantities`): any that a Pulse (or the demo's trace) reports; a
    power sensor home's, those of the sensors chosen for it (`reportable_quantities`).
    `time_zone`: the zone a Tibber home's readings are stamped in, when Tibber names it; its
    recorded past is learned on that clock (None: Home Assistant's).
    """

    home_id: str
    name: str
    model: str
    live_clock: bool = True
    reportable: frozenset[str] = OPTIONAL_QUANTITIES
    time_zone: tzinfo | None = None


class HistoryImport(StrEnum):
    """Where learning from the home's past stands (the detector status sensor's `history`)."""

    NONE = "none"  # not tried (a home that already learned), or no history found
    IMPORTING = "importing"
    DONE = "done"
    FAILED = "failed"  # the fetch failed: the home learns from live readings alone


@dataclass(frozen=True, slots=True)
class Controls:
    """What the household told the home's detector: the mode (and its end), sensitivity, silence.

    Kept in the detector's stored state, so a restart restores it; the select and switch
    entities show it from the coordinator, before the home's first reading too.
    """

    mode: Mode = Mode.NORMAL
    mode_until: datetime | None = None
    sensitivity: Sensitivity = Sensitivity.NORMAL
    silenced: frozenset[Kind] = frozenset()


@dataclass(frozen=True, slots=True)
class HomeData:
    """Everything a home's entities show, computed by its runner after a batch of readings.

    Immutable, so entities read it on the event loop while the detector keeps learning in the
    executor. `reported` holds the optional quantities the meter has reported so far (see
    `runner.reported_quantities`). `history` says how the import of the home's past went, and
    `history_days` how many days of it the detector learned from. `resumed`: the anomaly shown
    began before the stored state the home resumed from, and was announced then (not again
    after a restart). What the household set is not here but in `coordinator.controls`: it is
    known before the first reading.
    """

    reading: Reading
    result: Result
    reported: frozenset[str]
    history: HistoryImport = HistoryImport.NONE
    history_days: int = 0
    resumed: bool = False

    @property
    def status(self) -> Status:
        """Learning or active, as of the latest reading."""
        return self.result.status

    @property
    def learning_progress(self) -> int:
        """How much of the learning period is done, in whole percent."""
        return percent(self.result.learning_progress)


def percent(fraction: float) -> int:
    """A 0..1 share in whole percent, as the learning progress is shown.

    Whole, because each new value writes the status sensor's state again: one percent of the
    14 learning days is about 3.4 hours, a tenth of it 20 minutes (72 rows a day).
    """
    return round(fraction * 100)


class EnergyAnomalyCoordinator(DataUpdateCoordinator[HomeData]):
    """Holds one home's current data and whether its live data flows.

    Nothing is polled: the home's runner pushes new data with `async_set_updated_data`, and the
    entry's sink marks the home unavailable when its live data stops. Without an update interval
    there is no refresh to reschedule, so pushing data only stores it and tells the entities.
    """

    # None until the first batch of readings since setup.
    data: HomeData | None  # type: ignore[assignment]
    # What the household set: restored with the detector, so known before the first data.
    controls: Controls
    # Whether the home's past is being learned before its first data (the status sensor says so).
    importing: bool

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        home: HomeInfo,
        controls: Controls,
        restored_quantities: frozenset[str] = frozenset(),
    ) -> None:
        """Create the coordinator; its entities but the controls wait for the first data.

        `controls` are those of the restored (or fresh) detector. `restored_quantities` are the
        optional quantities the meter reported before a restart, so their sensors are set up
        with the others instead of at the first reading.
        """
        super().__init__(hass, LOGGER, config_entry=entry, name=f"{DOMAIN} {home.name}")
        self.home = home
        self.controls = controls
        self.restored_quantities = restored_quantities
        self.importing = False
        self.last_update_success = False

    @callback
    def async_set_updated_data(self, data: HomeData) -> None:
        """Show the home's new data, without the base class's debug line.

        Home Assistant's version logs "Manually updated ... data" at debug level, which here would
        be a line per reading (every few seconds per home) drowning the integration's debug log.

        The first data after setup (or after the home was unavailable) makes every entity write a
        state (a dozen or more, milliseconds together): each then writes in its own event-loop
        step, so no single step holds the loop for long. Later data changes few entities and
        they update at once.
        """
        spread = self.data is None or not self.last_update_success
        self.data = data
        self.last_update_success = True
        if not spread:
            self.async_update_listeners()
            return
        for update_callback, _ in list(self._listeners.values()):
            self.hass.loop.call_soon(update_callback)

    @callback
    def async_set_controls(self, controls: Controls) -> None:
        """Show controls the household just changed, without waiting for the next reading.

        Availability stays as it is: a command is no sign that live data flows.
        """
        if self.controls != controls:
            self.controls = controls
            self.async_update_listeners()

    @callback
    def async_set_importing(self, importing: bool) -> None:
        """Say whether the home's past is being learned, which its first data waits for.

        Learning from a rate-limited Tibber takes up to about 12 minutes; the status sensor
        shows it meanwhile, where every other entity waits for the first reading.
        """
        if self.importing != importing:
            self.importing = importing
            self.async_update_listeners()

    @callback
    def async_set_unavailable(self) -> None:
        """Mark the home's entities unavailable until the next data arrives."""
        if self.last_update_success:
            self.last_update_success = False
            self.async_update_listeners()
