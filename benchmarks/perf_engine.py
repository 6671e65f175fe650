"""Offline footprint measurements of `detector.engine.Detector` and naive rrcf (same process).

Per-reading CPU over long streams, the distribution of single `update()` calls, state size,
restore time and restore equivalence, orjson serialisation of the state (what Home Assistant's
Store does in the event loop), and `scripts/score` throughput.
"""

from __future__ import annotations

from collections.abc import Iterable
import csv
from dataclasses import asdict
from datetime import datetime
import gc
import json
import os
from pathlib import Path
import resource
import subprocess
import sys
import time
from typing import Any

from custom_components.energy_anomaly.detector.config import DetectorConfig
from custom_components.energy_anomaly.detector.engine import Detector
from custom_components.energy_anomaly.detector.model import Reading, Result

from .perf_common import (
    NaiveRrcf,
    iter_readings_10s,
    json_bytes,
    median,
    percentile,
    readings_2s,
    readings_10s,
    stream,
)
from .streams import Stream

REPO = Path(__file__).resolve().parent.parent
FUSE = 25.0


def new_detector() -> Detector:
    return Detector(DetectorConfig(fuse_amps=FUSE))


def train(detector: Detector, readings: Iterable[Reading]) -> Detector:
    for r in readings:
        detector.update(r)
    return detector


def _run_timed(
    detector: Detector, readings: list[Reading]
) -> tuple[float, float, list[int], list[Result]]:
    """(cpu s, wall s, per-call ns, results) of feeding `readings` to `detector`."""
    clock = time.perf_counter_ns
    update = detector.update
    per_call = [0] * len(readings)
    results: list[Result] = [None] * len(readings)  # type: ignore[list-item]
    gc.collect()
    c0 = time.process_time()
    w0 = time.perf_counter()
    for k, r in enumerate(readings):
        t0 = clock()
        results[k] = update(r)
        per_call[k] = clock() - t0
    wall = time.perf_counter() - w0
    cpu = time.process_time() - c0
    return cpu, wall, per_call, results


def measure_engine(s: Stream, *, reps: int, train_days: int, quick: bool) -> dict[str, Any]:  # noqa: PLR0915
    """Items 1, 2 (offline), 3 of the benchmark for the default engine."""
    out: dict[str, Any] = {}
    t0 = time.perf_counter()
    trained = train(new_detector(), iter_readings_10s(s, 0, train_days, temperature=True))
    out["train_seconds"] = time.perf_counter() - t0
    state_json = json.dumps(trained.to_state(), separators=(",", ":"))
    out["state_bytes_trained"] = len(state_json.encode())
    out["status_trained"] = trained.status.value
    out["state_parts"] = {
        k: json_bytes(v) for k, v in json.loads(state_json).items() if isinstance(v, (dict, list))
    }

    # 1 + 2: one day at 2 s (43 200 readings), from the trained state, `reps` times
    day2 = readings_2s(s, train_days, 1.0, temperature=True)
    out["day2_readings"] = len(day2)
    cpus, walls, per_calls, rep_results = [], [], [], []
    for _ in range(reps):
        d = Detector.from_state(json.loads(state_json))
        cpu, wall, per_call, results = _run_timed(d, day2)
        cpus.append(cpu)
        walls.append(wall)
        per_calls.append(per_call)
        rep_results.append(results)
    n = len(day2)
    out["cpu_ms_2s"] = median(cpus) / n * 1e3
    out["wall_ms_2s"] = median(walls) / n * 1e3
    out["cpu_ms_2s_reps"] = [c / n * 1e3 for c in cpus]
    # per call: the fastest of the repetitions (same work each time: noise only adds, so this
    # removes one-off preemption/GC noise and keeps genuinely heavy calls)
    import numpy as np  # noqa: PLC0415

    calls = np.min(np.asarray(per_calls, dtype=float), axis=0) / 1e6  # ms
    raw = np.asarray(per_calls, dtype=float) / 1e6
    out["update_ms"] = {
        "p50": float(np.percentile(calls, 50)),
        "p99": float(np.percentile(calls, 99)),
        "p999": float(np.percentile(calls, 99.9)),
        "max": float(calls.max()),
        "raw_max": float(raw.max()),
        "over_2ms": int((calls > 2.0).sum()),
        "over_1ms": int((calls > 1.0).sum()),
    }
    top = np.argsort(calls)[-5:][::-1]
    out["slowest_calls"] = [(day2[int(k)].timestamp.isoformat(), float(calls[int(k)])) for k in top]

    # 3: restore equivalence: the never-stopped detector vs the restored ones on the same day
    reference = [trained.update(r) for r in day2]
    diffs = [sum(a != b for a, b in zip(reference, res, strict=True)) for res in rep_results]
    out["restore_diffs"] = max(diffs)
    out["restore_compared"] = len(reference)
    first = next(
        (k for k, (a, b) in enumerate(zip(reference, rep_results[0], strict=True)) if a != b), None
    )
    if first is not None:
        out["restore_first_diff"] = {
            "never_stopped": asdict(reference[first]),
            "restored": asdict(rep_results[0][first]),
        }
    out["anomalies_in_day"] = sum(r.anomaly for r in reference)
    out["status_after_day"] = trained.status.value
    # state of both after the day: identical?
    restored_after = Detector.from_state(json.loads(state_json))
    for r in day2:
        restored_after.update(r)
    out["restore_state_equal_after_day"] = json.dumps(restored_after.to_state()) == json.dumps(
        trained.to_state()
    )
    del rep_results, per_calls, day2

    # 1b: a week at 10 s from the trained state, and learning from an empty state (days 0-6)
    for key, first_day, start_state in (
        ("week_active", train_days, state_json),
        ("week_learning", 0, None),  # (its end state: the stored size after one week)
    ):
        week = readings_10s(s, first_day, 7, temperature=True)
        cpus = []
        for _ in range(1 if quick else 2):
            d = (
                new_detector()
                if start_state is None
                else Detector.from_state(json.loads(start_state))
            )
            cpu, _wall, _pc, _res = _run_timed(d, week)
            cpus.append(cpu)
        if start_state is None:
            out["state_bytes_week"] = json_bytes(d.to_state())
        out[f"cpu_ms_10s_{key}"] = median(cpus) / len(week) * 1e3
        out[f"{key}_readings"] = len(week)
        del week

    # 3: restore time (CPU: the verdict must hold while other jobs take turns on the machine);
    # orjson serialisation as HA's Store does it in the event loop
    restore = []
    for _ in range(7):
        t0 = time.process_time()
        Detector.from_state(json.loads(state_json))
        restore.append(time.process_time() - t0)
    out["restore_ms"] = median(restore) * 1e3
    state = trained.to_state()
    to_state = []
    for _ in range(7):
        t0 = time.perf_counter()
        trained.to_state()
        to_state.append(time.perf_counter() - t0)
    out["to_state_ms"] = median(to_state) * 1e3
    out["orjson_ms"] = _orjson_ms(state, prepared=True)
    out["worker_json_ms"] = _worker_json_ms(state)
    return out


def _orjson_ms(state: dict[str, Any], *, prepared: bool) -> float | None:
    """Median ms of HA's `prepare_save_json` (orjson) on the stored data, as in the event loop.

    `prepared`: the state as the integration hands it to its Store, serialised by the worker
    (`storage.prepare`), so the loop only copies it; else plain data, HA's default.
    """
    try:
        from homeassistant.helpers.json import prepare_save_json  # noqa: PLC0415

        from custom_components.energy_anomaly.storage import prepare  # noqa: PLC0415
    except ImportError:
        return None
    detector: Any = prepare(state, []) if prepared else {"detector": state}
    data = {"version": 1, "minor_version": 1, "key": "energy_anomaly.x", "data": detector}
    times = []
    for _ in range(7):
        t0 = time.perf_counter()
        prepare_save_json(data)
        times.append(time.perf_counter() - t0)
    return median(times) * 1e3


def _worker_json_ms(state: dict[str, Any]) -> float | None:
    """Median ms of `storage.prepare`: serialising the state in the worker, off the loop."""
    try:
        from custom_components.energy_anomaly.storage import prepare  # noqa: PLC0415
    except ImportError:
        return None
    times = []
    for _ in range(7):
        t0 = time.perf_counter()
        prepare(state, [])
        times.append(time.perf_counter() - t0)
    return median(times) * 1e3


def profile_engine(s: Stream, *, train_days: int, top: int = 18) -> str:
    """cProfile of one 2-s day from the trained state: top functions by own time, per reading."""
    import cProfile  # noqa: PLC0415
    import io  # noqa: PLC0415
    import pstats  # noqa: PLC0415

    trained = train(new_detector(), iter_readings_10s(s, 0, train_days, temperature=True))
    day2 = readings_2s(s, train_days, 1.0, temperature=True)
    prof = cProfile.Profile()
    prof.enable()
    for r in day2:
        trained.update(r)
    prof.disable()
    stats = pstats.Stats(prof)
    rows = []
    total = stats.total_tt  # type: ignore[attr-defined]
    for (file, line, name), (_cc, nc, tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append((tt, ct, nc, f"{Path(file).name}:{line}({name})"))
    rows.sort(reverse=True)
    buf = io.StringIO()
    n = len(day2)
    buf.write(
        f"cProfile, one day at 2 s ({n:,} readings) from the trained state; profiled total "
        f"{total / n * 1e6:.1f} us/reading (cProfile inflates small calls)\n"
    )
    buf.write(f"{'own us/rdg':>10} {'cum us/rdg':>10} {'calls/rdg':>9}  function\n")
    for tt, ct, nc, name in rows[:top]:
        buf.write(f"{tt / n * 1e6:10.2f} {ct / n * 1e6:10.2f} {nc / n:9.3f}  {name}\n")
    return buf.getvalue()


def measure_naive(s: Stream, *, points: int, train_days: int) -> dict[str, Any]:
    """Naive rrcf on the same 2-s day: per-reading CPU (on a slice), state size and restore."""
    day2 = readings_2s(s, train_days, 1.0, temperature=False)
    powers = [r.power for r in day2]
    naive = NaiveRrcf()
    warm = naive.tree_size + 8
    t0 = time.perf_counter()
    for p in powers[:warm]:
        naive.update(p)
    warm_s = time.perf_counter() - t0
    per = []
    c0 = time.process_time()
    for p in powers[warm : warm + points]:
        t1 = time.perf_counter()
        naive.update(p)
        per.append(time.perf_counter() - t1)
    cpu = time.process_time() - c0
    out: dict[str, Any] = {
        "warm_points": warm,
        "warm_seconds": warm_s,
        "points": len(per),
        "cpu_ms": cpu / len(per) * 1e3,
        "wall_ms": sum(per) / len(per) * 1e3,
        "update_ms": {
            "p50": percentile(per, 50) * 1e3,
            "p99": percentile(per, 99) * 1e3,
            "max": max(per) * 1e3,
        },
    }
    state = naive.to_state()
    text = json.dumps(state, separators=(",", ":"))
    out["state_bytes"] = len(text.encode())
    restore = []
    for _ in range(3):
        t0 = time.process_time()
        naive.restore(json.loads(text))
        restore.append(time.process_time() - t0)
    out["restore_ms"] = median(restore) * 1e3
    out["orjson_ms"] = _orjson_ms(state, prepared=False)
    out["forest"] = naive
    return out


# --------------------------------------------------------------------------------------------
# Offline scoring throughput

CSV_COLUMNS = (
    "timestamp",
    "power",
    "power_production",
    "voltage_l1",
    "voltage_l2",
    "voltage_l3",
    "current_l1",
    "current_l2",
    "current_l3",
    "temperature",
)


def write_csv(path: Path, readings: list[Reading]) -> None:
    def f(x: float | None) -> str:
        return "" if x is None else repr(x)

    with path.open("w", encoding="utf-8") as out:
        out.write(",".join(CSV_COLUMNS) + "\n")
        for r in readings:
            out.write(
                ",".join(
                    (
                        r.timestamp.isoformat(),
                        f(r.power),
                        f(r.power_production),
                        *(f(v) for v in r.voltage),
                        *(f(c) for c in r.current),
                        f(r.temperature),
                    )
                )
                + "\n"
            )


def _children_cpu() -> float:
    """CPU time (user + system, s) of this process's finished children so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def parse_seconds(path: Path) -> float:
    """CPU time of merely parsing a CSV written by `write_csv`: the csv module, the timestamp
    and every float; no validation, no detector. The floor any offline scorer pays."""
    parse_time = datetime.fromisoformat
    t0 = time.process_time()
    with path.open(newline="", encoding="utf-8") as f:
        rows = csv.reader(f)
        next(rows)
        for row in rows:
            parse_time(row[0])
            for cell in row[1:]:
                if cell:
                    float(cell)
    return time.process_time() - t0


def engine_seconds(readings: list[Reading]) -> float:
    """CPU time of the detector alone over `readings` from an empty state, as `scripts/score`
    feeds it: `take_plausible` (the script checks each row and builds no `Result`)."""
    update = new_detector().take_plausible
    gc.collect()
    t0 = time.process_time()
    for r in readings:
        update(r)
    return time.process_time() - t0


def _env_for_temporary_files() -> dict[str, str]:
    """This environment, without the variable by which `scripts/score` refuses a path outside the
    repository under `scripts/run`: its files here are temporary, meant for no one on the host."""
    return {name: value for name, value in os.environ.items() if name != "ENERGY_ANOMALY_SHARED"}


def measure_score(s: Stream, *, days: int, reps: int, workdir: Path) -> dict[str, Any]:
    """`scripts/score` wall time on a `days`-day 10-s CSV (subprocess), minus start-up; beside
    it, merely parsing that CSV and the engine alone on its readings (in this process)."""
    readings = readings_10s(s, 0, days, temperature=True)
    big = workdir / "perf_score_in.csv"
    tiny = workdir / "perf_score_tiny.csv"
    write_csv(big, readings)
    write_csv(tiny, readings[:1])
    n = len(readings)
    script = REPO / "scripts" / "score"
    out: dict[str, Any] = {"readings": n, "days": days}
    out["parse_s"] = median([parse_seconds(big) for _ in range(reps)])
    out["parse_rate"] = n / out["parse_s"]
    out["engine_s"] = median([engine_seconds(readings) for _ in range(reps)])
    del readings
    if script.exists():
        out["how"] = "scripts/score subprocess"

        def run(path: Path) -> tuple[float, float]:
            """(CPU s, wall s) of one run: CPU holds on a machine shared with other jobs."""
            c0 = _children_cpu()
            t0 = time.perf_counter()
            proc = subprocess.run(
                [
                    sys.executable,
                    str(script),
                    str(path),
                    str(workdir / "perf_score_out.csv"),
                    "--fuse",
                    str(FUSE),
                ],
                capture_output=True,
                text=True,
                check=False,
                env=_env_for_temporary_files(),
            )
            wall = time.perf_counter() - t0
            if proc.returncode != 0:
                raise RuntimeError(
                    f"scripts/score failed ({proc.returncode}): {proc.stderr[-500:]}"
                )
            return _children_cpu() - c0, wall

        startup = median([run(tiny)[0] for _ in range(reps)])
        runs = [run(big) for _ in range(reps)]
        total = median([cpu for cpu, _ in runs])
        with (workdir / "perf_score_out.csv").open(encoding="utf-8") as f:
            out["rows_out"] = sum(1 for _ in f) - 1
        out["startup_s"] = startup
        out["cpu_s"] = total
        out["wall_s"] = median([wall for _, wall in runs])
        out["rate_total"] = n / total
        out["rate"] = n / max(total - startup, 1e-9)
    else:
        out["how"] = "no scripts/score: csv.DictReader + Reading + Detector.update in-process"
        times = []
        for _ in range(reps):
            t0 = time.process_time()
            d = new_detector()
            with big.open(encoding="utf-8", newline="") as f:
                for row in csv.DictReader(f):
                    d.update(
                        Reading(
                            timestamp=datetime.fromisoformat(row["timestamp"]),
                            power=float(row["power"]),
                        )
                    )
            times.append(time.process_time() - t0)
        out["cpu_s"] = median(times)
        out["startup_s"] = 0.0
        out["rate_total"] = out["rate"] = n / out["cpu_s"]
    return out


def base_stream(home: int) -> Stream:
    return stream(home)
