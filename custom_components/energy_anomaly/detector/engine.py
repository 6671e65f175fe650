"""The detector: live readings in, a verdict per reading out, learning the home as it goes.

Readings are averaged into fixed time windows (a minute by default). Each window's mean power
is compared with the typical power at that hour of the day (a per-hour profile), and the forest
point of the window is how far power has stayed above the usual over the last few windows
(a "sustained excess", so a kettle does not count but a heater left on does), plus the time of
day. The point's collusive displacement in a robust random cut forest (CoDisp: how much the
forest's structure depends on it) divided by a threshold learned from the home's own scores is
the anomaly score. A run of high scores raises the alarm (never during the learning period); it
is kept out of the forest while it lasts, so it stays unusual, and learned once it is over.

Times of day are the readings' own wall clock: pass local timestamps (Tibber does).
"""

from collections import deque
from typing import Any

from .alarm import KIND, Alarm, AlarmConfig
from .config import DetectorConfig
from .features import point, power_level
from .forest import Forest
from .model import Reading, Result, Status
from .profile import HourlyProfile, hour_key
from .threshold import ScoreThreshold
from .windows import Window, WindowAccumulator

STATE_VERSION = 1


class Detector:
    """Streaming anomaly detector for one home. Not thread-safe: feed it from one worker."""

    def __init__(self, config: DetectorConfig | None = None, seed: int = 0) -> None:
        """Create a detector that has learned nothing yet."""
        self.config = config or DetectorConfig()
        self._seed = seed
        self._windows = WindowAccumulator(self.config.window_seconds)
        self._excesses: deque[float] = deque(maxlen=self.config.shingle)
        self._forest = Forest(self.config.trees, self.config.tree_size, seed)
        self._threshold = ScoreThreshold(
            self.config.score_memory, self.config.score_quantile, self.config.threshold_margin
        )
        self._profile = HourlyProfile(self.config.profile_days)
        self._alarm = Alarm()
        self._alarm_config = AlarmConfig(
            self.config.persistence,
            self.config.release,
            (self.config.shingle - 1) * self.config.window_seconds,
        )
        self._held: list[list[float]] = []
        self._last_epoch: float | None = None
        self._learned_seconds = 0.0
        self._scored_windows = 0
        self._score = 0.0

    @property
    def status(self) -> Status:
        """ACTIVE once enough data was seen to trust the threshold; it never goes back."""
        return Status.ACTIVE if self.learning_progress >= 1.0 else Status.LEARNING

    @property
    def learning_progress(self) -> float:
        """How much of the learning period is done, from 0 to 1, by time covered.

        It stops short of 1 until the forest has scored `min_windows` windows, which only
        matters for very sparse input.
        """
        done = min(1.0, self._learned_seconds / self.config.learning_seconds)
        return done if self._scored_windows >= self.config.min_windows else min(done, 0.99)

    def update(self, reading: Reading) -> Result:
        """Take one reading (in time order) and return the verdict right after it.

        A reading older than the previous one is not learned from; it gets the current verdict.
        """
        epoch = reading.timestamp.timestamp()
        if self._last_epoch is None or epoch >= self._last_epoch:
            if self._last_epoch is not None:
                gap = min(epoch - self._last_epoch, self.config.max_gap_seconds)
                self._learned_seconds += gap
            self._last_epoch = epoch
            window = self._windows.add(epoch, reading.power, reading.timestamp.tzinfo)
            if window is not None:
                self._on_window(window)
        return self._result(reading)

    def _on_window(self, window: Window) -> None:
        """Score a completed window against its hour's typical power, then learn from it.

        Until the hour's typical power is known (a day), the window only feeds the profile:
        an excess over nothing carries no information and would teach the forest that any
        excess is unusual.
        """
        expected = self._profile.expected(window.start.hour)
        if expected is not None:
            excess = power_level(window.mean_power) - power_level(expected)
            self._excesses.append(max(excess, 0.0))
            if len(self._excesses) == self.config.shingle:
                self._score_window(window, expected)
        self._profile.update(hour_key(window.start), window.mean_power)

    def _score_window(self, window: Window, expected: float) -> None:
        """Score the window's point in the forest, update the alarm and learn the point."""
        self._scored_windows += 1
        values = point(self._excesses, window.start, self.config.time_weight)
        codisp = self._forest.insert(values)
        threshold = self._threshold.value
        self._score = 0.0 if threshold is None else codisp / threshold
        if self.status is Status.ACTIVE:
            self._alarm.update(window, self._score, expected, self._alarm_config)
        self._hold_or_learn(values)
        if not self._alarm.on:
            self._threshold.add(codisp)

    def _hold_or_learn(self, values: list[float]) -> None:
        """Keep an unusual run's points out of the forest until the run is over.

        Otherwise the forest learns a stuck-on heater within minutes and stops finding it
        unusual. Once the run is over its points are learned, so a routine seen for the first
        time (a new dinner habit) is less unusual the next day. A run longer than
        `hold_out_windows` is taken as a new normal and learned from then on.
        """
        if self._alarm.in_run and self._alarm.run_windows <= self.config.hold_out_windows:
            self._forest.unlearn_newest()
            self._held.append(values)
            return
        for held in self._held:
            self._forest.learn(held)
        self._held.clear()

    def _result(self, reading: Reading) -> Result:
        """The current verdict, stamped with `reading`."""
        on = self._alarm.on
        return Result(
            timestamp=reading.timestamp,
            score=self._score,
            anomaly=on,
            status=self.status,
            observed=reading.power,
            expected=self._profile.expected(reading.timestamp.hour),
            kind=KIND if on else None,
            reason=self._alarm.reason,
        )

    def to_state(self) -> dict[str, Any]:
        """Everything learned, as JSON-ready plain data (a few hundred kB at most)."""
        return {
            "version": STATE_VERSION,
            "config": self.config.to_dict(),
            "seed": self._seed,
            "last_epoch": self._last_epoch,
            "learned_seconds": self._learned_seconds,
            "scored_windows": self._scored_windows,
            "score": round(self._score, 4),
            "window": self._windows.to_state(),
            "excesses": [round(excess, 4) for excess in self._excesses],
            "forest": self._forest.to_state(),
            "held": list(self._held),
            "scores": self._threshold.to_state(),
            "profile": self._profile.to_state(),
            "alarm": self._alarm.to_state(),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Detector:
        """Restore a detector saved by `to_state`, learning status and all.

        Raises ValueError for a state written by an unknown format version.
        """
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"unsupported detector state version {state.get('version')!r}")
        detector = cls(DetectorConfig.from_dict(state["config"]), state["seed"])
        detector._restore(state)
        return detector

    def _restore(self, state: dict[str, Any]) -> None:
        """Load the learned parts of `state` into this freshly created detector."""
        config = self.config
        self._last_epoch = state["last_epoch"]
        self._learned_seconds = state["learned_seconds"]
        self._scored_windows = state["scored_windows"]
        self._score = state["score"]
        self._windows = WindowAccumulator.from_state(config.window_seconds, state["window"])
        self._excesses.extend(state["excesses"])
        self._forest = Forest(
            config.trees, config.tree_size, self._seed, state["forest"], self._scored_windows
        )
        self._held = [list(values) for values in state["held"]]
        self._threshold = ScoreThreshold(
            config.score_memory, config.score_quantile, config.threshold_margin, state["scores"]
        )
        self._profile = HourlyProfile(config.profile_days, state["profile"])
        self._alarm = Alarm.from_state(state["alarm"])
