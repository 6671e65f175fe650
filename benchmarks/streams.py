"""Labelled household streams for the detection benchmark (deterministic, vectorised numpy).

Each home is six weeks of Tibber-Pulse-like readings every 10 s (2024-02-05 .. 2024-03-17, local
time UTC+01:00): power per phase from standby, fridge/freezer cycles, activity (lights, TV, PC),
kettles, hobs and ovens at meal times, real dishwasher / washing-machine / dryer runs
(`data/appliances`) spliced in at varied hours, temperature-driven heating (panel heaters or a heat
pump) with a shared synthetic outdoor temperature that has a cold week (days 21-27), PV on one
house, voltage per phase with short unlabelled dips. The first two weeks are clean (learning);
labelled events of every kind happen from day 14 on. See `HOMES` and each home's `_events_*`.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from functools import cache
import gzip
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from custom_components.energy_anomaly.detector.model import Reading

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

STEP = 10  # seconds between readings
DAY = 86_400
HOUR = 3_600
MINUTE = 60
DAYS = 42
EVAL_START_DAY = 14  # events only from here; alarms before it are not counted
TZ = timezone(timedelta(hours=1))
START = datetime(2024, 2, 5, tzinfo=TZ)  # a Monday; no DST change in the six weeks
NOMINAL_V = 230.0
COLD_WEEK = (21, 28)  # days [21, 28): a cold spell, explained by the temperature

KINDS = ("unusual_consumption", "new_pattern", "baseload", "meter_fault", "power_quality")
CYCLES_FILE = Path(__file__).parent / "data" / "appliances" / "cycles.csv.gz"


@dataclass(frozen=True)
class Event:
    """A labelled anomaly: [start, end] in seconds since the stream's start.

    `counted=False` marks a don't-care region (e.g. the 2nd/3rd night of a new pattern, or the rest
    of a baseload step after its detection window): it is not an event to find, and an alarm episode
    touching it is not a false alarm.
    """

    kind: str
    start: int
    end: int
    what: str
    counted: bool = True


@dataclass
class Stream:
    """One home's readings (as numpy columns) and labels."""

    home: str
    description: str
    t: np.ndarray  # int64 seconds since START (gaps removed)
    power: np.ndarray  # W, as reported (import)
    production: np.ndarray | None  # W exported, None when the home has no production
    voltage: np.ndarray  # (n, 3), NaN = phase not reported
    current: np.ndarray  # (n, 3), NaN = phase not reported
    temperature: np.ndarray | None  # °C, None when the home has no temperature entity
    events: list[Event]
    fuse: float = 25.0
    phases: int = 3

    @property
    def weeks(self) -> float:
        return (DAYS - EVAL_START_DAY) / 7

    def readings(self) -> Iterator[Reading]:
        """The stream as the detector sees it, one `Reading` per row."""
        n = len(self.t)
        ts = [START + timedelta(seconds=int(s)) for s in self.t]
        power = self.power.tolist()
        prod = self.production.tolist() if self.production is not None else [None] * n
        temp = self.temperature.tolist() if self.temperature is not None else [None] * n
        v = [self.voltage[:, p].tolist() for p in range(3)]
        c = [self.current[:, p].tolist() for p in range(3)]
        if self.phases == 1:
            none = [None] * n
            v[1] = v[2] = c[1] = c[2] = none
        for i in range(n):
            yield Reading(
                timestamp=ts[i],
                power=power[i],
                power_production=prod[i],
                voltage=(v[0][i], v[1][i], v[2][i]),
                current=(c[0][i], c[1][i], c[2][i]),
                temperature=temp[i],
            )


# --------------------------------------------------------------------------------------------
# Shared weather


@cache
def outdoor_temperature() -> tuple[np.ndarray, np.ndarray]:
    """(temperature °C at every 10-s step, cloudiness 0..1 per day); one region, fixed seed."""
    rng = np.random.default_rng(20240205)
    n = DAYS * DAY // STEP
    daily = np.empty(DAYS + 1)
    x = 0.0
    for d in range(DAYS + 1):
        x = 0.7 * x + rng.normal(0, 1.8)
        daily[d] = 1.5 + 0.08 * d + x
    lo, hi = COLD_WEEK
    cold = np.zeros(DAYS + 1)
    cold[lo:hi] = -11.0
    cold[lo - 1] = cold[hi] = -4.0
    daily += cold
    cloud = np.clip(rng.beta(1.4, 1.2, DAYS + 1), 0, 1)
    cloud[lo:hi] = np.minimum(cloud[lo:hi], 0.3)  # cold spells are clear
    sec = np.arange(n) * STEP
    day_pos = sec / DAY - 0.5
    mean = np.interp(day_pos, np.arange(DAYS + 1), daily)
    amp = 2.0 + 3.0 * (1 - cloud[sec // DAY])
    hour = (sec % DAY) / HOUR
    temp = mean + amp * np.cos(2 * np.pi * (hour - 15) / 24) + rng.normal(0, 0.15, n)
    # a weather entity updates every 10 minutes, 0.1 °C resolution
    held = temp[(np.arange(n) // 60) * 60]
    return np.round(held, 1), cloud[:DAYS]


# --------------------------------------------------------------------------------------------
# Real appliance cycles


@cache
def appliance_cycles() -> dict[str, list[tuple[str, np.ndarray]]]:
    """Appliance runs by machine (e.g. 'Dishwasher_1'): (source file, watts per minute)."""
    by_cycle: dict[int, tuple[str, str, list[float]]] = {}
    with gzip.open(CYCLES_FILE, "rt", newline="") as f:
        for row in csv.DictReader(f):
            cid = int(row["cycle"])
            if cid not in by_cycle:
                by_cycle[cid] = (row["source"].split("/")[1], row["source"], [])
            by_cycle[cid][2].append(float(row["watts"]))
    out: dict[str, list[tuple[str, np.ndarray]]] = {}
    for machine, source, watts in by_cycle.values():
        out.setdefault(machine, []).append((source, np.array(watts)))
    return out


# --------------------------------------------------------------------------------------------
# Builder: per-phase consumption at 10-s resolution


class Builder:
    """Per-phase load accumulator for one home."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.n = DAYS * DAY // STEP
        self.sec = np.arange(self.n, dtype=np.int64) * STEP
        self.load = np.zeros((3, self.n))

    def add(self, phase: int | tuple[int, ...], start_s: float, watts: np.ndarray) -> None:
        """Add a load profile (one value per 10-s step) from `start_s`, split over `phase`s."""
        i0 = int(start_s) // STEP
        if i0 >= self.n or i0 + len(watts) <= 0:
            return
        w = watts[max(0, -i0) : self.n - i0]
        i0 = max(0, i0)
        phases = (phase,) if isinstance(phase, int) else phase
        for p in phases:
            self.load[p, i0 : i0 + len(w)] += w / len(phases)

    def block(
        self, phase: int | tuple[int, ...], start_s: float, dur_s: float, watts: float
    ) -> None:
        steps = max(1, int(dur_s) // STEP)
        self.add(phase, start_s, watts * (1 + self.rng.normal(0, 0.01, steps)))

    def pwm(self, dur_s: float, watts: float, period_s: float, duty: float) -> np.ndarray:
        steps = max(1, int(dur_s) // STEP)
        ph = (np.arange(steps) * STEP / period_s + self.rng.random()) % 1.0
        return np.where(ph < duty, watts, 0.0) * (1 + self.rng.normal(0, 0.01, steps))

    def oven(self, phase: int | tuple[int, ...], start_s: float, dur_s: float) -> None:
        """Electric oven: preheat at full power, then thermostat cycling."""
        watts = self.rng.uniform(2200, 2600)
        pre = int(self.rng.uniform(8, 13) * MINUTE)
        rest = max(0.0, dur_s - pre)
        prof = np.concatenate(
            [np.full(pre // STEP, watts), self.pwm(rest, watts, self.rng.uniform(100, 160), 0.42)]
        )
        self.add(phase, start_s, prof)

    def hob(self, phase: int | tuple[int, ...], start_s: float, dur_s: float) -> None:
        self.add(phase, start_s, self.pwm(dur_s, self.rng.uniform(1200, 1900), 40, 0.6))

    def kettle(self, phase: int, start_s: float) -> None:
        self.block(phase, start_s, self.rng.uniform(140, 220), self.rng.uniform(1900, 2200))

    def cycle(self, phase: int, start_s: float, watts_per_min: np.ndarray) -> None:
        w = np.repeat(watts_per_min, MINUTE // STEP)
        self.add(phase, start_s, w * (1 + self.rng.normal(0, 0.01, len(w))))

    def fridge(  # noqa: PLR0917
        self,
        phase: int,
        watts: float,
        on_min: float,
        off_min: float,
        stop: int = DAYS * DAY,
        drawn_to: int | None = None,
    ) -> None:
        """Compressor cycles until `stop` (s); a run that `stop` cuts short ends there.

        With `drawn_to` (s) the cycles are drawn on to then and only those before `stop` added:
        the generator is left where a fridge cycling until `drawn_to` leaves it, so a failure
        added to a home changes nothing else in it.
        """
        end = stop if drawn_to is None else drawn_to
        t = self.rng.uniform(0, off_min * MINUTE)
        while t < end:
            on = min(self.rng.uniform(0.8, 1.2) * on_min * MINUTE, end - t)
            if t < stop:
                prof = np.full(max(1, int(min(on, stop - t)) // STEP), watts)
                prof[0] = watts * 2.5  # start-up
                self.add(phase, t, prof)
            t += on + self.rng.uniform(0.8, 1.2) * off_min * MINUTE

    def wander(self, level: float, rel: float, minutes: int = 30) -> np.ndarray:
        """A slowly varying positive level (random, piecewise linear at `minutes`)."""
        knots = DAYS * DAY // (minutes * MINUTE) + 2
        pts = level * np.clip(1 + rel * self.rng.normal(0, 1, knots), 0.2, None)
        return np.interp(self.sec / (minutes * MINUTE), np.arange(knots), pts)


@dataclass(frozen=True)
class Profile:
    """How a household lives (times in hours)."""

    wake_wd: float
    wake_we: float
    leave: float | None  # weekday departure, None = at home all day
    back: float
    dinner_wd: float
    dinner_we: float
    bed_wd: float
    bed_we: float
    activity_w: float
    oven_days: float  # per week
    dish_per_week: float
    wash_per_week: float
    dryer_prob: float
    dishwasher: str | None
    washer: str | None
    dryer: str | None
    lunch_at_home: bool = False
    single_phase: bool = False


def _weekend(day: int) -> bool:
    return (START.weekday() + day) % 7 >= 5


def _daily_life(b: Builder, p: Profile, ph: Callable[[int], int]) -> None:
    """Activity, kettles, cooking and appliance runs for every day."""
    rng = b.rng
    activity = np.zeros(b.n)
    machines = appliance_cycles()
    for d in range(DAYS):
        we = _weekend(d)
        t0 = d * DAY
        wake = (p.wake_we if we else p.wake_wd) + rng.normal(0, 0.6 if we else 0.25)
        bed = (p.bed_we if we else p.bed_wd) + rng.normal(0, 0.4)
        dinner = (p.dinner_we if we else p.dinner_wd) + rng.normal(0, 0.3)
        away = (
            None
            if (we or p.leave is None)
            else (p.leave + rng.normal(0, 0.15), p.back + rng.normal(0, 0.4))
        )
        # lights/electronics while awake and at home (higher in the evening)
        h = (b.sec[t0 // STEP : (t0 + DAY) // STEP] - t0) / HOUR
        home = (h >= wake) & (h < bed)
        if away:
            home &= ~((h >= away[0]) & (h < away[1]))
        evening = np.clip((h - 16.5) / 2, 0, 1) * (h < bed)
        activity[t0 // STEP : (t0 + DAY) // STEP] = home * p.activity_w * (0.55 + 0.6 * evening)
        # kettle / coffee in the morning, kettle in the afternoon or evening
        for _ in range(rng.integers(1, 3)):
            b.kettle(ph(0), t0 + (wake + rng.uniform(0.05, 0.6)) * HOUR)
        for _ in range(rng.poisson(1.2 if (we or p.leave is None) else 0.7)):
            lo = (wake + 2) if (we or p.leave is None) else away[1] if away else wake + 2
            b.kettle(ph(0), t0 + rng.uniform(lo, max(lo + 0.5, bed - 0.5)) * HOUR)
        # dinner: hob most days, oven on some
        b.hob(ph(1), t0 + dinner * HOUR, rng.uniform(15, 40) * MINUTE)
        if rng.random() < p.oven_days / 7:
            b.oven(
                ph(1), t0 + (dinner - rng.uniform(0.2, 0.6)) * HOUR, rng.uniform(35, 75) * MINUTE
            )
        if (we or p.lunch_at_home) and rng.random() < 0.6:
            b.hob(ph(2), t0 + rng.uniform(11.8, 12.8) * HOUR, rng.uniform(10, 25) * MINUTE)
        # real appliance runs
        if p.dishwasher and rng.random() < p.dish_per_week / 7:
            src = machines[p.dishwasher]
            start = (
                dinner + rng.uniform(1.0, 3.0)
                if rng.random() < 0.75
                else wake + rng.uniform(0.5, 2)
            )
            b.cycle(ph(0), t0 + start * HOUR, src[rng.integers(len(src))][1])
        if p.washer and rng.random() < p.wash_per_week / 7:
            src = machines[p.washer]
            if we or p.leave is None:
                start = rng.uniform(wake + 0.5, 19.5)
            else:  # before work or in the evening
                start = wake + 0.2 if rng.random() < 0.3 else rng.uniform(p.back + 0.5, 20.5)
            run = src[rng.integers(len(src))][1]
            b.cycle(ph(1), t0 + start * HOUR, run)
            if p.dryer and rng.random() < p.dryer_prob:
                dsrc = machines[p.dryer]
                b.cycle(
                    ph(2),
                    t0 + start * HOUR + (len(run) + rng.uniform(5, 40)) * MINUTE,
                    dsrc[rng.integers(len(dsrc))][1],
                )
    # activity fluctuates (devices switching), ~5-min texture
    b.add(ph(0), 0, activity * 0.6 * b.wander(1.0, 0.25, 5))
    b.add(ph(2), 0, activity * 0.4 * b.wander(1.0, 0.25, 7))


def _panel_heating(
    b: Builder, temp: np.ndarray, ua: float, heaters: list[tuple[int, float]]
) -> None:
    """Thermostatic panel heaters; demand UA*(setpoint - T_out), night setback 23-06."""
    hour = (b.sec % DAY) / HOUR
    setpoint = np.where((hour >= 23) | (hour < 6), 18.0, 21.0)
    capacity = sum(w for _, w in heaters)
    _thermostatic(b, np.clip(ua * (setpoint - temp) / capacity, 0, 1), heaters)


def _thermostatic(b: Builder, duty: np.ndarray, heaters: list[tuple[int, float]]) -> None:
    """Each heater (phase, W) on for the `duty` share of its own 10-20 minute cycle."""
    for phase, watts in heaters:
        ph = (b.sec / b.rng.uniform(600, 1200) + b.rng.random()) % 1.0
        b.load[phase] += np.where(ph < duty, watts, 0.0)


STORAGE_SETPOINT_C = 20.0  # indoor temperature a storage heater's charge is sized for (°C)
STORAGE_CHARGE_HOURS = (0.0, 6.0)  # the off-peak hours it charges in (local clock)


def _storage_heating(
    b: Builder, temp: np.ndarray, ua: float, heaters: list[tuple[int, float]]
) -> None:
    """Night storage heaters: a whole day's heat charged in the off-peak hours, none by day.

    The charge is UA*(setpoint - the day's mean outdoor temperature)*24 h, drawn as each
    heater's thermostatic cycles, at most the heaters' rating.
    """
    hour = (b.sec % DAY) / HOUR
    day = b.sec // DAY
    day_mean = np.bincount(day, weights=temp) / np.bincount(day)
    first, last = STORAGE_CHARGE_HOURS
    charge_h = last - first
    need = ua * np.clip(STORAGE_SETPOINT_C - day_mean[day], 0, None) * (DAY / HOUR) / charge_h
    capacity = sum(w for _, w in heaters)
    charging = (hour >= first) & (hour < last)
    _thermostatic(b, np.where(charging, np.clip(need / capacity, 0, 1), 0.0), heaters)


def _heat_pump(b: Builder, temp: np.ndarray, ua: float, min_w: float) -> None:
    """Air-to-water heat pump: modulating above min_w, on/off below; defrosts when cold; 3-phase."""
    hour = (b.sec % DAY) / HOUR
    setpoint = np.where((hour >= 22.5) | (hour < 5), 18.5, 20.5)
    heat = ua * np.clip(setpoint - 1.5 - temp, 0, None)
    cop = np.clip(3.2 + 0.09 * temp, 1.8, 4.5)
    el = heat / cop
    ph = (b.sec / 1800 + b.rng.random()) % 1.0
    el = np.where(el >= min_w, el, np.where(ph < el / min_w, min_w, 0.0))
    defrost = (temp < 4) & (((b.sec / 4500) % 1.0) < 0.08)
    el = el + defrost * 900 + 45  # circulation pump
    el *= 1 + b.rng.normal(0, 0.01, b.n)
    for p in range(3):
        b.load[p] += el / 3


def _pv(b: Builder, kwp: float, cloud: np.ndarray) -> np.ndarray:
    """PV output (W): clear-sky bell 07:45-17:15 in Feb/March, daily cloudiness, flicker."""
    day = b.sec // DAY
    hour = (b.sec % DAY) / HOUR
    length = 9.5 + day * 0.045
    x = (hour - 12.5) / (length / 2)
    bell = np.clip(np.cos(np.clip(x, -1, 1) * np.pi / 2), 0, None) ** 1.5 * (np.abs(x) < 1)
    peak = kwp * 1000 * (0.45 + 0.2 * day / DAYS)
    c = cloud[day]
    flicker = 1 - c * 0.8 * np.clip(b.wander(1.0, 0.6, 3), 0, 1.2)
    return np.clip(peak * bell * (1 - 0.5 * c) * flicker, 0, None)


# --------------------------------------------------------------------------------------------
# Events


def _at(day: int, hour: float) -> int:
    return int(day * DAY + hour * HOUR)


class Events:
    """Writes labelled events into a home's loads (consumption) or its reported values (faults)."""

    def __init__(self, b: Builder) -> None:
        self.b = b
        self.labels: list[Event] = []
        self.faults: list[tuple[str, int, int, int]] = []  # (what, start, end, phase)
        self.voltages: list[tuple[int, int, tuple[int, ...], float]] = []
        self.overcurrents: list[tuple[int, int, int]] = []

    def label(self, kind: str, start: float, end: float, what: str, counted: bool = True) -> None:
        self.labels.append(Event(kind, int(start), int(end), what, counted))

    def stuck_oven(self, phase: int | tuple[int, ...], day: int, hour: float, hours: float) -> None:
        s = _at(day, hour)
        self.b.oven(phase, s, hours * HOUR)
        self.label("unusual_consumption", s, s + hours * HOUR, f"oven left on for {hours:g} h")

    def stuck_heater(  # noqa: PLR0917
        self,
        phase: int | tuple[int, ...],
        day: int,
        hour: float,
        hours: float,
        watts: float,
        what: str,
    ) -> None:
        s = _at(day, hour)
        self.b.add(phase, s, self.b.pwm(hours * HOUR, watts, 900, 0.85))
        self.label("unusual_consumption", s, s + hours * HOUR, what)

    def nightly(  # noqa: PLR0917
        self,
        phase: int | tuple[int, ...],
        first_day: int,
        hour: float,
        watts: float,
        hours: tuple[float, float],
        what: str,
        weekdays_only: bool = False,
    ) -> None:
        """A new recurring load from `first_day` on; the first occurrence is the event, the next two
        are don't-care (a detector may need them to learn), later ones must stay quiet."""
        k = 0
        for d in range(first_day, DAYS):
            if weekdays_only and _weekend(d):
                continue
            s = _at(d, hour + self.b.rng.normal(0, 0.25))
            dur = self.b.rng.uniform(*hours) * HOUR
            self.b.block(phase, s, dur, watts)
            if k == 0:
                self.label("new_pattern", s, s + dur, f"{what}: first occurrence")
            elif k <= 2:
                self.label("new_pattern", s, s + dur, f"{what}: occurrence {k + 1}", counted=False)
            k += 1

    def baseload(self, phase: int, day: int, hour: float, watts: float, what: str) -> None:
        s = _at(day, hour)
        self.b.add(phase, s, np.full(self.b.n, watts))
        self.label("baseload", s, s + 2 * DAY, f"baseload +{watts:g} W: {what}")
        self.label("baseload", s + 2 * DAY, DAYS * DAY, "baseload step continues", counted=False)

    def fault(self, what: str, day: int, hour: float, minutes: float, phase: int = 0) -> None:
        s = _at(day, hour)
        e = s + int(minutes * MINUTE)
        self.faults.append((what, s, e, phase))
        names = {
            "zeros": "power reported as exactly 0",
            "negative": "negative power without production",
            "stale": "power value frozen",
            "gap": "no readings",
        }
        self.label("meter_fault", s, e, f"{names[what]} for {minutes:g} min")

    def voltage(
        self, day: int, hour: float, minutes: float, phases: tuple[int, ...], volts: float
    ) -> None:
        s = _at(day, hour)
        e = s + int(minutes * MINUTE)
        self.voltages.append((s, e, phases, volts))
        side = "under" if volts < NOMINAL_V else "over"
        self.label(
            "power_quality",
            s,
            e,
            f"{side}voltage {volts:g} V on L{'/L'.join(str(p + 1) for p in phases)}"
            f" for {minutes:g} min",
        )

    def overcurrent(self, phase: int, day: int, hour: float, minutes: float) -> None:
        s = _at(day, hour)
        e = s + int(minutes * MINUTE)
        self.overcurrents.append((s, e, phase))
        self.label(
            "power_quality", s, e, f"L{phase + 1} current above the 25 A fuse for {minutes:g} min"
        )


# --------------------------------------------------------------------------------------------
# Homes


@dataclass(frozen=True)
class Home:
    name: str
    description: str
    seed: int
    profile: Profile
    standby_w: float
    fridges: list[tuple[int, float, float, float]]  # phase, W, on min, off min
    heating: Callable[[Builder, np.ndarray], None] | None
    events: Callable[[Events], None]
    temperature_sensor: bool = True
    pv_kwp: float = 0.0
    v_offset: tuple[float, float, float] = (0.0, 0.0, 0.0)
    water_heater_w: float = 0.0
    extra: list[str] = field(default_factory=list)


def _events_flat(ev: Events) -> None:
    ev.stuck_oven(1, 16, 23.2, 5)  # Wednesday night, they never cook after 20:00
    ev.stuck_heater((0, 2), 24, 9.0, 5, 1500, "hob zone left on while nobody is home")
    ev.nightly(
        (0, 1, 2),
        29,
        8.6,
        1200,
        (7.5, 8.0),
        "home office (PC + extra heater) on weekdays",
        weekdays_only=True,
    )
    ev.baseload(0, 26, 14.3, 60, "fridge thermostat failed, compressor runs constantly")
    ev.fault("zeros", 20, 14.0, 40)
    ev.fault("stale", 35, 10.0, 60)
    ev.voltage(22, 18.5, 25, (1,), 198.0)
    ev.overcurrent(0, 37, 18.0, 12)


def _events_heat_pump(ev: Events) -> None:
    ev.stuck_oven(1, 18, 1.5, 4)
    ev.stuck_heater(2, 31, 2.6, 3.5, 3000, "3 kW garage heater running at night")
    ev.nightly((0, 1, 2), 22, 22.6, 11000, (1.8, 3.2), "EV charging (11 kW) every night")
    ev.baseload(1, 27, 11.0, 100, "a 100 W heat lamp left on permanently")
    ev.fault("negative", 16, 9.0, 20)
    ev.fault("gap", 34, 13.0, 30)
    ev.voltage(25, 17.75, 20, (0, 1, 2), 201.0)
    ev.overcurrent(2, 39, 7.2, 10)


def _events_small_flat(ev: Events) -> None:
    ev.stuck_heater(0, 23, 0.5, 5, 2000, "2 kW space heater running at night")
    ev.stuck_oven(0, 36, 10.0, 5)  # a weekday, at work
    ev.nightly(0, 20, 23.0, 380, (2.5, 3.5), "gaming PC every night")
    ev.baseload(0, 30, 15.0, 80, "terrarium heat lamp")
    ev.fault("stale", 19, 20.0, 60)
    ev.fault("zeros", 33, 3.0, 60)
    ev.voltage(27, 13.0, 30, (0,), 255.0)
    ev.overcurrent(0, 38, 18.5, 10)


def _events_pv(ev: Events) -> None:
    ev.stuck_heater((0, 1, 2), 20, 0.7, 3, 6000, "6 kW sauna left on at night")
    ev.stuck_heater(2, 32, 2.0, 5, 2000, "immersion heater stuck on at night")
    ev.nightly(0, 26, 23.0, 3680, (3.0, 5.0), "EV charging (3.7 kW, one phase) every night")
    ev.baseload(0, 24, 16.0, 80, "old freezer plugged in in the basement")
    ev.fault("negative", 22, 2.0, 30)
    ev.fault("gap", 29, 11.0, 45)
    ev.voltage(35, 12.0, 40, (0, 1, 2), 256.0)
    ev.overcurrent(1, 40, 18.2, 15)


HOMES: list[Home] = [
    Home(
        name="flat_panel_heating",
        description="flat, couple at work on weekdays, electric panel heaters and a 2 kW water "
        "heater; "
        "temperature entity",
        seed=101,
        profile=Profile(
            wake_wd=6.5,
            wake_we=8.6,
            leave=7.8,
            back=17.0,
            dinner_wd=18.2,
            dinner_we=18.8,
            bed_wd=23.0,
            bed_we=23.8,
            activity_w=260,
            oven_days=2.5,
            dish_per_week=3.5,
            wash_per_week=2.5,
            dryer_prob=0.0,
            dishwasher="Dishwasher_1",
            washer="Washing_machine_1",
            dryer=None,
        ),
        standby_w=85,
        fridges=[(0, 95, 16, 30)],
        heating=lambda b, t: _panel_heating(b, t, 65, [(0, 1000), (1, 1000), (2, 800), (1, 800)]),
        events=_events_flat,
        water_heater_w=2000,
        v_offset=(1.5, -1.0, 0.5),
    ),
    Home(
        name="house_heat_pump",
        description="family house (4), air-to-water heat pump, fridge + freezer, dishwasher daily, "
        "washer + dryer; temperature entity",
        seed=202,
        profile=Profile(
            wake_wd=6.2,
            wake_we=7.9,
            leave=7.5,
            back=15.5,
            dinner_wd=17.8,
            dinner_we=18.3,
            bed_wd=22.5,
            bed_we=23.3,
            activity_w=420,
            oven_days=3.5,
            dish_per_week=6.5,
            wash_per_week=4.5,
            dryer_prob=0.6,
            dishwasher="Dishwasher_2",
            washer="Washing_machine_3",
            dryer="Dryer_1",
        ),
        standby_w=150,
        fridges=[(0, 90, 15, 32), (2, 110, 18, 35)],
        heating=lambda b, t: _heat_pump(b, t, 170, 600),
        events=_events_heat_pump,
        v_offset=(-1.0, 0.5, 2.0),
    ),
    Home(
        name="small_flat",
        description="small flat, one person, district heating (no electric heating), single phase; "
        "no temperature entity",
        seed=303,
        profile=Profile(
            wake_wd=7.0,
            wake_we=9.8,
            leave=8.0,
            back=17.5,
            dinner_wd=19.0,
            dinner_we=19.5,
            bed_wd=23.5,
            bed_we=24.5 - 0.01,
            activity_w=170,
            oven_days=1.0,
            dish_per_week=0.0,
            wash_per_week=1.2,
            dryer_prob=0.0,
            dishwasher=None,
            washer="Washing_machine_2",
            dryer=None,
            single_phase=True,
        ),
        standby_w=45,
        fridges=[(0, 75, 14, 35)],
        heating=None,
        events=_events_small_flat,
        temperature_sensor=False,
        v_offset=(-0.5, 0.0, 0.0),
    ),
    Home(
        name="house_pv",
        description="retired couple at home all day, ground-floor house with 8 kWp PV and a small "
        "heat pump; net metering (power = import, power_production = export); temperature entity",
        seed=404,
        profile=Profile(
            wake_wd=7.2,
            wake_we=7.6,
            leave=None,
            back=0.0,
            dinner_wd=17.8,
            dinner_we=18.0,
            bed_wd=22.8,
            bed_we=23.0,
            activity_w=300,
            oven_days=4.0,
            dish_per_week=4.0,
            wash_per_week=3.0,
            dryer_prob=0.3,
            dishwasher="Dishwasher_3",
            washer="Washing_machine_1",
            dryer="Dryer_1",
            lunch_at_home=True,
        ),
        standby_w=120,
        fridges=[(0, 85, 15, 33), (1, 100, 17, 36)],
        heating=lambda b, t: _heat_pump(b, t, 150, 500),
        events=_events_pv,
        pv_kwp=8.0,
        v_offset=(2.0, 1.0, 1.5),
    ),
]


def _water_heater(b: Builder, watts: float, phase: int) -> None:
    """Boiler reheats after the morning showers and in the evening, plus standing-loss top-ups."""
    for d in range(DAYS):
        we = _weekend(d)
        b.block(
            phase,
            _at(d, (8.0 if we else 6.7) + b.rng.normal(0, 0.3)),
            b.rng.uniform(50, 80) * MINUTE,
            watts,
        )
        b.block(phase, _at(d, 21.0 + b.rng.normal(0, 0.5)), b.rng.uniform(15, 35) * MINUTE, watts)
        for _ in range(3):
            b.block(phase, _at(d, b.rng.uniform(0, 24)), b.rng.uniform(4, 8) * MINUTE, watts)


def _short_dips(b: Builder, v: np.ndarray, phases: int) -> None:
    """Normal grid life: a few dips of 10-60 s down to 190-205 V per week (not labelled)."""
    for _ in range(int(DAYS / 7 * 3)):
        s = int(b.rng.integers(0, b.n - 10))
        k = int(b.rng.integers(1, 7))
        ps = b.rng.choice(phases, size=int(b.rng.integers(1, phases + 1)), replace=False)
        for p in ps:
            v[p, s : s + k] = b.rng.uniform(190, 205)


def meter_faults(
    faults: list[tuple[str, int, int, int]],
    total: np.ndarray,
    power: np.ndarray,
    production: np.ndarray,
    cur: np.ndarray,
) -> np.ndarray:
    """Meter and data faults overwrite what is reported; returns the readings a gap leaves out."""
    gone = np.zeros(len(power), dtype=bool)
    for what, s, e, _phase in faults:
        sl = slice(s // STEP, e // STEP)
        if what == "zeros":
            power[sl] = 0.0
            cur[:, sl] = 0.0
        elif what == "negative":
            power[sl] = -np.abs(total[sl])
            production[sl] = 0.0
        elif what == "stale":
            power[sl] = np.round(power[sl.start - 1])
        elif what == "gap":
            gone[sl] = True
    return gone


def build(home: Home) -> Stream:
    """Generate one home's stream (deterministic in `home.seed`)."""
    b = Builder(home.seed)
    temp, cloud = outdoor_temperature()
    single = home.profile.single_phase
    ph: Callable[[int], int] = (lambda p: 0) if single else (lambda p: p)
    # standby (router, electronics), split over phases; slow wander of a few watts
    b.add(0 if single else (0, 1, 2), 0, b.wander(home.standby_w, 0.03, 60))
    for phase, watts, on_m, off_m in home.fridges:
        b.fridge(ph(phase), watts, on_m, off_m)
    _daily_life(b, home.profile, ph)
    if home.water_heater_w:
        _water_heater(b, home.water_heater_w, ph(2))
    if home.heating is not None:
        home.heating(b, temp)
    ev = Events(b)
    home.events(ev)
    # normal life stays under the fuse: a load manager sheds flexible loads above 90 %
    np.clip(b.load, None, 0.9 * 25.0 * NOMINAL_V, out=b.load)
    # phase-current overloads: top a phase up to 27-30 A for the event
    v_est = NOMINAL_V
    for s, e, p in ev.overcurrents:
        i0, i1 = s // STEP, e // STEP
        target = b.rng.uniform(27, 30) * v_est
        b.load[p, i0:i1] += np.clip(target - b.load[p, i0:i1], 0, None) + b.rng.normal(
            0, 20, i1 - i0
        )
    load = b.load * (1 + b.rng.normal(0, 0.004, b.load.shape)) + b.rng.normal(0, 1.0, b.load.shape)
    pv = _pv(b, home.pv_kwp, cloud) if home.pv_kwp else np.zeros(b.n)
    net = load - pv / (1 if single else 3)
    # voltage per phase: offset, lower in the evening peak, PV raises it at noon, load drop, noise
    hour = (b.sec % DAY) / HOUR
    diurnal = -2.5 * np.exp(-(((hour - 18.5) / 2.0) ** 2)) + 1.5 * np.exp(
        -(((hour - 3.5) / 3.0) ** 2)
    )
    v = np.empty((3, b.n))
    for p in range(3):
        v[p] = (
            NOMINAL_V + home.v_offset[p] + diurnal + pv / 2000 - 0.03 * np.abs(net[p]) / NOMINAL_V
        )
        v[p] += b.wander(1.0, 0.8, 20) - 1.0 + b.rng.normal(0, 0.3, b.n)
    _short_dips(b, v, 1 if single else 3)
    for s, e, phases, volts in ev.voltages:
        for p in phases:
            v[p, s // STEP : e // STEP] = volts + b.rng.normal(0, 0.8, (e - s) // STEP)
    cur = np.abs(net) / v + 0.15
    total = net.sum(axis=0)
    power = np.clip(total, 0, None)
    production = np.clip(-total, 0, None)
    keep = ~meter_faults(ev.faults, total, power, production, cur)
    if single:
        v[1:] = np.nan
        cur[1:] = np.nan
    return Stream(
        home=home.name,
        description=home.description,
        t=b.sec[keep],
        power=np.round(power[keep]),
        production=np.round(production[keep]) if home.pv_kwp else None,
        voltage=np.round(v.T[keep], 1),
        current=np.round(cur.T[keep], 2),
        temperature=temp[keep] if home.temperature_sensor else None,
        events=sorted(ev.labels, key=lambda e: e.start),
        phases=1 if single else 3,
    )


@cache
def streams() -> list[Stream]:
    """All benchmark homes (cached per process)."""
    return [build(h) for h in HOMES]


def to_datetime(seconds: float) -> datetime:
    return (START + timedelta(seconds=seconds)).astimezone(UTC).astimezone(TZ)
