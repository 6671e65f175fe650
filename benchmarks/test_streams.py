"""Generated homes: deterministic, every kind labelled, events only after the learning weeks."""

import numpy as np

from benchmarks.baselines import HalfHourRules
from benchmarks.streams import DAY, EVAL_START_DAY, HOMES, KINDS, build


def test_small_flat_is_deterministic_and_labelled() -> None:
    a = build(HOMES[2])
    b = build(HOMES[2])
    assert np.array_equal(a.power, b.power)
    assert np.array_equal(a.t, b.t)
    assert a.events == b.events
    assert {e.kind for e in a.events if e.counted} == set(KINDS)
    assert all(e.start >= EVAL_START_DAY * DAY for e in a.events)
    assert np.all(np.diff(a.t) >= 10)
    assert a.temperature is None
    first = next(a.readings())
    assert first.voltage[1] is None
    assert first.current[0] is not None


def test_rules_baseline_flags_a_stuck_heater_at_night() -> None:
    s = build(HOMES[2])
    heater = next(e for e in s.events if "space heater" in e.what)
    rules = HalfHourRules()
    hits = [
        r.timestamp
        for t, r in zip(s.t, map(rules.update, s.readings()), strict=True)
        if heater.start <= t <= heater.end and r.anomaly
    ]
    assert hits
