"""The bundled demo trace: 16 quiet days of history, then a heater left on in the last night."""

import csv
from datetime import timedelta
import gzip
from pathlib import Path

import pytest

from custom_components.energy_anomaly.detector.engine import Detector
from custom_components.energy_anomaly.detector.model import Reading, Result, Status
from custom_components.energy_anomaly.detector.render import render

from .household import START

TRACE = Path(__file__).parents[2] / "custom_components/energy_anomaly/demo/household.csv.gz"
DAY_S = 86_400
HISTORY_S = 16 * DAY_S  # the demo source's CATCH_UP: fed at once, then the last day is replayed
LEARNING_S = 14 * DAY_S  # the detector judges consumption after 14 days
HEATER_ON_S = HISTORY_S + 2 * 3600
HEATER_OFF_S = HISTORY_S + 5 * 3600
FLAGGED_S = HISTORY_S + 2 * 3600 + 10 * 60  # 02:10 on the demo clock
COLUMNS = ["offset_s", "power"] + [f"{q}_l{i}" for q in ("voltage", "current") for i in (1, 2, 3)]

type Replay = list[tuple[float, Result]]


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    with gzip.open(TRACE, "rt", newline="") as file:
        return list(csv.DictReader(file))


def _phases(row: dict[str, str], quantity: str) -> tuple[float, float, float]:
    return (
        float(row[f"{quantity}_l1"]),
        float(row[f"{quantity}_l2"]),
        float(row[f"{quantity}_l3"]),
    )


@pytest.fixture(scope="module")
def replay(rows: list[dict[str, str]]) -> Replay:
    """The trace through a detector, as the demo feeds it: offsets from a local midnight."""
    detector = Detector()
    return [
        (
            offset := float(row["offset_s"]),
            detector.update(
                Reading(
                    START + timedelta(seconds=offset),
                    float(row["power"]),
                    voltage=_phases(row, "voltage"),
                    current=_phases(row, "current"),
                )
            ),
        )
        for row in rows
    ]


def test_the_trace_is_16_days_of_minutes_then_a_day_of_10_second_rows(
    rows: list[dict[str, str]],
) -> None:
    assert list(rows[0]) == COLUMNS
    offsets = [int(row["offset_s"]) for row in rows]
    history = [o for o in offsets if o < HISTORY_S]
    assert history == list(range(0, HISTORY_S, 60))
    assert offsets[len(history) :] == list(range(HISTORY_S, HISTORY_S + DAY_S, 10))
    assert len(rows) == 16 * 1440 + 8640
    assert TRACE.stat().st_size < 400_000


def test_the_values_are_rounded_and_plausible(rows: list[dict[str, str]]) -> None:
    for row in rows[:: len(rows) // 500]:
        assert row["power"].isdigit()
        assert all(len(row[f"voltage_l{i}"].split(".")[1]) == 1 for i in (1, 2, 3))
        assert all(len(row[f"current_l{i}"].split(".")[1]) == 2 for i in (1, 2, 3))
        assert all(215 < v < 245 for v in _phases(row, "voltage"))
    assert 100 < min(float(row["power"]) for row in rows) < 200  # standby never stops


def test_the_history_leaves_the_detector_active(replay: Replay) -> None:
    """Learning for 14 days, active from the first minute of day 15 on (once it is complete)."""
    assert all(
        result.status is Status.LEARNING for offset, result in replay if offset <= LEARNING_S
    )
    assert all(result.status is Status.ACTIVE for offset, result in replay if offset > LEARNING_S)


def test_the_demo_home_is_quiet_until_the_heater(replay: Replay) -> None:
    """Nothing alarms in the whole history, the two judged days included, nor before 02:00."""
    assert not any(result.anomaly for offset, result in replay if offset < HEATER_ON_S)
    judged = [result.score for offset, result in replay if LEARNING_S < offset < HEATER_ON_S]
    assert max(judged) < 0.6


def test_the_heater_is_flagged_ten_minutes_after_it_is_switched_on(replay: Replay) -> None:
    first = next((offset, result) for offset, result in replay if result.anomaly)
    offset, result = first
    assert offset == FLAGGED_S
    assert offset - HEATER_ON_S <= 15 * 60
    assert result.finding is not None
    assert result.finding.kind == "unusual_consumption"
    assert "kW drawn since" in render(result.finding)
    assert result.expected is not None
    assert result.observed > result.expected


def test_the_heater_is_the_only_alarm_of_the_last_day(replay: Replay) -> None:
    """One alarm from 02:10, over (consumption, then the day's pattern) by 07:00."""
    alarmed = [offset for offset, result in replay if result.anomaly]
    assert alarmed == [o for o, _ in replay if alarmed[0] <= o <= alarmed[-1]]  # one episode
    assert alarmed[0] == FLAGGED_S
    assert HEATER_OFF_S < alarmed[-1] < HISTORY_S + 7 * 3600
