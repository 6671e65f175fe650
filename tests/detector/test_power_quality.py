"""Specifications of the power quality check (EN 50160 voltage, main fuse) on constructed series."""

from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
import json

from custom_components.energy_anomaly.detector.config import DetectorConfig
from custom_components.energy_anomaly.detector.model import Finding, Reading
from custom_components.energy_anomaly.detector.power_quality import PowerQualityCheck
from custom_components.energy_anomaly.detector.render import render

TZ = timezone(timedelta(hours=1))
START = datetime(2024, 1, 8, tzinfo=TZ)
STEP = 10  # seconds

Phases = tuple[float | None, float | None, float | None]


def readings(
    start_s: int,
    seconds: int,
    voltage: Phases = (231.0, 229.0, 230.0),
    current: Phases = (3.0, 2.0, 4.0),
) -> list[Reading]:
    return [
        Reading(START + timedelta(seconds=s), 2000.0, voltage=voltage, current=current)
        for s in range(start_s, start_s + seconds, STEP)
    ]


def feed(check: PowerQualityCheck, series: Iterable[Reading]) -> list[Finding | None]:
    return [check.update(r) for r in series]


def test_a_30_second_dip_stays_quiet() -> None:
    check = PowerQualityCheck()
    series = [
        *readings(0, 600),
        *readings(600, 30, voltage=(231.0, 195.0, 230.0)),
        *readings(630, 600),
    ]
    assert not any(feed(check, series))


def test_five_minutes_at_198_volts_alarm() -> None:
    check = PowerQualityCheck()
    feed(check, readings(0, 600))
    found = feed(check, readings(600, 300, voltage=(231.0, 198.0, 230.0)))
    first = next(i for i, f in enumerate(found) if f is not None)
    assert 60 <= first * STEP <= 120
    finding = found[-1]
    assert finding is not None
    assert finding.kind == "power_quality"
    assert render(finding).startswith("Voltage on L2 has been 198 V for 5 minutes")
    assert "207-253 V" in render(finding)
    assert finding.score > 1.0
    after = feed(check, readings(900, 120))
    assert after[-1] is None


NORTH_AMERICA = DetectorConfig(nominal_v=120.0)


def test_a_120_v_grid_is_normal_at_120_v_and_judged_against_108_to_132_v() -> None:
    check = PowerQualityCheck(NORTH_AMERICA)
    assert not any(feed(check, readings(0, 900, voltage=(121.0, 119.0, None))))

    finding = feed(check, readings(900, 300, voltage=(121.0, 100.0, None)))[-1]

    assert finding is not None
    assert finding.cause == "undervoltage"  # not a lost phase: that is below 60 V there
    assert (finding.observed, finding.expected) == (100.0, 120.0)
    assert render(finding) == "Voltage on L2 has been 100 V for 5 minutes (normal 108-132 V)"


def test_a_120_v_grid_loses_a_phase_below_half_its_nominal() -> None:
    check = PowerQualityCheck(NORTH_AMERICA)
    feed(check, readings(0, 600, voltage=(121.0, 119.0, None)))

    finding = feed(check, readings(600, 300, voltage=(121.0, 0.0, None)))[-1]

    assert finding is not None
    assert finding.cause == "lost_phase"


def test_noise_around_the_limit_keeps_one_overvoltage_episode() -> None:
    check = PowerQualityCheck()
    volts = [255.0, 254.0, 252.5, 255.5, 254.5, 256.0]  # one reading dips inside the band
    series = [
        Reading(START + timedelta(seconds=i * STEP), 500.0, voltage=(volts[i % 6], None, None))
        for i in range(60)
    ]
    found = feed(check, series)
    first = next(i for i, f in enumerate(found) if f is not None)
    assert all(found[first:])


def test_phases_the_meter_does_not_report_are_skipped() -> None:
    check = PowerQualityCheck(DetectorConfig(fuse_amps=25.0))
    assert not any(
        feed(check, readings(0, 600, voltage=(230.0, None, None), current=(5.0, None, None)))
    )


def test_a_current_above_the_fuse_for_two_minutes_alarms() -> None:
    check = PowerQualityCheck(DetectorConfig(fuse_amps=25.0))
    found = feed(check, readings(0, 120, current=(28.0, 5.0, 5.0)))
    finding = found[-1]
    assert finding is not None
    assert render(finding) == "Current on L1 is 28 A, above the 25 A fuse, for 2 minutes"
    assert finding.expected == 25.0


def test_a_current_exported_beyond_the_fuse_alarms_with_its_size() -> None:
    check = PowerQualityCheck(DetectorConfig(fuse_amps=25.0))
    found = feed(check, readings(0, 120, current=(-28.0, 5.0, 5.0)))  # a signed sensor
    finding = found[-1]
    assert finding is not None
    assert render(finding) == "Current on L1 is 28 A, above the 25 A fuse, for 2 minutes"


def test_an_inrush_above_the_fuse_stays_quiet() -> None:
    check = PowerQualityCheck(DetectorConfig(fuse_amps=25.0))
    series = [*readings(0, 300), *readings(300, 20, current=(3.0, 40.0, 3.0)), *readings(320, 300)]
    assert not any(feed(check, series))


def test_without_a_fuse_the_current_is_not_checked() -> None:
    check = PowerQualityCheck()
    assert not any(feed(check, readings(0, 600, current=(40.0, 40.0, 40.0))))


def test_state_round_trips_through_json() -> None:
    config = DetectorConfig(fuse_amps=25.0)
    check = PowerQualityCheck(config)
    feed(check, readings(0, 60, voltage=(250.0, 260.0, 230.0), current=(30.0, 3.0, 3.0)))
    restored = PowerQualityCheck.from_state(json.loads(json.dumps(check.to_state())), config)
    rest = readings(60, 300, voltage=(250.0, 260.0, 230.0), current=(30.0, 3.0, 3.0))
    assert feed(restored, rest) == feed(check, rest)


def test_a_phase_lost_as_none_while_the_others_go_on_alarms_within_minutes() -> None:
    check = PowerQualityCheck()
    feed(check, readings(0, 600))
    found = feed(check, readings(600, 300, voltage=(231.0, 229.0, None), current=(3.0, 2.0, None)))
    first = next(i for i, f in enumerate(found) if f is not None)
    assert first * STEP <= 180
    finding = found[-1]
    assert finding is not None
    assert finding.kind == "power_quality"
    assert finding.cause == "lost_phase"
    assert render(finding).startswith("L3 has been lost (0 V) for 5 minutes")
    assert feed(check, readings(900, 120))[-1] is None


def test_a_phase_the_meter_never_reported_is_not_lost() -> None:
    check = PowerQualityCheck()
    assert not any(feed(check, readings(0, 900, voltage=(231.0, None, None))))


def test_a_phase_without_voltage_but_with_current_is_only_unreported() -> None:
    check = PowerQualityCheck()
    feed(check, readings(0, 600))
    assert not any(feed(check, readings(600, 600, voltage=(231.0, 229.0, None))))


def test_readings_without_any_phase_voltage_neither_end_nor_hide_a_lost_phase() -> None:
    """Some meters send phase values only in every few messages; the others say nothing."""
    check = PowerQualityCheck()
    feed(check, readings(0, 600))
    lost = readings(600, 300, voltage=(231.0, 229.0, None), current=(3.0, 2.0, None))
    silent = readings(605, 300, voltage=(None, None, None), current=(None, None, None))
    series = sorted([*lost, *silent], key=lambda r: r.epoch)
    found = feed(check, series)
    assert found[-1] is not None
    assert found[-1].facts["lasted_s"] >= 290


def test_one_stray_voltage_frame_on_a_single_phase_meter_latches_no_lost_phase() -> None:
    """A dongle's one frame with an L2 voltage does not make L2 a phase that can be lost."""
    check = PowerQualityCheck()
    single = {"voltage": (231.0, None, None), "current": (1.8, None, None)}
    feed(check, readings(0, 600, **single))
    feed(check, readings(600, STEP, voltage=(231.0, 230.0, None), current=(1.8, None, None)))
    assert not any(feed(check, readings(610, 3600, **single)))


def test_a_phase_reported_for_a_while_then_silent_is_lost() -> None:
    check = PowerQualityCheck()
    feed(check, readings(0, 30 * STEP))  # the phases reported in 30 readings in a row
    found = feed(check, readings(300, 300, voltage=(231.0, 229.0, None), current=(3.0, 2.0, None)))
    assert found[-1] is not None
    assert found[-1].cause == "lost_phase"


def test_a_silent_voltage_sensor_of_the_home_is_not_a_lost_phase() -> None:
    """A Wi-Fi voltage sensor that drops for minutes is a sensor problem (a repair issue)."""
    check = PowerQualityCheck(DetectorConfig(silent_phase_lost=False))
    feed(check, readings(0, 600, current=(None, None, None)))
    dropped = readings(600, 600, voltage=(231.0, 229.0, None), current=(None, None, None))
    assert not any(feed(check, dropped))


def test_a_home_sensor_phase_without_voltage_and_with_no_current_is_lost() -> None:
    check = PowerQualityCheck(DetectorConfig(silent_phase_lost=False))
    feed(check, readings(0, 600))
    found = feed(check, readings(600, 300, voltage=(231.0, 229.0, None), current=(3.0, 2.0, 0.0)))
    assert found[-1] is not None
    assert found[-1].cause == "lost_phase"


def test_a_phase_stored_as_supplied_before_readings_in_a_row_counted_qualifies_again() -> None:
    """An older release took one stray L2 frame for a supplied phase: a lost phase for good."""
    check = PowerQualityCheck()
    feed(check, readings(0, 600, voltage=(231.0, None, None), current=(1.8, None, None)))
    state = json.loads(json.dumps(check.to_state()))
    del state["reports"]
    state["supplied"] = [True, True, False]
    restored = PowerQualityCheck.from_state(state)

    single = readings(600, 3600, voltage=(231.0, None, None), current=(1.8, None, None))
    assert not any(feed(restored, single))


def test_an_overvoltage_stored_before_the_sides_were_kept_apart_goes_on_as_one() -> None:
    """A state stored without `above_*`: its one mean holds the values above the range."""
    check = PowerQualityCheck()
    feed(check, readings(0, 60, voltage=(231.0, 262.0, 230.0)))
    state = json.loads(json.dumps(check.to_state()))
    for episode in state["voltage"]:
        episode["total"] += episode.pop("above_total")
        episode["count"] += episode.pop("above_count")
    restored = PowerQualityCheck.from_state(state)

    finding = feed(restored, readings(60, 240, voltage=(231.0, 262.0, 230.0)))[-1]

    assert finding is not None
    assert render(finding).startswith("Voltage on L2 has been 262 V for 5 minutes")


def test_a_phase_swinging_every_reading_keeps_one_cause_for_its_episode() -> None:
    check = PowerQualityCheck()
    series = [
        Reading(START + timedelta(seconds=i * STEP), 500.0, voltage=(volts, 230.0, 230.0))
        for i, volts in enumerate([262.0, 190.0] * 30)  # a broken neutral, ten minutes
    ]
    findings = [f for f in feed(check, series) if f is not None]

    assert findings
    assert len({f.since for f in findings}) == 1  # one episode
    assert {f.cause for f in findings} == {findings[-1].cause}, [render(f) for f in findings[:3]]


def test_an_overcurrent_stored_before_the_sides_were_kept_apart_goes_on_as_one() -> None:
    config = DetectorConfig(fuse_amps=25.0)
    check = PowerQualityCheck(config)
    feed(check, readings(0, 120, current=(30.0, 2.0, 4.0)))
    state = json.loads(json.dumps(check.to_state()))
    for episode in state["current"]:  # as stored before: one sum of every value
        episode["total"] += episode.pop("above_total")
        episode["count"] += episode.pop("above_count")
    restored = PowerQualityCheck.from_state(state, config)
    later = readings(120, 130, current=(40.0, 2.0, 4.0))

    original = feed(check, later)[-1]
    finding = feed(restored, later)[-1]

    assert original is not None
    assert finding is not None
    assert finding.observed == original.observed  # 35.2 A (12 x 30 A, 13 x 40 A); said 40 A
