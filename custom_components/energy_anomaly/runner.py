"""One runner per home: its detector, fed in order by one worker, and what it learned in storage."""

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
import contextlib
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
import math
from typing import Any, NamedTuple

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import (
    ConfigEntryNotReady,
    HomeAssistantError,
    UnsupportedStorageVersionError,
)
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util

from .clock import ClockBehind, ClockWentBack
from .const import (
    CONF_FUSE_SIZE,
    CONF_FUSE_SIZES,
    CONF_NOMINAL_VOLTAGE,
    CONF_SOURCE,
    CONF_TEMPERATURE_ENTITY,
    CONF_VOLTAGE_ENTITIES,
    DOMAIN,
    GUESTS_DEFAULT_DURATION,
    LOGGER,
    MAX_STORED_AHEAD,
    REJECTED_READING_WARNING_INTERVAL,
    SOURCE_ENTITY,
    STATE_SAVE_INTERVAL,
)
from .coordinator import (
    Controls,
    EnergyAnomalyCoordinator,
    HistoryImport,
    HomeData,
    HomeInfo,
    percent,
)
from .detector.config import GRIDS_V, NOMINAL_V, DetectorConfig
from .detector.engine import Detector
from .detector.grid import GridReader
from .detector.model import Finding, HistoryRow, Kind, Mode, Reading, Result, Sensitivity
from .detector.validation import plausible_part, reading_problem
from .events import async_anomaly_started
from .history import HistoryFetchError
from .storage import (
    HomeStateStore,
    NotKeptAsideError,
    PreparedHomeData,
    UnreadableFileError,
    prepare,
)
from .temperature import outdoor_temperature
from .tibber_payload import on_local_clock

# Kaifa and Aidon meters put voltage, current and production in one frame of every 10 s, and
# Tibber reports them as null in the readings between. The entities show such a value from the
# last reading that had it for this long (s), so they do not flip between a value and unknown
# (each flip a database row); the detector sees the readings as they came.
VALUE_HOLD_S = 60.0

# Per optional value (production, voltage L1-L3, current L1-L3): (value, epoch of its reading)
type Seen = list[tuple[float, float] | None]


def with_values_held(readings: Sequence[Reading], seen: Seen) -> Reading:
    """The last of `readings`, each optional value it lacks held from an earlier reading.

    The value comes from the latest reading that had it, at most VALUE_HOLD_S before. `seen`
    (production, voltage L1-L3, current L1-L3) is kept up to date from one call to the next.
    """
    for reading in readings:
        values = (reading.power_production, *reading.voltage, *reading.current)
        for index, value in enumerate(values):
            if value is not None:
                seen[index] = (value, reading.epoch)
    last = readings[-1]
    production, v1, v2, v3, c1, c2, c3 = (
        None if held is None or last.epoch - held[1] > VALUE_HOLD_S else held[0] for held in seen
    )
    return replace(last, power_production=production, voltage=(v1, v2, v3), current=(c1, c2, c3))


def reported_quantities(reading: Reading) -> set[str]:
    """Return the optional quantities a reading carries, e.g. {"voltage_l1", "power_production"}.

    Meters differ: a single-phase meter reports one phase, a home without solar no production.
    """
    reported = {f"voltage_l{i}" for i, value in enumerate(reading.voltage, 1) if value is not None}
    reported |= {f"current_l{i}" for i, value in enumerate(reading.current, 1) if value is not None}
    if reading.power_production is not None:
        reported.add("power_production")
    return reported


type Shown = tuple[Kind, float]  # an anomaly the home showed: its kind and start (epoch s)
# A finding whose start differs from the shown one's by less than this is the same anomaly.
SAME_START_S = 60.0
# The most anomalies of one episode (the home in an anomaly without a pause) kept as shown: its
# kinds as they took turns (a meter fault on top of an over-current, then gone again)
MAX_SHOWN = 8


class Restored(NamedTuple):
    """What a home resumes from: detector, quantities seen, anomalies shown, a failed import."""

    detector: Detector
    reported: frozenset[str]
    shown: tuple[Shown, ...] = ()
    history_failed: bool = False


def _shown_after(shown: tuple[Shown, ...], finding: Finding | None) -> tuple[Shown, ...]:
    """The anomalies shown in the episode going on after a result with `finding`, in order.

    None once the episode ends (no finding): the next anomaly is announced afresh.
    """
    if finding is None:
        return ()
    latest = (finding.kind, finding.since.timestamp())
    return shown if latest in shown else (*shown, latest)[-MAX_SHOWN:]


def _stored_shown(stored: Any) -> tuple[Shown, ...]:
    """The anomalies of the episode stored as shown (kind and start), in order.

    One that cannot be read is left out: at worst it is announced once more. A pair alone is the
    one anomaly shown, as it was stored before an episode's were kept.
    """
    if not isinstance(stored, list):
        return ()
    pairs = [stored] if stored and isinstance(stored[0], str) else stored
    shown: list[Shown] = []
    for pair in pairs[-MAX_SHOWN:]:
        match pair:
            case [str(kind), int() | float() as since] if kind in Kind._value2member_map_:
                shown.append((Kind(kind), float(since)))
    return tuple(shown)


def _restore(
    stored: Any, config: DetectorConfig, latest: float | None, reportable: frozenset[str]
) -> Restored:
    """The detector, reported quantities and shown anomaly as stored; raises on anything else.

    A shown anomaly that cannot be read is left out (`_stored_shown`). So is a reported quantity
    this release does not know, or that is not `reportable` now (a sensor left out under
    Reconfigure): its sensor comes when the meter reports it.
    A detector that took a reading after `latest` (epoch s; a damaged file, or a clock that was
    far ahead) would skip every reading until then as older than its last: it is refused.
    """
    if not isinstance(stored, dict):
        raise TypeError(f"stored data is a {type(stored).__name__}, not a mapping")
    reported = stored["reported"]
    if not isinstance(reported, list) or not all(isinstance(name, str) for name in reported):
        raise TypeError("the reported quantities are not a list of names")
    shown = _stored_shown(stored.get("shown"))
    detector = Detector.from_state(stored["detector"], config)
    if latest is not None and detector.last_epoch is not None and detector.last_epoch > latest:
        last = datetime.fromtimestamp(detector.last_epoch, dt_util.UTC).isoformat()
        raise ValueError(f"its last reading ({last}) is later than this host's clock")
    if latest is not None:  # a live home: Home Assistant was off since its last reading
        detector.restarted_at(dt_util.utcnow())
    history_failed = stored.get("history") == HistoryImport.FAILED
    return Restored(detector, frozenset(reported) & reportable, shown, history_failed)


async def _async_restore(
    hass: HomeAssistant, home: HomeInfo, store: HomeStateStore, config: DetectorConfig
) -> Restored:
    """What the home learned before, or a fresh start: stored state never stops a home.

    A file that could not be read at all (an SD card's I/O error) is not damage: it stays where
    it is, and the entry's setup is retried (`ConfigEntryNotReady`).

    Nor is it lost. State that cannot be read (a hand-edited or damaged file, or a detector
    format of a newer release after a downgrade) is kept aside (`async_keep_unreadable`)
    before the home learns afresh (its status shows it) and writes its new state. A file whose
    storage version is newer than this release's is left as it is: the home learns afresh
    without writing, and resumes from that file once the newer release is back. Both are
    logged; no repair issue, as there is nothing to repair.
    """
    fresh = Restored(Detector(config), frozenset())
    try:
        stored = await store.async_load()
    except UnreadableFileError as err:
        await _async_set_aside(home, store, err.__cause__ or err, store.async_keep_file_aside())
        return fresh
    except UnsupportedStorageVersionError as err:
        store.leave_as_is()
        LOGGER.warning(
            "What the detector learned for %s was stored by a newer version of Energy Anomaly "
            "(%s); it is left as it is, and the home learns afresh without storing anything "
            "until that version is installed again",
            home.name,
            err,
        )
        return fresh
    except HomeAssistantError as err:  # the file could not be read (an I/O error): try again
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="state_unreadable",
            translation_placeholders={"home": home.name, "error": str(err)},
        ) from err
    if stored is None:
        return fresh
    latest = (dt_util.utcnow() + MAX_STORED_AHEAD).timestamp() if home.live_clock else None
    try:
        # Building a detector from its state takes tens of milliseconds on a small box
        return await hass.async_add_executor_job(_restore, stored, config, latest, home.reportable)
    except Exception as err:  # noqa: BLE001 - any damage: learn afresh rather than fail setup
        await _async_set_aside(home, store, err, store.async_keep_unreadable(stored))
        return fresh


async def _async_set_aside(
    home: HomeInfo, store: HomeStateStore, err: BaseException, keeping: Awaitable[str]
) -> None:
    """Keep what `home` learned aside (`keeping`), and say why it could not be restored.

    A card that refuses even that (read-only, full) keeps the file where it is: nothing is
    written for the home until Home Assistant restarts, so its only copy is not overwritten.
    """
    try:
        kept = await keeping
    except NotKeptAsideError as refused:
        store.leave_as_is()
        LOGGER.warning(
            "Could not restore what the detector learned for %s (%s: %s), nor keep it aside "
            "(%s); it is left as it is, and the home learns afresh without storing anything "
            "until Home Assistant restarts",
            home.name,
            type(err).__name__,
            err,
            refused,
        )
        return
    LOGGER.warning(
        "Could not restore what the detector learned for %s (%s: %s); it is kept as "
        ".storage/%s, and the home learns afresh",
        home.name,
        type(err).__name__,
        err,
        kept,
    )


def default_mode_end(mode: Mode, now: datetime) -> datetime | None:
    """When a mode chosen without an end ends: Paused at the end of today, Guests after a day.

    Both are meant for a while (a snooze, a visit); Normal and Away last until changed. The end
    of today is the next midnight on the clock; a day of Guests is 24 hours, counted in UTC (on
    the clock, the day the clocks go forward would have 23).
    """
    if mode is Mode.PAUSED:
        return dt_util.start_of_local_day(now) + timedelta(days=1)
    if mode is Mode.GUESTS:
        return (dt_util.as_utc(now) + GUESTS_DEFAULT_DURATION).astimezone(now.tzinfo)
    return None


def _grid_of(entry: ConfigEntry) -> float:
    """The nominal voltage (V) the entry's home is judged against: its form's grid, else 230 V.

    A value that is not a grid the form gives (a hand-edited entry) is 230 V too: it must not
    stop the home from setting up.
    """
    grid = entry.data.get(CONF_NOMINAL_VOLTAGE)
    return float(grid) if grid in GRIDS_V else NOMINAL_V  # a tuple: by equality, no hashing


def fuse_of(options: Mapping[str, Any], home_id: str) -> Any:
    """The main fuse size (A) the options give a home: its own, else the entry's, else None.

    As stored: options saved by an older release (or by hand) may hold anything.
    """
    fuses = options.get(CONF_FUSE_SIZES)
    if isinstance(fuses, Mapping) and home_id in fuses:
        return fuses[home_id]
    return options.get(CONF_FUSE_SIZE)


def _controls_of(detector: Detector) -> Controls:
    """Executor: the detector's mode, sensitivity and silenced kinds, as entities show them."""
    return Controls(
        mode=detector.mode,
        mode_until=detector.mode_until,
        sensitivity=detector.sensitivity,
        silenced=detector.silenced,
    )


class _Command[T]:
    """A change the household asks of the detector, run in turn with readings (`_async_process`)."""

    def __init__(self, run: Callable[[Detector], T]) -> None:
        self._run = run
        self.done: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._outcome: tuple[T] | Exception | None = None

    def execute(self, detector: Detector) -> None:
        """Executor: run it; what it returns or raises goes to the caller in `answer`."""
        try:
            self._outcome = (self._run(detector),)
        except Exception as err:  # noqa: BLE001 - the caller gets it, the worker goes on
            self._outcome = err

    def answer(self, never_ran: Callable[[], Exception]) -> None:
        """Loop: hand the outcome to the caller (unless it stopped waiting, or has it already).

        A command that never ran (its home stops before the detector got to it) fails with
        `never_ran()`: its caller must not wait for ever.
        """
        if self.done.done():
            return
        outcome = never_ran() if self._outcome is None else self._outcome
        if isinstance(outcome, Exception):
            self.done.set_exception(outcome)
        else:
            self.done.set_result(outcome[0])


@dataclass(frozen=True, slots=True)
class _HostResumed:
    """The host ran no timer for a while before `at`: queued in turn with the readings.

    Not a household command: nobody waits for it, and it asks for no state to be stored.
    """

    at: datetime


@dataclass(frozen=True, slots=True)
class _GridRead:
    """The grid (nominal V) a home with none stored read, queued before the readings that tell it.

    Not a household command, like `_HostResumed`.
    """

    nominal_v: float


type _Queued = Reading | _Command[Any] | _HostResumed | _GridRead


@dataclass(frozen=True, slots=True)
class _Batch:
    """What the worker got from the detector for one batch of readings.

    `reading` is the one the entities show: the batch's last, with phase values held.
    """

    reading: Reading
    results: list[Result]
    reported: frozenset[str]


class HomeRunner:
    """Feeds one home's readings through its detector, in order, and publishes the results.

    Readings are queued and processed in batches by a single worker in the executor, so the event
    loop never waits for the detector and results come out in the order readings came in. The
    detector state is snapshotted by that same worker (at most every STATE_SAVE_INTERVAL), so the
    store never reads a detector that is being updated.

    A new home first learns from its past (`async_learn_history`, in the background): live
    readings that come meanwhile wait in the queue, so the detector sees history first, then
    every live reading in order.

    The household's commands (mode, sensitivity, silencing, mark normal) join the same queue,
    so the worker runs them between the readings that came before and after them. While the
    history is being fetched (minutes, when Tibber rate-limits) they run at once instead, ahead
    of the readings held back (see `_async_command`).
    """

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        home: HomeInfo,
        store: HomeStateStore,
        restored: Restored,
    ) -> None:
        """Create the runner around a restored (or fresh) detector."""
        self.hass = hass
        self.home = home
        self._detector, self._reported = restored.detector, restored.reported
        self._controls = _controls_of(self._detector)
        self.coordinator = EnergyAnomalyCoordinator(
            hass, entry, home, self._controls, restored.reported
        )
        self._entry = entry
        self._store = store
        # The anomalies of the episode shown when the state was written, and of the one after the
        # latest batch (kept by the worker with the detector, and stored with its state).
        self._restored_shown = self._shown = restored.shown
        # Where the restored detector stands: a replaying source (the demo) resumes after it.
        self.restored_until = self._detector.last_epoch
        # The time (epoch s) of the latest reading the home was given: a replay's clock (`now`)
        self._latest_epoch = self.restored_until
        self._status = self._detector.status
        self._learning_progress = self._detector.learning_progress
        self._rejected = 0
        self._clock_behind = ClockBehind(hass, home)
        self._clock_went_back = ClockWentBack(hass, home)
        self._failed = 0
        self._older = 0
        # A power sensor home's readings are stamped by this host's clock when they are taken:
        # one older than the last is the power now, after the clock stepped back
        self._stamped_here = entry.data[CONF_SOURCE] == SOURCE_ENTITY
        self._values_seen: Seen = [None] * 7
        # A power sensor home whose voltage sensors gave no value on the form (or saved before the
        # grid was read) has no grid stored: its first readings of a grid's phases tell it
        # (A home without voltage sensors has none to read: no reading is looked at for it.)
        self._grid_unread = (
            entry.data[CONF_SOURCE] == SOURCE_ENTITY
            and CONF_NOMINAL_VOLTAGE not in entry.data
            and any(entry.data.get(key) for key in CONF_VOLTAGE_ENTITIES)
        )
        self._grid_reader = GridReader()
        self._last_warning: dict[str, datetime] = {}  # by message: when it was last logged
        self._pending: list[_Queued] = []
        # What workers took out of the queue and did not answer yet: the batch being taken, and
        # any of a worker Home Assistant cancelled (stopping) in the middle of its batch
        self._taking: list[_Queued] = []
        self._worker: asyncio.Task[None] | None = None
        self._stopped = False  # `async_stop` began: no worker runs again
        self._detector_lock = asyncio.Lock()
        self._last_snapshot = dt_util.utcnow()
        # Whether a command of the batch just taken changed what the household said
        self._household_changed = False
        self._history_days = self._detector.history_days
        # A restored home shows how its history went before the restart: done if it learned
        # some, failed if the import failed (fetched again only if the home learned nothing
        # live before the restart, `wants_history`).
        self._history = HistoryImport.DONE if self._history_days else HistoryImport.NONE
        if restored.history_failed:
            self._history = HistoryImport.FAILED

    @property
    def wants_history(self) -> bool:
        """Whether the home has learned nothing yet, so its past is worth fetching.

        A home that learned live or from history before (its stored state) needs none; one
        that took a few live readings gets its rows skipped by the detector (history must
        come first).
        """
        return self._history_days == 0 and self._learning_progress == 0

    @classmethod
    async def async_create(
        cls, hass: HomeAssistant, entry: ConfigEntry, home: HomeInfo
    ) -> HomeRunner:
        """Create the runner for `home`, restoring what was learned before.

        A power sensor home's grid is the one its voltage sensors read on the form; one whose
        sensors gave no value there (or whose entry was saved before the grid was read) is judged
        against 230 V until they read (`_async_read_grid`); any other home (a Tibber Pulse's,
        Nordic) is on a 230 V grid. The entry's settings win over the options stored with the state.
        """
        store = HomeStateStore(hass, home.home_id)
        fuse = fuse_of(entry.options, home.home_id)
        config = DetectorConfig(
            # options saved before a NaN fuse was refused may hold one: no fuse check, as then
            fuse_amps=fuse if isinstance(fuse, int | float) and 0 < fuse < math.inf else None,
            silent_phase_lost=entry.data[CONF_SOURCE] != SOURCE_ENTITY,
            nominal_v=_grid_of(entry),
        )
        return cls(hass, entry, home, store, await _async_restore(hass, home, store, config))

    @property
    def detector_config(self) -> DetectorConfig:
        """The home's detector settings (the fuse size, the grid), for analysing its past alike."""
        return self._detector.config

    @callback
    def async_add_readings(self, readings: Sequence[Reading]) -> None:
        """Queue readings in time order (a live message, or a demo catch-up batch).

        Readings get the outdoor temperature the user chose, as it is now, and the clock of
        the home's zone when it has one of its own (a Tibber home: see `on_local_clock`).
        """
        if (zone := self.home.time_zone) is not None:
            readings = [
                replace(reading, timestamp=on_local_clock(reading.timestamp, zone))
                for reading in readings
            ]
        if entity_id := self._entry.options.get(CONF_TEMPERATURE_ENTITY):
            temperature = outdoor_temperature(self.hass, entity_id)
            readings = [replace(reading, temperature=temperature) for reading in readings]
        if self._grid_unread:
            self._async_read_grid(readings)
        if readings:
            self._latest_epoch = readings[-1].epoch
        self._pending.extend(readings)
        if self._history is not HistoryImport.IMPORTING:
            self._async_start_worker()

    @callback
    def _async_read_grid(self, readings: Sequence[Reading]) -> None:
        """Store the grid that `readings` tell (`GridReader`), and judge the phases against it.

        Stored with the entry, as the form stores the grid it reads (a restart, Reconfigure keep
        it); queued ahead of `readings`, so they are all judged against it.
        """
        for reading in readings:
            if (grid := self._grid_reader.read(reading)) is not None:
                self._grid_unread = False
                self.hass.config_entries.async_update_entry(
                    self._entry, data={**self._entry.data, CONF_NOMINAL_VOLTAGE: grid}
                )
                self._pending.append(_GridRead(grid))
                return

    @callback
    def async_host_resumed(self, at: datetime) -> None:
        """Note that the host ran no timer for a while before `at`; the meter was not silent.

        Its clock was stepped forward (NTP setting a Pi's clock after it booted), or it was
        suspended or too busy. The detector hears of it as of a restart, in turn with the
        readings queued: the silence before `at` is not counted as the meter's gap.
        """
        self._pending.append(_HostResumed(at))
        if self._history is not HistoryImport.IMPORTING:
            self._async_start_worker()

    @callback
    def _async_start_worker(self) -> None:
        """Process what is queued, unless the worker is at it already or the home stopped.

        After the stop, a batch (a command that came late, readings queued behind a history
        import that ended late) would raise the withdrawn clock issue again and store a state
        after the final write.
        """
        if self._stopped:
            return
        if self._pending and (self._worker is None or self._worker.done()):
            self._worker = self._entry.async_create_background_task(
                self.hass, self._async_process_pending(), f"{DOMAIN} detector {self.home.name}"
            )

    def _plausible(self, reading: Reading, now: datetime) -> Reading | None:
        """Executor: the reading as the detector may take it, or None; warn (every 10 min).

        NaN, absurd values or a clock in the future must never teach the detector. An
        implausible optional value (an inverter's standby read as -2 W of production) is left
        out and the rest is taken; a reading whose time or power is implausible is rejected and
        counted. A replayed home (the demo) runs on its own faster clock: its timestamps are
        not compared with now, nor followed for a clock behind the meter's.
        """
        clock = now if self.home.live_clock else None
        taken = plausible_part(reading, clock)
        if taken is reading:
            self._clock_behind.note_taken()
            return reading
        problem = reading_problem(reading, clock)
        if taken is not None:
            self._clock_behind.note_taken()
            self._warn(now, "Left out a value of a reading for %s: %s", problem)
            return taken
        self._rejected += 1
        if clock is not None:
            self._clock_behind.note_rejected(reading, now)
        self._warn(
            now, "Rejected a reading for %s: %s (%d rejected so far)", problem, self._rejected
        )
        return None

    def _log_failure(self, now: datetime, reading: Reading) -> None:
        """Log a reading the detector failed on, with the traceback, at most every 10 minutes.

        A fault that fails every reading must not fill the log (and the SD card) with a
        traceback every two seconds.
        """
        self._failed += 1
        self._warn(
            now,
            "Skipped a reading for %s the detector failed on: %s (%d skipped so far)",
            reading,
            self._failed,
            log=LOGGER.exception,
        )

    def _skipped_as_older(self, reading: Reading, now: datetime) -> bool:
        """Executor: whether `reading`, older than the last one the detector took, is skipped; warn.

        The detector never learns from an older reading (its checks go forward in time). Most
        are not shown either: a message replayed after a reconnect, a meter's clock stepping
        back. But a power sensor home's reading is stamped by this host's clock as it is taken:
        one older than the last means that clock went back, and it is the power now, shown with
        the current verdict until the clock passes the last reading again (a repair issue says
        so when that lasts).
        """
        last = self._detector.last_epoch
        if last is None or reading.epoch >= last:
            self._clock_went_back.note_taken()
            return False
        if self._stamped_here:
            self._clock_went_back.note_older(last, now)
            self._warn(
                now,
                "The clock of this host went back: %s shows its readings but learns from them "
                "only from %s on",
                dt_util.as_local(dt_util.utc_from_timestamp(last)).isoformat(),
            )
            return False
        self._older += 1
        self._warn(
            now,
            "Skipped a reading for %s older than the one before it (%s; %d so far)",
            reading.timestamp.isoformat(),
            self._older,
        )
        return True

    def _warn(
        self,
        now: datetime,
        message: str,
        *args: object,
        log: Callable[..., None] = LOGGER.warning,
    ) -> None:
        """Log `message` (its first %s the home's name) with `log`, at most once per 10 minutes.

        Each message has its own 10 minutes: a value left out every reading must not hide that
        readings come out of order too.
        """
        last = self._last_warning.get(message)
        # A last time ahead of now: the host's clock went back since; waiting until it passes
        # that time again would hide the message for as long as the clock went back
        if last is None or not timedelta(0) <= now - last < REJECTED_READING_WARNING_INTERVAL:
            self._last_warning[message] = now
            log(message, self.home.name, *args)

    async def _async_process_pending(self) -> None:
        """Run the detector on everything queued, batch by batch (the worker), and answer each.

        Home Assistant, stopping, cancels the worker (a background task) before it stops the
        integrations, maybe in the middle of a batch: the stop then answers its commands
        (`async_save_state`), out of the queue as they are; or, when a command or reading
        started a new worker before the stop reached the home, that worker does after its batch
        (the cancelled batch's job ended before, as it holds the detector's lock to its end).
        """
        while self._pending:
            batch, self._pending = self._pending, []
            # After those of a worker cancelled in its batch, which none answered
            self._taking = [*self._taking, *batch]
            await self._async_process(batch)
            self._async_answer(self._taking)
            self._taking = []

    async def _async_process(self, batch: Sequence[_Queued]) -> None:
        """Run the detector on `batch`, in order, and publish the batch's end.

        A batch with commands that changed what the household said shows the new controls at
        once and is stored soon (a restart keeps it), before its caller answers them
        (`_async_answer`); one that changed nothing (a switch turned on that was on, an
        automation's every minute) is not written for (SD-card wear). What the batch said of the
        host's clock raises or withdraws its repair issue, here on the loop.
        """
        done = await self._async_locked(self._detector_update, batch)
        self._clock_behind.async_update()
        self._clock_went_back.async_update()
        snapshot = await self._async_snapshot_if_due(now=self._household_changed)
        self.coordinator.async_set_controls(self._controls)
        if done is not None:
            self._async_publish(done)
        if snapshot is not None and not self._stopped:  # else stored by the stop, not after it
            self._store.async_schedule_save(snapshot)

    @callback
    def _async_answer(self, items: Iterable[_Queued]) -> None:
        """Give each command among `items` its outcome; one that never ran fails: the home stops."""
        for item in items:
            if isinstance(item, _Command):
                item.answer(self._not_loaded)

    def _detector_update(self, batch: Sequence[_Queued]) -> _Batch | None:
        """Executor: update the detector with each plausible reading and command, in order.

        Returns None if no reading was taken. A reading the detector cannot take (a bug, or
        input nobody foresaw) is logged and skipped; the readings after it are still processed.
        """
        taken: list[tuple[Reading, Result]] = []
        now = dt_util.utcnow()
        self._household_changed = False
        for item in batch:
            if isinstance(item, _Command):
                said = self._detector.household_state()
                item.execute(self._detector)
                self._household_changed |= self._detector.household_state() != said
            elif isinstance(item, _HostResumed):
                self._detector.restarted_at(item.at)
            elif isinstance(item, _GridRead):
                self._detector.judge_against(item.nominal_v)
            elif (reading := self._plausible(item, now)) is not None:
                if self._skipped_as_older(reading, now):
                    continue
                try:
                    taken.append((reading, self._detector.update_plausible(reading)))
                except Exception:  # noqa: BLE001 - one bad reading must not stop the home
                    self._log_failure(now, item)
        self._controls = _controls_of(self._detector)
        if not taken:
            return None
        self._reported = self._reported.union(*(reported_quantities(r) for r, _ in taken))
        last = taken[-1][1]
        self._status, self._learning_progress = last.status, last.learning_progress
        for _, result in taken:
            self._shown = _shown_after(self._shown, result.finding)
        return _Batch(
            reading=with_values_held([reading for reading, _ in taken], self._values_seen),
            results=[result for _, result in taken],
            reported=self._reported,
        )

    async def async_learn_history(self, fetch: Callable[[], Awaitable[list[HistoryRow]]]) -> None:
        """Learn from the rows ``fetch`` gives before any live reading (a background task).

        A failed fetch is logged and leaves the home learning from live readings alone: the
        past is a head start, never a condition. The state is saved once learned, so a restart
        does not fetch it again.
        """
        self._async_set_history(HistoryImport.IMPORTING)
        try:
            rows = await fetch()
            summary = await self._async_locked(self._detector.learn_history, rows)
            data = await self._async_locked(self._stored_data)
        except HistoryFetchError as err:
            LOGGER.warning(
                "Could not fetch the history of %s, learning from live readings only: %s",
                self.home.name,
                err,
            )
            self._async_set_history(HistoryImport.FAILED)
        except Exception:  # noqa: BLE001 - the past must never stop the home's live learning
            LOGGER.exception("Learning the history of %s failed", self.home.name)
            self._async_set_history(HistoryImport.FAILED)
        else:
            LOGGER.info(
                "%s learned from %d days of history (%d rows, %d skipped)",
                self.home.name,
                summary.days,
                summary.used,
                summary.skipped,
            )
            self._history_days = self._detector.history_days
            if summary.days and not self._stopped:  # else stored by the stop, not after it
                self._store.async_schedule_save(data)
            self._async_set_history(HistoryImport.DONE if summary.days else HistoryImport.NONE)
        self._async_start_worker()

    @callback
    def _async_set_history(self, history: HistoryImport) -> None:
        """Show how the import stands on the status sensor (before the home's data too)."""
        self._history = history
        self.coordinator.async_set_importing(history is HistoryImport.IMPORTING)
        if (data := self.coordinator.data) is not None:
            self.coordinator.async_set_updated_data(
                replace(data, history=history, history_days=self._history_days)
            )

    async def _async_snapshot_if_due(self, *, now: bool = False) -> PreparedHomeData | None:
        """Return the state to store when the last snapshot is old enough (SD-card wear).

        `now`: store it regardless (the household changed something it expects kept). So is a
        snapshot "taken" after this computer's clock: that clock went back (a Pi that booted
        ahead, set right by NTP), and waiting for it to pass the snapshot would store nothing
        for as long as it was ahead.
        """
        utcnow = dt_util.utcnow()
        since = utcnow - self._last_snapshot
        if not now and timedelta(0) <= since < STATE_SAVE_INTERVAL:
            return None
        self._last_snapshot = utcnow
        return await self._async_locked(self._stored_data)

    def _stored_data(self) -> PreparedHomeData:
        """Executor: the detector state (serialised here), quantities seen, shown, history."""
        shown = [[kind.value, since] for kind, since in self._shown]
        history = self._history.value
        return prepare(self._detector.to_state(), sorted(self._reported), shown, history)

    async def async_save_state(self) -> None:
        """Write the current state now, after the readings already queued (unload, shutdown).

        Then the commands Home Assistant, stopping, kept from their callers by cancelling the
        worker are answered. One in the batch it was taking that ran was applied, and is in the
        state written: its caller hears so. The others (still queued, or waiting for the
        detector in that batch) fail rather than keep their callers waiting for a home that stops.
        """
        if self._worker is not None:  # done, or cancelled (Home Assistant stopping): no raise
            await asyncio.wait([self._worker])
        try:
            await self._store.async_save(await self._async_locked(self._stored_data))
        finally:
            self._async_answer([*self._taking, *self._pending])

    def _not_loaded(self) -> HomeAssistantError:
        """What a command on a home that stops (or stopped) fails with.

        The home is named as the user sees it: by the name they gave its device, if any.
        """
        device = dr.async_get(self.hass).async_get_device({(DOMAIN, self.home.home_id)})
        name = (device.name_by_user if device is not None else None) or self.home.name
        return HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="not_loaded",
            translation_placeholders={"device": name},
        )

    async def async_stop(self) -> None:
        """Stop the home (unload, shutdown, a home gone from the account): save, withdraw its issue.

        After the worker's last batch (`async_save_state` waits for it); no worker starts after
        it (`_async_start_worker`), so no batch raises the issue again. Withdrawn even when the
        state cannot be written.
        """
        self._stopped = True
        try:
            await self.async_save_state()
        finally:
            self._clock_behind.async_withdraw()
            self._clock_went_back.async_withdraw()

    async def _async_locked[T](self, job: Callable[..., T], *args: Any) -> T:
        """Run `job` on the detector in the executor, alone, and hold the lock until it ends.

        Home Assistant cancels background tasks (the worker, a history import) before it stops
        the integrations, whose final save then takes the lock: a cancelled await must not
        release it while the job still changes the detector in its thread, or the save would
        serialise a detector in the middle of a change.
        """
        async with self._detector_lock:
            future = self.hass.async_add_executor_job(job, *args)
            try:
                return await asyncio.shield(future)
            except asyncio.CancelledError:
                while not future.done():  # a job in a thread cannot be stopped: wait it out
                    with contextlib.suppress(asyncio.CancelledError):
                        await asyncio.wait([future])
                raise

    @callback
    def _async_publish(self, done: _Batch) -> None:
        """Hand the batch's end to the entities; announce each anomaly that started in it."""
        previous = self.coordinator.data
        if previous is None:
            in_anomaly = self._shown_before_restore(done.results[0].finding)
        else:
            in_anomaly = previous.result.anomaly
        for result in done.results:
            if result.finding is not None and not in_anomaly:
                async_anomaly_started(self.hass, self.home, result, result.finding)
            in_anomaly = result.anomaly
        self.coordinator.async_set_updated_data(
            HomeData(
                reading=done.reading,
                result=done.results[-1],
                reported=done.reported,
                history=self._history,
                history_days=self._history_days,
                resumed=self._shown_before_restore(done.results[-1].finding),
            )
        )

    def _shown_before_restore(self, finding: Finding | None) -> bool:
        """Whether `finding` is of the episode the home showed when its stored state was written.

        The one shown then, or one shown before it in the same episode. The episode was
        announced then; after a restart or a reload it goes on, and announcing it again would
        notify the household twice, also when the kind shown then (a meter fault on top of an
        over-current) ended meanwhile. (One that was building up but not yet shown, begun before
        the restart, is announced when it is.)
        """
        return finding is not None and any(
            finding.kind is kind and abs(finding.since.timestamp() - since) < SAME_START_S
            for kind, since in self._restored_shown
        )

    async def _async_command[T](self, run: Callable[[Detector], T]) -> T:
        """Run `run` on the detector by the worker, after the readings queued before it.

        While the history is being imported, the worker waits for it (the fetch takes up to
        about 12 minutes when Tibber rate-limits) and the household would wait with it: the
        command then runs at once, alone, by the same steps as the worker's batches (only the
        learning itself, seconds, holds the detector's lock). No reading reaches the detector
        so: those queued stay queued, and history still comes first. They are taken after the
        command rather than before it, judged by what the household chose meanwhile, as every
        later reading is; their order among themselves is kept, and so is the commands' (the
        lock is taken in turn, and a command waiting for it goes before the worker's next batch).
        A replay (the demo) too: queued, it would have the worker take its first reading before
        the past, whose rows the detector then skips as older.

        A home that stopped runs none: an action over several homes may come to it after its
        entry unloaded, or after it left the account.
        """
        if self._stopped:
            raise self._not_loaded()
        command = _Command(run)
        if self._history is HistoryImport.IMPORTING:
            await self._async_process([command])
            self._async_answer([command])
        else:
            self._pending.append(command)
            self._async_start_worker()
        return await command.done

    async def async_set_mode(self, mode: Mode, until: datetime | None = None) -> None:
        """Switch the home's mode; Paused and Guests without `until` get their default end.

        Counted from the home's clock (`now`): from the wall clock, a day of Guests on the demo
        had ended on its clock once the replay ran a day ahead.
        """
        end = until if until is not None else default_mode_end(mode, self.now())
        await self._async_command(lambda detector: detector.set_mode(mode, end))

    def now(self) -> datetime:
        """Now on the home's clock: a replay's (the demo's) is its latest reading's time.

        A replay runs on its own, faster clock, which only its readings tell (those still queued
        behind its history import too); before the first, it is the wall clock's.
        """
        if self.home.live_clock or self._latest_epoch is None:
            return dt_util.now()
        return datetime.fromtimestamp(self._latest_epoch, dt_util.get_default_time_zone())

    async def async_set_sensitivity(self, sensitivity: Sensitivity) -> None:
        """Make the home's learned checks alarm sooner (high) or later (low)."""
        await self._async_command(lambda detector: detector.set_sensitivity(sensitivity))

    async def async_set_silenced(self, kind: Kind, silenced: bool) -> None:
        """Silence (or hear again) one kind of anomaly at the home."""
        await self._async_command(lambda detector: detector.set_silenced(kind, silenced))

    async def async_mark_normal(self) -> Finding | None:
        """Teach the detector that the current (or last) episode was normal; None if none was."""
        return await self._async_command(Detector.mark_normal)

    def diagnostics(self) -> dict[str, Any]:
        """Describe the home's detector for the diagnostics download."""
        data = self.coordinator.data
        return {
            "status": self._status.value,
            "learning_progress": percent(self._learning_progress),
            "history": self._history.value,
            "history_days": self._history_days,
            "reported": sorted(self._reported),
            "queued_readings": sum(isinstance(item, Reading) for item in self._pending),
            "rejected_readings": self._rejected,
            # The grid's phase-to-neutral voltage the power quality checks judge against (V).
            "nominal_v": self._detector.config.nominal_v,
            # Why a home raises no alarm: paused, a kind silenced, a low sensitivity.
            "controls": {
                "mode": self._controls.mode,
                "mode_until": self._controls.mode_until,
                "sensitivity": self._controls.sensitivity,
                "silenced": sorted(self._controls.silenced),
            },
            "last_reading": None if data is None else data.reading,
            "last_result": None if data is None else data.result,
        }
