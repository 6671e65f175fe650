"""The engine's English reasons say their values so that they agree with the finding's kind."""

from datetime import datetime
import re

from custom_components.energy_anomaly.detector.model import Cause, Finding, Kind
from custom_components.energy_anomaly.detector.render import render

SINCE = datetime.fromisoformat("2026-11-24T10:04:00+01:00")


def watts(said: str) -> float:
    """A power as a reason says it ("0.1 kW", "100 W"), in watts."""
    number, unit = said.split()
    return float(number) * (1000.0 if unit == "kW" else 1.0)


def finding(
    kind: Kind, cause: Cause, observed: float, expected: float, unit: str = "W", **facts: float
) -> Finding:
    return Finding(kind, cause, 2.0, SINCE, observed, expected, unit, facts)


def voltage(cause: Cause, observed: float, **facts: float) -> Finding:
    """A voltage finding on a 230 V grid, whose normal range is 207-253 V."""
    return finding(Kind.POWER_QUALITY, cause, observed, 230, "V", low_v=207, high_v=253, **facts)


def test_a_sag_just_under_the_normal_range_is_said_below_it() -> None:
    sag = voltage(Cause.UNDERVOLTAGE, 206.6, phase=1, lasted_s=130)

    assert render(sag) == "Voltage on L1 has been 206.6 V for 2 minutes (normal 207-253 V)"


def test_a_voltage_just_over_the_normal_range_is_said_above_it() -> None:
    surge = voltage(Cause.OVERVOLTAGE, 253.04, phase=2, lasted_s=130)

    assert render(surge) == "Voltage on L2 has been 253.04 V for 2 minutes (normal 207-253 V)"


def test_a_voltage_well_outside_the_range_is_said_in_whole_volts() -> None:
    sag = voltage(Cause.UNDERVOLTAGE, 198.4, phase=1, lasted_s=300)

    assert render(sag) == "Voltage on L1 has been 198 V for 5 minutes (normal 207-253 V)"


def test_a_current_just_over_the_fuse_is_said_above_it() -> None:
    over = finding(Kind.POWER_QUALITY, Cause.OVERCURRENT, 25.4, 25, "A", phase=1, lasted_s=70)

    assert render(over) == "Current on L1 is 25.4 A, above the 25 A fuse, for 1 minute"


def test_a_load_alike_in_kilowatts_to_the_empty_home_is_said_in_watts() -> None:
    away = finding(Kind.UNUSUAL_CONSUMPTION, Cause.LOAD_WHILE_AWAY, 432.8, 427.5)

    assert render(away) == (
        "433 W drawn since 10:04 while away, more than the 428 W the empty home draws"
    )


def test_a_load_alike_in_whole_watts_to_the_empty_home_is_said_with_a_decimal() -> None:
    away = finding(Kind.UNUSUAL_CONSUMPTION, Cause.LOAD_WHILE_AWAY, 428, 427.5)

    assert render(away) == (
        "428.0 W drawn since 10:04 while away, more than the 427.5 W the empty home draws"
    )


def test_powers_that_differ_in_kilowatts_stay_in_kilowatts() -> None:
    high = finding(Kind.UNUSUAL_CONSUMPTION, Cause.HIGH_CONSUMPTION, 2156, 1450, certainty=1.0)

    assert render(high).startswith("2.2 kW drawn since 10:04, at most about 1.4 kW usual")


def test_a_night_just_below_freezing_is_said_at_0_c() -> None:
    step = finding(Kind.BASELOAD, Cause.BASELOAD_STEP, 245, 180, nights=2, temperature_c=-0.4)

    assert render(step).endswith(" at 0 °C")


def test_a_baseload_rise_is_the_difference_of_the_watts_said() -> None:
    step = finding(Kind.BASELOAD, Cause.BASELOAD_STEP, 240.4, 159.6, nights=2)

    assert render(step) == (
        "Baseload has been about 240 W for 2 nights, up 80 W from the usual 160 W"
    )


def test_a_load_just_over_100_w_against_just_under_is_said_above_it() -> None:
    high = finding(Kind.UNUSUAL_CONSUMPTION, Cause.HIGH_CONSUMPTION, 104, 99.6, certainty=1.0)

    sentence = render(high)

    said = re.fullmatch(
        r"([\d.]+ k?W) drawn since 10:04, at most about ([\d.]+ k?W) usual.*", sentence
    )
    assert said is not None, sentence
    drawn, usual = said.groups()
    assert watts(drawn) > watts(usual), sentence


def test_a_voltage_over_the_range_by_less_than_a_hundredth_is_said_above_it() -> None:
    surge = voltage(Cause.OVERVOLTAGE, 253.004, phase=1, lasted_s=130)

    said = re.search(r"has been ([\d.]+) V", render(surge))
    assert said is not None
    assert float(said.group(1)) > 253, render(surge)


def test_a_spacing_under_a_second_is_said_in_tenths() -> None:
    gap = finding(Kind.METER_FAULT, Cause.GAP, 0, 0, lasted_s=240, spacing_s=0.5)

    assert render(gap) == "No readings for 4 minutes (usually one every 0.5 s)"


def test_a_spacing_that_rounds_to_a_second_is_said_in_whole_seconds() -> None:
    gap = finding(Kind.METER_FAULT, Cause.GAP, 0, 0, lasted_s=240, spacing_s=0.97)

    assert render(gap) == "No readings for 4 minutes (usually one every 1 s)"
