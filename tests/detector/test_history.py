"""Learning from coarse history before the first live reading; alarming sparingly while learning.

Exact parts are compared with what live readings of the same minutes build: PARX's hourly history
to 0.1 W (both round hourly means to 0.1 W; the sums are added in a different order) and its
distances to 1e-3 in log distance; baseload nights exactly (hourly minima of 1-minute data are
the quietest minutes).
"""

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from functools import cache
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from custom_components.energy_anomaly.detector.check import StateError
from custom_components.energy_anomaly.detector.engine import Detector
from custom_components.energy_anomaly.detector.model import (
    Cause,
    Finding,
    HistoryRow,
    Kind,
    Reading,
    Result,
    Status,
)
from custom_components.energy_anomaly.detector.render import render

from .household import DAY, START, at, first_alarm, minute_of, normal_days, readings, run, with_load

MONTH = 30  # days
POWER_TOLERANCE_W = 0.1
LOG_DISTANCE_TOLERANCE = 1e-3
FIVE_MINUTE_EXCESS_W = 20.0  # a quiet 5-minute mean over the quietest minute (5 W noise per minute)


def hourly_rows(power: np.ndarray, *, extremes: bool = True) -> list[HistoryRow]:
    """One row per hour of per-minute `power` from START: mean, and min/max when asked."""
    hours = power.reshape(-1, 60)
    return [
        HistoryRow(
            start=START + timedelta(hours=i),
            duration_s=3600,
            mean=float(hour.mean()),
            minimum=float(hour.min()) if extremes else None,
            maximum=float(hour.max()) if extremes else None,
        )
        for i, hour in enumerate(hours)
    ]


def live_from(power: np.ndarray, first_day: int) -> list[Reading]:
    """Readings every minute of `power` from `first_day` on."""
    return readings(power, first_s=first_day * DAY * 60.0)


@cache
def month() -> np.ndarray:
    return normal_days(MONTH + 1)


@cache
def live_month() -> Detector:
    """A detector that saw the month minute by minute."""
    detector = Detector()
    run(detector, live_from(month()[: MONTH * DAY], 0))
    return detector


@cache
def history_month() -> Detector:
    """A detector that learned the month's hourly mean/min/max."""
    detector = Detector()
    detector.learn_history(hourly_rows(month()[: MONTH * DAY]))
    return detector


def test_no_history_leaves_the_detector_learning() -> None:
    detector = Detector()

    summary = detector.learn_history([])

    assert (summary.days, summary.used, summary.skipped, summary.end) == (0, 0, 0, None)
    assert detector.status is Status.LEARNING
    assert detector.learning_progress == 0.0
    assert detector.history_days == 0


def test_three_days_of_history_count_towards_the_learning_period() -> None:
    power = normal_days(14)
    detector = Detector()

    summary = detector.learn_history(hourly_rows(power[: 3 * DAY]))

    assert (summary.days, summary.used) == (3, 72)
    assert summary.end == START + timedelta(days=3)
    assert detector.history_days == 3
    assert detector.learning_progress == pytest.approx(3 / 14)
    results = run(detector, live_from(power, 3))
    assert results[-1].status is Status.LEARNING  # 3 + 10 full days and today
    assert run(detector, live_from(normal_days(15), 14)[:2])[-1].status is Status.ACTIVE


def test_a_month_of_history_makes_the_detector_active_and_says_so() -> None:
    detector = history_month()

    assert detector.status is Status.ACTIVE
    assert detector.history_days == MONTH
    assert Detector.from_state(detector.to_state()).history_days == MONTH


def test_a_month_of_history_flags_a_heater_on_the_first_live_night() -> None:
    detector = Detector()
    detector.learn_history(hourly_rows(month()[: MONTH * DAY]))
    power = with_load(month(), at(MONTH, 2), 180, 2000.0)

    alarm = first_alarm(run(detector, live_from(power, MONTH)))

    assert alarm is not None
    assert alarm.finding is not None
    assert alarm.finding.kind is Kind.UNUSUAL_CONSUMPTION
    assert at(MONTH, 2) <= minute_of(alarm) <= at(MONTH, 2, 15)
    assert alarm.finding.facts["certainty"] == 1.0


def test_hourly_history_builds_the_same_parx_history_as_live_readings() -> None:
    live = live_month().to_state()["pattern"]["model"]
    learned = history_month().to_state()["pattern"]["model"]

    last_day = max(learned["days"], key=int)
    learned["days"][last_day][0][23] = None  # live readings have not closed the last hour yet
    assert live["days"].keys() == learned["days"].keys()
    for day, (power, _, _) in live["days"].items():
        ours = learned["days"][day][0]
        assert np.allclose(_floats(power), _floats(ours), atol=POWER_TOLERANCE_W, equal_nan=True)
    judged = len(live["distances"])
    assert len(learned["distances"]) == judged + 1  # that last hour
    assert judged > 0
    assert np.allclose(
        live["distances"], learned["distances"][:judged], atol=LOG_DISTANCE_TOLERANCE
    )


def test_hourly_minima_give_the_same_baseload_nights_as_live_readings() -> None:
    live = live_month().to_state()["baseload"]
    learned = history_month().to_state()["baseload"]

    assert len(learned["history"]) == 14
    assert learned["history"] == live["history"]
    assert learned["value"] == live["value"]


def test_hourly_minima_teach_the_zero_rule_the_second_smallest_draw() -> None:
    """The smallest hourly minimum may be one odd reading; the second is what the home draws."""
    minima = sorted(hour.min() for hour in month()[: MONTH * DAY].reshape(-1, 60))

    state = history_month().to_state()["faults"]

    assert state["min_draw"] == pytest.approx(float(minima[1]))


def test_one_odd_reading_in_the_history_leaves_the_zero_rule_on() -> None:
    power = month()[: MONTH * DAY].copy()
    power[3 * 60] = 0.5  # one minute's meter glitch, the smallest minimum of its hour
    detector = Detector()
    detector.learn_history(hourly_rows(power))
    assert detector.to_state()["faults"]["min_draw"] > 10.0


def test_hourly_means_alone_do_not_invent_a_quietest_minute_or_a_short_peak() -> None:
    detector = Detector()
    detector.learn_history(hourly_rows(month()[: MONTH * DAY], extremes=False))
    state = detector.to_state()

    assert state["baseload"]["history"] == []
    assert state["faults"]["min_draw"] is None
    short, long, quick = state["consumption"]["past"][-1]
    assert all(value is None for value in short + quick)
    assert all(value is not None for value in long)


def test_five_minute_means_give_baseload_nights_a_little_above_the_quietest_minute() -> None:
    power = month()[: MONTH * DAY]
    rows = [
        HistoryRow(START + timedelta(minutes=5 * i), 300, float(chunk.mean()), temperature=5.0)
        for i, chunk in enumerate(power.reshape(-1, 5))
    ]
    detector = Detector()

    summary = detector.learn_history(rows)

    assert (summary.days, summary.used) == (MONTH, len(rows))
    assert detector.status is Status.ACTIVE
    live = [watts for watts, _ in live_month().to_state()["baseload"]["history"]]
    learned = [watts for watts, _ in detector.to_state()["baseload"]["history"]]
    assert len(learned) == len(live)
    assert all(
        0 <= ours - theirs <= FIVE_MINUTE_EXCESS_W
        for ours, theirs in zip(learned, live, strict=True)
    )
    state = detector.to_state()
    assert state["consumption"]["temperature"] == 5.0
    assert {t for _, temps, _ in state["pattern"]["model"]["days"].values() for t in temps} == {5.0}


def test_history_given_in_two_parts_counts_the_day_they_share_once() -> None:
    rows = hourly_rows(normal_days(3))
    detector = Detector()

    first = detector.learn_history(rows[:36])
    second = detector.learn_history(rows[36:])

    assert (first.days, second.days) == (2, 1)
    assert detector.history_days == 3
    assert detector.learn_history(rows[:1]).skipped == 1  # before what was learned


@pytest.mark.parametrize("zone", ["Asia/Kolkata", "Asia/Kathmandu", "America/St_Johns"])
def test_hourly_statistics_in_a_zone_off_utc_by_part_of_an_hour_are_learned(zone: str) -> None:
    # The recorder's hours start on whole UTC hours: there, at :30 or :45 on the wall clock.
    rows = [
        replace(row, start=row.start.astimezone(ZoneInfo(zone)))
        for row in hourly_rows(month()[: MONTH * DAY])
    ]
    detector = Detector()

    summary = detector.learn_history(rows)

    assert (summary.used, summary.skipped) == (len(rows), 0)
    assert detector.status is Status.ACTIVE


def test_a_daylight_saving_day_in_a_half_hour_zone_loses_no_hourly_row() -> None:
    zone = ZoneInfo("Australia/Adelaide")  # clocks back from 03:00 to 02:00 on 5 April 2026
    first = datetime(2026, 4, 3, 14, tzinfo=UTC)
    rows = [
        HistoryRow((first + timedelta(hours=i)).astimezone(zone), 3600, 300.0, 250.0, 400.0)
        for i in range(5 * 24)
    ]

    summary = Detector().learn_history(rows)

    assert (summary.used, summary.skipped) == (len(rows), 0)


def test_implausible_overlapping_and_misaligned_rows_are_skipped() -> None:
    good = hourly_rows(normal_days(1))
    bad = [
        HistoryRow(good[1].start, 3600, float("nan")),
        HistoryRow(good[1].start, 3600, 300.0, minimum=400.0),  # minimum above the mean
        HistoryRow(good[1].start, 3600, 300.0, temperature=95.0),
        HistoryRow(good[1].start.replace(tzinfo=None), 3600, 300.0),
        HistoryRow(good[1].start, 7200, 300.0),
        HistoryRow(good[1].start + timedelta(minutes=30), 3600, 300.0),
        good[0],  # before the previous row's end
    ]
    detector = Detector()

    summary = detector.learn_history([good[0], *bad, *good[1:]])

    assert (summary.used, summary.skipped) == (24, len(bad))


def test_history_after_live_readings_is_refused() -> None:
    detector = Detector()
    run(detector, readings(normal_days(1)[:10]))

    summary = detector.learn_history(hourly_rows(normal_days(1)))

    assert (summary.used, summary.skipped) == (0, 24)
    assert detector.history_days == 0


@pytest.mark.parametrize("days", [-1, 1.5, "3"])
def test_a_stored_history_day_count_that_cannot_be_is_refused(days: object) -> None:
    state = Detector().to_state()
    state["history_days"] = days

    with pytest.raises(StateError):
        Detector.from_state(state)


def test_a_state_stored_before_history_existed_loads_with_none_learned() -> None:
    state = Detector().to_state()
    del state["history_days"], state["history_end"]

    assert Detector.from_state(state).history_days == 0


# -- while learning ---------------------------------------------------------------------------


def _learning_run(power: np.ndarray) -> Sequence[Result]:
    return run(Detector(), readings(power))


def _learning_alarm(power: np.ndarray) -> tuple[Result, Finding]:
    """The first alarm of a detector still learning: an unusual consumption, and its finding."""
    alarm = first_alarm(_learning_run(power))
    assert alarm is not None
    assert alarm.status is Status.LEARNING
    assert alarm.finding is not None
    assert alarm.finding.cause is Cause.HIGH_CONSUMPTION
    return alarm, alarm.finding


def test_while_learning_a_load_far_above_anything_seen_alarms_and_says_how_sure() -> None:
    alarm, finding = _learning_alarm(with_load(normal_days(4), at(3, 1), 120, 5000.0))

    assert finding.facts["certainty"] == pytest.approx(3 / 14, abs=0.01)
    assert at(3, 1, 30) <= minute_of(alarm) <= at(3, 1, 45)
    assert "still learning, 21% of the learning period known" in render(finding)


def test_while_learning_a_load_no_larger_than_dinner_at_night_does_not_alarm() -> None:
    power = with_load(normal_days(4), at(3, 1), 120, 1000.0)  # dinner's hour averages ~1.2 kW

    assert first_alarm(_learning_run(power)) is None


def test_on_the_first_day_nothing_is_clearly_unusual_yet() -> None:
    power = with_load(normal_days(2), at(1, 1), 120, 5000.0)

    assert first_alarm(_learning_run(power)) is None


def _floats(values: list[float | None]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def test_after_a_week_of_learning_a_load_no_larger_than_dinner_at_night_alarms() -> None:
    """From a week on the night is compared with the nights seen, not with dinner."""
    alarm, finding = _learning_alarm(with_load(normal_days(9), at(8, 1), 120, 1000.0))

    assert at(8, 1, 30) <= minute_of(alarm) <= at(8, 1, 45)
    assert "this home drew around this time of day so far (still learning" in render(finding)


def test_while_learning_a_night_colder_than_every_night_seen_is_compared_with_the_peak() -> None:
    """It may need more heating than any night learned: the 1 kW could be the heating."""
    power = with_load(normal_days(9), at(8, 1), 120, 1000.0)
    outdoor = np.where(np.arange(power.size) < at(8, 0), 5.0, -5.0)
    stream = [replace(r, temperature=float(outdoor[i])) for i, r in enumerate(readings(power))]

    assert first_alarm(run(Detector(), stream)) is None


def test_while_learning_a_dark_day_in_a_solar_home_is_not_held_to_sunny_days_import() -> None:
    """Sunny days imported next to nothing at noon; a dark day imports what the panels covered."""
    days = 9
    minutes = np.arange(days * DAY)
    hours = (minutes % DAY) / 60
    sun = np.clip(np.sin(np.pi * (hours - 9.0) / 8.0), 0.0, None) * ((hours > 9) & (hours < 17))
    sun[at(8, 0) :] = 0.0  # the last day is dark
    net = normal_days(days) + 1000.0 * (sun > 0) - 3000.0 * sun
    net[at(8, 11) : at(8, 13)] += 1000.0  # what the panels covered on sunny days
    stream = [
        replace(r, power=max(float(net[i]), 0.0), power_production=max(-float(net[i]), 0.0))
        for i, r in enumerate(readings(net))
    ]

    assert first_alarm(run(Detector(), stream)) is None


def test_a_load_a_week_of_hourly_history_had_at_that_time_is_no_alarm_two_live_days_on() -> None:
    """Hourly means teach only the hour's mean: the short means know two days, not a week."""
    power = normal_days(10)
    for day in (2, 9):  # in the week of history, and again on the third live day
        power = with_load(power, at(day, 2), 45, 1500.0)
    detector = Detector()
    detector.learn_history(hourly_rows(power[: at(7, 0)], extremes=False))

    assert first_alarm(run(detector, live_from(power, 7))) is None


def test_rows_on_a_clock_off_utc_by_seconds_are_skipped() -> None:
    """A local mean time of old (Amsterdam's +00:19:32) cannot be cut into whole minutes."""
    zone = timezone(timedelta(minutes=19, seconds=32))
    row = HistoryRow(datetime(2024, 1, 8, tzinfo=UTC).astimezone(zone), 3600, 300.0)

    summary = Detector().learn_history([row])

    assert (summary.used, summary.skipped) == (0, 1)


def test_hourly_means_ending_hours_before_the_first_reading_flag_a_heater_on_the_second_night() -> (
    None
):
    """Tibber's hours of the install day not published yet: README's 60-minute mean 'at once'."""
    power = with_load(normal_days(MONTH + 3), at(MONTH + 2, 3), 180, 2000.0)
    detector = Detector()
    detector.learn_history(hourly_rows(power[: MONTH * DAY], extremes=False))

    alarm = _first_unusual(run(detector, readings(power, first_s=at(MONTH, 14) * 60.0)))

    assert detector.status is Status.ACTIVE
    assert alarm is not None
    assert at(MONTH + 2, 3) <= minute_of(alarm) <= at(MONTH + 2, 4)


def test_after_hourly_means_a_ten_minute_load_waits_for_two_weeks_of_live_peaks() -> None:
    """Tibber's hours give no 5- or 15-minute peaks: those comparisons wait for the 14 live days
    that have them, not the 7 a home that was off for some days needs (their highest five
    minutes of one week are no fortnight's usual)."""
    power = with_load(normal_days(MONTH + 9), at(MONTH + 8, 3), 10, 3000.0)
    detector = Detector()
    detector.learn_history(hourly_rows(power[: MONTH * DAY], extremes=False))

    assert first_alarm(run(detector, live_from(power, MONTH))) is None


def test_after_hourly_means_and_two_weeks_live_a_ten_minute_load_alarms() -> None:
    power = with_load(normal_days(MONTH + 16), at(MONTH + 15, 3), 10, 3000.0)
    detector = Detector()
    detector.learn_history(hourly_rows(power[: MONTH * DAY], extremes=False))

    alarm = first_alarm(run(detector, live_from(power, MONTH)))

    assert alarm is not None
    assert at(MONTH + 15, 3) <= minute_of(alarm) <= at(MONTH + 15, 3, 10)


def test_zeros_on_the_first_live_day_alarm_when_the_history_never_drew_below_100_w() -> None:
    power = normal_days(MONTH + 1)
    detector = Detector()
    detector.learn_history(hourly_rows(power[: MONTH * DAY]))
    assert min(row.minimum or 0.0 for row in hourly_rows(power[: MONTH * DAY])) > 100.0
    power[at(MONTH, 10) : at(MONTH, 12)] = 0.0  # the meter reads 0 W for two hours

    alarm = first_alarm(run(detector, live_from(power, MONTH)))

    assert alarm is not None
    assert alarm.finding is not None
    assert alarm.finding.kind is Kind.METER_FAULT
    assert alarm.finding.cause == "zeros"
    assert minute_of(alarm) <= at(MONTH, 10, 5)


def test_zeros_on_the_first_live_day_stay_quiet_when_the_history_drew_0_w_too() -> None:
    """A home whose history read 0 W (a cabin switched off, or past meter zeros) waits a live
    day as without history: its zeros may be its own."""
    power = normal_days(MONTH + 1)
    power[at(3, 10) : at(3, 12)] = 0.0  # an hour's minimum of 0 W in the history
    detector = Detector()
    detector.learn_history(hourly_rows(power[: MONTH * DAY]))
    power[at(MONTH, 10) : at(MONTH, 12)] = 0.0

    assert first_alarm(run(detector, live_from(power, MONTH)[: 14 * 60])) is None


def test_zeros_on_the_first_live_day_stay_quiet_after_half_a_day_of_history_minima() -> None:
    """Half a day of minima is not the day the zero rule learns: their night may be missing."""
    power = normal_days(2)
    detector = Detector()
    detector.learn_history(hourly_rows(power[at(0, 12) : DAY]))
    power[at(1, 10) : at(1, 12)] = 0.0

    assert first_alarm(run(detector, live_from(power, 1)[: 14 * 60])) is None


def test_zeros_on_the_first_live_day_stay_quiet_when_an_earlier_part_of_the_history_drew_0_w() -> (
    None
):
    """History given in two parts (as `learn_history` allows) is one history: a 0 W minimum in
    the first part is as much the home's own as in a single call."""
    power = normal_days(MONTH + 1)
    power[at(3, 10) : at(3, 12)] = 0.0  # an hour's minimum of 0 W in the first part
    rows = hourly_rows(power[: MONTH * DAY])
    detector = Detector()
    detector.learn_history(rows[: 10 * 24])
    detector.learn_history(rows[10 * 24 :])
    power[at(MONTH, 10) : at(MONTH, 12)] = 0.0

    assert first_alarm(run(detector, live_from(power, MONTH)[: 14 * 60])) is None


def _first_unusual(results: list[Result]) -> Result | None:
    """The first result whose finding is unusual consumption, if any."""
    return next(
        (r for r in results if r.finding and r.finding.kind is Kind.UNUSUAL_CONSUMPTION), None
    )
