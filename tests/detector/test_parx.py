"""PARX (Liu & Nielsen) on small constructed hourly series."""

from datetime import UTC, date, datetime, timedelta, timezone
from itertools import pairwise
import json
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from custom_components.energy_anomaly.detector.check import StateError
from custom_components.energy_anomaly.detector.model import Finding, Reading
from custom_components.energy_anomaly.detector.parx import (
    HourlyParx,
    HourVerdict,
    PatternCheck,
    degree_terms,
    ksc_distance,
)

DAY0 = 19_000  # an arbitrary day index (days since 1970-01-01, local)


def profile(rng: np.random.Generator) -> np.ndarray:
    """A household day (W): night base, morning and evening peaks, 5 % noise."""
    h = np.arange(24)
    base = 300 + 500 * np.exp(-(((h - 7) / 1.2) ** 2)) + 900 * np.exp(-(((h - 19) / 2.0) ** 2))
    return base * (1 + rng.normal(0, 0.05, 24))


def run(model: HourlyParx, days: np.ndarray, temps: np.ndarray | None = None) -> list[HourVerdict]:
    out = []
    for d, day in enumerate(days):
        for h in range(24):
            t = None if temps is None else float(temps[d, h])
            out.append(model.add_hour((DAY0 + d) * 24 + h, float(day[h]), t))
    return out


def test_degree_terms_use_break_points_5_16_20() -> None:
    assert degree_terms(10.0) == (6.0, 0.0, 0.0)
    assert degree_terms(0.0) == (16.0, 5.0, 0.0)
    assert degree_terms(25.0) == (0.0, 0.0, 5.0)


def test_ksc_distance_is_scale_and_shift_tolerant() -> None:
    x = np.array([1.0, 1, 5, 9, 5, 1, 1, 1])
    assert ksc_distance(x, x) == pytest.approx(0.0)
    assert ksc_distance(x, 3 * x) == pytest.approx(0.0, abs=1e-12)
    shifted = np.roll(x, 1)
    assert ksc_distance(x, shifted) == pytest.approx(0.0, abs=1e-12)
    assert ksc_distance(x, shifted, max_shift=0) > 0.3
    assert ksc_distance(x, np.roll(x, 3)) > 0.3
    assert ksc_distance(x, np.full(8, np.nan)) == 1.0


def test_new_nightly_pattern_alarms_on_first_nights_then_is_learned() -> None:
    rng = np.random.default_rng(1)
    days = np.array([profile(rng) for _ in range(35)])
    days[21:, 1:4] += 3000  # EV charging 01:00-04:00 every night from day 21 on
    verdicts = run(HourlyParx(), days)
    by_day = [[v.anomaly for v in verdicts[d * 24 : (d + 1) * 24]] for d in range(35)]
    assert not any(any(a) for a in by_day[14:21])  # active and quiet before the change
    assert any(by_day[21])  # first night alarms
    assert not any(any(a) for a in by_day[25:])  # learned after a few nights


def test_a_load_drawn_at_this_hour_on_one_of_the_last_days_is_no_new_pattern() -> None:
    rng = np.random.default_rng(1)
    days = np.array([profile(rng) for _ in range(35)])
    for day in days[21:]:  # EV charging every night from day 21 on, from 01:00 or 02:00 for
        start = int(rng.integers(1, 3))  # 3 h, as much as the car needs
        day[start : start + 3] += rng.uniform(2000, 4000)
    verdicts = run(HourlyParx(), days)
    nights = [[v.anomaly for v in verdicts[d * 24 : d * 24 + 6]] for d in range(35)]
    assert any(nights[21])  # the first night is new
    assert not any(any(a) for a in nights[22:])  # from the second night on, it was seen lately


def test_a_new_weekly_habit_alarms_only_on_its_first_week() -> None:
    rng = np.random.default_rng(1)
    days = np.array([profile(rng) for _ in range(42)])
    days[21::7, 19:21] += 6000  # a sauna on the same weekday's evening from day 21 on
    verdicts = run(HourlyParx(), days)
    alarmed = [d for d in range(42) if any(v.anomaly for v in verdicts[d * 24 : (d + 1) * 24])]
    assert alarmed == [21]  # new the first time; then drawn at this hour a week before


def test_cold_snap_with_temperature_does_not_alarm() -> None:
    rng = np.random.default_rng(2)
    n = 35
    temps = 5 + rng.normal(0, 3, (n, 1)) + 2 * np.sin(np.arange(24) / 24 * 2 * np.pi)
    temps[24:31] -= 14  # a cold week
    days = np.array([profile(rng) for _ in range(n)]) + 120 * np.clip(16 - temps, 0, None)
    verdicts = run(HourlyParx(), days, temps)
    assert any(v.probability is not None for v in verdicts[14 * 24 :])
    assert not any(v.anomaly for v in verdicts[24 * 24 : 31 * 24])


def test_learning_until_enough_history() -> None:
    rng = np.random.default_rng(3)
    verdicts = run(HourlyParx(), np.array([profile(rng) for _ in range(5)]))
    assert all(v.expected is None and not v.anomaly for v in verdicts)


def test_the_check_builds_hourly_means_on_the_readings_wall_clock() -> None:
    rng = np.random.default_rng(4)
    tz = timezone(timedelta(hours=1))  # hours are local: 00:00+01:00 starts day 0
    start = datetime(2024, 1, 1, tzinfo=tz)
    check = PatternCheck()
    days = [profile(rng) for _ in range(16)]
    findings = []
    for d, day in enumerate(days):
        for h in range(24):
            for m in range(0, 60, 10):
                ts = start + timedelta(days=d, hours=h, minutes=m)
                findings.append(check.update(Reading(timestamp=ts, power=float(day[h]))))
    last_day = start.date().toordinal() - datetime(1970, 1, 1).date().toordinal() + 15
    assert check.model.power[last_day][22] == pytest.approx(days[-1][22], abs=0.05)  # kept to 0.1 W
    assert check.expected_power(Reading(ts, 0.0)) is not None
    assert sum(f is not None for f in findings) < 0.02 * len(findings)


def test_an_evening_that_uses_much_less_than_predicted_is_no_new_pattern() -> None:
    rng = np.random.default_rng(4)
    days = np.array([profile(rng) for _ in range(28)])
    days[21, 16:23] = 300  # the family is out: no evening peak
    verdicts = run(HourlyParx(), days)
    evening = verdicts[21 * 24 + 16 : 21 * 24 + 23]
    assert any(v.probability is not None and v.probability < 1e-3 for v in evening)  # it differs
    assert not any(v.anomaly for v in evening)  # but nothing was added: no alarm


def _night_load(hours: range) -> list[tuple[datetime, Finding | None]]:
    """A check fed 23 ordinary days every 10 min, with 3 kW extra in `hours` of day 22's night."""
    rng = np.random.default_rng(1)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    days = np.array([profile(rng) for _ in range(23)])
    days[22, hours] += 3000
    check = PatternCheck()
    out = []
    for d, day in enumerate(days):
        for h in range(24):
            for m in range(0, 60, 10):
                ts = start + timedelta(days=d, hours=h, minutes=m)
                out.append((ts, check.update(Reading(timestamp=ts, power=float(day[h])))))
    return out


def test_a_new_pattern_alarm_holds_while_its_load_is_still_on() -> None:
    found = [ts for ts, f in _night_load(range(1, 4)) if f is not None]

    assert found
    assert f"{found[0]:%d %H:%M}" == "23 02:00"  # the first hour's verdict, load still on


def test_a_new_pattern_whose_load_ended_with_its_hour_does_not_alarm() -> None:
    assert [f for _, f in _night_load(range(1, 2)) if f is not None] == []


def _swinging_dinner() -> list[Reading]:
    """23 days every 10 min; on day 22 (every 10 s from 01:00 to 05:00) 3 kW more from 01:00
    to 04:00 (a guests' dinner): at 02:00 the load's first reading is high, the next five low
    (a hob cycling off), then it runs on."""
    rng = np.random.default_rng(1)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    readings = []
    for d, day in enumerate(np.array([profile(rng) for _ in range(23)])):
        for h in range(24):
            dinner = d == 22 and 1 <= h < 5
            for s in range(0, 3600, 10 if dinner else 600):
                extra = 0.0
                if dinner and h < 4:
                    extra = 6000.0 if s == 0 else 0.0 if h == 2 and s < 60 else 3000.0
                ts = start + timedelta(days=d, hours=h, seconds=s)
                readings.append(Reading(timestamp=ts, power=float(day[h]) + extra))
    return readings


def test_a_new_pattern_alarm_is_raised_once_when_the_hours_first_readings_swing() -> None:
    """One alarm, not one per swing of the mean of the hour's first readings; it ends 5
    minutes into 04:00, when the hour's mean so far shows the load is over."""
    check = PatternCheck()
    raised = [(r.timestamp, check.update(r)) for r in _swinging_dinner()]
    on = [f"{ts:%d %H:%M:%S}" for ts, f in raised if f is not None]
    starts = [ts for (_, before), (ts, now) in pairwise(raised) if now and not before]
    assert [f"{ts:%d %H:%M:%S}" for ts in starts] == ["23 02:00:00"]
    assert on[-1] == "23 04:04:50"


def test_a_check_restored_while_its_alarm_waits_for_a_settled_hour_goes_on_alike() -> None:
    readings = _swinging_dinner()
    split = next(i for i, r in enumerate(readings) if f"{r.timestamp:%d %H:%M:%S}" == "23 02:00:40")
    never_stopped = PatternCheck()
    expected = [never_stopped.update(r) is not None for r in readings]
    check = PatternCheck()
    before = [check.update(r) is not None for r in readings[:split]]
    restored = PatternCheck.from_state(json.loads(json.dumps(check.to_state())))
    after = [restored.update(r) is not None for r in readings[split:]]
    assert before + after == expected
    assert expected[split]  # the alarm is on at the restore


def _night_load_across(
    zone: ZoneInfo, first_day: date, hours: range, *, bare_offsets: bool = False
) -> list[Finding]:
    """23 ordinary days every 10 min on `zone`'s clock from `first_day`, stamped from the epoch
    (as readings come), with 3 kW extra in the local `hours` of day 22's night. `bare_offsets`:
    each stamped with its UTC offset only, as Tibber and a CSV export give a time."""
    rng = np.random.default_rng(1)
    days = np.array([profile(rng) for _ in range(23)])
    start = datetime.combine(first_day, datetime.min.time(), zone)
    end = datetime.combine(first_day + timedelta(days=23), datetime.min.time(), zone)
    check = PatternCheck()
    found = []
    for epoch in range(int(start.timestamp()), int(end.timestamp()), 600):
        moment = datetime.fromtimestamp(epoch, zone)
        if bare_offsets:
            moment = moment.astimezone(timezone(moment.utcoffset() or timedelta(0)))
        day = (moment.date() - first_day).days
        extra = 3000.0 if day == 22 and moment.hour in hours else 0.0
        if finding := check.update(Reading(moment, float(days[day][moment.hour]) + extra)):
            found.append(finding)
    return found


@pytest.mark.parametrize(
    ("zone", "first_day", "hours", "since"),
    [
        # 01:00-02:00 (CET) is judged at 03:00 (CEST), the next hour the night has
        ("Europe/Oslo", date(2026, 3, 7), range(1, 5), "2026-03-29T01:00:00+01:00"),
        ("US/Pacific", date(2026, 2, 14), range(1, 5), "2026-03-08T01:00:00-08:00"),
        # 02:00 is one local hour over both passes (CEST, then CET), judged at 03:00 (CET)
        ("Europe/Oslo", date(2026, 10, 3), range(2, 5), "2026-10-25T02:00:00+02:00"),
    ],
)
def test_a_new_pattern_across_a_change_of_summer_time_is_since_the_start_of_its_judged_hour(
    zone: str, first_day: date, hours: range, since: str
) -> None:
    found = _night_load_across(ZoneInfo(zone), first_day, hours)

    assert found
    assert found[0].since.isoformat() == since


@pytest.mark.parametrize(
    ("first_day", "hours", "since"),
    [
        # 01:00-02:00 stamped +01:00, judged at 03:00 stamped +02:00
        (date(2026, 3, 7), range(1, 5), "2026-03-29T01:00:00+01:00"),
        # 02:00's first pass stamped +02:00, judged at 03:00 stamped +01:00
        (date(2026, 10, 3), range(2, 5), "2026-10-25T02:00:00+02:00"),
    ],
    ids=["clocks_forward", "clocks_back"],
)
def test_a_new_pattern_of_readings_with_bare_offsets_is_since_the_start_of_its_judged_hour(
    first_day: date, hours: range, since: str
) -> None:
    """CHANGELOG: a new daily pattern across a change of summer time says `since` on that hour's
    clock; readings with only a UTC offset (Tibber's off its home's zone, `scripts/score`'s CSV)
    tell that hour's offset with its own readings."""
    found = _night_load_across(ZoneInfo("Europe/Oslo"), first_day, hours, bare_offsets=True)

    assert found
    assert found[0].since.timestamp() == datetime.fromisoformat(since).timestamp()


@pytest.mark.parametrize(
    ("first_day", "hours", "restored_at"),
    [
        # restored in the judged hour 01:00 (+01:00), alarmed at 03:00 (+02:00)
        (date(2026, 3, 7), range(1, 5), "2026-03-29T01:30:00+01:00"),
        # restored in 02:00's first pass (+02:00), alarmed at 03:00 (+01:00)
        (date(2026, 10, 3), range(2, 5), "2026-10-25T02:30:00+02:00"),
    ],
    ids=["clocks_forward", "clocks_back"],
)
def test_a_check_restored_before_a_new_pattern_of_bare_offset_readings_tells_the_same_since(
    first_day: date, hours: range, restored_at: str
) -> None:
    """A restart must not move `since`: the alarm of a check that never stopped says the judged
    hour began at its first reading's hour (Tibber's readings carry bare offsets); one restored
    from its state in that hour says the same (else the runner takes the episode it showed
    before the restart for a new one)."""
    readings = _bare_offset_night_load(first_day, hours)
    split = next(i for i, r in enumerate(readings) if r.timestamp.isoformat() == restored_at)
    never_stopped = PatternCheck()
    expected = [f for r in readings if (f := never_stopped.update(r)) is not None]
    check = PatternCheck()
    for reading in readings[:split]:
        check.update(reading)
    restored = PatternCheck.from_state(json.loads(json.dumps(check.to_state())))
    found = [f for r in readings[split:] if (f := restored.update(r)) is not None]

    assert expected
    assert found
    assert found[0].since.timestamp() == expected[0].since.timestamp()


def _bare_offset_night_load(first_day: date, hours: range) -> list[Reading]:
    """`_night_load_across`'s readings on Oslo's clock, each stamped with its bare UTC offset."""
    zone = ZoneInfo("Europe/Oslo")
    rng = np.random.default_rng(1)
    days = np.array([profile(rng) for _ in range(23)])
    start = datetime.combine(first_day, datetime.min.time(), zone)
    end = datetime.combine(first_day + timedelta(days=23), datetime.min.time(), zone)
    readings = []
    for epoch in range(int(start.timestamp()), int(end.timestamp()), 600):
        local = datetime.fromtimestamp(epoch, zone)
        moment = local.astimezone(timezone(local.utcoffset() or timedelta(0)))
        day = (local.date() - first_day).days
        extra = 3000.0 if day == 22 and local.hour in hours else 0.0
        readings.append(Reading(moment, float(days[day][local.hour]) + extra))
    return readings


@pytest.mark.parametrize("key", ["hour_offset", "judged_offset"])
def test_a_stored_utc_offset_of_a_day_or_more_is_refused(key: str) -> None:
    """No clock is a day off UTC: a `since` told with it could not be made at the next alarm."""
    state = json.loads(json.dumps(PatternCheck().to_state())) | {key: 86_400.0}

    with pytest.raises(StateError, match=key):
        PatternCheck.from_state(state)
