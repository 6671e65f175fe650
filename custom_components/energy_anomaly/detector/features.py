"""The forest's point for a window: how far and how steadily power exceeds the usual."""

from collections.abc import Sequence
from datetime import datetime
import math

# Decimals kept in a point: enough to tell loads apart, few enough that the stored state is small
# and a restored forest holds exactly the points the live one did.
POINT_DECIMALS = 3
_LEVEL_UNIT_W = 100.0


def power_level(watts: float) -> float:
    """Power on a log scale (~0 idle, ~4.5 at 2 kW), so a 2 kW step counts at any base load."""
    return math.log2(1.0 + max(watts, 0.0) / _LEVEL_UNIT_W)


def sustained(excesses: Sequence[float]) -> float:
    """The excess over the usual that every recent window shares: the smallest of them.

    A kettle or an oven's thermostat gives one or two high windows among usual ones, so about 0;
    a load left on keeps every window high, so its full excess. This is the dimension in which a
    stuck-on load is extreme, which is what a random cut forest isolates well.
    """
    return min(excesses)


def time_of_day(moment: datetime) -> tuple[float, float]:
    """The wall-clock time as a point on the unit circle, so 23:59 sits next to 00:00."""
    hours = moment.hour + moment.minute / 60 + moment.second / 3600
    angle = 2 * math.pi * hours / 24
    return math.sin(angle), math.cos(angle)


def point(excesses: Sequence[float], moment: datetime, time_weight: float) -> list[float]:
    """A window's features: the sustained excess and the weighted time of day, rounded."""
    sine, cosine = time_of_day(moment)
    values = [sustained(excesses), time_weight * sine, time_weight * cosine]
    return [round(value, POINT_DECIMALS) for value in values]
