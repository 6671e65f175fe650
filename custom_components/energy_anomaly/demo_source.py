"""The demo home: a recorded household replayed through the same path as live Tibber data.

The bundled trace (`demo/household.csv.gz`: 29 days, 1-minute rows for the first 28 and 10-second
rows for the last) is anchored so its clock starts at midnight four weeks ago, on the wall clock
(each trace day is a local day). On the night the clocks go forward the trace's rows of the hour
that does not exist and of the next one are played in that next hour, at double speed; on the
night they go back its rows of the repeated hour are played over both passes of it, at half
speed: the stream has no hour without readings (which the detector would call a meter fault), no
two readings stamped alike, and every row of the trace. Its first 28 days
are the demo home's past: `past()` gives them as hourly rows (mean, minimum, maximum), which the
integration writes as the recorder's statistics of the demo home's power sensor and learns back
from there, the way a new home learns its recorded past. The last day is replayed at ten times
real speed, one row a second, from midnight today, and again a day later once it ends. In it a
2 kW heater is left on from 02:00 to 05:00, which the detector flags that night on the demo clock.
"""

import csv
from dataclasses import dataclass
from datetime import datetime, timedelta
import gzip
from itertools import groupby
import logging
import os
from pathlib import Path
from typing import Any

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.util import dt as dt_util

from .const import DEMO_HOME_ID
from .detector.model import HistoryRow, Reading
from .history import HOUR_S, wall_clock
from .source import ReadingSink

DEMO_TRACE = Path(__file__).parent / "demo" / "household.csv.gz"
PAST = timedelta(days=28)  # the trace's days before the replayed one: the demo home's past
REPLAY_TICK = timedelta(seconds=1)
SPEED_VARIABLE = "ENERGY_ANOMALY_DEMO_SPEED"
"""Environment variable: rows replayed per REPLAY_TICK, as one batch (default 1: ten times real
speed), so a script (`scripts/screenshot`) reaches the heater in a minute rather than 13."""

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DemoRow:
    """One row of the trace: seconds since the trace started, and the meter's values."""

    offset: float
    power: float
    voltage: tuple[float | None, float | None, float | None]
    current: tuple[float | None, float | None, float | None]


def _optional(value: str) -> float | None:
    return float(value) if value else None


def replay_speed() -> int:
    """Rows per tick from SPEED_VARIABLE: 1 if unset, or (logged) if not a whole number > 0."""
    value = os.environ.get(SPEED_VARIABLE, "1")
    if value.isdigit() and int(value) > 0:
        return int(value)
    _LOGGER.warning("Ignoring %s=%r: not a positive whole number", SPEED_VARIABLE, value)
    return 1


def load_demo_trace(path: Path = DEMO_TRACE) -> list[DemoRow]:
    """Read the compressed trace (blocking: run it in the executor)."""
    with gzip.open(path, "rt", newline="") as file:
        return [
            DemoRow(
                offset=float(row["offset_s"]),
                power=float(row["power"]),
                voltage=(
                    _optional(row["voltage_l1"]),
                    _optional(row["voltage_l2"]),
                    _optional(row["voltage_l3"]),
                ),
                current=(
                    _optional(row["current_l1"]),
                    _optional(row["current_l2"]),
                    _optional(row["current_l3"]),
                ),
            )
            for row in csv.DictReader(file)
        ]


class DemoSource:
    """Replays the demo trace as the readings of the demo home (DEMO_HOME_ID)."""

    def __init__(
        self, hass: HomeAssistant, rows: list[DemoRow], resume_after: float | None = None
    ) -> None:
        """Prepare the replay of `rows`; nothing runs before `async_start`.

        `resume_after` (epoch s) is where the demo home's stored detector stands: rows stamped
        up to then were taken before (an options change reloads the entry), so the replay goes
        on after them instead of feeding the detector readings older than it has seen.
        """
        self._hass = hass
        self._rows = rows
        self._resume_after = resume_after
        self._period = timedelta(seconds=rows[-1].offset - rows[0].offset + 10)
        self._anchor = dt_util.start_of_local_day() - PAST
        self._position = 0
        self._loops = 0
        self._unsub_tick: CALLBACK_TYPE | None = None
        self._rows_per_tick = replay_speed()

    def _reading(self, row: DemoRow) -> Reading:
        """A trace row as a reading stamped on the demo clock."""
        wall: datetime = self._anchor + timedelta(seconds=row.offset)
        instant = _instant(wall + self._loops * (self._period - PAST))
        return Reading(timestamp=instant, power=row.power, voltage=row.voltage, current=row.current)

    def past(self) -> list[HistoryRow]:
        """The trace's days before the replayed one as hourly rows (blocking: run in the executor).

        One row per hour of UTC, as the recorder's statistics are: the mean, minimum and
        maximum of the rows in it, stamped in Home Assistant's time zone (`wall_clock`).
        """
        readings = [self._reading(row) for row in self._rows[: self._first_replayed]]
        return [
            _hour_of(hour_epoch, [reading.power for reading in in_hour])
            for hour_epoch, in_hour in groupby(readings, lambda r: r.epoch - r.epoch % HOUR_S)
        ]

    @property
    def _first_replayed(self) -> int:
        """The index of the first row of the replayed day (the rows before it are the past)."""
        return next(i for i, row in enumerate(self._rows) if row.offset >= PAST.total_seconds())

    async def async_start(self, sink: ReadingSink) -> None:
        """Replay the last day one row a second, after where a restored detector stands.

        The first row goes at once, so the demo home shows its values right after setup.
        """
        self._position = self._first_replayed
        if self._resume_after is not None:  # after weeks of replay, seconds of rows to step over
            await self._hass.async_add_executor_job(self._skip_replay_to, self._resume_after)
        sink.async_add_readings(DEMO_HOME_ID, [self._next_reading()])

        @callback
        def replay_next(_now: datetime) -> None:
            readings = [self._next_reading() for _ in range(self._rows_per_tick)]
            sink.async_add_readings(DEMO_HOME_ID, readings)

        self._unsub_tick = async_track_time_interval(self._hass, replay_next, REPLAY_TICK)

    def _skip_replay_to(self, after: float) -> None:
        """Move the replay on to the first row stamped after `after` (epoch s); in the executor."""
        while True:
            loops, position = self._loops, self._position
            if self._next_reading().epoch > after:
                self._loops, self._position = loops, position
                return

    def _next_reading(self) -> Reading:
        """The next row; after the last one, the last day again, a day later."""
        if self._position == len(self._rows):
            self._loops += 1
            self._position = self._first_replayed
        reading = self._reading(self._rows[self._position])
        self._position += 1
        return reading

    async def async_stop(self) -> None:
        """Stop the replay."""
        if self._unsub_tick is not None:
            self._unsub_tick()
            self._unsub_tick = None

    def diagnostics(self) -> dict[str, Any]:
        """Where the replay is."""
        return {"source": "demo", "rows": len(self._rows), "position": self._position}


def _instant(wall: datetime) -> datetime:
    """The moment a time on the demo clock (a local wall time) is played at.

    The hour a spring night skips and the one after it are played together in that one real
    hour (minute m of the two at m / 2 minutes into it); the hour an autumn night repeats is
    stretched over both passes of it (minute m at 2 m minutes into them). In the demo clock's
    own zone (the wall time's): Home Assistant's may have changed since the replay began.
    """
    zone = wall.tzinfo
    earlier = wall - timedelta(hours=1)  # on the wall clock
    missing = next((time for time in (wall, earlier) if not _exists(time)), None)
    if missing is not None:
        skipped = missing.replace(minute=0, second=0, microsecond=0)
        played_from = dt_util.as_utc(skipped + timedelta(hours=2)) - timedelta(hours=1)
        return (played_from + (wall - skipped) / 2).astimezone(zone)
    if wall.replace(fold=1).utcoffset() == wall.utcoffset():
        return wall.astimezone(zone)
    hour = wall.replace(minute=0, second=0, microsecond=0, fold=0)
    return (dt_util.as_utc(hour) + 2 * (wall - hour)).astimezone(zone)


def _exists(wall: datetime) -> bool:
    """Whether a wall time happens in its zone (not in the hour a spring night skips)."""
    back = dt_util.as_utc(wall).astimezone(wall.tzinfo)
    return back.replace(tzinfo=None) == wall.replace(tzinfo=None)


def _hour_of(hour_epoch: float, powers: list[float]) -> HistoryRow:
    """The hourly row of the powers (W) read in the UTC hour starting at ``hour_epoch``."""
    return HistoryRow(
        start=wall_clock(hour_epoch),
        duration_s=HOUR_S,
        mean=sum(powers) / len(powers),
        minimum=min(powers),
        maximum=max(powers),
    )
