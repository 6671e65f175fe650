"""The report of the homes suite: halves apart, normal-life windows counted per kind."""

from collections import Counter

import numpy as np

from benchmarks import households
from benchmarks.detection import (
    SCORERS,
    Scored,
    eval_range,
    halves,
    own_kind_found,
    scorer_names,
    window_table,
)
from benchmarks.evaluation import evaluate, summarise
from benchmarks.streams import DAY, EVAL_START_DAY
from custom_components.energy_anomaly.detector.model import (
    Cause,
    Finding,
    Kind,
    Mode,
    Reading,
    Sensitivity,
)


def test_homes_suite_is_reported_as_a_tuning_and_an_unseen_half() -> None:
    ss = households.streams()
    groups = halves(ss)
    assert list(groups) == ["tuning half", "unseen half"]
    assert {ss[h].half for h in groups["tuning half"]} == {households.TUNING}
    assert {ss[h].half for h in groups["unseen half"]} == {households.UNSEEN}
    assert sorted(groups["tuning half"] + groups["unseen half"]) == list(range(len(ss)))


def test_evaluation_period_of_a_home_starts_after_two_local_weeks() -> None:
    s = households.streams()[0]
    start, end = eval_range(s)
    assert s.local(start).strftime("%Y-%m-%d %H:%M") == "2024-03-11 00:00"
    assert end - start == (42 - EVAL_START_DAY) * DAY - 3_600  # the clock skips an hour


def test_window_table_counts_false_alarms_inside_each_window_kind() -> None:
    s = next(s for s in households.streams() if s.home == "family_holiday")
    away = next(w for w in s.windows if w.kind == "absence")
    alarm = (s.t >= away.start + DAY) & (s.t < away.start + DAY + 600)
    home = evaluate(s.t, alarm, s.events, *eval_range(s), normal_life=s.windows)
    summary = summarise([home])
    assert summary.window_alarms == Counter({"absence": 1})
    lines = window_table({"probe": summary}, [s]).splitlines()
    head = lines[0].split()
    assert "absence(1)" in head
    row = dict(zip(head[1:], lines[2].split()[1:], strict=True))
    assert row["absence(1)"] == "1"
    assert row["guests(1)"] == "0"
    assert not np.any(alarm[s.t < eval_range(s)[0]])


def test_sensitivity_rows_are_the_detector_at_each_level_and_only_on_request() -> None:
    stream = households.streams()[0]

    assert SCORERS["sensitivity=high"](stream).sensitivity is Sensitivity.HIGH
    assert scorer_names(None, []) == [
        "sensitivity=low",
        "sensitivity=normal",
        "sensitivity=high",
    ]
    assert scorer_names(["parx"], ["high"]) == ["parx", "sensitivity=high"]
    assert "energy_anomaly" in scorer_names(None, None)
    assert not any(n.startswith("sensitivity") for n in scorer_names(None, None))


def test_the_household_row_sets_guests_and_away_for_their_windows() -> None:
    stream = next(s for s in households.streams() if s.home == "family_holiday")
    guests = next(w for w in stream.windows if w.kind == "guests")
    away = next(w for w in stream.windows if w.kind == "absence")
    household = SCORERS["household_modes"](stream)

    def mode_at(second: int) -> Mode:
        """The mode of a reading at `second`, confirmed by one 10 s later (a long gap before)."""
        household.update(Reading(stream.local(second), 500.0))
        return household.update(Reading(stream.local(second + 10), 500.0)).mode

    assert mode_at(guests.start - 600) is Mode.NORMAL
    assert mode_at(guests.start + 600) is Mode.GUESTS
    assert mode_at(away.start + 600) is Mode.AWAY
    assert mode_at(away.end + 600) is Mode.NORMAL


def _run_with(s: households.HomeStream, changes: list[tuple[int, Finding | None]]) -> Scored:
    alarms = np.zeros(len(s.t), dtype=bool)
    for (i, finding), end in zip(changes, [i for i, _ in changes[1:]] + [len(s.t)], strict=True):
        alarms[i:end] = finding is not None
    return Scored("probe", 0, alarms, 0.0, "probe", changes)


def test_an_event_counts_as_found_by_its_own_kind_only_under_an_alarm_of_that_kind() -> None:
    s = next(s for s in households.streams() if s.home == "family_holiday")
    step = next(e for e in s.events if e.kind == "baseload" and e.counted)
    inside = int(np.searchsorted(s.t, step.start + 3_600))
    since = s.local(int(s.t[inside]))
    unusual = Finding(Kind.UNUSUAL_CONSUMPTION, Cause.HIGH_CONSUMPTION, 1.0, since, 900.0, 200.0)
    baseload = Finding(Kind.BASELOAD, Cause.BASELOAD_STEP, 1.0, since, 320.0, 200.0)

    other = own_kind_found(_run_with(s, [(inside, unusual), (inside + 60, None)]), s)
    own = own_kind_found(_run_with(s, [(inside, baseload), (inside + 60, None)]), s)

    assert other["baseload", False] == own["baseload", True] == 1
    assert other["baseload", True] == own["baseload", False] == 0
