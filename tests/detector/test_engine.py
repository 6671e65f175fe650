"""The combined detector on small constructed homes: what it flags, what it leaves alone."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cache
import json
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from custom_components.energy_anomaly.detector.check import StateError
from custom_components.energy_anomaly.detector.config import DetectorConfig
from custom_components.energy_anomaly.detector.engine import Detector
from custom_components.energy_anomaly.detector.model import Kind, Mode, Reading, Result, Status
from custom_components.energy_anomaly.detector.render import render

from .household import DAY, START, at, first_alarm, minute_of, normal_days, readings, run, with_load

LEARNED = 15  # days of ordinary life before anything is judged (the learning period is 14 days)


@cache
def ordinary() -> tuple[Result, ...]:
    return tuple(run(Detector(), readings(normal_days(LEARNED + 2))))


@cache
def heater_night() -> tuple[Result, ...]:
    """A 2 kW heater left on from 03:00 to 06:00 after the learning period."""
    power = with_load(normal_days(LEARNED + 1), at(LEARNED, 3), 180, 2000.0)
    return tuple(run(Detector(), readings(power)))


def test_nothing_alarms_while_learning_and_status_follows() -> None:
    power = with_load(normal_days(3), at(1, 3), 180, 2000.0)
    results = run(Detector(), readings(power))

    assert all(r.status is Status.LEARNING for r in results)
    assert not any(r.anomaly for r in results)


def test_a_kettle_and_dinner_oven_every_day_never_alarm() -> None:
    results = ordinary()

    assert results[-1].status is Status.ACTIVE
    assert first_alarm(results) is None
    assert results[-1].expected is not None
    assert results[-1].baseload is not None


def test_a_heater_left_on_at_night_is_flagged_within_15_minutes_and_ends() -> None:
    results = heater_night()
    alarm = first_alarm(results)

    assert alarm is not None
    assert alarm.finding is not None
    assert alarm.finding.kind == "unusual_consumption"
    assert at(LEARNED, 3) <= minute_of(alarm) <= at(LEARNED, 3, 15)
    assert f"{alarm.finding.since:%H:%M}" == "03:00"  # when the heater went on, not earlier
    assert "drawn since 03:00" in render(alarm.finding)
    assert alarm.score >= 1.0
    after = [r.anomaly for r in results if minute_of(r) >= at(LEARNED, 7)]
    assert not any(after)


def test_a_nightly_new_load_alarms_on_its_first_nights_and_then_is_learned() -> None:
    days = LEARNED + 8
    power = normal_days(days)
    for day in range(LEARNED, days):
        power = with_load(power, at(day, 1), 180, 400.0)  # a PC every night from 01:00 to 04:00
    results = run(Detector(), readings(power))
    by_night = [
        any(r.anomaly for r in results if at(d, 0) <= minute_of(r) < at(d, 6))
        for d in range(LEARNED, days)
    ]

    assert by_night[0]
    assert not any(by_night[4:])


def _faulty(value: float, minutes: int) -> list[Reading]:
    stream = readings(normal_days(3))
    start = at(2, 10)
    return [
        Reading(r.timestamp, value) if start <= i < start + minutes else r
        for i, r in enumerate(stream)
    ]


@pytest.mark.parametrize(("value", "kind"), [(0.0, "meter_fault"), (-300.0, "meter_fault")])
def test_zeros_and_negatives_alarm_even_while_learning(value: float, kind: str) -> None:
    alarm = first_alarm(run(Detector(), _faulty(value, 30)))

    assert alarm is not None
    assert alarm.finding.kind == kind
    assert at(2, 10) <= minute_of(alarm) <= at(2, 10, 5)


def test_a_stale_value_alarms() -> None:
    stream = readings(normal_days(3))
    start = at(2, 10)
    frozen = [
        Reading(r.timestamp, 777.0) if start <= i < start + 60 else r for i, r in enumerate(stream)
    ]
    alarm = first_alarm(run(Detector(), frozen))

    assert alarm is not None
    assert alarm.finding.kind == "meter_fault"


def test_a_cold_snap_explained_by_temperature_does_not_alarm() -> None:
    """Learning days between 2 and 12 °C with 60 W of heating per degree below 16 °C, then three
    days at -8 °C: the extra heating (all day and night) follows from the temperature."""
    days = LEARNED + 3
    daily = [2.0, 12.0, 6.0, 10.0, 4.0, 8.0, 11.0, 3.0] * 2 + [-8.0] * 3
    daily = daily[:LEARNED] + daily[-3:]
    temperature = np.repeat(daily, DAY)
    power = normal_days(days) + 60.0 * (16.0 - temperature)
    stream = [
        Reading(r.timestamp, r.power, temperature=float(temperature[i]))
        for i, r in enumerate(readings(power))
    ]
    without = [Reading(r.timestamp, r.power) for r in stream]

    assert first_alarm(run(Detector(), stream)) is None
    assert first_alarm(run(Detector(), without)) is not None  # the temperature is what explains it


def test_the_verdict_takes_kind_and_reason_from_the_most_important_check() -> None:
    results = heater_night()
    alarm = first_alarm(results)
    assert alarm is not None
    moment = alarm.timestamp + timedelta(minutes=30)
    detector = Detector(DetectorConfig(fuse_amps=25.0))
    stream = readings(with_load(normal_days(LEARNED + 1), at(LEARNED, 3), 180, 2000.0))
    cut = next(i for i, r in enumerate(stream) if r.timestamp >= moment)
    run(detector, stream[:cut])
    over = detector.update(Reading(moment, 2000.0, current=(40.0, None, None)))
    for s in range(10, 130, 10):
        over = detector.update(
            Reading(moment + timedelta(seconds=s), 2000.0, current=(40.0, None, None))
        )
    zero = detector.update(Reading(moment + timedelta(seconds=200), 0.0))
    for s in range(210, 400, 10):
        zero = detector.update(Reading(moment + timedelta(seconds=s), 0.0))

    assert over.finding.kind == "power_quality"
    assert zero.finding.kind == "meter_fault"
    assert zero.anomaly


@pytest.mark.parametrize("split", [at(LEARNED, 2, 30) + 17, at(LEARNED, 3, 40) + 5])
def test_state_round_trips_through_json_and_decides_the_same(split: int) -> None:
    """Restored before or during an alarm, the detector goes on exactly as if never stopped."""
    plain = readings(with_load(normal_days(LEARNED + 1), at(LEARNED, 3), 180, 2000.0))
    stream = [  # an outdoor temperature that changes within every hour
        Reading(r.timestamp, r.power, temperature=round(2.0 + 3.0 * np.sin(i / 7.0), 1))
        for i, r in enumerate(plain)
    ]
    uninterrupted, interrupted = Detector(), Detector()
    expected = run(uninterrupted, stream)
    run(interrupted, stream[:split])

    text = json.dumps(interrupted.to_state())
    restored = Detector.from_state(json.loads(text))

    assert len(text) < 100_000
    assert "consumption" not in json.loads(text)["options"]
    assert run(restored, stream[split:]) == expected[split:]
    assert restored.to_state() == uninterrupted.to_state()


def test_the_stored_options_come_back_and_unknown_versions_are_refused() -> None:
    state = Detector(DetectorConfig(fuse_amps=35.0)).to_state()

    assert Detector.from_state(state).config.fuse_amps == 35.0
    with pytest.raises(ValueError, match="999"):
        Detector.from_state(state | {"version": 999})


def test_any_spacing_and_out_of_order_readings_are_answered() -> None:
    stream = readings(normal_days(1)[: DAY // 2], 600.0)
    detector = Detector()
    results = run(detector, stream)
    late = detector.update(stream[3])

    assert [r.timestamp for r in results] == [r.timestamp for r in stream]
    assert late.timestamp == stream[3].timestamp
    assert late.timestamp >= START


def test_taking_plausible_readings_without_a_result_decides_as_update_does() -> None:
    """`take_plausible` (what `scripts/score` feeds) leaves `score` and `finding` as update says."""
    stream = readings(with_load(normal_days(LEARNED + 1), at(LEARNED, 3), 180, 2000.0))
    taking = Detector()
    verdicts = []
    for reading in stream:
        taking.take_plausible(reading)
        verdicts.append((taking.score, taking.finding))

    assert verdicts == [(r.score, r.finding) for r in heater_night()]
    assert any(finding is not None for _, finding in verdicts)


def test_updating_with_plausible_readings_gives_the_results_update_gives() -> None:
    """`update_plausible` (what the runner feeds, having checked each reading) is `update`."""
    stream = readings(with_load(normal_days(LEARNED + 1), at(LEARNED, 3), 180, 2000.0))
    detector = Detector()

    assert [detector.update_plausible(r) for r in stream] == list(heater_night())


def _round_trip(detector: Detector) -> Detector:
    """The detector as a restart brings it back: through its JSON state."""
    return Detector.from_state(json.loads(json.dumps(detector.to_state())))


def test_a_signed_meters_exporting_hours_leave_a_state_that_restores_in_away_mode() -> None:
    detector = Detector()
    moment = datetime(2024, 5, 6, tzinfo=ZoneInfo("Europe/Oslo"))
    for _ in range(3 * 24 * 60 + 12 * 60):  # 3.5 days a minute apart; away from the 4th day on
        moment += timedelta(minutes=1)
        if moment.day == 9 and moment.hour == 0 and moment.minute == 1:
            detector.set_mode(Mode.AWAY)
        sunny = 11 <= moment.hour < 14  # exporting: a signed power sensor reads below 0
        result = detector.update(
            Reading(moment, -800.0 if sunny else 300.0, 1500.0 if sunny else 0.0)
        )

    assert result.expected is not None
    assert result.expected >= 0.0
    assert _round_trip(detector).to_state() == detector.to_state()


def test_after_the_host_time_zone_changes_a_restored_detector_decides_as_one_that_went_on() -> None:
    went_on = Detector()
    moment = datetime(2024, 1, 1, tzinfo=UTC)
    oslo, kolkata = ZoneInfo("Europe/Oslo"), ZoneInfo("Asia/Kolkata")
    for _ in range(12 * 24 * 60):  # 12 days, a minute apart: 100 W more each hour of the day
        moment += timedelta(minutes=1)
        local = moment.astimezone(oslo)
        went_on.update(Reading(local, 100.0 + 100.0 * local.hour))
    moment += timedelta(minutes=1)  # 01:00 in Oslo, now 05:30 in Kolkata: the host moved
    went_on.update(Reading(moment.astimezone(kolkata), 600.0))
    restored = _round_trip(went_on)

    for _ in range(60):
        moment += timedelta(minutes=1)
        reading = Reading(moment.astimezone(kolkata), 600.0)
        assert went_on.update(reading) == restored.update(reading)


def test_a_meter_frozen_for_days_teaches_the_baseload_nothing() -> None:
    detector = Detector()
    moment = datetime(2024, 3, 20, tzinfo=ZoneInfo("Europe/Oslo"))

    def ordinary(moment: datetime) -> float:  # 150 W, a fridge cycling, an evening load
        fridge = 90.0 if moment.minute % 45 < 15 else 0.0
        return 150.0 + fridge + (300.0 if 17 <= moment.hour < 22 else 0.0) + moment.minute % 7

    def days(count: float, power: Callable[[datetime], float]) -> list[Result]:
        nonlocal moment
        results = []
        for _ in range(int(count * 24 * 60)):
            moment += timedelta(minutes=1)
            results.append(detector.update(Reading(moment, power(moment))))
        return results

    days(16, ordinary)
    baseload = detector.to_state()["baseload"]["value"]
    frozen = days(2.5, lambda _: 520.0)  # the meter's reader repeats one value
    after = days(3, ordinary)

    assert any(result.finding and result.finding.kind is Kind.METER_FAULT for result in frozen)
    assert [result.finding for result in after if result.finding] == []
    assert detector.to_state()["baseload"]["value"] == pytest.approx(baseload, abs=5)


def _steady_days(detector: Detector, moment: datetime, days: int) -> tuple[datetime, Result]:
    """`days` ordinary days a minute apart from `moment`; the moment and result after them."""
    result = None
    for _ in range(days * 24 * 60):
        moment += timedelta(minutes=1)
        power = 300.0 + (50.0 if moment.hour in {7, 18} else 0.0) + moment.minute % 7
        result = detector.update(Reading(moment, power))
    assert result is not None
    return moment, result


def test_an_active_detector_stays_active_through_two_days_without_readings() -> None:
    detector = Detector()
    moment, result = _steady_days(
        detector, datetime(2024, 1, 8, tzinfo=ZoneInfo("Europe/Oslo")), 20
    )
    assert result.status is Status.ACTIVE

    moment, result = _steady_days(detector, moment + timedelta(hours=50), 1)  # HA was off

    assert result.status is Status.ACTIVE
    assert _round_trip(detector).to_state() == detector.to_state()


def test_a_detector_that_missed_most_of_its_days_learns_again() -> None:
    detector = Detector()
    moment, _ = _steady_days(detector, datetime(2024, 1, 8, tzinfo=ZoneInfo("Europe/Oslo")), 20)

    _, result = _steady_days(detector, moment + timedelta(days=10), 1)  # away, HA off, 10 days

    assert result.status is Status.LEARNING


def test_the_grid_comes_back_with_the_state_unless_the_home_names_another() -> None:
    """A state stored before the grid was kept is a 230 V home's; the runner's config wins."""
    state = Detector(DetectorConfig(nominal_v=120.0)).to_state()

    assert Detector.from_state(state).config.nominal_v == 120.0
    restored = Detector.from_state(state, DetectorConfig(nominal_v=230.0))
    assert restored.config.nominal_v == 230.0
    del state["options"]["nominal_v"]
    assert Detector.from_state(state).config.nominal_v == 230.0


AT_120_V_FROM = datetime(2024, 3, 4, 12, tzinfo=UTC)
AT_120_V_FOR_S = 300  # five minutes at 120 V: an undervoltage against 230 V


def a_120_v_phase_in_undervoltage_against_230_v() -> Detector:
    """A 230 V detector fed a 120 V phase for AT_120_V_FOR_S from AT_120_V_FROM, alarming."""
    detector = Detector()
    for second in range(0, AT_120_V_FOR_S, 10):
        detector.update(a_120_v_reading(second))
    assert detector.finding is not None
    assert detector.finding.kind is Kind.POWER_QUALITY
    return detector


def a_120_v_reading(second: int) -> Reading:
    """A reading of 400 W and 120 V on L1, `second` s after AT_120_V_FROM."""
    return Reading(AT_120_V_FROM + timedelta(seconds=second), 400.0, voltage=(120.0, None, None))


def test_a_voltage_episode_judged_against_another_grid_does_not_go_on_after_the_restore() -> None:
    """A 120 V home first set up as a 230 V one is in undervoltage; once its grid is known, 120 V
    is normal at once, not an overvoltage episode still open (its mean 120 V above 120 V)."""
    detector = a_120_v_phase_in_undervoltage_against_230_v()

    restored = Detector.from_state(detector.to_state(), DetectorConfig(nominal_v=120.0))
    result = restored.update(a_120_v_reading(AT_120_V_FOR_S))

    assert result.finding is None


def test_a_detector_told_its_grid_judges_against_it_from_then_on_without_the_old_episode() -> None:
    """A home whose grid was read only after setup: its 120 V, in undervoltage against 230 V,
    is normal at once, and the grid is in the state it stores."""
    detector = a_120_v_phase_in_undervoltage_against_230_v()

    detector.judge_against(120.0)
    result = detector.update(a_120_v_reading(AT_120_V_FOR_S))

    assert result.finding is None
    assert detector.to_state()["options"]["nominal_v"] == 120.0


@pytest.mark.parametrize("volts", [0.0, -120.0, float("nan"), float("inf"), None])
def test_a_stored_nominal_voltage_no_phase_could_be_judged_against_is_a_damaged_state(
    volts: float | None,
) -> None:
    state = Detector().to_state()
    state["options"]["nominal_v"] = volts

    with pytest.raises(StateError, match="options"):
        Detector.from_state(state)


@pytest.mark.parametrize("fuse", [0.0, -25.0, float("nan"), float("inf")])
def test_a_fuse_no_current_could_stay_under_is_refused(fuse: float) -> None:
    with pytest.raises(ValueError, match="main fuse"):
        DetectorConfig(fuse_amps=fuse)


def test_a_stored_fuse_of_0_amperes_is_a_damaged_state() -> None:
    state = Detector(DetectorConfig(fuse_amps=35.0)).to_state()
    state["options"]["fuse_amps"] = 0

    with pytest.raises(StateError, match="options"):
        Detector.from_state(state)


def _minutes(power: np.ndarray, first: int, last: int) -> list[Reading]:
    """Readings a minute apart of `power` from minute `first` up to (not with) `last`."""
    return [Reading(START + timedelta(minutes=i), float(power[i])) for i in range(first, last)]


def test_an_active_home_flags_a_heater_at_the_hours_home_assistant_was_off_days_before() -> None:
    power = with_load(normal_days(23), at(21, 2), 120, 2000.0)
    detector = Detector()
    run(detector, _minutes(power, 0, at(17, 12)))
    results = run(detector, _minutes(power, at(18, 12), at(22, 12)))  # off for 24 hours

    alarm = _first_unusual(results)

    assert results[-1].status is Status.ACTIVE
    assert alarm is not None
    assert at(21, 2) <= minute_of(alarm) <= at(21, 2, 30)


def test_a_day_without_readings_while_learning_delays_the_active_status_by_a_day() -> None:
    power = normal_days(20)
    detector = Detector()
    run(detector, _minutes(power, 0, at(12, 12)))
    progress = detector.learning_progress

    results = run(detector, _minutes(power, at(14, 12), at(17, 12)))  # off for two days

    assert progress == pytest.approx(12.5 / 14, abs=0.01)
    assert results[-1].status is Status.ACTIVE  # 16 days with readings by now


def _first_unusual(results: list[Result]) -> Result | None:
    """The first result whose finding is unusual consumption, if any."""
    return next(
        (r for r in results if r.finding and r.finding.kind is Kind.UNUSUAL_CONSUMPTION), None
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("zone", "Mars/Olympus_Mons"),
        ("offset_s", 90_000.0),
        ("voltage", [230.0]),
        ("power", 1e12),
        ("temperature", 500.0),
    ],
)
def test_a_stored_held_reading_it_cannot_have_had_is_refused(field: str, value: object) -> None:
    detector = Detector()
    oslo = datetime(2024, 3, 4, tzinfo=ZoneInfo("Europe/Oslo"))
    detector.update(Reading(oslo, 400.0))
    detector.update(Reading(oslo + timedelta(hours=2), 400.0))  # held after two silent hours
    state = json.loads(json.dumps(detector.to_state()))
    if field == "offset_s":
        state["held"]["zone"] = None
    state["held"][field] = value

    with pytest.raises(StateError):
        Detector.from_state(state)


def test_a_held_reading_restored_after_a_restart_still_finds_the_meters_gap_before_it() -> None:
    detector = Detector()
    run(detector, readings(normal_days(1)))
    back = START + timedelta(days=1, hours=2)
    detector.update(Reading(back, 300.0))  # after two silent hours: held until confirmed
    restored = Detector.from_state(json.loads(json.dumps(detector.to_state())))
    restored.restarted_at(back + timedelta(seconds=30))  # as the runner does on a live home
    confirming = Reading(back + timedelta(seconds=60), 300.0)

    gap = detector.update(confirming).finding

    assert gap is not None
    assert restored.update(confirming).finding == gap
