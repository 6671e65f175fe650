"""Seeded streams of a home's life, realistic and hostile, for the long-stream properties.

Each seed draws a home (its time zone and a start near a change of daylight saving time, its
standby, fridge, kettle and dinner, solar production netted or not, none, one or three phases
with or without currents, outdoor temperature or not, a 230 V or 120 V grid, a fuse or none) and
days of its life read every 20 s to 5 min, with the faults a real stream has: anomalies (a load
left on, a step up of the baseload, a frozen or zero meter), sags, swells and lost phases,
currents above the fuse, NaN, infinities, negative and absurd values in any field, readings
older than the last, repeated, swapped or stamped far in the future or in another time zone,
hours and days without readings, and between them the household's commands (a mode with or
without an end, the sensitivity, mark normal, a kind silenced), a grid judged again, history
learned before the first reading, and the state saved and restored (after a restart or not).

Adapted from the seeded long-stream fuzzer that found the defects `test_long_streams.py` keeps.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
import math
import random
from zoneinfo import ZoneInfo

import numpy as np

from custom_components.energy_anomaly.detector.config import DetectorConfig
from custom_components.energy_anomaly.detector.engine import Detector
from custom_components.energy_anomaly.detector.model import (
    Finding,
    HistoryRow,
    Kind,
    Mode,
    Reading,
    Sensitivity,
)

DAY_MIN = 1440
ZONES: list[tzinfo] = [
    UTC,
    ZoneInfo("Europe/Oslo"),
    ZoneInfo("America/New_York"),
    ZoneInfo("Australia/Lord_Howe"),  # a half-hour daylight saving time
    ZoneInfo("America/St_Johns"),
    ZoneInfo("Asia/Kolkata"),
    ZoneInfo("Pacific/Chatham"),
    ZoneInfo("Europe/London"),
    ZoneInfo("America/Santiago"),
    timezone(timedelta(hours=1)),
    timezone(timedelta(hours=-9, minutes=-30)),
]
# Local dates a few days before a change of daylight saving time somewhere (2024)
DST_DATES = [(2024, 3, 28), (2024, 10, 25), (2024, 3, 8), (2024, 11, 1), (2024, 4, 5)]
ODD = [math.nan, math.inf, -math.inf, -5.0, -1e9, 1e12, 0.0, 1e300, -0.0, 5e5]


@dataclass(frozen=True, slots=True)
class Command:
    """Something the household or Home Assistant does between readings; `act` returns the
    episode `mark_normal` marked (None for every other command)."""

    name: str
    act: Callable[[Detector], Finding | None]

    def __repr__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class Restore:
    """The state saved to plain data and a detector restored from it.

    `restart_at`: Home Assistant restarted, and the restored detector is told so at that moment
    (it then differs from the saved one); None: restored while running on (a reload), and it
    must go on exactly as the saved one would have.
    """

    restart_at: datetime | None = None


type Event = Reading | Command | Restore


@dataclass(frozen=True, slots=True)
class Stream:
    """A seed's home: its config and the events of its days, in the order they happen."""

    seed: int
    config: DetectorConfig
    events: list[Event]
    days: int
    spacing_s: float


def _power(rng: random.Random, days: int) -> np.ndarray:
    """Per-minute power (W) of the home's days, its anomalies included."""
    r = np.random.default_rng(rng.randrange(1 << 30))
    minutes = np.arange(days * DAY_MIN)
    base = rng.choice([20.0, 80.0, 150.0, 400.0, 1200.0])
    power = base + r.normal(0.0, base * 0.03 + 2, minutes.size)
    power += rng.choice([0, 60, 100, 300]) * ((minutes + r.integers(45)) % 45 < 15)
    evening = 200 * rng.random()
    for day in range(days):
        kettle = day * DAY_MIN + 450 + int(r.integers(-30, 30))
        power[kettle : kettle + 3] += 2000
        dinner = day * DAY_MIN + 1050 + int(r.integers(-30, 30))
        power[dinner : dinner + 10] += 2000
        power[day * DAY_MIN + 1020 : day * DAY_MIN + 1380] += evening
    power *= rng.choice([0.2, 1.0, 1.0, 3.0, 20.0])
    for _ in range(rng.randrange(1, 5)):  # a load left on (or a load gone)
        s = rng.randrange(power.size)
        power[s : s + rng.randrange(10, 4000)] += rng.choice([500, 2000, 8000, -100])
    if rng.random() < 0.5:  # a lasting step up of the baseload
        power[rng.randrange(power.size) :] += rng.choice([50, 150, 600])
    if rng.random() < 0.5:  # a meter stuck at zero, at one value or below zero
        s = rng.randrange(power.size)
        power[s : s + rng.randrange(30, 3000)] = rng.choice([0.0, float(power[s]), -50.0])
    return power


def _solar(rng: random.Random, days: int) -> np.ndarray | None:
    """Per-minute production (W), None for a home without panels."""
    if rng.random() < 0.6:
        return None
    peak = rng.choice([1000.0, 4000.0, 10000.0])
    minute = np.arange(days * DAY_MIN) % DAY_MIN
    sun = np.clip(np.sin((minute - 360) / 720 * math.pi), 0, None) * peak
    cloud = np.repeat(np.random.default_rng(rng.randrange(1 << 30)).random(days), DAY_MIN)
    return sun * (0.2 + 0.8 * cloud)


def _history(rng: random.Random, end: datetime, zone: tzinfo, days: int) -> list[HistoryRow]:
    """Recorder statistics of the days before `end`, with gaps, repeats and odd values."""
    rows: list[HistoryRow] = []
    duration = rng.choice([3600.0, 3600.0, 300.0, 900.0, 7200.0])
    t = (end.astimezone(UTC) - timedelta(days=days)).replace(minute=0, second=0, microsecond=0)
    fixed = rng.random() < 0.5  # stamped with a fixed offset rather than the zone
    while t < end.astimezone(UTC):
        if rng.random() < 0.01:
            t += timedelta(hours=rng.randrange(1, 60))
            continue
        local = t.astimezone(zone)
        if fixed:
            local = t.astimezone(timezone(local.utcoffset() or timedelta()))
        mean = rng.uniform(50, 3000)
        low = mean * rng.uniform(0.1, 1.0) if rng.random() < 0.7 else None
        high = mean * rng.uniform(1.0, 5.0) if rng.random() < 0.7 else None
        temperature = rng.uniform(-20, 30) if rng.random() < 0.5 else None
        if rng.random() < 0.05:
            mean = rng.choice(ODD)
        if rng.random() < 0.03:
            low, high, temperature = rng.choice(ODD), rng.choice(ODD), rng.choice(ODD)
        rows.append(HistoryRow(local, duration, mean, low, high, temperature))
        if rng.random() < 0.01:
            rows.append(rows[-1])
        if rng.random() < 0.005:
            t -= timedelta(hours=rng.randrange(1, 5))
        t += timedelta(seconds=duration)
    return rows


def _command(rng: random.Random, moment: datetime) -> list[Event]:  # noqa: PLR0911
    """A command of the household's (or Home Assistant's) at `moment`."""
    match rng.randrange(8):
        case 0:
            mode = rng.choice(list(Mode))
            until = None
            if rng.random() < 0.7:  # an end in the past, soon or days ahead
                until = moment + timedelta(hours=rng.uniform(-5, 24 * 10))
                if rng.random() < 0.3:
                    until = until.astimezone(rng.choice(ZONES))
            return [Command(f"set_mode({mode}, {until})", lambda d: d.set_mode(mode, until))]
        case 1:
            level = rng.choice(list(Sensitivity))
            return [Command(f"set_sensitivity({level})", lambda d: d.set_sensitivity(level))]
        case 2 | 3:
            return [Command("mark_normal()", lambda d: d.mark_normal())]
        case 4:
            kind, on = rng.choice(list(Kind)), rng.random() < 0.6
            return [Command(f"set_silenced({kind}, {on})", lambda d: d.set_silenced(kind, on))]
        case 5:
            volts = rng.choice([120.0, 230.0, 240.0])
            return [Command(f"judge_against({volts})", lambda d: d.judge_against(volts))]
        case 6:
            at = moment + timedelta(seconds=rng.uniform(0, 7200))
            return [Restore(restart_at=at)]
        case _:
            return [Restore()]


def stream(  # noqa: PLR0912, PLR0915
    seed: int, max_readings: int, max_days: int, spacing_s: float | None = None
) -> Stream:
    """The events of seed `seed`'s home: about `max_readings` readings, at most `max_days` days.

    The readings are `spacing_s` apart on average (the seed's choice when None).
    """
    rng = random.Random(seed)
    zone = rng.choice(ZONES)
    spacing = rng.choice([20.0, 60.0, 120.0, 300.0, 600.0])
    spacing = spacing if spacing_s is None else spacing_s
    days = max(2, min(max_days, int(max_readings * spacing / 86400)))
    y, mo, d = rng.choice(DST_DATES)
    start = (datetime(y, mo, d, tzinfo=zone) - timedelta(days=rng.randrange(0, 20))).astimezone(
        zone
    )
    jitter = rng.random() < 0.5
    power = _power(rng, days)
    production = _solar(rng, days)
    net = production is not None and rng.random() < 0.7
    phases = rng.choice([0, 1, 3, 3])
    has_current = phases > 0 and rng.random() < 0.6
    has_temperature = rng.random() < 0.5
    nominal = rng.choice([230.0, 230.0, 120.0])
    fuse = rng.choice([None, 16.0, 25.0, 63.0])
    p_odd = rng.choice([0.001, 0.01, 0.05])
    p_command = rng.choice([0.0005, 0.002, 0.005]) * min(spacing, 120.0) / 60
    p_time = rng.choice([0.0005, 0.002, 0.01])
    swings = [
        (s, s + rng.randrange(5, 600), rng.randrange(phases), rng.choice(["sag", "swell", "low"]))
        for s in [rng.randrange(days * DAY_MIN) for _ in range(rng.randrange(5) if phases else 0)]
    ]
    overloads = {  # minutes of a current above the fuse
        minute
        for s in [rng.randrange(days * DAY_MIN) for _ in range(rng.randrange(3))]
        for minute in range(s, s + rng.randrange(5, 120))
    }
    lost = [
        (s, s + rng.randrange(5, 3000), rng.randrange(phases))
        for s in [rng.randrange(days * DAY_MIN) for _ in range(rng.randrange(3) if phases else 0)]
    ]
    events: list[Event] = []
    if rng.random() < 0.35:
        rows = _history(rng, start, zone, rng.randrange(1, 30))
        events.append(Command(f"learn_history({len(rows)} rows)", _learn(rows)))
        if rng.random() < 0.3:
            events.append(Restore())
    t, end = 0.0, days * 86400.0
    reloaded = restarted = False
    while t < end:
        minute = int(t // 60)
        watts = float(power[minute])
        made = None if production is None else float(production[minute])
        if net and made is not None:
            watts -= made
        temperature = None
        if has_temperature:
            temperature = 5 + 10 * math.sin(t / 86400 * 2 * math.pi) + rng.gauss(0, 1)
        volts: list[float | None] = [None, None, None]
        amps: list[float | None] = [None, None, None]
        for phase in range(phases):
            volts[phase] = nominal + rng.gauss(0, 2)
            if has_current:
                amps[phase] = max(watts, 0) / nominal / phases
        for first, last, phase, how in swings:
            if first <= minute < last:
                low, high = {"sag": (0.6, 0.92), "swell": (1.08, 1.3), "low": (0.0, 0.55)}[how]
                volts[phase] = nominal * rng.uniform(low, high)
        if has_current and fuse is not None and minute in overloads:
            amps[rng.randrange(phases)] = fuse * rng.uniform(1.2, 2.0)
        for first, last, phase in lost:
            if first <= minute < last:
                volts[phase] = rng.choice([None, 0.0, 3.0])
                amps[phase] = None
        if rng.random() < p_odd:
            value = rng.choice(ODD)
            match rng.randrange(5):
                case 0:
                    made = value
                case 1:
                    temperature = value
                case 2:
                    volts[rng.randrange(3)] = value
                case 3:
                    amps[rng.randrange(3)] = value
                case _:
                    watts = value
        moment = (start + timedelta(seconds=t)).astimezone(zone)
        if rng.random() < p_time:
            match rng.randrange(6):
                case 0:  # a little older than the last
                    moment -= timedelta(seconds=rng.randrange(1, 120))
                case 1:  # hours older
                    moment -= timedelta(hours=rng.randrange(1, 6))
                case 2:  # days to a year ahead
                    moment += timedelta(days=rng.randrange(1, 400))
                case 3:  # no readings for hours or days
                    t += rng.choice([3600.0, 7200.0, 86400.0, 3 * 86400.0, 9 * 86400.0])
                    continue
                case 4 if events and isinstance(events[-1], Reading):  # the last one again
                    events.append(events[-1])
                case 5 if len(events) > 2 and all(isinstance(e, Reading) for e in events[-2:]):
                    events[-1], events[-2] = events[-2], events[-1]
                case _:
                    pass
            if rng.random() < 0.3:
                moment = moment.astimezone(rng.choice(ZONES))
        events.append(
            Reading(
                moment,
                watts,
                made,
                (volts[0], volts[1], volts[2]),
                (amps[0], amps[1], amps[2]),
                temperature,
            )
        )
        if rng.random() < p_command:
            events += _command(rng, moment)
        if t >= end / 2 and not reloaded:  # every stream is restored running on, and restarted
            events.append(Restore())
            reloaded = True
        elif t >= end * 3 / 4 and not restarted:
            events.append(Restore(restart_at=moment + timedelta(seconds=rng.uniform(0, 7200))))
            restarted = True
        t += spacing * (rng.uniform(0.5, 1.5) if jitter else 1.0)
    config = DetectorConfig(fuse_amps=fuse, silent_phase_lost=rng.random() < 0.8, nominal_v=nominal)
    return Stream(seed, config, events, days, spacing)


def _learn(rows: list[HistoryRow]) -> Callable[[Detector], None]:
    def act(detector: Detector) -> None:
        detector.learn_history(rows)

    return act
