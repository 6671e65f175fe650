"""The first two weeks of a new installation: what the detector finds with and without history.

    scripts/run python -m benchmarks.first_days                  # classic suite, ~3 min on 2 cores
    scripts/run python -m benchmarks.first_days --suite homes    # both halves of the 11 homes
    scripts/run python -m benchmarks.first_days --suite tuning_variants  # any households suite
    scripts/run python -m benchmarks.first_days --detail         # every event and false alarm

The benchmark homes have their events from day 16 on. Here the integration is installed on day 14
of each stream (its evaluation start): the detector's first live reading is then, and the next 14
days (the installation's days 1-14) are evaluated the same way as `detection.py` evaluates its
weeks (`evaluation.py`: recall per kind, false-alarm episodes per home-week, normal-life windows
of the homes suite). The home's past is imported on day 0 of the installation:

- `no history`: nothing is imported; the detector learns from live readings only;
- `hourly mean 1w`, `hourly min/max 1w`: the hours of the stream's days 7-13 only (a sensor a week
  old): the detector is still learning for its first week, with a week known from the start;
- `hourly mean 2w`: the hourly means of the stream's days 0-13 (Tibber's hourly consumption:
  energy per hour, so only the mean), with the hour's mean outdoor temperature;
- `hourly min/max 2w`: the same hours with their minimum and maximum (Home Assistant's recorder
  statistics; the minimum and maximum of the raw readings);
- `hourly mean 4w`, `hourly min/max 4w`: four weeks: the two above, and before them two more
  weeks of the same home's life: the days 28-41 of the home built without its events (same
  household, appliances, heating and meter; no labelled event, no fault), moved back six weeks
  (whole weeks: weekdays match) to the days -14..-1. They are not the evaluated days 14-27, so the
  detector has not seen the days it is judged on.

For reference, `live 2w` had the integration running since day 0: days 0-13 as live readings, the
same as `detection.py`'s detector on those days (its figures over the two weeks from day 14).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
import dataclasses
from datetime import timedelta
from functools import cache, partial
import os
import sys
import time

import numpy as np

from custom_components.energy_anomaly.detector.config import DetectorConfig
from custom_components.energy_anomaly.detector.engine import Detector
from custom_components.energy_anomaly.detector.model import HistoryRow

from . import households, streams
from .detection import detail, eval_range, halves, local, table
from .evaluation import HomeEvaluation, evaluate, summarise
from .households import HomeStream
from .streams import DAY, HOUR, Stream

EVALUATED_DAYS = 14  # the installation's first two weeks
QUIET_DAYS = (28, 42)  # the event-free build's days used as the extra two weeks of history
QUIET_SHIFT_DAYS = 42  # ... moved this many days back: to days -14..-1, same weekdays

SUITES: dict[str, Callable[[], Sequence[Stream]]] = {
    "classic": streams.streams,
    **{name: partial(households.suite, name) for name in households.SUITE_HOMES},
}


@cache
def quiet_streams(suite: str) -> list[Stream]:
    """The suite's homes built without their events (cached per process)."""
    if suite in households.SUITE_HOMES:
        return [
            households.build(dataclasses.replace(h, events=_no_events))
            for h in households.SUITE_HOMES[suite]()
        ]
    return [streams.build(dataclasses.replace(h, events=_no_events)) for h in streams.HOMES]


def _no_events(_events: object) -> None:
    """A home's events callback that adds none."""


def hourly_rows(
    stream: Stream, first_s: int, end_s: int, *, extremes: bool, shift_days: int = 0
) -> Iterator[HistoryRow]:
    """One row per hour of the stream's seconds [first_s, end_s) (hours without readings left
    out), on the home's wall clock, moved `shift_days` earlier."""
    hours = stream.t // HOUR
    for hour in range(first_s // HOUR, end_s // HOUR):
        lo, hi = np.searchsorted(hours, [hour, hour + 1])
        if lo == hi:
            continue
        power = stream.power[lo:hi]
        temperature = None
        if stream.temperature is not None:
            temperature = float(stream.temperature[lo:hi].mean())
        yield HistoryRow(
            start=local(stream, hour * HOUR) - timedelta(days=shift_days),
            duration_s=HOUR,
            mean=float(power.mean()),
            minimum=float(power.min()) if extremes else None,
            maximum=float(power.max()) if extremes else None,
            temperature=temperature,
        )


def two_weeks(stream: Stream, *, extremes: bool) -> list[HistoryRow]:
    """The hours of the stream's days before the installation."""
    return list(hourly_rows(stream, 0, install_s(stream), extremes=extremes))


def one_week(stream: Stream, *, extremes: bool) -> list[HistoryRow]:
    """The hours of the stream's last week before the installation (a sensor a week old)."""
    end = install_s(stream)
    return list(hourly_rows(stream, end - 7 * DAY, end, extremes=extremes))


def four_weeks(stream: Stream, quiet: Stream, *, extremes: bool) -> list[HistoryRow]:
    """Two weeks of the event-free build (`QUIET_DAYS`, moved back), then `two_weeks`."""
    first, end = (day * DAY for day in QUIET_DAYS)
    earlier = hourly_rows(quiet, first, end, extremes=extremes, shift_days=QUIET_SHIFT_DAYS)
    return [*earlier, *two_weeks(stream, extremes=extremes)]


Importer = Callable[[Stream, Stream], list[HistoryRow]]
LIVE_REFERENCE = "live 2w"
IMPORTERS: dict[str, Importer] = {
    "no history": lambda s, q: [],
    "hourly mean 1w": lambda s, q: one_week(s, extremes=False),
    "hourly min/max 1w": lambda s, q: one_week(s, extremes=True),
    "hourly mean 2w": lambda s, q: two_weeks(s, extremes=False),
    "hourly min/max 2w": lambda s, q: two_weeks(s, extremes=True),
    "hourly mean 4w": lambda s, q: four_weeks(s, q, extremes=False),
    "hourly min/max 4w": lambda s, q: four_weeks(s, q, extremes=True),
    LIVE_REFERENCE: lambda s, q: [],
}


def install_s(stream: Stream) -> int:
    """The second of the stream at which the integration is installed: its evaluation start."""
    return eval_range(stream)[0]


def installed(stream: Stream) -> Stream:
    """The stream from the installation for two weeks, with the events that touch them."""
    first = install_s(stream)
    return _cut(stream, first, first + EVALUATED_DAYS * DAY)


def before(stream: Stream) -> Stream:
    """The stream's days before the installation (no events)."""
    return _cut(stream, 0, install_s(stream))


def _cut(stream: Stream, first: int, end: int) -> Stream:
    """The stream's readings in [first, end) seconds, with the events that touch them."""
    keep = (stream.t >= first) & (stream.t < end)

    def cut(column: np.ndarray | None) -> np.ndarray | None:
        return None if column is None else column[keep]

    return dataclasses.replace(
        stream,
        t=stream.t[keep],
        power=stream.power[keep],
        production=cut(stream.production),
        voltage=stream.voltage[keep],
        current=stream.current[keep],
        temperature=cut(stream.temperature),
        events=[e for e in stream.events if e.start < end and e.end >= first],
    )


def run_one(name: str, home: int, suite: str) -> tuple[str, int, np.ndarray, float, str]:
    """One home's first two weeks after importing `name`'s history: alarms, seconds, summary."""
    stream = SUITES[suite]()[home]
    detector = Detector(DetectorConfig(fuse_amps=stream.fuse))
    quiet = quiet_streams(suite)[home] if name.endswith("4w") else stream
    t0 = time.perf_counter()
    summary = detector.learn_history(IMPORTERS[name](stream, quiet))
    if name == LIVE_REFERENCE:
        for reading in before(stream).readings():
            detector.update(reading)
    learned = time.perf_counter() - t0
    live = installed(stream)
    alarms = np.fromiter(
        (detector.update(r).anomaly for r in live.readings()), dtype=bool, count=len(live.t)
    )
    note = f"{summary.days} days ({summary.used} rows) learned in {learned:.2f} s"
    if name == LIVE_REFERENCE:
        note = f"none; days 0-13 as live readings in {learned:.1f} s"
    return name, home, alarms, time.perf_counter() - t0, note


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--suite", choices=list(SUITES), default="classic")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--detail", action="store_true", help="list every event and false alarm")
    parser.add_argument("--only", nargs="*", choices=list(IMPORTERS), help="histories to run")
    args = parser.parse_args(argv)
    names = args.only or list(IMPORTERS)
    t_start = time.perf_counter()
    homes = [installed(s) for s in SUITES[args.suite]()]
    jobs = [(n, h, args.suite) for n in names for h in range(len(homes))]
    with ProcessPoolExecutor(args.jobs) as pool:
        done = list(pool.map(run_one, *zip(*jobs, strict=True)))
    evals = {name: _evaluations(name, homes, done) for name in names}
    print(
        f"Suite {args.suite}: first {EVALUATED_DAYS} days after installing on day 14 of each "
        f"stream ({sum(len([e for e in s.events if e.counted]) for s in homes)} events, "
        f"{len(homes) * EVALUATED_DAYS / 7:.0f} home-weeks); history imported on day 0"
    )
    lines = []
    for group, idx in halves(homes).items():
        if not idx:  # a suite of variants has one half
            continue
        results = {n: summarise([evals[n][h] for h in idx]) for n in names}
        lines += [f"\n{group} ({', '.join(homes[h].home for h in idx)}):", table(results)]
    lines.append("")
    lines += [
        f"  {name:18s} {homes[home].home:18s} {seconds:5.1f} s; history: {note}"
        for name, home, _, seconds, note in done
    ]
    if args.detail:
        lines += [f"\n{detail(name, evals[name], homes)}" for name in names]
    lines.append(f"\nTotal run time {time.perf_counter() - t_start:.0f} s")
    print("\n".join(lines))
    return 0


def _evaluations(
    name: str, homes: list[Stream], done: Sequence[tuple[str, int, np.ndarray, float, str]]
) -> list[HomeEvaluation]:
    """Each home's evaluation over its first two weeks with `name`'s history."""
    return [
        evaluate(
            s.t,
            next(a for n, h, a, _, _ in done if n == name and h == home),
            s.events,
            install_s(s),
            install_s(s) + EVALUATED_DAYS * DAY,
            normal_life=s.windows if isinstance(s, HomeStream) else (),
        )
        for home, s in enumerate(homes)
    ]


if __name__ == "__main__":
    sys.exit(main())
