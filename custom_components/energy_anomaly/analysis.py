"""Analyse the past: what the detector would have flagged over recorded history.

A fresh detector sees the history as live readings: one a minute, the power interpolated between
the rows' midpoints (a step at every row's edge would look like a meter jumping; a value repeated
for a whole hour like a frozen one). It learns from the first two weeks as a new home would, so
what it finds from then on is what it would have flagged had it been running. Aggregates hide
what is shorter than a row: this finds lasting anomalies (a heater left on, a new nightly load,
a higher baseload), not a kettle's minutes. All rows are given to it the same way, so what it
learns and what it judges are alike (learning an hour's minimum but judging interpolated means
would call every night's baseload raised).

A night's quietest reading made from hourly means is the lowest hour's mean, which holds a share
of everything that cycles in that hour (a fridge's 100 W for a third of it): it moves by tens of
watts from night to night where the quietest minute moves by a few. Over rows of an hour or more
a baseload step must be `HOURLY_BASELOAD_STEP_W`, not the live check's 15 W, or two nights of
noise read as a raised baseload (a fridge that no longer stops, 50-100 W, is still found).

Runs in the executor: about 1.4 s of CPU for 30 days (44 days of readings with the two weeks
before), 3.8 s for the longest, 90 days (measured on the 2-core development machine).
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Final

import numpy as np

from .detector.config import HOUR_S, DetectorConfig
from .detector.engine import Detector
from .detector.model import Cause, Finding, HistoryRow, Kind, Reading, Sensitivity

READING_INTERVAL_S: Final = 60.0
# History run before the analysed window: the detector's two weeks of learning.
LEARNING_DAYS: Final = 14
# The smallest baseload step over rows of an hour or more (W): see the module docstring.
HOURLY_BASELOAD_STEP_W: Final = 40.0


@dataclass(frozen=True, slots=True)
class Episode:
    """One anomaly the detector would have raised: from its start until it cleared (or None)."""

    start: datetime
    end: datetime | None
    finding: Finding


def find_anomalies(
    rows: Sequence[HistoryRow],
    window_start: datetime,
    config: DetectorConfig,
    *,
    net: bool = False,
    sensitivity: Sensitivity = Sensitivity.NORMAL,
    silenced: frozenset[Kind] = frozenset(),
) -> list[Episode]:
    """The anomalies in ``rows`` (at least one) that are on at some time from ``window_start`` on.

    One raised in the window for a load begun before it (its start, the finding's `since`, is
    then before `window_start`) is one of them, and so is one still on when the window begins.

    An anomaly whose kind changes (a heater left on during a raised baseload) counts as two. A
    gap in the statistics is Home Assistant having been off, not a meter fault: not reported.
    With `net` the rows are a net power sensor's (below 0 while exporting): a reading's power
    is its positive part and its production the rest, as the live source splits them.
    The household's `sensitivity` and `silenced` kinds are the live detector's: what it
    would have flagged is what the home's own settings let through.
    """
    detector = Detector(_for_rows(config, rows, window_start))
    detector.set_sensitivity(sensitivity)
    for kind in silenced:
        detector.set_silenced(kind, True)
    episodes: list[Episode] = []
    current: Episode | None = None
    for reading in _readings(rows, net=net):
        finding = detector.update(reading).finding
        if current is not None and not _same_episode(current.finding, finding):
            episodes.append(Episode(current.start, reading.timestamp, current.finding))
            current = None
        if finding is not None and current is None:
            current = Episode(finding.since, None, finding)
    if current is not None:
        episodes.append(current)
    return [
        episode
        for episode in episodes
        if (episode.end is None or episode.end > window_start)
        and episode.finding.cause is not Cause.GAP
    ]


def _same_episode(current: Finding, finding: Finding | None) -> bool:
    """Whether `finding` goes on with `current`: the same kind, and a gap only with a gap.

    A gap is not reported, so a fault that follows one at once must start an episode of its own.
    """
    return (
        finding is not None
        and finding.kind is current.kind
        and (finding.cause is Cause.GAP) == (current.cause is Cause.GAP)
    )


def _for_rows(
    config: DetectorConfig, rows: Sequence[HistoryRow], window_start: datetime
) -> DetectorConfig:
    """`config` with the smallest baseload step and the shortest frozen value these rows allow.

    The recorder keeps 5-minute statistics for its last days only and hourly ones before: the
    weeks of hourly rows the detector learns the nights from decide the step. Readings hold one
    value for up to a row where two rows' means are equal, and for half a row at each side of a
    gap: a value is frozen only after the fault check's factor times the longest row analysed
    (from `window_start`; of the 5-minute days, their 5 minutes), as live it is after that factor
    times the longest run ever seen.
    """
    faults = config.faults
    analysed = [row.duration_s for row in rows if row.start >= window_start]
    longest_row_s = max(analysed or [row.duration_s for row in rows])
    stale_min_s = max(faults.stale_min_s, faults.stale_factor * longest_row_s)
    config = replace(config, faults=replace(faults, stale_min_s=stale_min_s))
    if all(row.duration_s < HOUR_S for row in rows):
        return config
    step = max(config.baseload.min_step_w, HOURLY_BASELOAD_STEP_W)
    return replace(config, baseload=replace(config.baseload, min_step_w=step))


def _segments(rows: Sequence[HistoryRow]) -> list[Sequence[HistoryRow]]:
    """``rows`` cut where one does not begin as the one before ends (the recorder was off)."""
    cuts = [
        index
        for index in range(1, len(rows))
        if rows[index].start.timestamp()
        != rows[index - 1].start.timestamp() + rows[index - 1].duration_s
    ]
    return [rows[a:b] for a, b in zip([0, *cuts], [*cuts, len(rows)], strict=True)]


def _readings(rows: Sequence[HistoryRow], *, net: bool) -> list[Reading]:
    """A reading a minute over ``rows`` (at least one), power interpolated between midpoints.

    Each reading keeps the clock (time zone) and outdoor temperature of its row; with
    `net`, negative power is production. Nothing is made up for a gap between rows (Home
    Assistant was off): interpolation stays within each run of contiguous rows.
    """
    readings = []
    for segment in _segments(rows):
        starts = np.array([row.start.timestamp() for row in segment])
        durations = np.array([row.duration_s for row in segment])
        means = np.array([row.mean for row in segment])
        times = np.arange(starts[0], starts[-1] + durations[-1], READING_INTERVAL_S)
        powers = np.interp(times, starts + durations / 2, means)
        owners = np.searchsorted(starts, times, side="right") - 1
        for time, power, owner in zip(
            times.tolist(), powers.tolist(), owners.tolist(), strict=True
        ):
            row = segment[owner]
            # From the epoch, not `row.start + timedelta`: added to a time in a zone, a timedelta
            # counts on the wall clock, and the hour the clocks repeat would be passed over
            timestamp = datetime.fromtimestamp(time, row.start.tzinfo)
            readings.append(_reading(timestamp, power, row.temperature, net=net))
    return readings


def _reading(timestamp: datetime, power: float, temperature: float | None, *, net: bool) -> Reading:
    """A reading of `power`; with `net`, its negative part is production."""
    if net:
        return Reading(timestamp, max(power, 0.0), max(-power, 0.0), temperature=temperature)
    return Reading(timestamp, power, temperature=temperature)
