"""Specifications of `analysis.find_anomalies` on hourly means, whatever the hour it runs."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
import random
from zoneinfo import ZoneInfo

import pytest

from custom_components.energy_anomaly.analysis import find_anomalies
from custom_components.energy_anomaly.detector.config import DetectorConfig
from custom_components.energy_anomaly.detector.model import Cause, HistoryRow, Kind

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


def with_five_minute_rows(
    rows: list[HistoryRow], hours: int, spread_w: float = 0.0
) -> list[HistoryRow]:
    """`rows` with their last `hours` as the recorder keeps recent days: 5-minute rows.

    Each the hour's mean, or with `spread_w` that mean +/- up to `spread_w`, as a meter's vary.
    """
    noise = random.Random(5)
    recent = []
    for row in rows[-hours:]:
        for i in range(12):
            mean = row.mean + noise.uniform(-spread_w, spread_w)
            start = row.start + timedelta(minutes=5 * i)
            recent.append(HistoryRow(start, 300.0, mean, mean * 0.8, mean * 1.2))
    return rows[:-hours] + recent


def frozen(rows: list[HistoryRow], since: datetime, hours: int) -> list[HistoryRow]:
    """`rows` with the mean of those from `since` for `hours` stuck at one value."""
    until = since + timedelta(hours=hours)
    return [replace(row, mean=612.5) if since <= row.start < until else row for row in rows]


@pytest.mark.parametrize("hours", [7, 20, 31])
@pytest.mark.parametrize("recent_hours", [1, 24])
def test_weeks_of_hourly_means_ending_in_five_minute_rows_have_no_raised_baseload(
    hours: int, recent_hours: int
) -> None:
    now = datetime(2026, 11, 25, tzinfo=UTC) + timedelta(hours=hours)
    rows = with_five_minute_rows(hourly_rows(now), recent_hours)

    episodes = find_anomalies(rows, now - timedelta(days=7), DetectorConfig())

    assert episodes == []


@pytest.mark.parametrize("gap_hours", [6, 48])
def test_a_gap_in_the_statistics_is_neither_filled_in_nor_reported(gap_hours: int) -> None:
    now = datetime(2026, 11, 25, 5, tzinfo=UTC)
    gap_start = now - timedelta(days=4, hours=10)  # 19:00 in Oslo: the evening peak
    rows = [
        row
        for row in hourly_rows(now)
        if not gap_start <= row.start < gap_start + timedelta(hours=gap_hours)
    ]

    episodes = find_anomalies(rows, now - timedelta(days=7), DetectorConfig())

    assert episodes == []


def test_a_net_sensors_export_is_production_not_a_meter_fault() -> None:
    now = datetime(2026, 11, 25, 5, tzinfo=UTC)
    rows = [
        replace(row, mean=row.mean - 1500.0, minimum=None, maximum=None)
        if 10 <= row.start.hour < 15  # five sunny hours a day export 1.5 kW more than used
        else row
        for row in hourly_rows(now)
    ]

    episodes = find_anomalies(rows, now - timedelta(days=7), DetectorConfig(), net=True)

    assert episodes == []


def test_a_gap_in_a_net_sensors_statistics_is_not_reported_as_a_frozen_meter() -> None:
    now = datetime(2026, 11, 25, 10, tzinfo=UTC)  # the first hour analysed exports
    gap_start = now - timedelta(days=3, hours=14)  # 21:00 in Oslo: Home Assistant off for 2 h
    rows = [
        replace(row, mean=row.mean - 1500.0, minimum=None, maximum=None)
        if 10 <= row.start.hour < 15  # five sunny hours a day export 1.5 kW more than used
        else row
        for row in hourly_rows(now)
        if not gap_start <= row.start < gap_start + timedelta(hours=2)
    ]

    episodes = find_anomalies(rows, now - timedelta(days=7), DetectorConfig(), net=True)

    assert episodes == []


def test_a_meter_frozen_for_half_a_day_is_found_in_hourly_means() -> None:
    now = datetime(2026, 11, 25, 5, tzinfo=UTC)
    rows = frozen(hourly_rows(now), now - timedelta(days=3), hours=12)

    episodes = find_anomalies(rows, now - timedelta(days=7), DetectorConfig())

    assert [(e.finding.kind, e.finding.cause) for e in episodes] == [
        (Kind.METER_FAULT, Cause.FROZEN)
    ]


def test_a_meter_fault_right_after_a_gap_in_the_statistics_is_still_reported() -> None:
    now = datetime(2026, 11, 25, 5, tzinfo=UTC)
    gap_start = now - timedelta(days=4, hours=10)
    after_gap = gap_start + timedelta(hours=48)
    rows = [
        replace(row, mean=0.0, minimum=0.0, maximum=0.0)
        if after_gap <= row.start < after_gap + timedelta(hours=3)  # the meter reads 0 W
        else row
        for row in hourly_rows(now)
        if not gap_start <= row.start < after_gap
    ]

    episodes = find_anomalies(rows, now - timedelta(days=7), DetectorConfig())

    assert [e.finding.kind for e in episodes] == [Kind.METER_FAULT]


def test_a_meter_frozen_for_three_hours_is_found_in_five_minute_rows() -> None:
    now = datetime(2026, 11, 25, 5, tzinfo=UTC)
    recent = with_five_minute_rows(hourly_rows(now), 7 * 24, spread_w=30.0)
    rows = frozen(recent, now - timedelta(days=2), hours=3)

    episodes = find_anomalies(rows, now - timedelta(days=7), DetectorConfig())

    assert [(e.finding.kind, e.finding.cause) for e in episodes] == [
        (Kind.METER_FAULT, Cause.FROZEN)
    ]


CLOCKS_GO_BACK = datetime(2025, 10, 26, 1, tzinfo=UTC)  # 03:00 summer time is 02:00 again


def test_a_heater_on_in_the_hour_the_clocks_repeat_is_found_from_when_it_came_on() -> None:
    """The recorder's hourly rows in the home's time zone (`history.wall_clock`), a 900 W
    heater on for three hours from the second 02:00 of the night the clocks go back."""
    now = datetime(2025, 10, 27, 12, tzinfo=UTC)
    rows = [
        replace(row, mean=row.mean + 900.0, minimum=row.minimum, maximum=row.maximum + 900.0)
        if CLOCKS_GO_BACK <= row.start < CLOCKS_GO_BACK + timedelta(hours=3)
        else row
        for row in hourly_rows(now)
    ]

    episodes = find_anomalies(rows, now - timedelta(days=7), DetectorConfig())

    (heater,) = (e for e in episodes if e.finding.kind is Kind.UNUSUAL_CONSUMPTION)
    assert abs(heater.start - CLOCKS_GO_BACK) < timedelta(minutes=30), heater.start.isoformat()
