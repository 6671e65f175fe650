"""Specifications of `analysis.find_anomalies` on hourly means, whatever the hour it runs."""

from datetime import UTC, datetime, timedelta
import random
from zoneinfo import ZoneInfo

import pytest

from custom_components.energy_anomaly.analysis import find_anomalies
from custom_components.energy_anomaly.detector.config import DetectorConfig
from custom_components.energy_anomaly.detector.model import HistoryRow, Kind

ZONE = ZoneInfo("Europe/Oslo")
DAYS = 21
FRIDGE_STUCK_W = 100.0


def usual_hour(start: datetime, noise: random.Random) -> float:
    """An hour's mean (W): 200 W at night, evening and morning peaks, +/-30 W from what cycles."""
    hour = start.astimezone(ZONE).hour
    peak = 900.0 if hour in {7, 8, 18, 19, 20} else 0.0
    day = 0.0 if hour < 6 else 250.0
    return 200.0 + day + peak + noise.uniform(-30.0, 30.0)


def hourly_rows(now: datetime, extra_w: float = 0.0) -> list[HistoryRow]:
    """Three weeks of hourly means up to `now`, `extra_w` more over the last five days."""
    noise = random.Random(9)
    rows = []
    for i in range(DAYS * 24):
        start = now - timedelta(hours=DAYS * 24 - i)
        mean = usual_hour(start, noise) + (extra_w if now - start <= timedelta(days=5) else 0.0)
        rows.append(HistoryRow(start.astimezone(ZONE), 3600.0, mean, mean * 0.6, mean * 1.8))
    return rows


@pytest.mark.parametrize("hours", [7, 20, 31])  # runs that read noise as a step at 15 W
def test_a_usual_month_of_hourly_means_has_no_raised_baseload(hours: int) -> None:
    now = datetime(2026, 11, 25, tzinfo=UTC) + timedelta(hours=hours)

    episodes = find_anomalies(hourly_rows(now), now - timedelta(days=7), DetectorConfig())

    assert episodes == []


def test_a_fridge_that_no_longer_stops_is_found_in_hourly_means() -> None:
    now = datetime(2026, 11, 25, 5, tzinfo=UTC)

    episodes = find_anomalies(
        hourly_rows(now, FRIDGE_STUCK_W), now - timedelta(days=7), DetectorConfig()
    )

    assert [e.finding.kind for e in episodes] == [Kind.BASELOAD]
