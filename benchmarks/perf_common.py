"""Shared pieces of the footprint benchmark: streams at 10 s and 2 s, naive rrcf, statistics.

Not a test module (pytest collects only `benchmarks/test_*.py`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
import json
import math
import os
import platform
import sys
import time
from typing import Any

import numpy as np

from custom_components.energy_anomaly.detector.model import Reading

from .baselines import insert_and_score, load_rrcf
from .streams import DAY, HOMES, START, STEP, Stream, build

# --------------------------------------------------------------------------------------------
# Streams

DEFAULT_HOME = 0  # flat_panel_heating: three phases, temperature, 42 kWh/day


_STREAMS: dict[int, Stream] = {}


def stream(home: int = DEFAULT_HOME) -> Stream:
    """One benchmark home's 42-day stream at 10 s (built once per process, about 1.5 s)."""
    if home not in _STREAMS:
        _STREAMS[home] = build(HOMES[home])
    return _STREAMS[home]


def _none(x: float) -> float | None:
    return None if math.isnan(x) else x


def readings_10s(
    s: Stream, first_day: float, days: float, *, temperature: bool = True
) -> list[Reading]:
    """The stream's own 10-s readings for days [first_day, first_day + days) (repeated past
    the stream's end)."""
    return list(iter_readings_10s(s, first_day, days, temperature=temperature))


def iter_readings_10s(
    s: Stream, first_day: float, days: float, *, temperature: bool = True
) -> Iterator[Reading]:
    """Like `readings_10s`, one day at a time (for memory measurements).

    Days past the stream's end repeat it (42 days = 6 whole weeks, so weekdays stay aligned),
    with timestamps moved on: streams of any length.
    """
    length = int(s.t[-1] // DAY) + 1
    day = first_day
    while day < first_day + days:
        if day >= length:
            laps, within = divmod(day, length)
            shift = int(laps) * length * DAY
            for r in iter_readings_10s(
                s, within, min(1.0, first_day + days - day), temperature=temperature
            ):
                yield Reading(
                    timestamp=r.timestamp + timedelta(seconds=shift),
                    power=r.power,
                    power_production=r.power_production,
                    voltage=r.voltage,
                    current=r.current,
                    temperature=r.temperature,
                )
            day += 1.0
            continue
        span = min(1.0, first_day + days - day)
        i0, i1 = np.searchsorted(s.t, [day * DAY, (day + span) * DAY])
        yield from _readings(
            s,
            s.t[i0:i1],
            s.power[i0:i1],
            None if s.production is None else s.production[i0:i1],
            s.voltage[i0:i1],
            s.current[i0:i1],
            s.temperature[i0:i1] if (temperature and s.temperature is not None) else None,
        )
        day += span


def readings_2s(
    s: Stream, first_day: float, days: float, *, temperature: bool = True
) -> list[Reading]:
    """The stream linearly interpolated to one reading every 2 s (a Pulse's pace).

    Power is rounded to whole watts like the Pulse reports it; gaps in the 10-s stream (meter
    faults) stay gaps. Days past the stream's end repeat it, as in `iter_readings_10s`.
    """
    length = int(s.t[-1] // DAY) + 1
    laps = int(first_day // length)
    if laps:
        shift = timedelta(days=laps * length)
        return [
            Reading(
                timestamp=r.timestamp + shift,
                power=r.power,
                power_production=r.power_production,
                voltage=r.voltage,
                current=r.current,
                temperature=r.temperature,
            )
            for r in readings_2s(s, first_day - laps * length, days, temperature=temperature)
        ]
    t10 = s.t
    t2 = np.arange(int(first_day * DAY), int((first_day + days) * DAY), 2, dtype=np.int64)
    idx = np.clip(np.searchsorted(t10, t2), 1, len(t10) - 1)
    keep = (t10[idx] - t10[idx - 1] <= STEP) | (t10[idx] == t2)
    t2 = t2[keep]

    def interp(col: np.ndarray) -> np.ndarray:
        return np.interp(t2, t10, col)

    power = np.round(interp(s.power))
    prod = None if s.production is None else np.round(interp(s.production))
    volt = np.stack([np.round(interp(s.voltage[:, p]), 1) for p in range(3)], axis=1)
    cur = np.stack([np.round(interp(s.current[:, p]), 2) for p in range(3)], axis=1)
    temp = interp(s.temperature) if (temperature and s.temperature is not None) else None
    return list(_readings(s, t2, power, prod, volt, cur, temp))


def _readings(  # noqa: PLR0917
    s: Stream,
    t: np.ndarray,
    power: np.ndarray,
    prod: np.ndarray | None,
    volt: np.ndarray,
    cur: np.ndarray,
    temp: np.ndarray | None,
) -> Iterator[Reading]:
    n = len(t)
    pw = power.tolist()
    pr = prod.tolist() if prod is not None else [None] * n
    tp = temp.tolist() if temp is not None else [None] * n
    v = [[_none(x) for x in volt[:, p].tolist()] for p in range(3)]
    c = [[_none(x) for x in cur[:, p].tolist()] for p in range(3)]
    for i, sec in enumerate(t.tolist()):
        yield Reading(
            timestamp=START + timedelta(seconds=sec),
            power=pw[i],
            power_production=pr[i],
            voltage=(v[0][i], v[1][i], v[2][i]),
            current=(c[0][i], c[1][i], c[2][i]),
            temperature=tp[i],
        )


# --------------------------------------------------------------------------------------------
# Naive per-reading rrcf, as its documentation shows


class NaiveRrcf:
    """rrcf used as documented for streams: every point is inserted into, forgotten from and
    scored on every tree. 40 trees of 256 points, shingle of 4 raw power readings.
    """

    def __init__(
        self, num_trees: int = 40, tree_size: int = 256, shingle: int = 4, seed: int = 0
    ) -> None:
        rrcf = load_rrcf()
        self.rrcf = rrcf
        self.forest = [rrcf.RCTree(random_state=seed + k) for k in range(num_trees)]
        self.tree_size = tree_size
        self.window: deque[float] = deque(maxlen=shingle)
        self.index = 0

    def update(self, power: float) -> float:
        self.window.append(power)
        if len(self.window) < (self.window.maxlen or 1):
            return 0.0
        score = insert_and_score(self.forest, np.array(self.window), self.index, self.tree_size)
        self.index += 1
        return score

    def to_state(self) -> dict[str, Any]:
        return {
            "trees": [tree.to_dict() for tree in self.forest],
            "window": list(self.window),
            "index": self.index,
        }

    def restore(self, state: dict[str, Any]) -> list[Any]:
        """The forest rebuilt from `to_state` data (what a restart would do)."""
        forest = []
        for d in state["trees"]:
            tree = self.rrcf.RCTree()
            tree.load_dict(d)
            forest.append(tree)
        return forest


# --------------------------------------------------------------------------------------------
# Statistics and formatting


def percentile(values: Sequence[float], q: float) -> float:
    if not len(values):
        return float("nan")
    return float(np.percentile(np.asarray(values, dtype=float), q))


def median(values: Sequence[float]) -> float:
    return float(np.median(np.asarray(values, dtype=float))) if len(values) else float("nan")


def timed(fn: Any, *args: Any, repeat: int = 3) -> tuple[float, Any]:
    """Median wall seconds of `repeat` calls and the last return value."""
    times = []
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn(*args)
        times.append(time.perf_counter() - t0)
    return median(times), out


def json_bytes(data: Any) -> int:
    return len(json.dumps(data, separators=(",", ":")).encode())


def machine() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "loadavg": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:  # noqa: PTH123
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def rss_bytes() -> int:
    """Resident set size now (Linux /proc), 0 when unknown."""
    try:
        with open("/proc/self/statm", encoding="utf-8") as f:  # noqa: PTH123
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError, ValueError:
        return 0


def iso(ts: datetime) -> str:
    return ts.isoformat(timespec="milliseconds")
