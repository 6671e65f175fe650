"""One coordinator per home: readings in, detector results out to entities, events and storage."""

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util

from .const import (
    CONF_FUSE_SIZE,
    CONF_TEMPERATURE_ENTITY,
    DOMAIN,
    EVENT_ANOMALY,
    HEALTH_CHECK_INTERVAL,
    LOGGER,
    STALE_AFTER,
    STATE_SAVE_INTERVAL,
)
from .detector.config import DetectorConfig
from .detector.engine import Detector
from .detector.model import Reading, Result
from .storage import HomeStateStore, StoredHomeData
from .temperature import outdoor_temperature

if TYPE_CHECKING:
    from .source import ReadingSource


@dataclass(frozen=True, slots=True)
class HomeInfo:
    """A watched home: its id at the source and the name its device gets."""

    home_id: str
    name: str
    model: str


@dataclass(frozen=True, slots=True)
class HomeData:
    """What the entities show: the latest reading and the detector's result for it."""

    reading: Reading
    result: Result
    anomaly_since: datetime | None


@dataclass(kw_only=True)
class EnergyAnomalyRuntimeData:
    """Everything a loaded config entry owns."""

    source: ReadingSource
    homes: dict[str, EnergyAnomalyCoordinator] = field(default_factory=dict)


type EnergyAnomalyConfigEntry = ConfigEntry[EnergyAnomalyRuntimeData]


def reported_quantities(reading: Reading) -> set[str]:
    """Return the optional quantities a reading carries, e.g. {"voltage_l1", "power_production"}.

    Meters differ: a single-phase meter reports one phase, a home without solar no production.
    """
    reported = {f"voltage_l{i}" for i, value in enumerate(reading.voltage, 1) if value is not None}
    reported |= {f"current_l{i}" for i, value in enumerate(reading.current, 1) if value is not None}
    if reading.power_production is not None:
        reported.add("power_production")
    return reported


def _restored_detector(
    home: HomeInfo, stored: StoredHomeData | None, config: DetectorConfig
) -> Detector:
    """The detector as stored, or a new one when there is none or it cannot be read.

    The current options (fuse size) apply either way.
    """
    if stored is None:
        return Detector(config)
    try:
        return Detector.from_state(stored["detector"], config)
    except (KeyError, TypeError, ValueError) as err:
        LOGGER.warning(
            "Could not restore what the detector learned for %s (%s); learning afresh",
            home.name,
            err,
        )
        return Detector(config)


class EnergyAnomalyCoordinator(DataUpdateCoordinator[HomeData]):
    """Feeds one home's readings through its detector, in order, and pushes the results.

    Readings are queued and processed in batches by a single worker in the executor, so the event
    loop never waits for the detector and results come out in the order readings came in. The
    detector state is snapshotted by that same worker (at most every STATE_SAVE_INTERVAL), so the
    store never reads a detector that is being updated.
    """

    config_entry: EnergyAnomalyConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: EnergyAnomalyConfigEntry,
        home: HomeInfo,
        store: HomeStateStore,
        stored: StoredHomeData | None,
    ) -> None:
        """Create the coordinator with the detector restored from `stored`, if any."""
        super().__init__(hass, LOGGER, config_entry=entry, name=f"{DOMAIN} {home.name}")
        self.home = home
        self._store = store
        config = DetectorConfig(fuse_amps=entry.options.get(CONF_FUSE_SIZE))
        self._detector = _restored_detector(home, stored, config)
        self.reported: set[str] = set(stored["reported"]) if stored is not None else set()
        self._reported_listeners: list[Callable[[set[str]], None]] = []
        self._pending: list[Reading] = []
        self._worker: asyncio.Task[None] | None = None
        self._detector_lock = asyncio.Lock()
        self._last_snapshot = dt_util.utcnow()
        self._checks_without_reading: int | None = None
        self._unavailable_logged = False
        self.last_update_success = False

    @classmethod
    async def async_create(
        cls, hass: HomeAssistant, entry: EnergyAnomalyConfigEntry, home: HomeInfo
    ) -> EnergyAnomalyCoordinator:
        """Create the coordinator for `home`, restoring what was learned before."""
        store = HomeStateStore(hass, home.home_id)
        coordinator = cls(hass, entry, home, store, await store.async_load())
        entry.async_on_unload(
            async_track_time_interval(hass, coordinator.async_check_stale, HEALTH_CHECK_INTERVAL)
        )
        return coordinator

    @property
    def detector_status(self) -> str:
        """Learning or active, known even before the first reading after a restart."""
        return self._detector.status.value

    @property
    def learning_progress(self) -> float:
        """How much of the learning period is done, in percent (one decimal)."""
        return round(self._detector.learning_progress * 100, 1)

    @callback
    def async_add_readings(self, readings: Sequence[Reading]) -> None:
        """Queue readings in time order (a live message, or a demo catch-up batch).

        Readings get the outdoor temperature the user chose, as it is now.
        """
        self._checks_without_reading = 0
        if entity_id := self.config_entry.options.get(CONF_TEMPERATURE_ENTITY):
            temperature = outdoor_temperature(self.hass, entity_id)
            readings = [replace(reading, temperature=temperature) for reading in readings]
        self._pending.extend(readings)
        if self._worker is None or self._worker.done():
            self._worker = self.config_entry.async_create_background_task(
                self.hass, self._async_process_pending(), f"{DOMAIN} detector {self.home.name}"
            )

    async def _async_process_pending(self) -> None:
        """Run the detector on everything queued, batch by batch, and publish each batch's end."""
        while self._pending:
            batch, self._pending = self._pending, []
            async with self._detector_lock:
                taken = await self.hass.async_add_executor_job(self._detector_update, batch)
                snapshot = await self._async_snapshot_if_due()
            if taken:
                self._async_publish(batch, taken)
            if snapshot is not None:
                self._store.async_schedule_save(snapshot)

    def _detector_update(self, batch: Sequence[Reading]) -> list[tuple[Reading, Result]]:
        """Executor: update the detector with each reading in order.

        A reading the detector cannot take (a bug, or input nobody foresaw) is logged and
        skipped; the readings after it are still processed.
        """
        taken: list[tuple[Reading, Result]] = []
        for reading in batch:
            try:
                taken.append((reading, self._detector.update(reading)))
            except Exception:  # noqa: BLE001 - one bad reading must not stop the home
                LOGGER.exception(
                    "Skipped a reading for %s the detector failed on: %s", self.home.name, reading
                )
        return taken

    async def _async_snapshot_if_due(self) -> StoredHomeData | None:
        """Return the state to store when the last snapshot is old enough (SD-card wear)."""
        now = dt_util.utcnow()
        if now - self._last_snapshot < STATE_SAVE_INTERVAL:
            return None
        self._last_snapshot = now
        return await self.hass.async_add_executor_job(self._stored_data)

    def _stored_data(self) -> StoredHomeData:
        """Executor: the detector state and the quantities seen, as plain data."""
        return {"detector": self._detector.to_state(), "reported": sorted(self.reported)}

    async def async_save_state(self) -> None:
        """Write the current state now, after the readings already queued (unload, shutdown)."""
        if self._worker is not None:
            await asyncio.shield(self._worker)
        async with self._detector_lock:
            data = await self.hass.async_add_executor_job(self._stored_data)
        await self._store.async_save(data)

    @callback
    def _async_publish(
        self, batch: Sequence[Reading], taken: Sequence[tuple[Reading, Result]]
    ) -> None:
        """Push the batch's last result to the entities; fire an event when an anomaly starts."""
        self._async_note_reported(batch)
        previous = self.data.result if self.data is not None else None
        since = self.data.anomaly_since if self.data is not None else None
        for _reading, result in taken:
            if result.anomaly and not (previous is not None and previous.anomaly):
                since = result.timestamp
                self._async_fire_anomaly(result)
            elif not result.anomaly:
                since = None
            previous = result
        if self._unavailable_logged:
            LOGGER.info("Live data for %s is back", self.home.name)
            self._unavailable_logged = False
        reading, result = taken[-1]
        self.async_set_updated_data(HomeData(reading, result, since))

    @callback
    def _async_fire_anomaly(self, result: Result) -> None:
        """Tell automations (and the log) that an anomaly started, and why."""
        LOGGER.info("Anomaly at %s (%s): %s", self.home.name, result.kind, result.reason)
        self.hass.bus.async_fire(
            EVENT_ANOMALY,
            {
                "home_id": self.home.home_id,
                "home": self.home.name,
                "kind": result.kind,
                "reason": result.reason,
                "observed": result.observed,
                "expected": result.expected,
                "timestamp": result.timestamp.isoformat(),
            },
        )

    @callback
    def _async_note_reported(self, batch: Sequence[Reading]) -> None:
        """Remember newly reported quantities and let the platforms add their entities."""
        new = set().union(*(reported_quantities(reading) for reading in batch)) - self.reported
        if not new:
            return
        self.reported |= new
        for listener in self._reported_listeners:
            listener(new)

    @callback
    def async_add_reported_listener(self, listener: Callable[[set[str]], None]) -> CALLBACK_TYPE:
        """Call `listener` with the quantities a reading reports for the first time."""
        self._reported_listeners.append(listener)
        return lambda: self._reported_listeners.remove(listener)

    @callback
    def async_set_unavailable(self, why: str) -> None:
        """Mark the home's entities unavailable, logging once until data comes back."""
        if not self._unavailable_logged:
            LOGGER.warning("Live data for %s is unavailable: %s", self.home.name, why)
            self._unavailable_logged = True
        if self.last_update_success:
            self.last_update_success = False
            self.async_update_listeners()

    @callback
    def async_check_stale(self, _now: datetime) -> None:
        """Mark the home unavailable when no reading arrived for STALE_AFTER.

        Counted in health checks since the last reading, so it follows Home Assistant's timers.
        """
        if self._checks_without_reading is None:
            return
        self._checks_without_reading += 1
        if self._checks_without_reading * HEALTH_CHECK_INTERVAL > STALE_AFTER:
            self.async_set_unavailable(f"no reading for {int(STALE_AFTER.total_seconds())} s")

    def diagnostics(self) -> dict[str, Any]:
        """Describe the home's detector for the diagnostics download."""
        return {
            "status": self.detector_status,
            "learning_progress": self.learning_progress,
            "reported": sorted(self.reported),
            "queued_readings": len(self._pending),
            "last_reading": None if self.data is None else repr(self.data.reading),
            "last_result": None if self.data is None else repr(self.data.result),
        }


class CoordinatorSink:
    """The ReadingSink a source pushes into: the entry's coordinators, one per home."""

    def __init__(self, homes: dict[str, EnergyAnomalyCoordinator]) -> None:
        """Route each home's readings to its coordinator."""
        self._homes = homes

    @callback
    def async_add_readings(self, home_id: str, readings: Sequence[Reading]) -> None:
        """Queue the readings on the home's coordinator."""
        self._homes[home_id].async_add_readings(readings)

    @callback
    def async_source_down(self, home_id: str | None, why: str) -> None:
        """Mark one home (None: every home) unavailable, saying why."""
        homes = self._homes.values() if home_id is None else [self._homes[home_id]]
        for coordinator in homes:
            coordinator.async_set_unavailable(why)
