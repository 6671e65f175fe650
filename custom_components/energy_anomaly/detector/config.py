"""Tuning knobs of the detector, with defaults meant for a Tibber Pulse (a reading every 2-10 s)."""

from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass(frozen=True, slots=True)
class DetectorConfig:
    """How the detector windows, learns and decides. Durations are in seconds (plain JSON).

    window_seconds: readings are averaged over fixed windows of this length; the forest sees one
        point per window, never one per reading, so it stays cheap and ignores meter jitter.
    learning_seconds: how much data (time covered by readings) must be seen before any alarm.
        Two days: the first teaches the typical power of each hour of the day, the second
        teaches the forest how this home departs from it (dinner, breakfast, the dishwasher).
    min_windows: and how many windows the forest must have scored, so that sparse input (one
        reading an hour) cannot end learning on a handful of points.
    max_gap_seconds: silence longer than this counts only this much towards learning.
    shingle: how many consecutive windows a load must be on for its excess to count as sustained
        (the forest's main feature); a kettle or a toaster never is.
    trees, tree_size: the forest; each tree keeps the latest `tree_size` points (~34 h of minutes).
        Eight trees keep the score steady enough; each costs ~0.1 ms per window.
    time_weight: how far apart opposite times of day are, in the excess's units (log2 of power);
        lets the forest learn that a sustained excess usual at dinner is unusual at 03:00.
    score_memory, score_quantile, threshold_margin: the alarm threshold is this quantile of the
        last `score_memory` window scores (three days), times the margin; the home sets its own
        bar. The quantile is high on purpose: a daily routine (the oven at dinner) is a few
        windows a day, and it must stay below the bar.
    persistence: the alarm follows the median score of this many windows, so one noisy window
        neither raises nor ends it.
    hold_out_windows: an unusual run's windows are kept out of the forest for at most this many
        windows (6 h), so the forest does not learn an anomaly as normal while it lasts; a run
        longer than that is taken as the home's new normal.
    release: the alarm, and the run of unusual windows, end when scores fall below this
        fraction of the threshold.
    profile_days: roughly how many days the per-hour typical power remembers.
    """

    window_seconds: float = 60.0
    learning_seconds: float = 48 * 3600.0
    min_windows: int = 60
    max_gap_seconds: float = 3600.0
    shingle: int = 5
    trees: int = 8
    tree_size: int = 2048
    time_weight: float = 1.0
    score_memory: int = 4320
    score_quantile: float = 0.998
    threshold_margin: float = 1.5
    persistence: int = 5
    hold_out_windows: int = 360
    release: float = 0.5
    profile_days: float = 7.0

    def to_dict(self) -> dict[str, Any]:
        """The config as plain data, for the stored state."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DetectorConfig:
        """Rebuild a stored config; keys a later version dropped are ignored."""
        known = {field.name for field in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})
