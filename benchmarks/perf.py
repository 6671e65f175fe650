"""Footprint benchmark: every budget of the footprint issue in one run, beside naive rrcf.

    scripts/run python -m benchmarks.perf            # full run, about 5-8 min on 2 cores
    scripts/run python -m benchmarks.perf --quick    # shorter slices, about 1-2 min

Measures whatever `detector.engine.Detector` is when it runs (default settings, one home of the
detection benchmark, `benchmarks/streams.py`) and, on the same data, naive per-reading rrcf as
its documentation shows (insert, forget and score on every tree for every point; 40 trees of 256
points, shingle 4, raw power). Times are also printed as ratios naive / engine, which hold on a
noisy machine. See `benchmarks/PERF.md` for what each row means.
"""

from __future__ import annotations

import argparse
import json
import math
import os
from pathlib import Path
import subprocess
import sys
import tempfile
import time
from typing import Any

from custom_components.energy_anomaly.const import STATE_SAVE_INTERVAL

from .perf_common import iso, iter_readings_10s, machine, percentile, readings_2s, stream

REPO = Path(__file__).resolve().parent.parent
KB = 1024


def _run_ha_probe(
    s: Any, *, pushes: int, naive_pushes: int, workdir: Path, train_days: float
) -> dict[str, Any]:
    """Train a detector offline, then run `perf_ha_probe.py` under pytest in a subprocess."""
    from .perf_engine import new_detector, train  # noqa: PLC0415

    # the pushed span ends at 01:02 after a midnight: it crosses the day change and the first
    # hour of the new day closing (PARX's daily refit); longer spans start before midnight
    start = train_days + 1 + 62 / 1440 - pushes * 2 / 86_400
    state = train(new_detector(), iter_readings_10s(s, 0, start, temperature=False)).to_state()
    live = readings_2s(s, start, pushes * 2 / 86_400 + 1e-6, temperature=False)[:pushes]
    naive_warm = [r.power for r in readings_2s(s, start - 0.01, 0.01, temperature=False)]
    reported = sorted(
        {f"voltage_l{i}" for i in (1, 2, 3) if live[0].voltage[i - 1] is not None}
        | {f"current_l{i}" for i in (1, 2, 3) if live[0].current[i - 1] is not None}
    )
    config = {
        "out": str(workdir),
        "state": state,
        "reported": reported,
        "pushes": [
            [iso(r.timestamp), r.power, *r.voltage, *r.current, r.power_production] for r in live
        ],
        "naive_pushes": naive_pushes,
        "naive_warm": naive_warm,
        "pace": 0.002,
        "scenarios": ["engine", "naive_inline"] if naive_pushes else ["engine"],
    }
    path = workdir / "probe.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    env = dict(os.environ, ENERGY_ANOMALY_PERF_PROBE=str(path))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(REPO / "benchmarks" / "perf_ha_probe.py"),
            "-p",
            "pytest_homeassistant_custom_component",
            "-p",
            "no:cacheprovider",
            "-q",
            "--no-header",
            "-x",
            "-W",
            "ignore::DeprecationWarning",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    out: dict[str, Any] = {"returncode": proc.returncode}
    if proc.returncode != 0:
        out["log"] = (proc.stdout + proc.stderr)[-4000:]
    for scenario in config["scenarios"]:
        f = workdir / f"ha_{scenario}.json"
        if f.exists():
            out[scenario] = json.loads(f.read_text(encoding="utf-8"))
    return out


def _ha_summary(run: dict[str, Any]) -> dict[str, Any]:
    """Loop figures of one probe scenario, in ms."""
    ours = [r[1] for r in run["records"] if r[1] > 0]
    ours_cpu = [c[1] for c in run["cpu"] if c[1] > 0]
    worst = max(run["records"], key=lambda r: r[1]) if ours else (0, 0, "-")
    others = sorted(((r[0], r[2]) for r in run["records"] if r[1] == 0), reverse=True)[:3]
    handler = run["handler"]
    publish = run["publish"]
    writes = run["writes"]
    stream_writes = [w for w in writes if w["phase"] == "stream"]
    final = [w for w in writes if w["phase"] == "final"]
    gaps = []
    from datetime import datetime  # noqa: PLC0415

    times = [datetime.fromisoformat(w["sim"]) for w in stream_writes]
    gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]  # noqa: RUF007
    n = max(run["processed"], 1)
    return {
        "ours_max": max(ours, default=0.0) * 1e3,
        "ours_p99": percentile(ours, 99) * 1e3,
        "ours_cpu_max": max(ours_cpu, default=0.0) * 1e3,
        "ours_cpu_p99": percentile(ours_cpu, 99) * 1e3,
        "ours_worst_label": worst[2],
        "ours_per_reading": sum(ours) / n * 1e3,
        "handler_p50": percentile(handler, 50) * 1e3,
        "handler_p99": percentile(handler, 99) * 1e3,
        "handler_max": max(handler, default=0.0) * 1e3,
        "publish_max": max((p[1] for p in publish), default=0.0) * 1e3,
        "publish_per_reading": sum(p[1] for p in publish) / n * 1e3,
        "handler_per_reading": sum(handler) / n * 1e3,
        "batch_mean": sum(p[0] for p in publish) / max(len(publish), 1),
        "batch_max": max((p[0] for p in publish), default=0),
        "executor_max": max((d[1] for d in run["detector"]), default=0.0) * 1e3,
        "lag_max": max(run["lag"], default=0.0) * 1e3,
        "lag_p99": percentile(run["lag"], 99) * 1e3,
        "lag_idle_max": max(run["lag_idle"], default=0.0) * 1e3,
        "lag_idle_p99": percentile(run["lag_idle"], 99) * 1e3,
        "others": [(round(t * 1e3, 2), label) for t, label in others],
        "store_write_max": max(run["store_writes_loop"], default=0.0) * 1e3,
        "store_write_plain_max": max(run["store_writes_plain"], default=0.0) * 1e3,
        "writes_stream": len(stream_writes),
        "writes_final": len(final),
        "writes_min_gap_s": min(gaps, default=None),
        "span_s": run["span_s"],
        "processed": run["processed"],
        "pushed": run["pushed"],
        "lost": run["lost"],
        "status": run["status"],
        "stored_bytes": run["stored_bytes"],
        "debug": run["asyncio_debug_in_harness"],
        "naive_inline_max": max(run["naive_inline"], default=0.0) * 1e3,
        "wall": run["stream_wall_s"],
    }


STATE_SAVE_S = STATE_SAVE_INTERVAL.total_seconds()  # the runner's most frequent write, its clock


def _fmt(x: float | None, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) >= 100:
        return f"{x:.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.{digits}f}"


def _ratio(naive: float | None, engine: float | None) -> str:
    if not naive or not engine:
        return "-"
    r = naive / engine
    return f"{r:,.0f}x" if r >= 10 else f"{r:.1f}x"


def _verdict(ok: bool | None) -> str:
    return "-" if ok is None else ("PASS" if ok else "FAIL")


def main(argv: list[str] | None = None) -> int:  # noqa: PLR0915
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short slices (about 1-2 min)")
    parser.add_argument("--home", type=int, default=0, help="benchmark home (0-3), default 0")
    parser.add_argument("--skip-ha", action="store_true", help="no Home Assistant probe")
    parser.add_argument("--json", type=Path, help="also write every figure as JSON here")
    parser.add_argument(
        "--profile", action="store_true", help="also print a cProfile of the engine per reading"
    )
    args = parser.parse_args(argv)
    quick = args.quick
    p = {
        "reps": 2 if quick else 3,
        "naive_points": 100 if quick else 400,
        "ha_pushes": 600 if quick else 3000,
        "naive_pushes": 60 if quick else 200,
        "score_days": 35,  # five weeks: three of them past learning, so the active path counts
        "score_reps": 1 if quick else 3,
        "weeks": [1, 2, 4, 8, 12] if quick else [1, 2, 4, 8, 12, 16],
        "naive_mem": (270, 30) if quick else (300, 300),
        "train_days": 63,  # 9 weeks learned: every window (PARX keeps 56 days) is full
    }
    train_days = p["train_days"]  # learned before the measured day: every model is active
    t_start = time.perf_counter()
    info = machine()
    print(
        f"energy_anomaly footprint benchmark{' (--quick)' if quick else ''}: "
        f"{info['cores']} cores (affinity {info['affinity']}), {info['cpu']}, "
        f"Python {info['python']}, numpy {info['numpy']}, load {info['loadavg']}",
        flush=True,
    )
    from .perf_engine import measure_engine, measure_naive, measure_score  # noqa: PLC0415

    s = stream(args.home)
    print(
        f"stream: {s.home} (benchmark home {args.home}), 10-s readings, {len(s.t):,} rows",
        flush=True,
    )
    results: dict[str, Any] = {"machine": info, "params": p, "home": s.home}

    workdir = Path(tempfile.mkdtemp(prefix="perf-"))
    print("1-3  engine: CPU per reading, update() distribution, state, restore ...", flush=True)
    eng = measure_engine(s, reps=p["reps"], train_days=train_days, quick=quick)
    results["engine"] = eng
    print("1-3  naive rrcf: per-reading CPU on a slice, to_dict state, restore ...", flush=True)
    nai = measure_naive(s, points=p["naive_points"], train_days=train_days)
    nai.pop("forest")
    results["naive"] = nai
    print("5    scripts/score throughput ...", flush=True)
    try:
        sco = measure_score(s, days=p["score_days"], reps=p["score_reps"], workdir=workdir)
    except Exception as err:  # noqa: BLE001
        sco = {"error": f"{type(err).__name__}: {err}"}
    results["score"] = sco
    print("6    memory over weeks (subprocess) ...", flush=True)
    mem_path = workdir / "memory.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.perf_memory",
            "--home",
            str(args.home),
            "--weeks",
            *map(str, p["weeks"]),
            "--naive-points",
            str(p["naive_mem"][0]),
            "--naive-more",
            str(p["naive_mem"][1]),
            "--out",
            str(mem_path),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    mem = json.loads(mem_path.read_text()) if mem_path.exists() else {"error": proc.stderr[-2000:]}
    results["memory"] = mem
    ha: dict[str, Any] = {}
    if not args.skip_ha:
        print("2,4  Home Assistant probe (pytest harness, local Tibber server) ...", flush=True)
        probe = _run_ha_probe(
            s,
            pushes=p["ha_pushes"],
            naive_pushes=p["naive_pushes"],
            workdir=workdir,
            train_days=train_days,
        )
        results["ha_raw_returncode"] = probe["returncode"]
        for key in ("engine", "naive_inline"):
            if key in probe:
                ha[key] = _ha_summary(probe[key])
        if probe["returncode"] != 0:
            ha["log"] = probe.get("log")
            print(probe.get("log"), file=sys.stderr)
    results["ha"] = ha
    elapsed = time.perf_counter() - t_start
    results["elapsed_s"] = elapsed
    print()
    print(table(results))
    print(f"\nwall time {elapsed:.0f} s")
    if args.profile:
        from .perf_engine import profile_engine  # noqa: PLC0415

        print()
        print(profile_engine(s, train_days=train_days))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
    return 0


def table(r: dict[str, Any]) -> str:  # noqa: PLR0915
    eng, nai, sco, mem, ha = r["engine"], r["naive"], r["score"], r["memory"], r["ha"]
    rows: list[tuple[str, str, str, str, str, str]] = []

    def row(  # noqa: PLR0917
        name: str, value: str, budget: str, verdict: str, naive: str = "-", ratio: str = "-"
    ) -> None:
        rows.append((name, value, budget, verdict, naive, ratio))

    n2 = eng["day2_readings"]
    cpu = eng["cpu_ms_2s"]
    row(
        f"1  CPU/reading, 1 day at 2 s ({n2:,} readings), steady, ms",
        _fmt(cpu, 4),
        "<= 0.1",
        _verdict(cpu <= 0.1),
        _fmt(nai["cpu_ms"], 2) + " (e)",
        _ratio(nai["cpu_ms"], cpu),
    )
    for key, what in (("week_active", "steady"), ("week_learning", "learning from empty")):
        v = eng[f"cpu_ms_10s_{key}"]
        row(
            f"1  CPU/reading, 1 week at 10 s, {what}, ms",
            _fmt(v, 4),
            "<= 0.1",
            _verdict(v <= 0.1),
            _fmt(nai["cpu_ms"], 2) + " (e)",
            _ratio(nai["cpu_ms"], v),
        )
    u = eng["update_ms"]
    nu = nai["update_ms"]
    row(
        "2  update() p50 / p99 / max, ms (offline, min of runs)",
        f"{_fmt(u['p50'], 4)} / {_fmt(u['p99'], 4)} / {_fmt(u['max'], 3)}",
        "(2 ms on loop)",
        "-",
        f"{_fmt(nu['p50'], 1)} / {_fmt(nu['p99'], 1)} / {_fmt(nu['max'], 1)}",
        _ratio(nu["max"], u["max"]) + " max",
    )
    he, hn = ha.get("engine"), ha.get("naive_inline")
    if he:
        row(
            "2  HA loop: max busy in one callback, ours, wall ms (incl. preemption)",
            _fmt(he["ours_max"], 3),
            "(context)",
            "-",
            _fmt(hn["ours_max"], 1) if hn else "-",
            _ratio(hn["ours_max"], he["ours_max"]) if hn else "-",
        )
        row(
            "2  HA loop: same, thread CPU time (no preemption), ms",
            _fmt(he["ours_cpu_max"], 3),
            "<= 2",
            _verdict(he["ours_cpu_max"] <= 2.0),
            _fmt(hn["ours_cpu_max"], 1) if hn else "-",
            _ratio(hn["ours_cpu_max"], he["ours_cpu_max"]) if hn else "-",
        )
        row(
            "2  HA loop: p99 busy per callback, ours, ms",
            _fmt(he["ours_p99"], 3),
            "-",
            "-",
            _fmt(hn["ours_p99"], 1) if hn else "-",
            _ratio(hn["ours_p99"], he["ours_p99"]) if hn else "-",
        )
        row(
            "2  HA loop: message callback p50 / p99 / max, wall ms",
            f"{_fmt(he['handler_p50'], 3)} / {_fmt(he['handler_p99'], 3)} / {_fmt(he['handler_max'], 3)}",  # noqa: E501
            "(context)",
            "-",
            f"{_fmt(hn['handler_p50'], 1)} / {_fmt(hn['handler_p99'], 1)} / {_fmt(hn['handler_max'], 1)}"  # noqa: E501
            if hn
            else "-",
            _ratio(hn["handler_max"], he["handler_max"]) + " max" if hn else "-",
        )
        row(
            "2  HA loop: ours per reading (amortised), ms",
            _fmt(he["ours_per_reading"], 4),
            "-",
            "-",
            _fmt(hn["ours_per_reading"], 2) if hn else "-",
            _ratio(hn["ours_per_reading"], he["ours_per_reading"]) if hn else "-",
        )
        row(
            "2  HA loop lag probe p99 / max (idle p99 / max), ms",
            f"{_fmt(he['lag_p99'], 2)} / {_fmt(he['lag_max'], 2)} "
            f"({_fmt(he['lag_idle_p99'], 2)} / {_fmt(he['lag_idle_max'], 2)})",
            "(all sources)",
            "-",
            f"{_fmt(hn['lag_p99'], 1)} / {_fmt(hn['lag_max'], 1)}" if hn else "-",
            _ratio(hn["lag_max"], he["lag_max"]) + " max" if hn else "-",
        )
        row(
            "2  HA loop: Store write step (mock harness), max ms; naive: plain state (HA default)",
            _fmt(he["store_write_max"], 3),
            "<= 2",
            _verdict(he["store_write_max"] <= 2.0),
            _fmt(he["store_write_plain_max"], 2),
            _ratio(he["store_write_plain_max"], he["store_write_max"]),
        )
    row(
        "2  state -> JSON on the loop (HA Store; ours: JSON made by the worker), ms",
        _fmt(eng["orjson_ms"], 3),
        "<= 2",
        _verdict(eng["orjson_ms"] is not None and eng["orjson_ms"] <= 2.0),
        _fmt(nai["orjson_ms"], 1),
        _ratio(nai["orjson_ms"], eng["orjson_ms"]),
    )
    row(
        f"3  stored state after {r['params']['train_days']} days, KB",
        _fmt(eng["state_bytes_trained"] / KB, 1),
        "<= 100",
        _verdict(eng["state_bytes_trained"] <= 100 * KB),
        _fmt(nai["state_bytes"] / KB, 0),
        _ratio(nai["state_bytes"], eng["state_bytes_trained"]),
    )
    row(
        "3  stored state after 1 week, KB (JSON of to_state())",
        _fmt(eng["state_bytes_week"] / KB, 1),
        "<= 100",
        _verdict(eng["state_bytes_week"] <= 100 * KB),
        _fmt(nai["state_bytes"] / KB, 0),
        _ratio(nai["state_bytes"], eng["state_bytes_week"]),
    )
    engine_mem = mem.get("engine", [])
    if engine_mem:
        biggest = max(engine_mem, key=lambda m: m["state_bytes"])
        row(
            f"3  stored state, largest over {'/'.join(str(m['weeks']) for m in engine_mem)} weeks, KB",  # noqa: E501
            f"{_fmt(biggest['state_bytes'] / KB, 1)} ({biggest['weeks']} wk)",
            "<= 100",
            _verdict(biggest["state_bytes"] <= 100 * KB),
            _fmt(nai["state_bytes"] / KB, 0),
            _ratio(nai["state_bytes"], biggest["state_bytes"]),
        )
    row(
        "3  restore from_state(json.loads()), CPU ms",
        _fmt(eng["restore_ms"], 3),
        "<= 100",
        _verdict(eng["restore_ms"] <= 100),
        _fmt(nai["restore_ms"], 0),
        _ratio(nai["restore_ms"], eng["restore_ms"]),
    )
    row(
        f"3  restored == never stopped, differing results / {eng['restore_compared']:,}",
        f"{eng['restore_diffs']} ({'yes' if eng['restore_diffs'] == 0 else 'no'})",
        "0",
        _verdict(eng["restore_diffs"] == 0 and eng["restore_state_equal_after_day"]),
    )
    if he:
        allowed = int(he["span_s"] // STATE_SAVE_S)
        ok = (
            he["writes_stream"] <= max(allowed, 1)
            and he["writes_final"] == 1
            and (he["writes_min_gap_s"] is None or he["writes_min_gap_s"] >= STATE_SAVE_S)
        )
        row(
            f"4  Store writes over {he['span_s'] / 60:.0f} simulated min (+ final), min gap s",
            f"{he['writes_stream']} (+{he['writes_final']}), {_fmt(he['writes_min_gap_s'])}",
            f"<= {allowed} (+1), >= {STATE_SAVE_S:.0f}",
            _verdict(ok),
        )
    rows += _score_rows(sco, naive_rate=1e3 / nai["cpu_ms"])
    if engine_mem:
        naive_mem = mem.get("naive", [])
        nm = naive_mem[-1]["retained"] if naive_mem else None
        last, prev = engine_mem[-1], engine_mem[-2] if len(engine_mem) > 1 else engine_mem[-1]
        growth = last["retained"] - prev["retained"]
        bounded = growth <= 0.05 * max(prev["retained"], 1)
        row(
            "6  memory retained (tracemalloc) at "
            + "/".join(str(m["weeks"]) for m in engine_mem)
            + " weeks, KB",
            "/".join(_fmt(m["retained"] / KB, 0) for m in engine_mem),
            "bounded",
            _verdict(bounded),
            _fmt(nm / KB, 0) if nm else "-",
            _ratio(nm, last["retained"]),
        )
        row(
            f"6  growth {prev['weeks']} -> {last['weeks']} weeks, KB (retained / state)",
            f"{_fmt(growth / KB, 1)} / {_fmt((last['state_bytes'] - prev['state_bytes']) / KB, 1)}",
            "~0",
            _verdict(bounded),
            (
                f"{_fmt((naive_mem[-1]['retained'] - naive_mem[0]['retained']) / KB, 0)}"
                f" ({naive_mem[0]['points']}->{naive_mem[-1]['points']} pts)"
            )
            if len(naive_mem) > 1
            else "-",
        )
        row(
            "6  peak while updating (tracemalloc) / RSS growth, KB",
            f"{_fmt(max(m['peak'] for m in engine_mem) / KB, 0)} / "
            + "/".join(_fmt(m["rss_growth"] / KB, 0) for m in engine_mem),
            "-",
            "-",
        )

    widths = [max(len(x[i]) for x in [*rows, _HEADER]) for i in range(6)]
    lines = [
        "  ".join(h.ljust(w) for h, w in zip(_HEADER, widths, strict=True)),
        "-" * (sum(widths) + 10),
    ]
    lines += ["  ".join(c.ljust(w) for c, w in zip(x, widths, strict=True)) for x in rows]
    notes = [
        "",
        "(e) extrapolated: naive rrcf measured on "
        f"{nai['points']} readings after a {nai['warm_points']}-point warm-up, per reading; "
        "its score rate = 1 / that CPU time.",
        "ratio = naive / engine (for throughput: engine / naive). "
        f"Timings are medians of {r['params']['reps']} run(s) where repeated.",
    ]
    if he:
        notes.append(
            f"HA probe: {he['processed']:,} of {he['pushed']:,} live measurements (2-s timestamps, "
            f"{he['lost']} lost) over wss into a pytest-homeassistant instance "
            f"(asyncio debug in harness: {he['debug']}, turned off for the run), status "
            f"{'->'.join(he['status'])}; worker batches mean {he['batch_mean']:.1f} / max "
            f"{he['batch_max']} readings; detector in executor max {he['executor_max']:.2f} ms per "
            f"batch; worst own callback: {he['ours_worst_label']}; stored {he['stored_bytes'] / KB:.1f} KB."  # noqa: E501
        )
        notes.append(
            f"  ours per reading {he['ours_per_reading']:.3f} ms = message callback "
            f"{he['handler_per_reading']:.3f} + publish to entities {he['publish_per_reading']:.3f} "  # noqa: E501
            f"(max {he['publish_max']:.2f}) + rest of the worker's steps; offline engine alone "
            f"{eng['cpu_ms_2s']:.4f} ms."
        )
        notes.append(f"  largest other callbacks (not ours): {he['others']}")
    if hn:
        notes.append(
            f"  naive_inline: {hn['processed']} readings, rrcf updated inline in the reading "
            f"callback (max {hn['naive_inline_max']:.1f} ms for the rrcf part alone)."
        )
    if ha.get("log"):
        notes.append("HA probe FAILED; see stderr")
    notes += _score_notes(sco)
    if eng.get("worker_json_ms") is not None:
        notes.append(
            f"state -> JSON in the worker (executor, storage.prepare): {eng['worker_json_ms']:.3f}"
            " ms; the Store on the loop then only copies those bytes."
        )
    notes.append(
        f"steady = from the state after {r['params']['train_days']} days at 10 s (status "
        f"{eng['status_trained']}; the 42-day stream repeats past its end); "
        f"{eng['anomalies_in_day']:,} readings of the measured 2-s day in alarm."
    )
    if engine_mem:
        big = max(engine_mem, key=lambda m: m["state_bytes"])
        notes.append(
            f"state parts at {big['weeks']} weeks (KB): "
            + ", ".join(
                f"{k} {v / KB:.1f}"
                for k, v in sorted(big["state_parts"].items(), key=lambda kv: -kv[1])
            )
        )
    slow = eng.get("slowest_calls", [])[:3]
    notes.append(
        "slowest update() calls (fastest of the runs, local time): "
        + ", ".join(f"{t[11:19]} {ms:.2f} ms" for t, ms in slow)
    )
    return "\n".join(lines + notes)


def _score_rows(
    sco: dict[str, Any], naive_rate: float
) -> list[tuple[str, str, str, str, str, str]]:
    """Table rows of the offline-scoring measurement (`perf_engine.measure_score`)."""
    if "rate" not in sco:
        return [("5  offline score", sco.get("error", "?")[:60], ">= 50,000", "FAIL", "-", "-")]
    cost = sco["parse_rate"] / sco["rate"]
    return [
        (
            f"5  offline score, readings/s ({sco['readings']:,} rows at 10 s)",
            f"{sco['rate']:,.0f}",
            ">= 50,000",
            _verdict(sco["rate"] >= 50_000),
            f"{naive_rate:,.0f} (e)",
            _ratio(sco["rate"], naive_rate) + " faster",
        ),
        (
            "5  offline score incl. process start-up, readings/s",
            f"{sco['rate_total']:,.0f}",
            "-",
            "-",
            f"{naive_rate:,.0f} (e)",
            _ratio(sco["rate_total"], naive_rate) + " faster",
        ),
        (
            "5  offline score cost / merely parsing the CSV (rows/s)",
            f"{cost:.1f}x ({sco['parse_rate']:,.0f} / {sco['rate']:,.0f})",
            "<= 10x",
            _verdict(cost <= 10),
            "-",
            "-",
        ),
    ]


def _score_notes(sco: dict[str, Any]) -> list[str]:
    """Where the offline score's time per row goes: parsing, the engine, the script's rest."""
    if "how" not in sco:
        return []
    wall = f", wall {sco['wall_s']:.1f} s" if "wall_s" in sco else ""
    notes = [
        f"score: {sco['how']}, CPU time {sco['cpu_s']:.1f} s (user + system{wall}); "
        f"start-up {sco['startup_s']:.2f} s subtracted"
    ]
    us = 1e6 / sco["readings"]
    per_row = us * sco["readings"] / sco["rate"]
    parse, engine = us * sco["parse_s"], us * sco["engine_s"]
    notes.append(
        f"  per row {per_row:.2f} us = parsing {parse:.2f} + engine alone {engine:.2f} "
        f"({engine / per_row:.0%}, Detector.take_plausible CPU on the same readings "
        f"in-process) + the rest {per_row - parse - engine:.2f} (the script's Reading, "
        "reading_problem and output, and what the engine costs more between them than alone)"
    )
    return notes


_HEADER = ("measure", "energy_anomaly", "budget", "verdict", "naive rrcf", "ratio")


if __name__ == "__main__":
    raise SystemExit(main())
