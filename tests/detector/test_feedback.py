"""The household answers back: sensitivity, modes, silenced kinds and episodes marked normal."""

from dataclasses import replace
from datetime import datetime, timedelta
from functools import cache
import json
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from custom_components.energy_anomaly.detector.check import StateError
from custom_components.energy_anomaly.detector.config import SENSITIVITY_BARS
from custom_components.energy_anomaly.detector.engine import Detector
from custom_components.energy_anomaly.detector.feedback import Feedback
from custom_components.energy_anomaly.detector.model import (
    Cause,
    Finding,
    Kind,
    Mode,
    Reading,
    Result,
    Sensitivity,
    Status,
)
from custom_components.energy_anomaly.detector.parx import HourlyParx
from custom_components.energy_anomaly.detector.render import render

from .household import DAY, START, at, first_alarm, minute_of, normal_days, readings, run, with_load

LEARNED = 15  # days of ordinary life before anything is judged (the learning period is 14 days)
SAUNA_W = 6000.0
WEEK = 7


def _alarms(results: list[Result], start: int, end: int) -> list[Result]:
    """The results in alarm between minutes `start` and `end` since START."""
    return [r for r in results if r.anomaly and start <= minute_of(r) < end]


def _night_load(watts: float, sensitivity: Sensitivity) -> list[Result]:
    """A small load from 01:00 to 04:00 after the learning period, at `sensitivity`."""
    detector = Detector()
    detector.set_sensitivity(sensitivity)
    return run(detector, readings(with_load(normal_days(LEARNED + 1), at(LEARNED, 1), 180, watts)))


# -- sensitivity ---------------------------------------------------------------------------------


def test_high_sensitivity_alarms_on_a_load_normal_lets_pass() -> None:
    normal = _night_load(200.0, Sensitivity.NORMAL)
    high = _night_load(200.0, Sensitivity.HIGH)

    assert first_alarm(normal) is None
    assert first_alarm(high) is not None
    assert first_alarm(high).score >= 1.0  # the score is on the moved bar's scale


def test_low_sensitivity_lets_pass_a_load_normal_alarms_on() -> None:
    assert first_alarm(_night_load(300.0, Sensitivity.NORMAL)) is not None
    assert first_alarm(_night_load(300.0, Sensitivity.LOW)) is None


def _baseload_step(sensitivity: Sensitivity) -> list[Result]:
    """A 12 W step of the always-on power from day 16 on, once 14 nights are known (the
    smallest step that counts at the normal sensitivity: 15 W)."""
    power = normal_days(20)
    power[at(16, 0) :] += 12.0
    detector = Detector()
    detector.set_sensitivity(sensitivity)
    return run(detector, readings(power))


def test_high_sensitivity_finds_a_baseload_step_normal_lets_pass() -> None:
    alarm = first_alarm(_baseload_step(Sensitivity.HIGH))

    assert first_alarm(_baseload_step(Sensitivity.NORMAL)) is None
    assert alarm is not None
    assert alarm.finding.kind is Kind.BASELOAD


def _flagged_hours(bar: float) -> set[int]:
    """Hours PARX flags at `bar` over 30 days of one daily shape (5 % noise), the morning of day
    28 drawing 40 % more (at the normal bar an hour must draw 50 % more than predicted)."""
    rng = np.random.default_rng(1)
    shape = 500.0 + 400.0 * np.sin(np.arange(24) / 24 * 2 * np.pi)
    hours = np.tile(shape, 30) * (1 + rng.normal(0.0, 0.05, 30 * 24))
    hours[28 * 24 + 4 : 28 * 24 + 8] *= 1.4
    model = HourlyParx()
    model.bar = bar
    return {h for h, watts in enumerate(hours) if model.add_hour(h, float(watts)).anomaly}


def test_the_pattern_check_flags_a_moderate_change_at_the_high_bar_only() -> None:
    assert not _flagged_hours(SENSITIVITY_BARS[Sensitivity.NORMAL])
    assert _flagged_hours(SENSITIVITY_BARS[Sensitivity.HIGH])


# -- mark_normal ---------------------------------------------------------------------------------


def _sauna_weeks(second: tuple[int, float], marked: bool) -> list[Result]:
    """A 6 kW sauna on a Tuesday 19:00-21:00 (marked normal 10 minutes into its alarm or not),
    then a week later a load `second` = (start hour, watts) for two hours."""
    hour, watts = second
    power = with_load(normal_days(LEARNED + WEEK + 1), at(LEARNED, 19), 120, SAUNA_W)
    power = with_load(power, at(LEARNED + WEEK, hour), 120, watts)
    stream = readings(power)
    detector = Detector()
    alarm = first_alarm(run(detector, stream[: at(LEARNED, 21)]))
    assert alarm is not None
    cut = int(minute_of(alarm)) + 10
    detector = Detector()
    results = run(detector, stream[:cut])
    if marked:
        detector.mark_normal()
    return results + run(detector, stream[cut:])


@cache
def _marked_sauna(hour: int = 19, watts: float = SAUNA_W) -> list[Result]:
    return _sauna_weeks((hour, watts), marked=True)


def test_the_same_load_a_week_later_alarms_when_not_marked_normal() -> None:
    results = _sauna_weeks((19, SAUNA_W), marked=False)

    assert _alarms(results, at(LEARNED + WEEK, 19), at(LEARNED + WEEK, 21))


def test_marking_an_alarm_normal_ends_it_at_once() -> None:
    results = _marked_sauna()
    during = [r for r in results if at(LEARNED, 19) <= minute_of(r) < at(LEARNED, 21)]
    first = next(i for i, r in enumerate(during) if r.anomaly)

    assert all(r.anomaly for r in during[first : first + 10])
    assert not any(r.anomaly for r in during[first + 10 :])


def test_the_same_load_a_week_later_does_not_alarm_once_marked_normal() -> None:
    results = _marked_sauna()

    assert not _alarms(results, at(LEARNED + WEEK, 19), at(LEARNED + WEEK, 21))


def test_a_clearly_larger_load_at_the_marked_time_still_alarms() -> None:
    results = _marked_sauna(19, 1.6 * SAUNA_W)

    assert _alarms(results, at(LEARNED + WEEK, 19), at(LEARNED + WEEK, 21))


def test_the_marked_load_at_another_hour_still_alarms() -> None:
    results = _marked_sauna(13, SAUNA_W)

    assert _alarms(results, at(LEARNED + WEEK, 13), at(LEARNED + WEEK, 15))


def _sauna_over() -> tuple[Detector, Finding]:
    """A detector after the sauna's alarm ended (none marked), and that episode."""
    detector = Detector()
    power = with_load(normal_days(LEARNED + 1), at(LEARNED, 19), 120, SAUNA_W)
    results = run(detector, readings(power))
    assert results[-1].finding is None
    return detector, next(r.finding for r in reversed(results) if r.finding is not None)


def test_mark_normal_after_the_episode_ended_returns_the_last_one() -> None:
    detector, episode = _sauna_over()

    assert detector.mark_normal() == episode


def test_marking_the_marked_episode_again_returns_it_and_changes_nothing() -> None:
    detector, episode = _sauna_over()
    detector.mark_normal()
    said = detector.to_state()

    assert detector.mark_normal() == episode
    assert detector.to_state() == said  # nothing learned twice


def test_marking_again_after_a_restore_returns_the_marked_episode_and_changes_nothing() -> None:
    detector, episode = _sauna_over()
    detector.mark_normal()
    restored = Detector.from_state(json.loads(json.dumps(detector.to_state())))

    assert restored.mark_normal() == episode
    assert restored.to_state() == detector.to_state()


def test_an_episode_after_the_marked_one_is_marked_and_learned_once_it_ended() -> None:
    """The sauna marked; the next day a load at lunch alarms and ends, then is marked too: the
    same load at lunch a week later does not alarm."""
    lunch, next_week = at(LEARNED + 1, 13), at(LEARNED + 1 + WEEK, 13)
    power = with_load(normal_days(LEARNED + WEEK + 2), at(LEARNED, 19), 120, SAUNA_W)
    power = with_load(with_load(power, lunch, 120, SAUNA_W), next_week, 120, SAUNA_W)
    stream = readings(power)
    detector = Detector()
    run(detector, stream[: at(LEARNED, 22)])
    detector.mark_normal()
    alarms = _alarms(run(detector, stream[at(LEARNED, 22) : lunch + 180]), lunch, lunch + 180)
    assert alarms
    assert detector.finding is None  # over: the latest episode, not one going on

    assert detector.mark_normal() == alarms[-1].finding
    assert not _alarms(run(detector, stream[lunch + 180 :]), next_week, next_week + 180)


def test_an_episode_stored_before_marks_were_kept_is_marked_as_one_not_marked() -> None:
    """States stored before kept the episode only until it was marked: it is learned."""
    detector, _ = _sauna_over()
    state = detector.to_state()
    del state["feedback"]["marked"]
    restored = Detector.from_state(state)

    restored.mark_normal()
    detector.mark_normal()

    assert restored.household_state()["allowances"] == detector.household_state()["allowances"]


def test_mark_normal_without_any_episode_returns_none() -> None:
    detector = Detector()
    run(detector, readings(normal_days(1)))

    assert detector.mark_normal() is None


def _restored_in_a_fault(*, marked: bool) -> tuple[Detector, list[Reading]]:
    """A detector restored during a meter-fault episode (negative power), and the readings next.

    With `marked`, the household marked the episode normal before the restart.
    """
    power = [300.0] * 10 + [-200.0] * 20
    stream = [Reading(START + timedelta(minutes=m), watts) for m, watts in enumerate(power)]
    detector = Detector()
    assert run(detector, stream[:15])[-1].finding is not None
    if marked:
        assert detector.mark_normal() is not None
    return Detector.from_state(json.loads(json.dumps(detector.to_state()))), stream[15:]


def test_mark_normal_right_after_a_restore_keeps_the_episode_going_on_quiet() -> None:
    detector, rest = _restored_in_a_fault(marked=False)

    assert detector.mark_normal() is not None
    assert not any(r.anomaly for r in run(detector, rest))


def test_silencing_a_kind_right_after_a_restore_keeps_a_marked_episode_quiet() -> None:
    detector, rest = _restored_in_a_fault(marked=True)

    detector.set_silenced(Kind.POWER_QUALITY, True)

    assert not any(r.anomaly for r in run(detector, rest))


def test_an_episode_marked_after_a_restore_that_was_over_alarms_when_it_comes_back() -> None:
    detector, _ = _restored_in_a_fault(marked=False)
    detector.mark_normal()
    later = START + timedelta(minutes=15)  # the minute after the restored one's last reading
    normal = [Reading(later + timedelta(minutes=m), 300.0) for m in range(5)]
    again = [Reading(later + timedelta(minutes=5 + m), -200.0) for m in range(5)]

    run(detector, normal)

    assert run(detector, again)[-1].anomaly


# -- modes ---------------------------------------------------------------------------------------


def test_paused_raises_no_alarm_until_its_end_then_alarms_again() -> None:
    power = with_load(normal_days(LEARNED + 1), at(LEARNED, 1), 300, 2000.0)
    stream = readings(power)
    end = START + timedelta(minutes=at(LEARNED, 2))
    detector = Detector()
    run(detector, stream[: at(LEARNED, 0)])
    detector.set_mode(Mode.PAUSED, until=end)
    results = run(detector, stream[at(LEARNED, 0) :])

    assert detector.mode is Mode.NORMAL
    assert not _alarms(results, at(LEARNED, 0), at(LEARNED, 2))
    assert all(r.mode is Mode.PAUSED for r in results if minute_of(r) < at(LEARNED, 2))
    assert _alarms(results, at(LEARNED, 2), at(LEARNED, 2, 10))


def test_guests_last_a_day_from_the_latest_reading_by_default() -> None:
    detector = Detector()
    stream = readings(normal_days(2))
    run(detector, stream[:DAY])
    detector.set_mode(Mode.GUESTS)

    assert detector.mode is Mode.GUESTS
    assert detector.mode_until == stream[DAY - 1].timestamp + timedelta(days=1)
    run(detector, stream[DAY:])
    detector.update(Reading(stream[-1].timestamp + timedelta(minutes=1), 200.0))
    assert detector.mode is Mode.NORMAL
    assert detector.mode_until is None


def test_guests_set_before_any_reading_last_a_day_from_the_first() -> None:
    detector = Detector()
    detector.set_mode(Mode.GUESTS)
    first = detector.update(Reading(START, 200.0))

    assert first.mode is Mode.GUESTS
    assert detector.mode_until == START + timedelta(days=1)


def test_guests_set_before_any_reading_last_24_hours_across_the_clock_change() -> None:
    """Noon the day before 02:00 becomes 03:00 (Europe/Oslo): a day of guests is 24 hours,
    as it is when chosen after a reading."""
    first = datetime(2026, 3, 28, 12, tzinfo=ZoneInfo("Europe/Oslo"))
    detector = Detector()
    detector.set_mode(Mode.GUESTS)
    detector.update(Reading(first, 200.0))

    assert detector.mode_until is not None
    assert detector.mode_until.timestamp() - first.timestamp() == 24 * 3600


def test_a_mode_end_without_a_utc_offset_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        Detector().set_mode(Mode.PAUSED, until=START.replace(tzinfo=None))


def _guest_evening(mode: Mode) -> tuple[Detector, list[Result]]:
    """A 1.2 kW heater from 20:00 to 23:00 (an extra guest room) on a day in `mode`."""
    power = with_load(normal_days(LEARNED + 1), at(LEARNED, 20), 180, 1200.0)
    stream = readings(power)
    detector = Detector()
    run(detector, stream[: at(LEARNED, 8)])
    detector.set_mode(mode)
    return detector, run(detector, stream[at(LEARNED, 8) :])


def test_guests_let_pass_a_load_that_alarms_in_normal_mode() -> None:
    _, normal = _guest_evening(Mode.NORMAL)
    _, guests = _guest_evening(Mode.GUESTS)

    assert first_alarm(normal) is not None
    assert first_alarm(guests) is None


def test_a_guest_day_is_learned_as_no_more_than_an_ordinary_day() -> None:
    heated, _ = _guest_evening(Mode.NORMAL)
    guests, _ = _guest_evening(Mode.GUESTS)
    ordinary = Detector()
    run(ordinary, readings(normal_days(LEARNED + 1)))
    evening = slice(20 * 6, 23 * 6)  # the 10-minute slots of 20:00-23:00

    def learned(detector: Detector) -> list[float]:
        return detector.to_state()["consumption"]["today"][0][evening]

    assert min(learned(heated)) > max(learned(ordinary))
    assert max(learned(guests)) <= max(learned(ordinary))


def test_two_weeks_away_do_not_start_the_learning_period_again() -> None:
    stream = readings(normal_days(LEARNED + 16))
    detector = Detector()
    run(detector, stream[: at(LEARNED, 8)])
    detector.set_mode(Mode.AWAY, until=START + timedelta(days=LEARNED + 15))
    results = run(detector, stream[at(LEARNED, 8) :])

    assert results[-1].mode is Mode.NORMAL
    assert all(r.status is Status.ACTIVE for r in results)


def _away_day(load_w: float, heat_pump_w: float = 0.0) -> list[Result]:
    """Away from 08:00 to 16:00 (standby and the fridge only), with a load of `load_w` from
    10:00 to 11:00 (0: none); a heat pump of `heat_pump_w` runs 20 minutes an hour, day and night.
    """
    power = with_load(normal_days(LEARNED + 1), at(LEARNED, 10), 60, load_w)
    power[np.arange(power.size) % 60 < 20] += heat_pump_w
    stream = readings(power)
    detector = Detector()
    run(detector, stream[: at(LEARNED, 8)])
    detector.set_mode(Mode.AWAY)
    return run(detector, stream[at(LEARNED, 8) : at(LEARNED, 16)])


def test_away_a_load_beyond_the_baseload_alarms_within_minutes() -> None:
    results = _away_day(800.0)
    alarm = first_alarm(results)

    assert alarm is not None
    assert alarm.finding.kind is Kind.UNUSUAL_CONSUMPTION
    assert alarm.finding.cause is Cause.LOAD_WHILE_AWAY
    assert f"{alarm.finding.since:%H:%M}" == "10:00"
    assert render(alarm.finding) == (
        "0.9 kW drawn since 10:00 while away, more than the 0.4 kW the empty home draws"
    )
    assert at(LEARNED, 10, 5) <= minute_of(alarm) <= at(LEARNED, 10, 7)


def test_away_before_the_first_night_nothing_alarms() -> None:
    detector = Detector()
    detector.set_mode(Mode.AWAY)
    power = with_load(normal_days(1), at(0, 10), 60, 2000.0)
    results = run(detector, readings(power, first_s=6 * 3600.0))  # from 06:00: no night yet

    assert first_alarm(results) is None


def test_away_the_fridge_cycling_on_the_baseload_does_not_alarm() -> None:
    assert first_alarm(_away_day(0.0)) is None


def test_away_a_heat_pump_cycling_as_it_does_at_night_does_not_alarm() -> None:
    assert first_alarm(_away_day(0.0, heat_pump_w=1500.0)) is None


def test_away_a_load_beyond_what_cycles_at_night_still_alarms() -> None:
    alarm = first_alarm(_away_day(2000.0, heat_pump_w=1500.0))

    assert alarm is not None
    assert alarm.finding.cause is Cause.LOAD_WHILE_AWAY


def test_away_set_again_with_a_later_end_keeps_the_alarm_of_the_load_going() -> None:
    power = with_load(normal_days(LEARNED + 1), at(LEARNED, 10), 60, 800.0)
    stream = readings(power)
    detector = Detector()
    run(detector, stream[: at(LEARNED, 8)])
    detector.set_mode(Mode.AWAY)
    run(detector, stream[at(LEARNED, 8) : at(LEARNED, 10, 20)])
    detector.set_mode(Mode.AWAY, until=START + timedelta(days=LEARNED + 3))
    after = run(detector, stream[at(LEARNED, 10, 20) : at(LEARNED, 10, 21)])

    assert all(r.finding is not None for r in after)
    assert {f"{r.finding.since:%H:%M}" for r in after if r.finding is not None} == {"10:00"}


# -- silenced kinds ------------------------------------------------------------------------------


def _zeros_for_an_hour(silenced: bool) -> tuple[Detector, list[Result]]:
    stream = readings(normal_days(3))
    zeros = [
        Reading(r.timestamp, 0.0) if at(2, 10) <= i < at(2, 11) else r for i, r in enumerate(stream)
    ]
    detector = Detector()
    detector.set_silenced(Kind.METER_FAULT, silenced)
    return detector, run(detector, zeros)


def test_a_silenced_kind_is_not_the_finding_but_its_score_shows() -> None:
    _, loud = _zeros_for_an_hour(silenced=False)
    quiet, silent = _zeros_for_an_hour(silenced=True)

    assert quiet.silenced == {Kind.METER_FAULT}
    assert first_alarm(loud) is not None
    assert first_alarm(silent) is None
    assert max(r.score for r in silent) == max(r.score for r in loud) > 1.0


def test_silenced_meter_faults_still_keep_their_readings_from_the_models() -> None:
    heard, _ = _zeros_for_an_hour(silenced=False)
    quiet, _ = _zeros_for_an_hour(silenced=True)

    assert quiet.to_state()["consumption"] == heard.to_state()["consumption"]


def test_a_silenced_kind_can_be_heard_again() -> None:
    detector = Detector()
    detector.set_silenced(Kind.BASELOAD, True)
    detector.set_silenced(Kind.BASELOAD, False)

    assert detector.silenced == frozenset()


# -- stored state --------------------------------------------------------------------------------


def _answered() -> Detector:
    detector = Detector()
    detector.set_sensitivity(Sensitivity.HIGH)
    detector.set_silenced(Kind.NEW_PATTERN, True)
    run(detector, readings(with_load(normal_days(LEARNED + 1), at(LEARNED, 19), 120, SAUNA_W)))
    detector.mark_normal()
    detector.set_mode(Mode.PAUSED, until=START + timedelta(days=LEARNED + 2))
    return detector


def test_what_the_household_said_survives_a_restart() -> None:
    detector = _answered()
    restored = Detector.from_state(json.loads(json.dumps(detector.to_state())))

    assert restored.sensitivity is Sensitivity.HIGH
    assert restored.silenced == {Kind.NEW_PATTERN}
    assert restored.mode is Mode.PAUSED
    assert restored.mode_until == detector.mode_until
    assert restored.to_state() == detector.to_state()


def test_a_state_stored_before_the_household_could_answer_loads_with_defaults() -> None:
    state = Detector().to_state()
    del state["feedback"]
    restored = Detector.from_state(state)

    assert (restored.mode, restored.sensitivity, restored.silenced) == (
        Mode.NORMAL,
        Sensitivity.NORMAL,
        frozenset(),
    )


@pytest.mark.parametrize(
    "damage",
    [
        {"mode": "party"},
        {"sensitivity": 3},
        {"mode_until": "2024-01-01T00:00:00"},  # no UTC offset
        {"mode_until": "tomorrow"},
        {"silenced": ["loud_music"]},
        {"allowances": [{"kind": "baseload", "cause": "baseload_step"}]},
        {"surprise": True},
        {"marked": True},  # no episode kept that was marked
        {"marked": "yes"},
        {"usual": [100.0] * 23},
        {"usual": [-5.0] * 24},
        {"away": {"peaks": [500.0] * 15}},
        {
            "allowances": [
                {
                    "kind": "baseload",
                    "cause": "baseload_step",
                    "weekday": None,
                    "minute": None,
                    "observed": -1.0,
                    "used": 0.0,
                }
            ]
        },
    ],
)
def test_damaged_feedback_is_refused(damage: dict[str, Any]) -> None:
    state = Detector().to_state()
    state["feedback"] |= damage

    with pytest.raises(StateError):
        Detector.from_state(state)


def test_an_allowance_at_an_impossible_time_is_refused() -> None:
    state = _answered().to_state()
    state["feedback"]["allowances"][0]["weekday"] = 9

    with pytest.raises(StateError, match="impossible time"):
        Detector.from_state(state)


# -- allowances, finding by finding --------------------------------------------------------------


def _finding(kind: Kind, cause: Cause, since_day: int, hour: int, watts: float) -> Finding:
    since = START + timedelta(days=since_day, hours=hour)
    return Finding(kind, cause, 2.0, since, watts, 100.0)


def _sauna(day: int = 0, watts: float = SAUNA_W) -> Finding:
    return _finding(Kind.UNUSUAL_CONSUMPTION, Cause.HIGH_CONSUMPTION, day, 19, watts)


def _marked(*findings: Finding) -> Feedback:
    """Feedback that marked each finding normal when it was the verdict."""
    feedback = Feedback()
    for finding in findings:
        feedback.verdict((finding,), finding.since.timestamp())
        feedback.mark_normal(finding, (), finding.since.timestamp())
    return feedback


def test_a_marked_baseload_step_is_allowed_at_any_time() -> None:
    step = _finding(Kind.BASELOAD, Cause.BASELOAD_STEP, 0, 0, 240.0)
    later = _finding(Kind.BASELOAD, Cause.BASELOAD_STEP, 3, 14, 250.0)
    feedback = _marked(step)

    assert feedback.verdict((later,), later.since.timestamp()) is None


def test_a_marked_new_pattern_is_allowed_at_its_weekday_and_hour_only() -> None:
    marked = _finding(Kind.NEW_PATTERN, Cause.DAILY_PATTERN, 1, 22, 3000.0)
    same = _finding(Kind.NEW_PATTERN, Cause.DAILY_PATTERN, 1 + WEEK, 22, 3100.0)
    later = _finding(Kind.NEW_PATTERN, Cause.DAILY_PATTERN, 1 + WEEK, 2, 3100.0)
    feedback = _marked(marked)

    assert feedback.verdict((same,), same.since.timestamp()) is None
    assert feedback.verdict((later,), later.since.timestamp()) == later


def test_a_meter_fault_marked_normal_is_not_learned() -> None:
    zeros = _finding(Kind.METER_FAULT, Cause.ZEROS, 0, 3, 0.0)
    again = _finding(Kind.METER_FAULT, Cause.ZEROS, WEEK, 3, 0.0)
    feedback = _marked(zeros)

    assert feedback.allowances == []
    assert feedback.verdict((again,), again.since.timestamp()) == again


def test_an_allowance_unused_for_six_weeks_is_forgotten() -> None:
    feedback = _marked(_sauna())
    in_five = _sauna(5 * WEEK)
    in_eleven = _sauna(11 * WEEK)

    assert feedback.verdict((in_five,), in_five.since.timestamp()) is None  # used: kept alive
    assert feedback.verdict((in_eleven,), in_eleven.since.timestamp()) == in_eleven


def test_at_most_32_allowances_are_kept_the_longest_unused_going_first() -> None:
    marks = [  # 40 different weekdays and hours
        _finding(Kind.UNUSUAL_CONSUMPTION, Cause.HIGH_CONSUMPTION, day, day * 3 % 24, 3000.0)
        for day in range(40)
    ]
    feedback = _marked(*marks)

    assert len(feedback.allowances) == 32
    assert feedback.verdict((marks[0],), marks[-1].since.timestamp()) == marks[0]
    assert feedback.verdict((marks[-1],), marks[-1].since.timestamp()) is None


def test_a_pause_whose_end_is_already_past_does_not_hide_the_alarm_of_a_normal_result() -> None:
    detector = Detector()
    for second in range(0, 300, 10):  # an undervoltage on L1 for five minutes
        detector.update(
            Reading(START + timedelta(seconds=second), 500.0, voltage=(200.0, None, None))
        )
    assert detector.finding is not None

    detector.set_mode(Mode.PAUSED, until=START + timedelta(seconds=60))  # ended before the latest
    late = detector.update(Reading(START + timedelta(seconds=280), 500.0))  # older: not taken

    assert late.mode is Mode.PAUSED or late.finding is not None, (late.mode, late.score)


def test_guests_after_a_pause_do_not_show_the_consumption_alarm_they_let_pass() -> None:
    power = with_load(normal_days(3), at(2, 2), 120, 15000.0)  # far above anything drawn so far
    stream = readings(power)
    detector = Detector()
    run(detector, stream[: at(2, 2)])
    detector.set_mode(Mode.PAUSED)
    run(detector, stream[at(2, 2) : at(2, 3)])  # the check finds it; paused, no alarm

    detector.set_mode(Mode.GUESTS)

    assert detector.finding is None or detector.finding.kind is not Kind.UNUSUAL_CONSUMPTION


def test_an_away_load_kept_against_a_bar_no_higher_than_its_baseload_is_refused() -> None:
    stream = readings(with_load(normal_days(LEARNED + 1), at(LEARNED, 10), 60, 800.0))
    detector = Detector()
    run(detector, stream[: at(LEARNED, 8)])
    detector.set_mode(Mode.AWAY)
    run(detector, stream[at(LEARNED, 8) : at(LEARNED, 10, 10)])  # the load is on: kept bar
    state = json.loads(json.dumps(detector.to_state()))
    away = state["feedback"]["away"]
    assert away["since"] is not None
    away["bar"] = away["base"]

    with pytest.raises(StateError):  # restored, it took no reading while away (ZeroDivisionError)
        Detector.from_state(state)


@pytest.mark.xfail(
    strict=True,
    reason="pressed twice while two anomalies go on, That was us marks the second one too "
    "(learning an allowance for a load the household never answered)",
)
def test_marking_twice_while_two_anomalies_go_on_marks_only_the_first() -> None:
    """README: *That was us* "pressed again, it changes nothing". The sauna runs while L1 sags to
    195 V: the alarm (and its notification) is the undervoltage; the sauna is found too. The
    button pressed twice on that notification must not teach the sauna as normal."""
    start = at(LEARNED, 19)
    power = with_load(normal_days(LEARNED + 1), start, 120, SAUNA_W)
    stream = [
        replace(r, voltage=(195.0, 230.0, 230.0)) if start + 40 <= i < start + 120 else r
        for i, r in enumerate(readings(power))
    ]
    detector = Detector()
    run(detector, stream[: start + 60])
    assert detector.finding is not None
    assert detector.finding.kind is Kind.POWER_QUALITY
    first = detector.mark_normal()
    said = detector.household_state()

    assert detector.mark_normal() == first
    assert detector.household_state() == said
