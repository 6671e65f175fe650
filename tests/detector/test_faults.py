"""Specifications of the meter/data fault checks on small constructed series."""

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta, timezone
import json

from custom_components.energy_anomaly.detector.config import DetectorConfig, FaultConfig
from custom_components.energy_anomaly.detector.faults import FaultCheck
from custom_components.energy_anomaly.detector.model import Finding, Reading
from custom_components.energy_anomaly.detector.render import render

TZ = timezone(timedelta(hours=1))
START = datetime(2024, 1, 8, tzinfo=TZ)
STEP = 10  # seconds
DAY = 86_400


def readings(
    start_s: int, end_s: int, power: float | None = None, production: float | None = None
) -> list[Reading]:
    """Readings every 10 s in [start_s, end_s); a home drawing 150-170 W unless `power` is given."""
    return [
        Reading(
            START + timedelta(seconds=s),
            power if power is not None else 150.0 + (s // STEP) % 7 * 3,
            power_production=production,
        )
        for s in range(start_s, end_s, STEP)
    ]


def feed(check: FaultCheck, series: Iterable[Reading]) -> list[Finding | None]:
    return [check.update(r) for r in series]


def learned() -> FaultCheck:
    """A check that has seen a day of a home that always draws 150-170 W."""
    check = FaultCheck()
    assert not any(feed(check, readings(0, DAY)))
    return check


def test_exact_zeros_alarm_in_a_home_that_always_draws() -> None:
    check = learned()
    found = feed(check, readings(DAY, DAY + 600, power=0.0))
    first = next(i for i, f in enumerate(found) if f is not None)
    assert first * STEP <= 90
    finding = found[-1]
    assert finding is not None
    assert finding.kind == "meter_fault"
    assert "exactly 0 W" in render(finding)
    assert "150 W" in render(finding)
    assert check.update(readings(DAY + 600, DAY + 610)[0]) is None


def test_a_single_zero_reading_stays_quiet() -> None:
    check = learned()
    assert not any(
        feed(check, [*readings(DAY, DAY + 20, power=0.0), *readings(DAY + 20, DAY + 600)])
    )


def exporting(start_s: int, end_s: int, production: float | None = None) -> list[Reading]:
    """Readings of 0 W drawn while exporting 2.5 kW, by the watt as the sun moves unless fixed."""
    return [
        replace(reading, power_production=production or 2500.0 + index % 7)
        for index, reading in enumerate(readings(start_s, end_s, power=0.0))
    ]


def test_zeros_while_exporting_are_normal() -> None:
    check = learned()
    assert not any(feed(check, exporting(DAY, DAY + 4 * 3600)))


def test_an_export_repeated_for_an_hour_is_a_frozen_value() -> None:
    check = learned()
    found = feed(check, exporting(DAY, DAY + 3600, production=1523.4))
    finding = found[-1]
    assert finding is not None
    assert finding.cause == "frozen"
    assert finding.observed == -1523.4  # what a net meter reads: an export


def test_zeros_do_not_alarm_in_a_home_that_read_zero_while_learning() -> None:
    check = FaultCheck()
    feed(check, readings(0, 3600, power=0.0))
    feed(check, readings(3600, DAY))
    assert not any(feed(check, readings(DAY, DAY + 3600, power=0.0)))


def test_negative_power_without_production_alarms() -> None:
    check = FaultCheck()  # needs nothing learned
    found = feed(check, readings(0, 300, power=-850.0))
    assert found[0] is None
    finding = found[-1]
    assert finding is not None
    assert finding.kind == "meter_fault"
    assert "negative" in render(finding)
    assert "-850 W" in render(finding)


def test_a_value_stuck_for_an_hour_alarms_while_normal_repeats_do_not() -> None:
    check = FaultCheck()
    # normal life: a value repeated for up to a minute at a time
    normal = [
        Reading(START + timedelta(seconds=s), 150.0 + (s // 60) % 5) for s in range(0, DAY, STEP)
    ]
    assert not any(feed(check, normal))
    found = feed(check, readings(DAY, DAY + 3600, power=321.0))
    first = next(i for i, f in enumerate(found) if f is not None)
    assert 5 * 60 <= first * STEP <= 15 * 60
    finding = found[-1]
    assert finding is not None
    assert "321 W" in render(finding)


def test_stale_values_do_not_alarm_while_learning() -> None:
    check = FaultCheck()
    assert not any(feed(check, readings(0, 3600, power=321.0)))


def test_a_gap_alarms_at_the_next_reading_for_a_short_while() -> None:
    check = learned()
    after = readings(DAY + 1800, DAY + 1800 + 600)
    found = feed(check, after)
    assert found[0] is not None
    assert found[0].kind == "meter_fault"
    assert "No readings for 30 minutes" in render(found[0])
    held = [f is not None for f in found]
    assert all(held[: 300 // STEP])
    assert not any(held[300 // STEP + 1 :])


def restarted(check: FaultCheck, at_s: int) -> FaultCheck:
    """The check as Home Assistant restores it from storage when it starts at `at_s`."""
    restored = FaultCheck.from_state(json.loads(json.dumps(check.to_state())))
    restored.restarted_at((START + timedelta(seconds=at_s)).timestamp())
    return restored


def test_the_silence_while_home_assistant_was_off_is_no_gap() -> None:
    """An update of Home Assistant on a Pi takes 15 minutes; the meter did nothing wrong."""
    check = restarted(learned(), DAY + 895)
    assert not any(feed(check, readings(DAY + 900, DAY + 1800)))


def test_a_meter_silent_for_hours_since_the_restart_is_a_gap() -> None:
    check = restarted(learned(), DAY + 900)
    finding = feed(check, readings(DAY + 4 * 3600, DAY + 4 * 3600 + 10))[0]
    assert finding is not None
    assert finding.cause == "gap"
    assert finding.facts["lasted_s"] == 4 * 3600 - 900


def test_a_gap_after_the_restart_still_alarms() -> None:
    check = restarted(learned(), DAY + 895)
    feed(check, readings(DAY + 900, DAY + 1200))
    assert feed(check, readings(DAY + 3000, DAY + 3010))[0] is not None


def test_a_value_repeated_across_a_restart_counts_from_the_restart() -> None:
    """The downtime is not time the meter repeated its value (a frozen reader alarms later)."""
    check = learned()
    feed(check, readings(DAY, DAY + 240, power=321.0))
    check = restarted(check, DAY + 3595)
    assert not any(feed(check, readings(DAY + 3600, DAY + 3600 + 540, power=321.0)))


def test_a_reload_keeps_counting_a_frozen_value() -> None:
    """Changing an option reloads the entry within seconds: a frozen reader is still found."""
    check = learned()
    feed(check, readings(DAY, DAY + 400, power=321.0))
    check = restarted(check, DAY + 405)
    assert feed(check, readings(DAY + 400, DAY + 800, power=321.0))[-1] is not None


def test_ordinary_spacing_jitter_is_no_gap() -> None:
    check = FaultCheck(DetectorConfig(faults=FaultConfig(gap_min_s=120.0)))
    series = [Reading(START + timedelta(seconds=s), 150.0 + s % 7) for s in range(0, 7200, 37)]
    assert not any(feed(check, series))


def test_state_round_trips_through_json() -> None:
    check = learned()
    feed(check, readings(DAY, DAY + 30, power=0.0))
    restored = FaultCheck.from_state(json.loads(json.dumps(check.to_state())))
    rest = readings(DAY + 30, DAY + 600, power=0.0)
    assert feed(restored, rest) == feed(check, rest)
    assert restored.to_state() == check.to_state()


def solar_day(day: int) -> list[Reading]:
    """A PV home's day: 150 W at night, export at midday, a few watts imported around it."""
    start = day * DAY
    return [
        *readings(start, start + 9 * 3600),
        *readings(start + 9 * 3600, start + 10 * 3600, power=3.0, production=0.0),
        *readings(start + 10 * 3600, start + 15 * 3600, power=0.0, production=800.0),
        *readings(start + 15 * 3600, start + 16 * 3600, power=4.0, production=0.0),
        *readings(start + 16 * 3600, start + DAY, production=0.0),
    ]


def test_zeros_at_night_alarm_in_a_solar_home_that_imports_a_few_watts_by_day() -> None:
    check = FaultCheck()
    assert not any(feed(check, [*solar_day(0), *solar_day(1)]))
    night = 2 * DAY + 2 * 3600
    found = feed(check, readings(night, night + 3000, power=0.0, production=0.0))
    finding = found[-1]
    assert finding is not None
    assert finding.cause == "zeros"
    assert finding.expected == 150.0


def test_zeros_by_day_with_nothing_exported_are_no_fault_in_a_solar_home() -> None:
    """A battery (or the panels) balancing the draw exactly: the meter reads 0 W imported and
    0 W exported at noon, for hours. Nothing says the meter stopped."""
    check = FaultCheck()
    noon = 2 * DAY + 12 * 3600
    morning = [r for r in solar_day(2) if r.timestamp < START + timedelta(seconds=noon)]
    assert not any(feed(check, [*solar_day(0), *solar_day(1), *morning]))

    assert not any(feed(check, readings(noon, noon + 3 * 3600, power=0.0, production=0.0)))


def test_one_odd_reading_near_0_w_leaves_the_zero_rule_on() -> None:
    """A 0.5 W reading at a transition is not the least the home draws."""
    check = learned()
    glitch = [Reading(START + timedelta(seconds=DAY), 0.5)]
    feed(check, [*glitch, *readings(DAY + STEP, 2 * DAY)])
    finding = feed(check, readings(2 * DAY, 2 * DAY + 600, power=0.0))[-1]
    assert finding is not None
    assert finding.cause == "zeros"
    assert finding.expected == 150.0


def test_a_home_that_draws_a_few_watts_for_minutes_may_read_0() -> None:
    check = learned()
    feed(check, readings(DAY, DAY + 600, power=4.0))
    assert not any(feed(check, readings(DAY + 600, DAY + 1200, power=0.0)))


def test_an_afternoons_few_watts_are_no_floor_of_the_dark_hours() -> None:
    """A new home from noon: ten minutes at 5 W on a cloudy afternoon, 150 W at night."""
    noon, night = 12 * 3600, DAY
    check = FaultCheck()
    feed(check, readings(noon, noon + 3600, power=300.0))
    feed(check, readings(noon + 3600, noon + 4200, power=5.0))
    feed(check, readings(noon + 4200, night, power=300.0))
    feed(check, readings(night, night + 5 * 3600, power=150.0))

    state = check.to_state()
    assert state["min_draw"] == 5.0
    assert state["dark_min_draw"] == 150.0


def test_two_odd_readings_on_the_first_day_are_no_floor() -> None:
    """A new home from noon: no dark hour yet, two meter glitches in the afternoon."""
    check = FaultCheck()
    noon = 12 * 3600
    odd = {noon + 3600: 0.5, noon + 14400: 0.7}  # seconds from START
    series = [
        Reading(r.timestamp, odd.get(int(r.epoch - START.timestamp()), r.power))
        for r in readings(noon, noon + 20000)
    ]
    assert [r.power for r in series].count(0.5) == 1
    feed(check, series)

    assert check.to_state()["min_draw"] >= 150.0


def stored_by_0_2_0(min_draw: float) -> FaultCheck:
    """The learned check as 0.2.0 stored it: the smallest reading as its only floor."""
    state = learned().to_state()
    for key in ("dark_min_draw", "low_since", "low_least", "low_dark", "exports"):
        del state[key]
    state["min_draw"] = min_draw
    return FaultCheck.from_state(state)


def test_a_floor_stored_before_lasting_draws_counted_is_learned_again() -> None:
    """An older release kept the smallest reading: one 0.5 W reading turned the zero rule off."""
    check = stored_by_0_2_0(min_draw=0.5)
    feed(check, readings(DAY, DAY + 600))

    finding = feed(check, readings(DAY + 600, DAY + 1200, power=0.0))[-1]
    assert finding is not None
    assert finding.cause == "zeros"


def test_a_floor_stored_before_lasting_draws_that_kept_the_zero_rule_on_is_kept() -> None:
    """Zeros right after the upgrade from 0.2.0 are a fault, as they were before it."""
    check = stored_by_0_2_0(min_draw=140.0)

    finding = feed(check, readings(DAY, DAY + 600, power=0.0))[-1]
    assert finding is not None
    assert finding.cause == "zeros"
    assert finding.expected == 140.0


def battery_day(day: int) -> list[Reading]:
    """A day of a home battery (Tibber: import and export both reported, 0.0 W while balanced).

    Empty until 10:00 (the home draws 150-170 W from the grid); from 10:00 to 23:00 the battery,
    charged from the panels, holds the grid at exactly 0 W, the meter showing a few watts of
    import or export for one reading when a load switches, every quarter of an hour.
    """
    start = day * DAY
    held = []
    for balanced in readings(start + 10 * 3600, start + 23 * 3600, power=0.0, production=0.0):
        tick = int(balanced.epoch - START.timestamp()) % 900
        if tick == 0:
            held.append(replace(balanced, power=20.0))
        elif tick == STEP:
            held.append(replace(balanced, power_production=20.0))
        else:
            held.append(balanced)
    return [
        *readings(start, start + 10 * 3600, production=0.0),
        *held,
        *readings(start + 23 * 3600, start + DAY, production=0.0),
    ]


def test_a_battery_that_holds_the_grid_at_0_w_every_day_is_no_meter_fault() -> None:
    # Installed on a day the battery stayed empty (snow on the panels): the zero rule stays on
    check = FaultCheck()
    assert not any(feed(check, readings(0, DAY, production=0.0)))
    feed(check, [*battery_day(1), *battery_day(2)])

    found = [f for f in feed(check, battery_day(3)) if f is not None]

    # "Power has been reported as exactly 0 W for 60 s, but this home always draws at least 150 W"
    assert found == [], render(found[0])


def test_a_meter_at_0_w_on_an_evening_in_a_solar_home_is_found_in_the_dark_hours() -> None:
    """21:00 on a January evening (START): the production sensor reports 0 W, as it has since
    16:00, and the meter reads exactly 0 W. A home battery holds the grid there too, in the
    evening it discharges: outside the dark hours a solar home's zero is no fault. A meter that
    stopped is found in them, from midnight."""
    check = FaultCheck()
    evening = 2 * DAY + 21 * 3600
    before = [r for r in solar_day(2) if r.timestamp < START + timedelta(seconds=evening)]
    assert not any(feed(check, [*solar_day(0), *solar_day(1), *before]))

    found = feed(check, readings(evening, 3 * DAY + 600, power=0.0, production=0.0))

    first = next(r for r, f in zip(readings(evening, 3 * DAY + 600), found, strict=True) if f)
    midnight = START + timedelta(seconds=3 * DAY)
    assert midnight < first.timestamp <= midnight + timedelta(minutes=2)
