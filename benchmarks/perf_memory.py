"""Memory of a running home, in its own process (clean RSS): run by `benchmarks.perf`.

    scripts/run python -m benchmarks.perf_memory --weeks 1 2 4 8 12 --naive-points 300 --out m.json

The engine is fed the benchmark stream at 10 s from an empty state, one day of readings at a
time; at each checkpoint (e.g. after 1, 2, 4, 8, 12 weeks;
the 42-day stream is repeated past its end) it records what tracemalloc still holds (after
gc: the detector's retained memory), the peak since the start, the process RSS, and the JSON
size of `to_state()`. Naive rrcf: the forest's retained memory after N and 2N points.
"""

from __future__ import annotations

import argparse
import gc
import json
from pathlib import Path
import time
import tracemalloc
from typing import Any

from custom_components.energy_anomaly.detector.config import DetectorConfig
from custom_components.energy_anomaly.detector.engine import Detector

from .perf_common import NaiveRrcf, iter_readings_10s, json_bytes, readings_2s, rss_bytes, stream


def engine_memory(weeks: list[int], home: int, *, trace: bool) -> list[dict[str, Any]]:
    """Checkpoints of one run from an empty state; `trace`: tracemalloc on (else RSS only)."""
    s = stream(home)
    gc.collect()
    rss0 = rss_bytes()
    if trace:
        tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0] if trace else 0
    detector = Detector(DetectorConfig(fuse_amps=25.0))
    points = []
    day = 0
    t0 = time.perf_counter()
    for week in sorted(weeks):
        while day < week * 7:
            for r in iter_readings_10s(s, day, 1):
                detector.update(r)
            day += 1
        gc.collect()
        point: dict[str, Any] = {"weeks": week, "seconds": time.perf_counter() - t0}
        if trace:
            current, peak = tracemalloc.get_traced_memory()
            point |= {"retained": current - base, "peak": peak - base}
            tracemalloc.reset_peak()
        else:
            point |= {"rss_growth": rss_bytes() - rss0}
            state = detector.to_state()
            point["state_bytes"] = json_bytes(state)
            point["state_parts"] = {
                k: json_bytes(v) for k, v in state.items() if isinstance(v, (dict, list))
            }
        points.append(point)
    if trace:
        tracemalloc.stop()
    return points


def naive_memory(points: int, more: int, home: int) -> list[dict[str, Any]]:
    s = stream(home)
    powers = [r.power for r in readings_2s(s, 7, 1.0, temperature=False)]
    gc.collect()
    tracemalloc.start()
    base, _ = tracemalloc.get_traced_memory()
    naive = NaiveRrcf()
    out = []
    for k, p in enumerate(powers[: points + more], 1):
        naive.update(p)
        if k in (points, points + more):
            gc.collect()
            current, _ = tracemalloc.get_traced_memory()
            out.append({"points": k, "retained": current - base})
    tracemalloc.stop()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weeks", type=int, nargs="+", default=[1, 2, 4, 8, 12])
    parser.add_argument("--naive-points", type=int, default=300)
    parser.add_argument("--naive-more", type=int, default=300)
    parser.add_argument("--home", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    stream(args.home)  # built before measuring
    traced = engine_memory(args.weeks, args.home, trace=True)
    rss = engine_memory(args.weeks, args.home, trace=False)
    result = {
        "engine": [a | b for a, b in zip(traced, rss, strict=True)],
        "naive": naive_memory(args.naive_points, args.naive_more, args.home)
        if args.naive_points
        else [],
    }
    args.out.write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
