"""Detection benchmark: every scorer on the same labelled household streams, one table.

    scripts/run python -m benchmarks.detection            # all scorers, all homes (2 processes)
    scripts/run python -m benchmarks.detection --only parx --detail

To add a detector, add one entry to SCORERS: name -> factory(stream) returning an object with
`update(reading) -> Result`. The factory gets the `Stream` (e.g. `stream.fuse`, `stream.phases`).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
import os
import sys
import time
from typing import Any

import numpy as np

from custom_components.energy_anomaly.detector.baseload import BaseloadCheck
from custom_components.energy_anomaly.detector.config import DetectorConfig, PatternConfig
from custom_components.energy_anomaly.detector.engine import Detector
from custom_components.energy_anomaly.detector.faults import FaultCheck
from custom_components.energy_anomaly.detector.model import Reading, Result, Status
from custom_components.energy_anomaly.detector.parx import PatternCheck
from custom_components.energy_anomaly.detector.power_quality import PowerQualityCheck

from .baselines import HalfHourRules, RcfScorer, WeightedAverage, describe
from .evaluation import HomeEvaluation, Summary, evaluate, summarise
from .streams import DAY, DAYS, EVAL_START_DAY, HOMES, KINDS, Stream, streams, to_datetime

Factory = Callable[[Stream], Any]

SCORERS: dict[str, Factory] = {
    "rcf_raw_power": lambda s: RcfScorer(),
    "rules_half_hour": lambda s: HalfHourRules(),
    "weighted_average": lambda s: WeightedAverage(),
}
NOTES: list[str] = []

# PARX alone: p=3, 24-h window; threshold 0.01 (0.001 finds almost nothing here, see the README)
PARX_THRESHOLD = 0.01


class RuleScorer:
    """Some of the detector's checks as a scorer: in alarm while any of them has a Finding.

    Without checks, PARX alone (the new-pattern check at `pattern_threshold`).
    """

    def __init__(
        self, stream: Stream, *checks: type[Any], pattern_threshold: float | None = None
    ) -> None:
        config = DetectorConfig(fuse_amps=stream.fuse)
        if pattern_threshold is not None:
            config = DetectorConfig(pattern=PatternConfig(threshold=pattern_threshold))
            checks = (PatternCheck,)
        self.checks = [check(config) for check in checks]

    def update(self, reading: Reading) -> Result:
        found = None
        for check in self.checks:  # every check sees every reading
            finding = check.update(reading)
            found = found or finding
        score = max(check.score for check in self.checks)
        return Result(reading.timestamp, score, Status.ACTIVE, reading.power, finding=found)


SCORERS["parx"] = lambda s: RuleScorer(s, pattern_threshold=PARX_THRESHOLD)
SCORERS["energy_anomaly"] = lambda s: Detector(DetectorConfig(fuse_amps=s.fuse))
SCORERS["rules_faults"] = lambda s: RuleScorer(s, FaultCheck)
SCORERS["rules_power_quality"] = lambda s: RuleScorer(s, PowerQualityCheck)
SCORERS["rules_baseload"] = lambda s: RuleScorer(s, BaseloadCheck)
SCORERS["rules"] = lambda s: RuleScorer(s, FaultCheck, PowerQualityCheck, BaseloadCheck)

SHORT = {
    "unusual_consumption": "unusual",
    "new_pattern": "new",
    "baseload": "base",
    "meter_fault": "fault",
    "power_quality": "pq",
}


def run_one(name: str, home: int) -> tuple[str, int, np.ndarray, float, str]:
    """Score one home with one scorer: (name, home, alarm per reading, seconds, description)."""
    stream = streams()[home]
    scorer = SCORERS[name](stream)
    t0 = time.perf_counter()
    alarms = np.fromiter(
        (scorer.update(r).anomaly for r in stream.readings()), dtype=bool, count=len(stream.t)
    )
    return name, home, alarms, time.perf_counter() - t0, describe(scorer)


def _fmt(x: float | None, pattern: str) -> str:
    return "-" if x is None else pattern.format(x)


def table(results: dict[str, Summary]) -> str:
    kinds = [SHORT[k] for k in KINDS]
    head = (
        f"{'scorer':18s} "
        + " ".join(f"{'R:' + k:>9s}" for k in kinds)
        + " | "
        + " ".join(f"{'D:' + k:>8s}" for k in kinds)
        + f" | {'recall':>6s} {'FA/hw':>6s} {'alarm%':>6s}"
    )
    lines = [head, "-" * len(head)]
    for name, s in results.items():
        rec = " ".join(
            f"{f'{s.found[k][0]}/{s.found[k][1]}':>4s} {_fmt(s.recall[k], '{:.2f}'):>4s}"
            for k in KINDS
        )
        dly = " ".join(f"{_fmt(s.delay_min[k], '{:.0f}'):>8s}" for k in KINDS)
        lines.append(
            f"{name:18s} {rec} | {dly} | {_fmt(s.overall_recall, '{:.2f}'):>6s} "
            f"{s.fa_per_home_week:6.2f} {100 * s.alarm_share_outside:6.2f}"
        )
    return "\n".join(lines)


def describe_streams(ss: list[Stream]) -> str:
    out = []
    for s in ss:
        kwh = s.power.sum() * 10 / 3.6e6 / DAYS
        n = sum(e.counted for e in s.events)
        out.append(
            f"  {s.home:20s} {kwh:5.1f} kWh/day, {len(s.t):,} readings, {n} events: {s.description}"
        )
    return "\n".join(out)


def detail(name: str, evals: list[HomeEvaluation], ss: list[Stream]) -> str:
    lines = [f"[{name}]"]
    for s, ev in zip(ss, evals, strict=True):
        for o in ev.outcomes:
            e = o.event
            got = (
                f"found after {o.delay / 60:.0f} min"
                if o.found and o.delay is not None
                else "MISSED"
            )
            lines.append(
                f"  {s.home:20s} {to_datetime(e.start):%a %d.%m %H:%M} {e.kind:20s} {got:20s} "
                f"{e.what}"
            )
        for a, b in ev.false_episodes:
            lines.append(
                f"  {s.home:20s} {to_datetime(a):%a %d.%m %H:%M} false alarm for "
                f"{(b - a) / 60:.0f} min"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", nargs="*", help="scorer names (default: all)")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--detail", action="store_true", help="list every event and false alarm")
    args = parser.parse_args(argv)
    names = args.only or list(SCORERS)
    unknown = set(names) - set(SCORERS)
    if unknown:
        parser.error(f"unknown scorer(s) {sorted(unknown)}; have {list(SCORERS)}")
    t_start = time.perf_counter()
    ss = streams()
    print(
        f"Streams: {len(ss)} homes x {DAYS} days at 10 s, evaluation from day {EVAL_START_DAY} "
        f"({sum(s.weeks for s in ss):.0f} home-weeks); "
        f"built in {time.perf_counter() - t_start:.1f} s"
    )
    print(describe_streams(ss))
    jobs = [(n, h) for n in names for h in range(len(HOMES))]
    jobs.sort(key=lambda j: j[0] != "rcf_raw_power")  # slowest first
    alarms: dict[tuple[str, int], np.ndarray] = {}
    secs: dict[str, float] = dict.fromkeys(names, 0.0)
    how: dict[str, str] = {}
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as pool:
            futures = [pool.submit(run_one, n, h) for n, h in jobs]
            for f in futures:
                n, h, a, sec, d = f.result()
                alarms[n, h], how[n] = a, d
                secs[n] += sec
    else:
        for n, h in jobs:
            _, _, a, sec, d = run_one(n, h)
            alarms[n, h], how[n] = a, d
            secs[n] += sec
    results: dict[str, Summary] = {}
    details = []
    for n in names:
        evals = [
            evaluate(s.t, alarms[n, h], s.events, EVAL_START_DAY * DAY, DAYS * DAY)
            for h, s in enumerate(ss)
        ]
        results[n] = summarise(evals)
        if args.detail:
            details.append(detail(n, evals, ss))
    print()
    print(
        "R: event recall (found/total and share), D: median detection delay (min), "
        "recall: all events,"
    )
    print(
        "FA/hw: false-alarm episodes per home-week, alarm%: share of time in alarm outside events"
    )
    print(table(results))
    print()
    for n in names:
        w = results[n].warmup_episodes
        print(
            f"  {n:18s} {secs[n]:6.1f} s scoring, {w} alarm episodes in the learning weeks; "
            f"{how[n]}"
        )
    for note in NOTES:
        print(f"  note: {note}")
    if details:
        print()
        print("\n\n".join(details))
    print(f"\nTotal run time {time.perf_counter() - t_start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
