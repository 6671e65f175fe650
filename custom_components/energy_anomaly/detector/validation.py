"""Is a reading plausible? Checked where readings enter (the Home Assistant shell, `scripts/score`).

A meter, a payload or a CSV can carry NaN, infinities, absurd magnitudes or a clock far in the
future. One such reading must not teach the detector nonsense or latch an alarm, so it is rejected
with a reason before it reaches the engine.
"""

from datetime import datetime, timedelta
import math

from .model import Reading

MAX_POWER_W = 1_000_000.0  # a large farm's connection; a home never draws a megawatt
MAX_VOLTAGE_V = 500.0  # a phase-to-neutral voltage above this is a reporting error
MAX_CURRENT_A = 1_000.0  # far above any domestic main fuse
MIN_TEMPERATURE_C = -80.0  # colder than ever recorded where people live
MAX_TEMPERATURE_C = 70.0  # hotter than ever recorded outdoors
MAX_FUTURE = timedelta(minutes=5)  # clock drift tolerated between the meter and the host
EARLIEST = datetime(2000, 1, 1).astimezone()  # no smart-meter reading is older


def reading_problem(reading: Reading, now: datetime | None = None) -> str | None:
    """Why `reading` must not reach the detector, or None when it is plausible.

    `now` is the host's clock; without it the timestamp is checked only for being aware and
    later than 2000.
    """
    moment = reading.timestamp
    if moment.tzinfo is None or moment.utcoffset() is None:
        return "its timestamp has no UTC offset"
    if moment < EARLIEST:
        return f"its timestamp {moment.isoformat()} is before 2000"
    if now is not None and moment > now + MAX_FUTURE:
        return f"its timestamp {moment.isoformat()} is in the future"
    return _value_problem(reading)


def _value_problem(reading: Reading) -> str | None:
    """The first implausible value of the reading, named, or None."""
    checks: list[tuple[str, float | None, float, float]] = [
        ("power", reading.power, -MAX_POWER_W, MAX_POWER_W),
        ("power production", reading.power_production, 0.0, MAX_POWER_W),
        ("temperature", reading.temperature, MIN_TEMPERATURE_C, MAX_TEMPERATURE_C),
    ]
    for phase in range(3):
        checks.append((f"voltage L{phase + 1}", reading.voltage[phase], 0.0, MAX_VOLTAGE_V))
        checks.append(
            (f"current L{phase + 1}", reading.current[phase], -MAX_CURRENT_A, MAX_CURRENT_A)
        )
    for name, value, low, high in checks:
        if value is None:
            continue
        if not math.isfinite(value):
            return f"its {name} is {value}"
        if not low <= value <= high:
            return f"its {name} {value:g} is outside {low:g}..{high:g}"
    return None
