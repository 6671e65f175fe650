"""Baseline scorers: anything with `update(reading) -> Result` is a scorer.

(a) `RcfScorer`: a plain streaming Random Cut Forest on raw power, as a Flink/Kinesis RCF pipeline
    does it: a shingle of recent power values, CoDisp score, threshold. Pure-Python rrcf costs
    ~17 ms per point with 40 trees x 256 leaves, far too slow for 1.45 M readings, so the forest
    is fed 1-minute mean power and is smaller (defaults: 8 trees x 64 leaves, shingle of 4 min).
(b) `HalfHourRules`: fixed rules on the energy of each clock half-hour.
(c) `WeightedAverage`: hourly prediction from a weighted average of the same hour on previous days,
    Gaussian threshold on the residual.
(d) PARX alone: `custom_components.energy_anomaly.detector.parx.Parx`.
"""

from __future__ import annotations

from collections import deque
import importlib.util
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from custom_components.energy_anomaly.detector.model import (
    Cause,
    Finding,
    Kind,
    Reading,
    Result,
    Status,
)

if TYPE_CHECKING:
    from types import ModuleType


def insert_and_score(forest: list[Any], point: Any, index: int, tree_size: int) -> float:
    """rrcf as its documentation streams: forget the oldest point, insert, mean CoDisp."""
    total = 0.0
    for tree in forest:
        if len(tree.leaves) > tree_size:
            tree.forget_point(index - tree_size - 1)
        tree.insert_point(point, index=index)
        total += tree.codisp(index)
    return float(total / len(forest))


def load_rrcf() -> ModuleType:
    """`import rrcf`, or its core module directly when the package's pkg_resources import fails."""
    try:
        import rrcf  # noqa: PLC0415

        return rrcf
    except ImportError:
        spec = importlib.util.find_spec("rrcf")
        if spec is None or not spec.submodule_search_locations:
            raise
        path = f"{next(iter(spec.submodule_search_locations))}/rrcf.py"
        core = importlib.util.spec_from_file_location("rrcf_core", path)
        if core is None or core.loader is None:
            raise
        module = importlib.util.module_from_spec(core)
        core.loader.exec_module(module)
        return module


def _local_seconds(reading: Reading) -> float:
    ts = reading.timestamp
    off = ts.utcoffset()
    return ts.timestamp() + (off.total_seconds() if off is not None else 0.0)


class RcfScorer:
    """Streaming RCF over a shingle of 1-minute mean power; alarm when CoDisp > mean + k*std."""

    def __init__(
        self,
        *,
        num_trees: int = 8,
        tree_size: int = 64,
        shingle: int = 4,
        k: float = 4.0,
        warmup_minutes: int = 1440,
        seed: int = 0,
    ) -> None:
        rrcf = load_rrcf()
        np.random.seed(seed)  # rrcf draws its cuts from numpy's global generator
        self.forest = [rrcf.RCTree() for _ in range(num_trees)]
        self.tree_size = tree_size
        self.k = k
        self.warmup = warmup_minutes
        self.window: deque[float] = deque(maxlen=shingle)
        self.minute: int | None = None
        self.acc = 0.0
        self.cnt = 0
        self.index = 0
        self.n = 0
        self.mean = 0.0
        self.m2 = 0.0
        self.score = 0.0
        self.anomaly = False

    def _push(self, value: float) -> None:
        self.window.append(value)
        if len(self.window) < (self.window.maxlen or 1):
            return
        score = insert_and_score(self.forest, np.array(self.window), self.index, self.tree_size)
        self.index += 1
        self.score = score
        if self.n >= self.warmup:
            std = math.sqrt(self.m2 / (self.n - 1))
            self.anomaly = score > self.mean + self.k * std
        # running mean/std of all scores (Welford)
        self.n += 1
        d = score - self.mean
        self.mean += d / self.n
        self.m2 += d * (score - self.mean)

    def update(self, reading: Reading) -> Result:
        minute = int(reading.timestamp.timestamp()) // 60
        if self.minute is not None and minute != self.minute:
            self._push(self.acc / self.cnt)
            self.acc = 0.0
            self.cnt = 0
        self.minute = minute
        self.acc += reading.power
        self.cnt += 1
        status = Status.ACTIVE if self.n >= self.warmup else Status.LEARNING
        return verdict(reading, self.score, self.anomaly, status)


class HalfHourRules:
    """Fixed rules on the energy of the running clock half-hour (alarm as soon as it is exceeded).

    > 2.0 kWh in any half-hour; > 0.5 kWh in a half-hour between 02:00 and 05:00; > 1.5 kWh in a
    half-hour between 09:00 and 17:00 on Saturday and Sunday.
    """

    def __init__(self, max_gap_s: float = 60.0) -> None:
        self.slot: int | None = None
        self.wh = 0.0
        self.last_t: float | None = None
        self.last_p = 0.0
        self.max_gap = max_gap_s
        self.limit = 2000.0

    def _limit(self, local: float) -> float:
        day = int(local // 86_400)
        hour = (local % 86_400) / 3600
        weekend = (day + 3) % 7 >= 5  # 1970-01-01 was a Thursday
        limit = 2000.0
        if 2 <= hour < 5:
            limit = min(limit, 500.0)
        if weekend and 9 <= hour < 17:
            limit = min(limit, 1500.0)
        return limit

    def update(self, reading: Reading) -> Result:
        t = reading.timestamp.timestamp()
        local = _local_seconds(reading)
        slot = int(local // 1800)
        if self.last_t is not None:
            self.wh += self.last_p * min(t - self.last_t, self.max_gap) / 3600
        if slot != self.slot:
            self.slot = slot
            self.wh = 0.0
            self.limit = self._limit(local)
        self.last_t = t
        self.last_p = reading.power
        anomaly = self.wh > self.limit
        return verdict(reading, self.wh / self.limit, anomaly, Status.ACTIVE)


class WeightedAverage:
    """Hourly prediction = weighted average of the same hour on the previous `days` days (weights
    days, days-1, ..., 1, most recent first); flag the hour when its residual lies outside
    mean +- k*std of the past residuals of that hour of day (last `history` days)."""

    def __init__(
        self, days: int = 5, k: float = 3.0, history: int = 28, min_residuals: int = 7
    ) -> None:
        self.days = days
        self.k = k
        self.history = history
        self.min_residuals = min_residuals
        self.hour_key: int | None = None
        self.acc = 0.0
        self.cnt = 0
        self.means: dict[int, float] = {}  # local hour index -> mean power
        self.residuals: dict[int, deque[float]] = {h: deque(maxlen=history) for h in range(24)}
        self.anomaly = False
        self.score = 0.0
        self.expected: float | None = None

    def _close(self, key: int, value: float) -> None:
        self.means[key] = value
        past = [
            (w, self.means.get(key - 24 * d))
            for d, w in zip(range(1, self.days + 1), range(self.days, 0, -1), strict=True)
        ]
        avail = [(w, v) for w, v in past if v is not None]
        self.anomaly = False
        self.score = 0.0
        if len(avail) < 3:
            return
        pred = sum(w * v for w, v in avail) / sum(w for w, _ in avail)
        self.expected = pred
        r = value - pred
        res = self.residuals[key % 24]
        if len(res) >= self.min_residuals:
            arr = np.fromiter(res, float)
            mu = float(arr.mean())
            sd = max(float(arr.std(ddof=1)), 10.0)
            self.score = abs(r - mu) / sd
            self.anomaly = self.score > self.k
        res.append(r)

    def update(self, reading: Reading) -> Result:
        key = int(_local_seconds(reading) // 3600)
        if self.hour_key is not None and key != self.hour_key and self.cnt:
            self._close(self.hour_key, self.acc / self.cnt)
            self.acc = 0.0
            self.cnt = 0
        self.hour_key = key
        self.acc += reading.power
        self.cnt += 1
        status = Status.ACTIVE if self.expected is not None else Status.LEARNING
        return verdict(reading, self.score, self.anomaly, status, self.expected)


def verdict(
    reading: Reading, score: float, anomaly: bool, status: Status, expected: float | None = None
) -> Result:
    """A baseline's verdict as the engine's Result: an unusual-consumption finding while on."""
    finding = (
        Finding(
            Kind.UNUSUAL_CONSUMPTION,
            Cause.HIGH_CONSUMPTION,
            score,
            reading.timestamp,
            reading.power,
            expected,
        )
        if anomaly
        else None
    )
    return Result(reading.timestamp, score, status, reading.power, expected, finding=finding)


def describe(scorer: Any) -> str:
    """One line for the report on how a baseline is configured."""
    if isinstance(scorer, RcfScorer):
        return (
            f"rrcf {len(scorer.forest)} trees x {scorer.tree_size} leaves on 1-min mean power, "
            "shingle "
            f"{scorer.window.maxlen}, alarm when CoDisp > mean + {scorer.k:g} std (after 1 day)"
        )
    if isinstance(scorer, WeightedAverage):
        return (
            f"hourly mean power vs weighted mean of same hour on previous {scorer.days} days, "
            f"|residual - mean| > {scorer.k:g} std of that hour's past residuals"
        )
    if type(scorer).__name__ == "Parx":
        m = scorer.model
        return (
            f"PARX p={m.p} with temperature terms when given, refit daily, KSC distance over "
            "the last "
            f"{m.window} h (shift +-1 h), alarm when P < {m.threshold:g} and the distance is rising"
        )
    if isinstance(scorer, HalfHourRules):
        return (
            "running clock half-hour energy > 2.0 kWh | > 0.5 kWh 02-05 h "
            "| > 1.5 kWh weekend 09-17 h"
        )
    return type(scorer).__name__
