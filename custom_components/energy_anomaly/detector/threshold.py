"""The alarm threshold, learned from the home's own recent anomaly scores."""

from collections import deque
from collections.abc import Iterable

import numpy as np

# Fewer scores than this say too little about the tail to set a threshold.
_MIN_SCORES = 30


class ScoreThreshold:
    """A high quantile of the last `memory` window scores, times a margin.

    Every home (and every forest size) has its own score scale, so a fixed bar would either miss
    anomalies or alarm daily; the quantile tracks what is rare for this home. Windows scored while
    the alarm is on are left out so an anomaly does not raise the bar against itself.
    """

    def __init__(
        self, memory: int, quantile: float, margin: float, scores: Iterable[float] = ()
    ) -> None:
        """Start from previously kept `scores`, if any."""
        self._scores: deque[float] = deque(scores, maxlen=memory)
        self._quantile = quantile
        self._margin = margin
        self._value = self._compute()

    @property
    def value(self) -> float | None:
        """The current threshold, None while too few scores were seen."""
        return self._value

    def add(self, score: float) -> None:
        """Remember a normal window's score and update the threshold."""
        self._scores.append(score)
        self._value = self._compute()

    def _compute(self) -> float | None:
        if len(self._scores) < _MIN_SCORES:
            return None
        quantile = float(np.quantile(np.fromiter(self._scores, float), self._quantile))
        return max(quantile, 1.0) * self._margin

    def to_state(self) -> list[float]:
        """The kept scores, rounded (oldest first)."""
        return [round(score, 2) for score in self._scores]
