"""Is a reading plausible? Checked where readings enter (the Home Assistant shell, `scripts/score`).

A meter, a payload or a CSV can carry NaN, infinities, absurd magnitudes or a clock far in the
future. One such reading must not teach the detector nonsense or latch an alarm, so it is rejected
with a reason before it reaches the engine. An implausible optional value (production, a phase's
voltage or current, the temperature) costs only itself: `without_implausible_values` leaves it
out, and the power read with it still counts (a voltage sensor's 6553.5 V must not stop a home);
an inverter's standby read as a few watts below 0 is 0 W of production (`as_production`).
"""

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import NamedTuple
from zoneinfo import ZoneInfo

from .model import Reading

MAX_POWER_W = 1_000_000.0  # a large farm's connection; a home never draws a megawatt
MAX_VOLTAGE_V = 500.0  # a phase-to-neutral voltage above this is a reporting error
MAX_CURRENT_A = 1_000.0  # far above any domestic main fuse
MIN_TEMPERATURE_C = -80.0  # colder than ever recorded where people live
MAX_TEMPERATURE_C = 70.0  # hotter than ever recorded outdoors
# An inverter's own standby draw, which a sensor of its output may read as a production a few
# watts below 0 at night (W): no production. Tens of watts at most for a home's inverter; further
# below 0, a sensor is signed like a grid meter's net power, which is no production sensor.
PRODUCTION_STANDBY_W = 50.0
MAX_FUTURE = timedelta(minutes=5)  # clock drift tolerated between the meter and the host
EARLIEST = datetime(2000, 1, 1).astimezone()  # no smart-meter reading is older
EARLIEST_EPOCH = EARLIEST.timestamp()  # the same, compared with a reading's epoch (s): cheaper
# Days and weeks added to a later timestamp (a guests' stay, a kept allowance) would pass the
# year 9999 that `datetime` can hold; without a host clock to compare with, this bounds it.
LATEST_EPOCH = datetime(9000, 1, 1, tzinfo=UTC).timestamp()
# Time zones that give every moment an offset: a reading stamped in one needs no `utcoffset()`
# call (a tenth of a microsecond for a ZoneInfo, on every reading) to be known as aware.
ALWAYS_OFFSET = (ZoneInfo, timezone)


class Bounds(NamedTuple):
    """The plausible range of one kind of optional value, both ends included."""

    low: float
    high: float

    def keep(self, value: float | None) -> float | None:
        """`value` if it lies in the range (NaN does not), else None."""
        return value if value is not None and self.low <= value <= self.high else None


# The one place each optional value's range is written: `reading_problem` compares with the same
# numbers inline (its single expression is the hot path), and a test holds the two in step.
PRODUCTION = Bounds(0.0, MAX_POWER_W)
TEMPERATURE = Bounds(MIN_TEMPERATURE_C, MAX_TEMPERATURE_C)
VOLTAGE = Bounds(0.0, MAX_VOLTAGE_V)
CURRENT = Bounds(-MAX_CURRENT_A, MAX_CURRENT_A)


def as_production(watts: float | None) -> float | None:
    """A production sensor's value with its inverter's standby (`PRODUCTION_STANDBY_W`) as 0 W.

    Where readings enter, before they are judged: further below 0, the value stays as it is,
    and is left out as implausible.
    """
    if watts is not None and -PRODUCTION_STANDBY_W <= watts < 0.0:
        return 0.0
    return watts


def reading_problem(reading: Reading, now: datetime | None = None) -> str | None:
    """Why `reading` must not reach the detector, or None when it is plausible.

    `now` is the host's clock; without it the timestamp is checked only for being aware and
    later than 2000. Comparisons are written so that NaN fails them (cheap: every reading). The
    optional values are checked in one expression without loops (the common case: every value
    plausible, on every reading of a three-phase meter); the loops that name the culprit run
    only when it fails.
    """
    moment = reading.timestamp
    zone = moment.tzinfo
    if zone is None or (type(zone) not in ALWAYS_OFFSET and moment.utcoffset() is None):
        return "its timestamp has no UTC offset"
    if not EARLIEST_EPOCH <= reading.epoch < LATEST_EPOCH:
        return f"its timestamp {moment.isoformat()} is before 2000 or after 9000"
    if now is not None and moment > now + MAX_FUTURE:
        return f"its timestamp {moment.isoformat()} is in the future"
    if not -MAX_POWER_W <= reading.power <= MAX_POWER_W:
        return f"its power {reading.power!r} W is not a plausible value"
    production, temperature = reading.power_production, reading.temperature
    v1, v2, v3 = reading.voltage
    c1, c2, c3 = reading.current
    if (
        (production is None or 0.0 <= production <= MAX_POWER_W)
        and (temperature is None or MIN_TEMPERATURE_C <= temperature <= MAX_TEMPERATURE_C)
        and (v1 is None or 0.0 <= v1 <= MAX_VOLTAGE_V)
        and (v2 is None or 0.0 <= v2 <= MAX_VOLTAGE_V)
        and (v3 is None or 0.0 <= v3 <= MAX_VOLTAGE_V)
        and (c1 is None or -MAX_CURRENT_A <= c1 <= MAX_CURRENT_A)
        and (c2 is None or -MAX_CURRENT_A <= c2 <= MAX_CURRENT_A)
        and (c3 is None or -MAX_CURRENT_A <= c3 <= MAX_CURRENT_A)
    ):
        return None
    return _named_problem(reading)


def plausible_part(reading: Reading, now: datetime | None = None) -> Reading | None:
    """What of `reading` the detector may take (None: nothing), `now` as for `reading_problem`.

    All of it when plausible; without its implausible optional values when only those are;
    nothing when its time or power is implausible.
    """
    if reading_problem(reading, now) is None:
        return reading
    kept = without_implausible_values(reading)
    return kept if reading_problem(kept, now) is None else None


def without_implausible_values(reading: Reading) -> Reading:
    """`reading` with each implausible optional value left out (None), the rest as it was."""
    return replace(
        reading,
        power_production=PRODUCTION.keep(reading.power_production),
        temperature=TEMPERATURE.keep(reading.temperature),
        voltage=_each_kept(VOLTAGE, reading.voltage),
        current=_each_kept(CURRENT, reading.current),
    )


def _each_kept(
    bounds: Bounds, phases: tuple[float | None, float | None, float | None]
) -> tuple[float | None, float | None, float | None]:
    """Each phase's value if it lies within `bounds`, else None."""
    l1, l2, l3 = phases
    return bounds.keep(l1), bounds.keep(l2), bounds.keep(l3)


def _named_problem(reading: Reading) -> str | None:
    """Which optional value of the reading is implausible, as a sentence."""
    named = [
        ("power production", "W", reading.power_production, PRODUCTION),
        ("temperature", "°C", reading.temperature, TEMPERATURE),
        *((f"voltage L{n}", "V", volts, VOLTAGE) for n, volts in enumerate(reading.voltage, 1)),
        *((f"current L{n}", "A", amps, CURRENT) for n, amps in enumerate(reading.current, 1)),
    ]
    for name, unit, value, bounds in named:
        if value is not None and bounds.keep(value) is None:
            return f"its {name} {value!r} {unit} is not a plausible value"
    return None
