"""The bundled demo trace: four quiet weeks of history, then a heater left on in the last night.

The demo home learns the four weeks as hourly statistics (mean, minimum, maximum of the rows in
each hour), then replays the last day.
"""

import csv
from datetime import timedelta
import gzip
from itertools import groupby
from pathlib import Path

import pytest

from custom_components.energy_anomaly.detector.engine import Detector
from custom_components.energy_anomaly.detector.model import HistoryRow, Reading, Result, Status
from custom_components.energy_anomaly.detector.render import render

from .household import START

TRACE = Path(__file__).parents[2] / "custom_components/energy_anomaly/demo/household.csv.gz"
DAY_S = 86_400
HOUR_S = 3600
HISTORY_DAYS = 28
HISTORY_S = HISTORY_DAYS * DAY_S  # the demo source's PAST: learned as hourly rows, then replayed
HEATER_ON_S = HISTORY_S + 2 * HOUR_S
HEATER_OFF_S = HISTORY_S + 5 * HOUR_S
FLAGGED_S = HISTORY_S + 2 * HOUR_S + 8 * 60  # 02:08 on the demo clock
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


def hourly(rows: list[dict[str, str]]) -> list[HistoryRow]:
    """The history days as the demo home learns them: one row per hour, mean, minimum, maximum."""
    history = [row for row in rows if float(row["offset_s"]) < HISTORY_S]
    return [
        HistoryRow(
            START + timedelta(hours=hour),
            HOUR_S,
            sum(powers) / len(powers),
            minimum=min(powers),
            maximum=max(powers),
        )
        for hour, in_hour in groupby(history, lambda row: int(row["offset_s"]) // HOUR_S)
        if (powers := [float(row["power"]) for row in in_hour])
    ]


@pytest.fixture(scope="module")
def detector(rows: list[dict[str, str]]) -> Detector:
    """A detector that learned the four weeks of history."""
    detector = Detector()
    detector.learn_history(hourly(rows))
    return detector


@pytest.fixture(scope="module")
def replay(rows: list[dict[str, str]], detector: Detector) -> Replay:
    """The last day through the detector, as the demo feeds it: offsets from a local midnight."""
    return [
        (
            offset,
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
        if (offset := float(row["offset_s"])) >= HISTORY_S
    ]


def test_the_trace_is_28_days_of_minutes_then_a_day_of_10_second_rows(
    rows: list[dict[str, str]],
) -> None:
    assert list(rows[0]) == COLUMNS
    offsets = [int(row["offset_s"]) for row in rows]
    history = [o for o in offsets if o < HISTORY_S]
    assert history == list(range(0, HISTORY_S, 60))
    assert offsets[len(history) :] == list(range(HISTORY_S, HISTORY_S + DAY_S, 10))
    assert len(rows) == HISTORY_DAYS * 1440 + 8640
    assert TRACE.stat().st_size < 450_000


def test_the_values_are_rounded_and_plausible(rows: list[dict[str, str]]) -> None:
    for row in rows[:: len(rows) // 500]:
        assert row["power"].isdigit()
        assert all(len(row[f"voltage_l{i}"].split(".")[1]) == 1 for i in (1, 2, 3))
        assert all(len(row[f"current_l{i}"].split(".")[1]) == 2 for i in (1, 2, 3))
        assert all(215 < v < 245 for v in _phases(row, "voltage"))
    assert 100 < min(float(row["power"]) for row in rows) < 200  # standby never stops


def test_the_four_weeks_leave_the_detector_active(rows: list[dict[str, str]]) -> None:
    detector = Detector()

    summary = detector.learn_history(hourly(rows))

    assert (summary.days, summary.used, summary.skipped) == (HISTORY_DAYS, HISTORY_DAYS * 24, 0)
    assert detector.status is Status.ACTIVE


def test_the_demo_home_is_quiet_until_the_heater(replay: Replay) -> None:
    """Nothing alarms on the replayed day before 02:00."""
    before = [result for offset, result in replay if offset < HEATER_ON_S]
    assert all(result.status is Status.ACTIVE for result in before)
    assert not any(result.anomaly for result in before)
    assert max(result.score for result in before) < 0.6


def test_the_heater_is_flagged_eight_minutes_after_it_is_switched_on(replay: Replay) -> None:
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
    """One alarm from 02:08, over (consumption, then the day's pattern) by 07:00."""
    alarmed = [offset for offset, result in replay if result.anomaly]
    assert alarmed == [o for o, _ in replay if alarmed[0] <= o <= alarmed[-1]]  # one episode
    assert alarmed[0] == FLAGGED_S
    assert HEATER_OFF_S < alarmed[-1] < HISTORY_S + 7 * 3600
