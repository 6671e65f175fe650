"""Tibber's liveMeasurement payload → Reading, or one well-defined error for anything else.

A websocket message is untrusted input: it may be null, a list, a number too large for a float,
"NaN", a time without an offset. Whatever it is, `reading_from_live_data` returns a Reading or
raises `MalformedMeasurementError` (never AttributeError, OverflowError, TypeError...), whose
`kind` lets the caller log each kind of fault once instead of once per message. A faulty
optional value (production, a phase's voltage or current) costs only itself: it is left out
(None) and its error handed to the caller, and the time and power still make a reading.
"""

from datetime import datetime, tzinfo
import math
from typing import Final

from homeassistant.util import dt as dt_util

from .detector.model import Reading
from .detector.validation import CURRENT, MAX_POWER_W, VOLTAGE, Bounds

VOLTAGE_FIELDS: Final = ("voltagePhase1", "voltagePhase2", "voltagePhase3")
CURRENT_FIELDS: Final = ("currentL1", "currentL2", "currentL3")


class MalformedMeasurementError(ValueError):
    """A live message that is not a usable measurement; `kind` names the fault, e.g. "power"."""

    def __init__(self, kind: str, detail: str) -> None:
        """Name the faulty part (`kind`, a field or "message") and say what is wrong with it."""
        super().__init__(f"{kind}: {detail}")
        self.kind = kind


# The detector's own plausibility bounds, so a payload and a reading are judged alike. A
# production below 0 W passes here and is left out by the runner's check, which names it.
POWER_BOUNDS: Final = Bounds(-MAX_POWER_W, MAX_POWER_W)


def _number(measurement: dict[str, object], field: str, bounds: Bounds) -> float | None:
    """The field as a finite float within `bounds`, None when absent or null.

    Only JSON numbers count: a string ("NaN", "1e999") or a bool is malformed, as are non-finite
    values (JSON NaN/Infinity) and integers too large for a float.
    """
    value = measurement.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedMeasurementError(field, f"not a number: {type(value).__name__}")
    try:
        number = float(value)
    except OverflowError:
        raise MalformedMeasurementError(field, "too large for a float") from None
    if not math.isfinite(number) or not bounds.low <= number <= bounds.high:
        raise MalformedMeasurementError(field, f"{number} outside {bounds.low}..{bounds.high}")
    return number


def _optional(
    measurement: dict[str, object],
    field: str,
    bounds: Bounds,
    left_out: list[MalformedMeasurementError] | None,
) -> float | None:
    """The field as `_number` reads it, or None (its error added to `left_out`) when faulty."""
    try:
        return _number(measurement, field, bounds)
    except MalformedMeasurementError as err:
        if left_out is not None:
            left_out.append(err)
        return None


def _phases(
    measurement: dict[str, object],
    fields: tuple[str, str, str],
    bounds: Bounds,
    left_out: list[MalformedMeasurementError] | None,
) -> tuple[float | None, float | None, float | None]:
    return (
        _optional(measurement, fields[0], bounds, left_out),
        _optional(measurement, fields[1], bounds, left_out),
        _optional(measurement, fields[2], bounds, left_out),
    )


def _timestamp(measurement: dict[str, object]) -> datetime:
    """The measurement's time; it must carry its UTC offset (the home's local time)."""
    value = measurement.get("timestamp")
    if not isinstance(value, str):
        raise MalformedMeasurementError("timestamp", f"not a string: {type(value).__name__}")
    try:
        timestamp = datetime.fromisoformat(value)
    except ValueError:
        raise MalformedMeasurementError("timestamp", f"not ISO 8601: {value!r:.40}") from None
    if timestamp.utcoffset() is None:
        raise MalformedMeasurementError("timestamp", f"no UTC offset: {value!r:.40}")
    return on_local_clock(timestamp)


def on_local_clock(timestamp: datetime, zone: tzinfo | None = None) -> datetime:
    """`timestamp` in `zone` (else Home Assistant's), when that zone's clock shows it as Tibber did.

    Tibber gives a time the home's UTC offset at that moment, not its time zone. A finding's
    `since` is worked out in the zone of the reading that raised it: with a bare offset, a
    heater on since 01:40 (CET) and flagged after the clocks went forward read "since 02:40".
    A home on that zone's clock gets it, which knows the offset of every moment; a home in
    another zone keeps Tibber's offsets (until its runner puts it on its own zone's clock).
    """
    try:
        local = timestamp.astimezone(zone or dt_util.get_default_time_zone())
    except OverflowError:  # a time at the calendar's ends: refused as implausible later on
        return timestamp
    return local if local.utcoffset() == timestamp.utcoffset() else timestamp


def reading_from_live_data(
    data: object, left_out: list[MalformedMeasurementError] | None = None
) -> Reading:
    """Turn a subscription message's data, ``{"liveMeasurement": {...}}``, into a Reading.

    Raises MalformedMeasurementError for anything that is not a measurement with a time (with
    offset) and a plausible power. A faulty optional value is None in the reading, and its
    error is appended to `left_out` when given.
    """
    if isinstance(data, dict) and (errors := data.get("errors")):
        raise MalformedMeasurementError("errors", f"Tibber answered with errors: {errors!r:.200}")
    measurement = data.get("liveMeasurement") if isinstance(data, dict) else None
    if not isinstance(measurement, dict):
        raise MalformedMeasurementError("message", "no liveMeasurement object")
    timestamp = _timestamp(measurement)
    power = _number(measurement, "power", POWER_BOUNDS)
    if power is None:
        raise MalformedMeasurementError("power", "missing")
    return Reading(
        timestamp=timestamp,
        power=power,
        power_production=_optional(measurement, "powerProduction", POWER_BOUNDS, left_out),
        voltage=_phases(measurement, VOLTAGE_FIELDS, VOLTAGE, left_out),
        current=_phases(measurement, CURRENT_FIELDS, CURRENT, left_out),
    )
