"""The first two weeks of a new installation: what the detector finds with and without history.

    scripts/run python -m benchmarks.first_days             # ~1.5 min on 2 cores
    scripts/run python -m benchmarks.first_days --detail    # every event and false alarm

The benchmark homes (`streams.py`) have their events from day 16 on. Here the integration is
installed on day 14 of each stream: the detector's first live reading is at day 14, and days 14-27
(the installation's days 1-14, with 16-17 labelled events over the four homes) are evaluated the
same way as `detection.py` evaluates days 14-41 (`evaluation.py`: recall per kind, false-alarm
episodes per home-week). The stream's days 0-13, which hold no event, are the home's past:

- `no history`: nothing is imported; the detector learns from live readings only;
- `hourly mean 2w`: the hourly means of days 0-13 are imported on day 14 (Tibber's hourly
  consumption: energy per hour, so only the mean), with the hour's mean outdoor temperature;
- `hourly min/max 2w`: the same hours with their minimum and maximum (Home Assistant's recorder
  statistics; the minimum and maximum of the raw readings);
- `hourly mean 4w`: four weeks of hourly means: the streams have only two weeks before day 14, so
  days 0-13 are imported twice, once shifted back by 14 days (whole weeks, so weekdays match). The
  consumption model and baseload keep a fortnight anyway; only PARX's fit sees more (repeated) days.

For reference, `live 2w` had the integration running since day 0: days 0-13 as live readings, the
same as `detection.py`'s detector on those days (its figures over the two weeks from day 14).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
import dataclasses
from datetime import timedelta
import os
import sys
import time

import numpy as np

from custom_components.energy_anomaly.detector.config import DetectorConfig
from custom_components.energy_anomaly.detector.engine import Detector
from custom_components.energy_anomaly.detector.model import HistoryRow

from .detection import detail, table
from .evaluation import Summary, evaluate, summarise
from .streams import DAY, HOMES, HOUR, START, Stream, streams

INSTALL_DAY = 14  # the stream day of the first live reading
EVALUATED_DAYS = 14  # the installation's first two weeks
HISTORY_DAYS = 14  # the stream's days before the installation
REPEAT_SHIFT_DAYS = 14  # the 4-week history: days 0-13 again, this many days earlier

Importer = Callable[[Stream], list[HistoryRow]]


def hourly_rows(stream: Stream, *, extremes: bool, shift_days: int = 0) -> Iterator[HistoryRow]:
    """One row per hour of the stream's days before the installation (hours without readings left
    out), starting `shift_days` earlier than they were."""
    hours = stream.t // HOUR
    for hour in range(HISTORY_DAYS * 24):
        lo, hi = np.searchsorted(hours, [hour, hour + 1])
        if lo == hi:
            continue
        power = stream.power[lo:hi]
        temperature = None
        if stream.temperature is not None:
            temperature = float(stream.temperature[lo:hi].mean())
        yield HistoryRow(
            start=START + timedelta(hours=hour, days=-shift_days),
            duration_s=HOUR,
            mean=float(power.mean()),
            minimum=float(power.min()) if extremes else None,
            maximum=float(power.max()) if extremes else None,
            temperature=temperature,
        )


LIVE_REFERENCE = "live 2w"
IMPORTERS: dict[str, Importer] = {
    "no history": lambda s: [],
    "hourly mean 2w": lambda s: list(hourly_rows(s, extremes=False)),
    "hourly min/max 2w": lambda s: list(hourly_rows(s, extremes=True)),
    "hourly mean 4w": lambda s: [
        *hourly_rows(s, extremes=False, shift_days=REPEAT_SHIFT_DAYS),
        *hourly_rows(s, extremes=False),
    ],
    LIVE_REFERENCE: lambda s: [],
}


def installed(stream: Stream) -> Stream:
    """The stream from the installation day for two weeks, with the events that touch them."""
    return _cut(stream, INSTALL_DAY * DAY, (INSTALL_DAY + EVALUATED_DAYS) * DAY)


def before(stream: Stream) -> Stream:
    """The stream's days before the installation (no events)."""
    return _cut(stream, 0, INSTALL_DAY * DAY)


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


def run_one(name: str, home: int) -> tuple[str, int, np.ndarray, float, str]:
    """One home's first two weeks after importing `name`'s history: alarms, seconds, summary."""
    stream = streams()[home]
    detector = Detector(DetectorConfig(fuse_amps=stream.fuse))
    t0 = time.perf_counter()
    summary = detector.learn_history(IMPORTERS[name](stream))
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
        note = f"none; days 0-{INSTALL_DAY - 1} as live readings in {learned:.1f} s"
    return name, home, alarms, time.perf_counter() - t0, note


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--detail", action="store_true", help="list every event and false alarm")
    parser.add_argument("--only", nargs="*", choices=list(IMPORTERS), help="histories to run")
    args = parser.parse_args(argv)
    names = args.only or list(IMPORTERS)
    t_start = time.perf_counter()
    homes = [installed(s) for s in streams()]
    jobs = [(n, h) for n in names for h in range(len(HOMES))]
    with ProcessPoolExecutor(args.jobs) as pool:
        done = list(pool.map(run_one, *zip(*jobs, strict=True)))
    results: dict[str, Summary] = {}
    details = []
    for name in names:
        evals = [
            evaluate(
                s.t,
                next(a for n, h, a, _, _ in done if n == name and h == home),
                s.events,
                INSTALL_DAY * DAY,
                (INSTALL_DAY + EVALUATED_DAYS) * DAY,
            )
            for home, s in enumerate(homes)
        ]
        results[name] = summarise(evals)
        if args.detail:
            details.append(detail(name, evals, homes))
    print(
        f"First {EVALUATED_DAYS} days after installing on day {INSTALL_DAY} of each stream "
        f"({sum(len([e for e in s.events if e.counted]) for s in homes)} events, "
        f"{len(homes) * EVALUATED_DAYS / 7:.0f} home-weeks); history = the stream's days 0-13"
    )
    lines = [table(results), ""]
    lines += [
        f"  {name:18s} {homes[home].home:18s} {seconds:5.1f} s; history: {note}"
        for name, home, _, seconds, note in done
    ]
    lines += [f"\n{text}" for text in details]
    lines.append(f"\nTotal run time {time.perf_counter() - t_start:.0f} s")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
