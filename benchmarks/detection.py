"""Detection benchmark: every scorer on the same labelled household streams, one table.

    scripts/run python -m benchmarks.detection            # all scorers, all homes (2 processes)
    scripts/run python -m benchmarks.detection --only parx --detail
    scripts/run python -m benchmarks.detection --suite homes   # tuning half and unseen half
    scripts/run python -m benchmarks.detection --suite homes --sensitivity   # one row per level
    scripts/run python -m benchmarks.detection --suite homes --only household_modes energy_anomaly

To add a detector, add one entry to SCORERS: name -> factory(stream) returning an object with
`update(reading) -> Result`. The factory gets the `Stream` (e.g. `stream.fuse`, `stream.phases`).
"""

from __future__ import annotations

import argparse
from collections import Counter, deque
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from functools import partial
import os
import sys
import time
from typing import Any

import numpy as np

from custom_components.energy_anomaly.detector.baseload import BaseloadCheck
from custom_components.energy_anomaly.detector.config import DetectorConfig, PatternConfig
from custom_components.energy_anomaly.detector.engine import Detector
from custom_components.energy_anomaly.detector.faults import FaultCheck
from custom_components.energy_anomaly.detector.model import (
    Finding,
    Mode,
    Reading,
    Result,
    Sensitivity,
    Status,
)
from custom_components.energy_anomaly.detector.parx import PatternCheck
from custom_components.energy_anomaly.detector.power_quality import PowerQualityCheck
from custom_components.energy_anomaly.detector.render import render

from . import households
from .baselines import HalfHourRules, RcfScorer, WeightedAverage, describe
from .evaluation import (
    GRACE,
    HomeEvaluation,
    Summary,
    episodes,
    evaluate,
    reason_problem,
    summarise,
)
from .households import TUNING, UNSEEN, HomeStream
from .streams import DAY, DAYS, EVAL_START_DAY, KINDS, Stream, streams, to_datetime

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


def at_sensitivity(stream: Stream, sensitivity: Sensitivity) -> Detector:
    """The detector as a household that chose `sensitivity` runs it."""
    detector = Detector(DetectorConfig(fuse_amps=stream.fuse))
    detector.set_sensitivity(sensitivity)
    return detector


class Household:
    """The detector as a household that answers back: Guests on guest days, Away while away.

    The mode is set when a guests or absence window of the stream begins, to end with it (the
    other normal-life windows are left to the detector).
    """

    def __init__(self, stream: Stream) -> None:
        self.detector = Detector(DetectorConfig(fuse_amps=stream.fuse))
        windows = stream.windows if isinstance(stream, HomeStream) else []
        self._plan = deque(
            sorted(
                (stream.local(w.start).timestamp(), MODE_OF_WINDOW[w.kind], stream.local(w.end))
                for w in windows
                if w.kind in MODE_OF_WINDOW
            )
        )

    def update(self, reading: Reading) -> Result:
        while self._plan and reading.epoch >= self._plan[0][0]:
            _, mode, until = self._plan.popleft()
            self.detector.set_mode(mode, until)
        return self.detector.update(reading)


MODE_OF_WINDOW = {"guests": Mode.GUESTS, "absence": Mode.AWAY}

# Not in the default run: `--sensitivity` asks for these (the detector at each level, one row
# each), `--only household_modes` for the household that sets the modes
SENSITIVITY_ROWS = {level: f"sensitivity={level}" for level in Sensitivity}
SCORERS |= {
    name: partial(at_sensitivity, sensitivity=level) for level, name in SENSITIVITY_ROWS.items()
}
SCORERS["household_modes"] = Household
ON_REQUEST = {*SENSITIVITY_ROWS.values(), "household_modes"}
SCORERS["rules_faults"] = lambda s: RuleScorer(s, FaultCheck)
SCORERS["rules_power_quality"] = lambda s: RuleScorer(s, PowerQualityCheck)
SCORERS["rules_baseload"] = lambda s: RuleScorer(s, BaseloadCheck)
SCORERS["rules"] = lambda s: RuleScorer(s, FaultCheck, PowerQualityCheck, BaseloadCheck)

SUITES: dict[str, Callable[[], Sequence[Stream]]] = {
    "classic": streams,
    **{name: partial(households.suite, name) for name in households.SUITE_HOMES},
}
# Per-suite replacements: pure-Python rrcf on the 11 homes would take longer than the rest together
SUITE_SCORERS: dict[str, dict[str, Factory]] = {
    "classic": {},
    **{
        name: {"rcf_raw_power": lambda s: RcfScorer(num_trees=4)} for name in households.SUITE_HOMES
    },
}
WINDOW_KINDS = ("cold_snap", "overcast", "dst", "guests", "absence", "sauna")

SHORT = {
    "unusual_consumption": "unusual",
    "new_pattern": "new",
    "baseload": "base",
    "meter_fault": "fault",
    "power_quality": "pq",
}


# A finding that changed (another kind, cause or start) at a reading: (reading index, finding)
Change = tuple[int, Finding | None]


@dataclass(frozen=True)
class Scored:
    """One scorer on one home: its alarm per reading and the findings behind them."""

    name: str
    home: int
    alarms: np.ndarray
    seconds: float
    description: str
    changes: list[Change]


def _same(a: Finding | None, b: Finding | None) -> bool:
    """Whether two findings are one alarm going on (same kind, cause and start)."""
    if a is None or b is None:
        return a is b
    return (a.kind, a.cause, a.since) == (b.kind, b.cause, b.since)


def run_one(name: str, home: int, suite: str) -> Scored:
    """Score one home with one scorer, keeping each finding as it was first raised."""
    stream = SUITES[suite]()[home]
    scorer = SUITE_SCORERS[suite].get(name, SCORERS[name])(stream)
    alarms = np.zeros(len(stream.t), dtype=bool)
    changes: list[Change] = []
    last: Finding | None = None
    t0 = time.perf_counter()
    for i, reading in enumerate(stream.readings()):
        finding = scorer.update(reading).finding
        alarms[i] = finding is not None
        if not _same(finding, last):
            changes.append((i, finding))
        last = finding
    return Scored(name, home, alarms, time.perf_counter() - t0, describe(scorer), changes)


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


def eval_range(s: Stream) -> tuple[int, int]:
    """The stream's evaluation period in its own seconds (after the two learning weeks)."""
    if isinstance(s, HomeStream):
        return s.eval_start, s.eval_end
    return EVAL_START_DAY * DAY, DAYS * DAY


def local(s: Stream, seconds: float) -> datetime:
    return s.local(seconds) if isinstance(s, HomeStream) else to_datetime(seconds)


def halves(ss: Sequence[Stream]) -> dict[str, list[int]]:
    """Home indices per reported group: the homes suite's two halves, or all classic homes."""
    if all(isinstance(s, HomeStream) for s in ss):
        return {
            f"{half} half": [
                h for h, s in enumerate(ss) if isinstance(s, HomeStream) and s.half == half
            ]
            for half in (TUNING, UNSEEN)
        }
    return {"all homes": list(range(len(ss)))}


def describe_streams(ss: Sequence[Stream]) -> str:
    out = []
    for s in ss:
        kwh = s.power.sum() * 10 / 3.6e6 / ((s.t[-1] - s.t[0]) / DAY)
        n = sum(e.counted for e in s.events)
        half = f"{s.half:6s} " if isinstance(s, HomeStream) else ""
        out.append(
            f"  {s.home:20s} {half}{kwh:5.1f} kWh/day, {len(s.t):,} readings, {n} events: "
            f"{s.description}"
        )
    return "\n".join(out)


def detail(name: str, evals: list[HomeEvaluation], ss: Sequence[Stream]) -> str:
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
                f"  {s.home:20s} {local(s, e.start):%a %d.%m %H:%M} {e.kind:20s} {got:20s} {e.what}"
            )
        for a, b in ev.false_episodes:
            lines.append(
                f"  {s.home:20s} {local(s, a):%a %d.%m %H:%M} false alarm for "
                f"{(b - a) / 60:.0f} min"
            )
    return "\n".join(lines)


def kinds_in_force(run: Scored, n: int) -> list[str | None]:
    """The kind of the finding in force after each of `n` readings (None: no alarm)."""
    kinds: list[str | None] = [None] * n
    bounds = [i for i, _ in run.changes] + [n]
    for (i, finding), end in zip(run.changes, bounds[1:], strict=True):
        if finding is not None:
            kinds[i:end] = [str(finding.kind)] * (end - i)
    return kinds


def own_kind_found(run: Scored, s: Stream) -> Counter[tuple[str, bool]]:
    """Per event kind, how many events an alarm of that same kind found (True) or not (False).

    The evaluation credits an event to any alarm in its window, whatever its kind, so an
    unrelated alarm can find a lasting fault; this says which were reported as what they are.
    The kind is the reported finding's (the one the sensor shows): while a more important one is
    in force (unusual consumption over a new pattern), the other is not counted.
    """
    kinds = kinds_in_force(run, len(s.t))
    counts: Counter[tuple[str, bool]] = Counter()
    for ev in s.events:
        if not ev.counted:
            continue
        lo = int(np.searchsorted(s.t, ev.start, side="left"))
        hi = int(np.searchsorted(s.t, ev.end + GRACE, side="right"))
        counts[ev.kind, ev.kind in kinds[lo:hi]] += 1
    return counts


def own_kind_table(runs: dict[str, list[tuple[Scored, Stream]]]) -> str:
    """One line per scorer: per kind, events found by an alarm of that kind / all events."""
    lines = []
    for name, pairs in runs.items():
        counts = sum((own_kind_found(r, s) for r, s in pairs), Counter[tuple[str, bool]]())
        cells = [
            f"{SHORT[k]} {counts[k, True]}/{counts[k, True] + counts[k, False]}" for k in KINDS
        ]
        lines.append(f"{name:18s} " + "  ".join(cells))
    return "\n".join(lines)


def reason_problems(run: Scored, s: Stream) -> list[str]:
    """Every finding of a run whose reason disagrees with its kind and values (see evaluation)."""
    problems = []
    for i, f in run.changes:
        raised = local(s, int(s.t[i]))
        if f is not None and (problem := reason_problem(f, raised)) is not None:
            problems.append(f"{s.home} {raised:%a %d.%m %H:%M}: {problem}")
    return problems


def explain(run: Scored, s: Stream, ev: HomeEvaluation) -> str:
    """Every alarm episode of one home with each finding raised in it, as facts and as words."""
    lines = [f"[{run.name}] {s.home}"]
    false = set(ev.false_episodes)
    start = eval_range(s)[0]
    for a, b in episodes(s.t, run.alarms):
        what = "learning" if b < start else "FALSE" if (a, b) in false else "event"
        lines.append(f"  {local(s, a):%a %d.%m %H:%M} {(b - a) / 60:5.0f} min  {what}")
        lo, hi = np.searchsorted(s.t, [a, b + 1])
        for i, f in run.changes:
            if f is not None and lo <= i < hi:
                facts = " ".join(f"{k}={v:g}" for k, v in f.facts.items())
                at = local(s, int(s.t[i]))
                lines.append(
                    f"      {at:%H:%M} {f.kind}/{f.cause} since {f.since:%d.%m %H:%M} "
                    f"observed {f.observed} expected {f.expected} {facts}: {render(f)}"
                )
    return "\n".join(lines)


def window_table(results: dict[str, Summary], ss: Sequence[Stream]) -> str:
    """False-alarm episodes inside normal-life windows, per window kind (windows in the group)."""
    have = Counter(w.kind for s in ss if isinstance(s, HomeStream) for w in s.windows)
    kinds = [k for k in WINDOW_KINDS if have[k]]
    head = f"{'scorer':18s} " + " ".join(f"{f'{k}({have[k]})':>13s}" for k in kinds)
    lines = [head, "-" * len(head)]
    for name, s in results.items():
        lines.append(f"{name:18s} " + " ".join(f"{s.window_alarms[k]:13d}" for k in kinds))
    return "\n".join(lines)


def score(
    names: list[str], suite: str, homes: Sequence[int], jobs: int
) -> dict[tuple[str, int], Scored]:
    """Every scorer on every given home (indices), by (scorer, home index)."""
    todo = [(n, h) for n in names for h in homes]
    todo.sort(key=lambda j: j[0] != "rcf_raw_power")  # slowest first
    if jobs > 1:
        with ProcessPoolExecutor(jobs) as pool:
            results = [f.result() for f in [pool.submit(run_one, n, h, suite) for n, h in todo]]
    else:
        results = [run_one(n, h, suite) for n, h in todo]
    return {(r.name, r.home): r for r in results}


def scorer_names(only: list[str] | None, sensitivity: list[str] | None) -> list[str]:
    """The scorers to run: `only` (default: all but `ON_REQUEST`), then the detector at
    each level in `sensitivity` (an empty list: all three; then only those unless `only`)."""
    if sensitivity is None:
        return only or [n for n in SCORERS if n not in ON_REQUEST]
    levels = [Sensitivity(v) for v in sensitivity] or list(Sensitivity)
    return (only or []) + [SENSITIVITY_ROWS[level] for level in levels]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", nargs="*", help="scorer names (default: all)")
    parser.add_argument("--suite", choices=list(SUITES), default="classic")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--detail", action="store_true", help="list every event and false alarm")
    parser.add_argument("--half", choices=(TUNING, UNSEEN), help="score only this half of homes")
    parser.add_argument(
        "--explain", nargs="+", metavar="HOME", help="these homes' alarm episodes and findings"
    )
    parser.add_argument(
        "--sensitivity",
        nargs="*",
        choices=list(Sensitivity),
        help="add the detector at these sensitivities, one row each (no value: all three); "
        "without --only, only those rows",
    )
    args = parser.parse_args(argv)
    names = scorer_names(args.only, args.sensitivity)
    unknown = set(names) - set(SCORERS)
    if unknown:
        parser.error(f"unknown scorer(s) {sorted(unknown)}; have {list(SCORERS)}")
    t_start = time.perf_counter()
    ss = SUITES[args.suite]()
    print(
        f"Suite {args.suite}: {len(ss)} homes x {DAYS} days at 10 s, evaluation from day "
        f"{EVAL_START_DAY} ({sum(s.weeks for s in ss):.0f} home-weeks); "
        f"built in {time.perf_counter() - t_start:.1f} s"
    )
    print(describe_streams(ss))
    picked = [h for h, s in enumerate(ss) if args.half in {None, getattr(s, "half", None)}]
    scored = score(names, args.suite, picked, args.jobs)
    evals = {
        n: {
            h: evaluate(
                s.t,
                scored[n, h].alarms,
                s.events,
                *eval_range(s),
                normal_life=s.windows if isinstance(s, HomeStream) else (),
            )
            for h, s in enumerate(ss)
            if h in picked
        }
        for n in names
    }
    print()
    print(
        "R: event recall (found/total and share), D: median detection delay (min), "
        "recall: all events,"
    )
    print(
        "FA/hw: false-alarm episodes per home-week, alarm%: share of time in alarm outside events"
    )
    for group, idx in halves(ss).items():
        if not (idx := [h for h in idx if h in picked]):
            continue
        results = {n: summarise([evals[n][h] for h in idx]) for n in names}
        homes = ", ".join(ss[h].home for h in idx)
        print(f"\n{group} ({homes}):")
        print(table(results))
        if any(isinstance(ss[h], HomeStream) for h in idx):
            print(f"\n{group}: false-alarm episodes inside normal-life windows (windows):")
            print(window_table(results, [ss[h] for h in idx]))
        print(f"\n{group}: events found by an alarm of their own kind (the tables take any alarm):")
        print(own_kind_table({n: [(scored[n, h], ss[h]) for h in idx] for n in names}))
    print()
    for n in names:
        w = sum(e.warmup_episodes for e in evals[n].values())
        secs = sum(scored[n, h].seconds for h in picked)
        print(
            f"  {n:18s} {secs:6.1f} s scoring, {w} alarm episodes in the learning weeks; "
            f"{scored[n, picked[0]].description}"
        )
    for n in names:
        runs = [(scored[n, h], ss[h]) for h in picked]
        findings = sum(f is not None for r, _ in runs for _, f in r.changes)
        wrong = [p for r, s in runs for p in reason_problems(r, s)]
        print(f"  {n:18s} {findings} findings raised, {len(wrong)} with a reason that disagrees")
        for problem in wrong[:5]:
            print(f"      {problem}")
    for note in NOTES:
        print(f"  note: {note}")
    if args.detail:
        print()
        print(
            "\n\n".join(
                detail(n, [evals[n][h] for h in picked], [ss[h] for h in picked]) for n in names
            )
        )
    for n in names:
        for h in picked:
            if ss[h].home in (args.explain or ()):
                print("\n" + explain(scored[n, h], ss[h], evals[n][h]))
    print(f"\nTotal run time {time.perf_counter() - t_start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
