"""The bundled demo trace: a quiet household whose heater is left on in the third night."""

import csv
from datetime import timedelta
import gzip
from pathlib import Path

import pytest

from custom_components.energy_anomaly.detector.engine import Detector
from custom_components.energy_anomaly.detector.model import Reading, Result

from .household import START

TRACE = Path(__file__).parents[2] / "custom_components/energy_anomaly/demo/household.csv.gz"
HEATER_ON_S = 50 * 3600
HEATER_OFF_S = 53 * 3600
COLUMNS = ["offset_s", "power"] + [f"{q}_l{i}" for q in ("voltage", "current") for i in (1, 2, 3)]


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    with gzip.open(TRACE, "rt", newline="") as file:
        return list(csv.DictReader(file))


@pytest.fixture(scope="module")
def replay(rows: list[dict[str, str]]) -> list[tuple[float, Result]]:
    """The trace through a detector, as the demo feeds it: offsets from a local midnight."""
    detector = Detector()
    return [
        (
            offset := float(row["offset_s"]),
            detector.update(Reading(START + timedelta(seconds=offset), float(row["power"]))),
        )
        for row in rows
    ]


def test_the_trace_is_three_days_of_10_second_rows_and_small(rows: list[dict[str, str]]) -> None:
    assert list(rows[0]) == COLUMNS
    assert len(rows) == 3 * 24 * 360
    assert float(rows[1]["offset_s"]) - float(rows[0]["offset_s"]) == 10
    assert TRACE.stat().st_size < 300_000


def test_the_demo_home_is_quiet_until_the_heater(replay: list[tuple[float, Result]]) -> None:
    assert not any(result.anomaly for offset, result in replay if offset < HEATER_ON_S)


def test_the_heater_is_flagged_within_15_minutes(replay: list[tuple[float, Result]]) -> None:
    flagged = next(offset for offset, result in replay if result.anomaly)

    assert HEATER_ON_S <= flagged <= HEATER_ON_S + 15 * 60


def test_the_demo_home_is_quiet_again_after_the_heater(replay: list[tuple[float, Result]]) -> None:
    assert not any(result.anomaly for offset, result in replay if offset > HEATER_OFF_S + 15 * 60)
