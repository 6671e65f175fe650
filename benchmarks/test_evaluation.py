"""The benchmark's scoring rules on small constructed cases.

Run with `scripts/run python -m pytest benchmarks -q`.
"""

import numpy as np
import pytest

from benchmarks.evaluation import (
    BEYOND,
    GRACE,
    LASTING_FOUND_WITHIN,
    Window,
    episodes,
    evaluate,
    lasting,
    recurring,
    summarise,
)
from benchmarks.streams import Event
from custom_components.energy_anomaly.detector.model import Cause

T = np.arange(0, 10_000, 10)  # one reading every 10 s


def alarm_at(*spans: tuple[int, int]) -> np.ndarray:
    a = np.zeros(len(T), dtype=bool)
    for s, e in spans:
        a[(s <= T) & (e >= T)] = True
    return a


def ev(kind: str, start: int, end: int, counted: bool = True) -> Event:
    return Event(kind, start, end, "test", counted)


def test_episodes_are_maximal_runs() -> None:
    assert episodes(T, alarm_at((100, 150), (300, 300), (9_990, 9_990))) == [
        (100, 150),
        (300, 300),
        (9_990, 9_990),
    ]
    assert episodes(T, np.zeros(len(T), dtype=bool)) == []


def test_event_found_inside_with_delay() -> None:
    r = evaluate(T, alarm_at((2_500, 2_600)), [ev("meter_fault", 2_000, 3_000)], 0, 10_000)
    assert r.outcomes[0].found
    assert r.outcomes[0].delay == 500
    assert r.false_alarms == 0


def test_alarm_within_grace_after_end_counts_and_is_not_false() -> None:
    end = 3_000
    r = evaluate(
        T, alarm_at((end + GRACE - 10, end + GRACE)), [ev("baseload", 2_000, end)], 0, 10_000
    )
    assert r.outcomes[0].found
    assert r.outcomes[0].delay == end + GRACE - 10 - 2_000
    assert r.false_alarms == 0


def test_alarm_after_grace_misses_and_is_false() -> None:
    end = 3_000
    r = evaluate(
        T, alarm_at((end + GRACE + 10, end + GRACE + 50)), [ev("baseload", 2_000, end)], 0, 10_000
    )
    assert not r.outcomes[0].found
    assert r.outcomes[0].delay is None
    assert r.false_alarms == 1


def test_alarm_before_event_that_runs_into_it_finds_it_at_event_start() -> None:
    r = evaluate(T, alarm_at((1_500, 2_100)), [ev("power_quality", 2_000, 3_000)], 0, 10_000)
    assert r.outcomes[0].found
    assert r.outcomes[0].delay == 0
    assert r.false_alarms == 0  # the episode touches the event


def test_one_long_episode_over_two_events_finds_both() -> None:
    events = [ev("new_pattern", 1_000, 1_500), ev("unusual_consumption", 2_000, 2_500)]
    r = evaluate(T, alarm_at((1_200, 2_200)), events, 0, 10_000)
    assert [o.found for o in r.outcomes] == [True, True]
    assert r.episodes == 1
    assert r.false_alarms == 0


def test_dont_care_region_is_neither_event_nor_false_alarm() -> None:
    events = [ev("new_pattern", 1_000, 1_500), ev("new_pattern", 5_000, 5_500, counted=False)]
    r = evaluate(T, alarm_at((5_100, 5_200)), events, 0, 10_000)
    assert len(r.outcomes) == 1
    assert not r.outcomes[0].found
    assert r.false_alarms == 0


def test_warmup_episodes_are_not_false_alarms() -> None:
    r = evaluate(T, alarm_at((100, 200), (4_900, 5_100), (8_000, 8_000)), [], 5_000, 10_000)
    assert r.warmup_episodes == 1
    assert r.false_alarms == 2  # the one straddling the start of the evaluation counts
    assert r.false_episodes == [(4_900, 5_100), (8_000, 8_000)]


def test_alarm_share_outside_events() -> None:
    r = evaluate(T, alarm_at((0, 990)), [ev("baseload", 5_000, 6_000)], 0, 10_000)
    assert r.alarm_share_outside == pytest.approx(100 / (1_000 - 100 - GRACE // 10 - 1), rel=0.02)


def test_summary_per_kind_and_per_home_week() -> None:
    week = 7 * 86_400
    t = np.arange(0, week, 60)
    a = np.zeros(len(t), dtype=bool)
    a[(t >= 1_020) & (t <= 1_100)] = True  # finds the first fault after 0 s
    a[(t >= 3_600) & (t <= 3_700)] = True  # finds the second fault after 600 s
    a[(t >= 50_000) & (t <= 50_100)] = True  # false
    events = [
        ev("meter_fault", 1_020, 1_200),
        ev("meter_fault", 3_000, 3_300),
        ev("baseload", 20_000, 30_000),
    ]
    home = evaluate(t, a, events, 0, week)
    s = summarise([home, home], kinds=("meter_fault", "baseload", "power_quality"))
    assert s.recall == {"meter_fault": 1.0, "baseload": 0.0, "power_quality": None}
    assert s.found["meter_fault"] == (4, 4)
    assert s.delay_min["meter_fault"] == pytest.approx(5.0)  # median of 0, 0, 10, 10 min
    assert s.delay_min["baseload"] is None
    assert s.overall_recall == pytest.approx(4 / 6)
    assert s.home_weeks == pytest.approx(2.0)
    assert s.fa_per_home_week == pytest.approx(1.0)


HOUR = 3_600
DAY_T = np.arange(0, 5 * 86_400, 60)  # five days, one reading a minute


def alarm_in(t: np.ndarray, *spans: tuple[int, int]) -> np.ndarray:
    a = np.zeros(len(t), dtype=bool)
    for s, e in spans:
        a[(s <= t) & (e >= t)] = True
    return a


def test_lasting_fault_is_found_within_48_hours_of_onset() -> None:
    labels = lasting("baseload", 3_600, 4 * 86_400, "fridge never stops")
    late = 3_600 + LASTING_FOUND_WITHIN - 60
    r = evaluate(DAY_T, alarm_in(DAY_T, (late, late)), labels, 0, 5 * 86_400)
    assert [o.found for o in r.outcomes] == [True]
    assert r.outcomes[0].delay == LASTING_FOUND_WITHIN - 60


def test_lasting_fault_alarm_first_raised_after_48_hours_is_a_miss_and_false() -> None:
    labels = lasting("baseload", 3_600, 4 * 86_400, "fridge never stops")
    later = 3_600 + LASTING_FOUND_WITHIN + GRACE + 3_600
    r = evaluate(DAY_T, alarm_in(DAY_T, (later, later + 600)), labels, 0, 5 * 86_400)
    assert [o.found for o in r.outcomes] == [False]
    assert r.false_alarms == 1


def test_lasting_fault_alarm_raised_in_time_may_stay_on() -> None:
    labels = lasting("baseload", 3_600, 4 * 86_400, "fridge never stops")
    r = evaluate(DAY_T, alarm_in(DAY_T, (7_200, 4 * 86_400)), labels, 0, 5 * 86_400)
    assert [o.found for o in r.outcomes] == [True]
    assert r.false_alarms == 0


def test_short_lasting_fault_is_one_event_over_its_whole_length() -> None:
    assert lasting("power_quality", 0, 5 * HOUR, "lost phase") == [
        Event("power_quality", 0, 5 * HOUR, "lost phase")
    ]


def test_recurring_pattern_second_occurrence_dont_care_third_false() -> None:
    nights = [(d * 86_400 + 22 * HOUR, d * 86_400 + 24 * HOUR) for d in range(4)]
    labels = recurring("new_pattern", nights, "EV charging")
    assert [e.counted for e in labels] == [True, False]
    second, third = nights[1][0] + 600, nights[2][0] + 600
    r = evaluate(DAY_T, alarm_in(DAY_T, (second, second), (third, third)), labels, 0, 5 * 86_400)
    assert [o.found for o in r.outcomes] == [False]
    assert r.false_episodes == [(third, third)]


def test_false_alarms_in_normal_life_windows_are_counted_per_kind() -> None:
    windows = [Window("cold_snap", 0, 2 * 86_400), Window("guests", 86_400, 86_400 + 12 * HOUR)]
    at = [3_600, 86_400 + 3_600, 3 * 86_400]  # cold only, cold + guests, outside any window
    a = alarm_in(DAY_T, *((x, x) for x in at))
    r = evaluate(DAY_T, a, [], 0, 5 * 86_400, normal_life=windows)
    assert r.false_alarms == 3
    assert r.window_alarms == {"cold_snap": 2, "guests": 1}
    assert summarise([r, r]).window_alarms == {"cold_snap": 4, "guests": 2}


def test_alarm_on_an_event_inside_a_window_is_not_counted_for_the_window() -> None:
    windows = [Window("absence", 0, 3 * 86_400)]
    events = [ev("unusual_consumption", 86_400, 86_400 + HOUR)]
    a = alarm_in(DAY_T, (86_400 + 600, 86_400 + 900))
    r = evaluate(DAY_T, a, events, 0, 5 * 86_400, normal_life=windows)
    assert r.outcomes[0].found
    assert r.window_alarms == {}


def test_every_cause_has_a_rule_for_what_its_reason_must_say() -> None:
    assert set(BEYOND) == set(Cause)
