"""The grid a home's phases are of, told by a minute of their voltages."""

from datetime import UTC, datetime, timedelta

from custom_components.energy_anomaly.detector.grid import GridReader
from custom_components.energy_anomaly.detector.model import Reading

START = datetime(2026, 11, 2, tzinfo=UTC)


def told(*volts: tuple[float | None, float | None, float | None]) -> list[float | None]:
    """What a fresh reader tells at each reading, 5 s apart, of the phases' `volts`."""
    reader = GridReader()
    return [
        reader.read(Reading(START + timedelta(seconds=5 * i), 400.0, voltage=phases))
        for i, phases in enumerate(volts)
    ]


def test_a_minute_of_120_v_phases_tells_a_120_v_grid() -> None:
    assert told(*[(120.0, 121.0, None)] * 13)[-2:] == [None, 120.0]


def test_less_than_a_minute_of_one_grid_tells_nothing() -> None:
    assert told(*[(231.0, None, None)] * 12) == [None] * 12


def test_a_sample_of_the_other_grid_starts_the_minute_again() -> None:
    """One sample of a deep sag on a 230 V grid reads as a 120 V phase."""
    volts = [(230.0, None, None)] * 6 + [(118.0, None, None)] + [(230.0, None, None)] * 13
    assert told(*volts) == [None] * 19 + [230.0]


def test_phases_of_no_grid_or_of_two_grids_tell_nothing_and_keep_the_minute() -> None:
    volts = (
        [(120.0, None, None)] * 6
        + [(0.0, 100.0, None), (120.0, 230.0, None)]
        + [(120.0, None, None)] * 5
    )
    assert told(*volts)[-1] == 120.0
