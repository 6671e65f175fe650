"""Learning from coarse history: hourly or 5-minute aggregates (mean, and min/max when known).

A new home need not wait two weeks: the recorder's statistics or Tibber's hourly consumption of
the weeks before teach each check what an aggregate can tell it.

- new_pattern (PARX) works on hourly means: exact (5-minute rows are averaged into hours).
- unusual_consumption keeps per 10-minute slot the highest running mean of each tier (5, 15 and
  60 min). Where the rows are no longer than a tier and contiguous, the running mean at the end of
  a row is the mean of the last rows: exact (5-minute rows give every tier exactly, hourly rows the
  60-minute one). Where a row is longer than the tier (an hour against 15 minutes) the tier's peak
  within the row is only bounded: it is at most the row's maximum (no 15-minute mean exceeds the
  largest value in it) and at least its mean. The maximum is used when known (the envelope is then
  generous: fewer alarms, none false from the approximation). Without it the tier is left unknown
  for that hour: the mean is far too tight (a 20-minute dinner oven is a third of the hour's mean,
  and every dinner would look unusual: 2.5 instead of 0.6 false alarms per home-week in
  `benchmarks/first_days.py`). The level fills every slot the row covers.
- baseload takes a night's quietest power from the rows' minima (exact when the minimum is of
  1-minute means; the recorder's minimum of raw values is a little lower), or from 5-minute means
  (a little higher); hourly means alone say nothing about it.
- meter_fault learns the home's smallest draw from the minima: the second-smallest, as one odd
  reading (a meter's 0.5 W at a transition) can be a row's minimum.

Rows must come in time order and before the detector's first live reading; a row that overlaps
the previous one, is aligned to its duration neither on the wall clock nor in UTC, or whose mean
is implausible is skipped (one aligned in UTC only is cut into parts, `on_the_wall_clock`). An
implausible minimum, maximum or temperature costs only itself (`plausible_values`), as a live
reading's optional values do.
Temperatures teach the heating slope and PARX's degree terms as live ones do.
"""

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from itertools import pairwise
import math

from .baseload import BaseloadCheck
from .check import Mean, local_seconds
from .config import HOUR_S, MINUTE_S, DetectorConfig
from .consumption import ConsumptionCheck
from .faults import FaultCheck
from .model import HistoryRow, HistorySummary
from .parx import PatternCheck
from .validation import EARLIEST, MAX_POWER_W, MAX_TEMPERATURE_C, MIN_TEMPERATURE_C

MINUTES_PER_DAY = 1440
ROUNDING_W = 1.0  # min <= mean <= max may be off by this much in rounded statistics


def row_problem(row: HistoryRow) -> str | None:
    """Why a history row cannot be learned from, or None when it is plausible."""
    start, duration = row.start, row.duration_s
    if start.tzinfo is None or start.utcoffset() is None or start < EARLIEST:
        return "its start has no UTC offset or is before 2000"
    if not (MINUTE_S <= duration <= HOUR_S and HOUR_S % duration == 0 and duration % MINUTE_S == 0):
        return f"its duration {duration!r} s is not whole minutes dividing an hour"
    if local_seconds(start) % duration and start.timestamp() % duration:
        return "its start is not aligned to its duration"
    if local_seconds(start) % MINUTE_S:  # a local mean time of old (+00:19:32): parts of seconds
        return "its UTC offset is not whole minutes"
    return _value_problem(row)


def on_the_wall_clock(row: HistoryRow) -> list[HistoryRow]:
    """`row` as rows aligned to their duration on the home's wall clock.

    The recorder's statistics start on whole UTC hours: where the clock is a half or three
    quarters of an hour off UTC (India, Newfoundland, South Australia, Nepal) an hourly row
    starts at :30 or :45 and would cross a wall-clock hour (and midnight). It is cut into equal
    parts that do not (two of 30 minutes, four of 15), each with the row's values. Parts are
    counted in UTC: a row in a time zone (as the recorder's) gets each part's own offset on a
    daylight-saving day (a row with a fixed offset keeps it: one part is stamped half an hour off
    on that day).
    """
    offset = int(local_seconds(row.start) % row.duration_s)
    if not offset:
        return [row]
    part = math.gcd(int(row.duration_s), offset)
    start, zone = row.start.astimezone(UTC), row.start.tzinfo
    return [
        replace(
            row,
            start=(start + timedelta(seconds=index * part)).astimezone(zone),
            duration_s=float(part),
        )
        for index in range(int(row.duration_s) // part)
    ]


def plausible_values(row: HistoryRow) -> HistoryRow:
    """`row` without an implausible minimum, maximum or temperature (each None; NaN is one).

    A broken outdoor sensor's -127 °C, or a meter whose minimum dips a few watts below 0 (a
    clamp's offset), must not cost the hour's power: a live reading keeps its power too.
    """

    def power(watts: float | None) -> float | None:
        return watts if watts is not None and 0.0 <= watts <= MAX_POWER_W else None

    temperature = row.temperature
    if temperature is not None and not MIN_TEMPERATURE_C <= temperature <= MAX_TEMPERATURE_C:
        temperature = None
    return replace(
        row, minimum=power(row.minimum), maximum=power(row.maximum), temperature=temperature
    )


def _value_problem(row: HistoryRow) -> str | None:
    """Mean power out of range (NaN fails), or minimum > mean > maximum."""
    if not 0.0 <= row.mean <= MAX_POWER_W:
        return "its power is not plausible"
    values = [v for v in (row.minimum, row.mean, row.maximum) if v is not None]
    if any(b < a - ROUNDING_W for a, b in pairwise(values)):
        return "its minimum, mean and maximum are not in order"
    return None


@dataclass(slots=True)
class _Night:
    """The night being collected: its quietest power, the temperature then, minutes covered."""

    night: int
    minimum: float | None = None
    temperature: float | None = None
    minutes: int = 0


@dataclass(slots=True)
class _Hour:
    """The local hour being averaged for PARX (weighted by the rows' minutes)."""

    index: int
    power: Mean = field(default_factory=Mean)
    temperature: Mean = field(default_factory=Mean)


class HistoryLearner:
    """Feeds history rows, in time order, to the checks that can learn from them."""

    def __init__(
        self,
        config: DetectorConfig,
        faults: FaultCheck,
        consumption: ConsumptionCheck,
        pattern: PatternCheck,
        baseload: BaseloadCheck,
        *,
        after: float | None,
    ) -> None:
        """Learn into these checks; rows must start at or after `after` (epoch s), if given."""
        self._config = config
        self._faults = faults
        self._consumption = consumption
        self._pattern = pattern
        self._baseload = baseload
        self._end = after
        self._after = after
        self._recent: deque[float] = deque(maxlen=max(t.minutes for t in config.consumption.tiers))
        self._recent_minutes = 0  # length of one row in `_recent` (rows of one size only)
        self._hour: _Hour | None = None
        self._night: _Night | None = None
        self._days: set[int] = set()
        # The two lowest positive row minima (W) at any hour and in the dark hours: the second
        # is the least the home drew, as one odd reading can be a row's minimum (see faults.py)
        self._least: tuple[list[float], list[float]] = ([], [])
        self._used = self._skipped = 0

    def learn(self, rows: Iterable[HistoryRow]) -> HistorySummary:
        """Learn every plausible row in time order; say how many days and rows were used."""
        last: HistoryRow | None = None
        for given in rows:
            row = plausible_values(given)
            start = row.start.timestamp()
            if row_problem(row) is not None or (self._end is not None and start < self._end):
                self._skipped += 1
                continue
            self._used += 1
            for part in on_the_wall_clock(row):
                self._learn_row(part, contiguous=self._end == part.start.timestamp())
                self._end = part.start.timestamp() + part.duration_s
            last = row
        self._close_hour()
        self._close_night()
        self._learn_least()
        end = None
        if last is not None:
            end = datetime.fromtimestamp(
                last.start.timestamp() + last.duration_s, last.start.tzinfo
            )
            self._consumption.finish_history(end.date().toordinal())
        return HistorySummary(len(self._days), self._used, self._skipped, end)

    def _learn_row(self, row: HistoryRow, *, contiguous: bool) -> None:
        minutes = int(row.duration_s // MINUTE_S)
        local_minute = int(local_seconds(row.start) // MINUTE_S)
        day = row.start.date().toordinal()
        if not self._continues_learned_day(row):
            self._days.add(day)
        self._consumption.learn_aggregate(
            day,
            local_minute % MINUTES_PER_DAY,
            minutes,
            self._levels(row, minutes, contiguous=contiguous),
            row.mean,
            row.temperature,
        )
        self._add_to_hour(local_minute // 60, row, minutes)
        self._add_to_night(row, minutes)
        if row.minimum is None:
            return
        self._faults.learn_history_minimum(row.minimum, row.duration_s)
        if row.minimum > 0:
            for least in self._least[: 1 + self._faults.is_dark(row.start.hour)]:
                least[:] = sorted([*least, row.minimum])[:2]

    def _learn_least(self) -> None:
        """Teach the zero rule the least the history drew (at any hour, in the dark hours)."""
        for dark, least in enumerate(self._least):
            if least:
                self._faults.learn_min_draw(least[-1], dark=bool(dark))

    def _continues_learned_day(self, row: HistoryRow) -> bool:
        """Whether the row is on the day an earlier `learn` ended in (that day is counted once)."""
        if self._after is None:
            return False
        previous = datetime.fromtimestamp(self._after - MINUTE_S, row.start.tzinfo)
        return previous.date() == row.start.date()

    def _levels(self, row: HistoryRow, minutes: int, *, contiguous: bool) -> list[float | None]:
        """Each tier's running mean at the row's end: exact when rows fit the tier, else bounded.

        None for a tier shorter than the row when the row has no maximum: nothing bounds it.
        """
        if not contiguous or minutes != self._recent_minutes:
            self._recent.clear()
            self._recent_minutes = minutes
        self._recent.append(row.mean)
        recent = list(self._recent)
        levels: list[float | None] = []
        for tier in self._config.consumption.tiers:
            if minutes > tier.minutes:
                levels.append(row.maximum)
                continue
            window = recent[-(tier.minutes // minutes) :]
            levels.append(sum(window) / len(window))
        return levels

    def _add_to_hour(self, index: int, row: HistoryRow, minutes: int) -> None:
        if self._hour is not None and self._hour.index != index:
            self._close_hour()
        if self._hour is None:
            self._hour = _Hour(index)
        self._hour.power.add(row.mean, minutes)
        if row.temperature is not None:
            self._hour.temperature.add(row.temperature, minutes)

    def _close_hour(self) -> None:
        hour, self._hour = self._hour, None
        if hour is not None and (power := hour.power.mean) is not None:
            self._pattern.model.add_hour(hour.index, power, hour.temperature.mean)

    def _add_to_night(self, row: HistoryRow, minutes: int) -> None:
        """Count the row towards its night when it tells the night's quietest power."""
        c = self._config.baseload
        if not c.night_start_hour <= row.start.hour < c.night_end_hour:
            return
        quietest = row.minimum
        if quietest is None and minutes * MINUTE_S < HOUR_S:
            quietest = row.mean  # a 5-minute mean: near the quietest minute, a little above
        if quietest is None or quietest <= 0:  # zeros are faults or export, as live
            return
        night = row.start.date().toordinal()
        if self._night is not None and self._night.night != night:
            self._close_night()
        if self._night is None:
            self._night = _Night(night)
        n = self._night
        n.minutes += minutes
        if n.minimum is None or quietest < n.minimum:
            n.minimum, n.temperature = quietest, row.temperature

    def _close_night(self) -> None:
        night, self._night = self._night, None
        if night is not None and night.minimum is not None:
            self._baseload.learn_night(night.night, night.minimum, night.temperature, night.minutes)
