"""The one shape every check has, and the small pieces the checks share.

A check takes every reading in time order and answers with a Finding while its condition holds,
None otherwise. It keeps what it learned as plain, JSON-ready data and is restored from such data
only after that data was validated: a damaged stored state raises StateError instead of a check
that fails on every later reading.
"""

from dataclasses import MISSING, dataclass, fields, is_dataclass
from datetime import UTC, datetime, timedelta, tzinfo
import math
import types
from typing import (
    Annotated,
    Any,
    ClassVar,
    Protocol,
    Self,
    Union,
    get_args,
    get_origin,
    get_type_hints,
)

from .config import HOUR_S, MINUTE_S, DetectorConfig
from .model import Finding, Reading
from .validation import EARLIEST, LATEST_EPOCH

# No number the checks store comes near this (epoch seconds ~2e9, a day's watt-minutes ~1e9); a
# larger one is damage, and rounding it would overflow the 64-bit integers JSON writers accept.
MAX_STATE_NUMBER = 1e15


@dataclass(frozen=True, slots=True)
class Within:
    """`Annotated` metadata of a stored number: the range (both ends included) it must lie in."""

    low: float
    high: float


# The moments a stored time may be: those of the readings a detector is given (`validation`
# lets through EARLIEST to LATEST_EPOCH, 2000 to 9000) with a margin (a time zone, what is stored
# after a reading). Beyond them, a damaged time could pass `datetime`'s years 1 to 9999 where it
# becomes a date, and every reading after the restore would fail.
STORED_TIME_MARGIN = timedelta(days=30)
_FIRST_STORED = EARLIEST - STORED_TIME_MARGIN
_LAST_STORED = datetime.fromtimestamp(LATEST_EPOCH, UTC) + STORED_TIME_MARGIN
_FIRST_STORED_S, _LAST_STORED_S = _FIRST_STORED.timestamp(), _LAST_STORED.timestamp()
# Stored times, by their unit: epoch seconds, epoch minutes, local hours since 1970, date ordinals
Epoch = Annotated[float, Within(_FIRST_STORED_S, _LAST_STORED_S)]
EpochMinute = Annotated[int, Within(_FIRST_STORED_S // MINUTE_S, _LAST_STORED_S // MINUTE_S)]
EpochHour = Annotated[int, Within(_FIRST_STORED_S // HOUR_S, _LAST_STORED_S // HOUR_S)]
DateOrdinal = Annotated[int, Within(_FIRST_STORED.toordinal(), _LAST_STORED.toordinal())]
# A stored UTC offset (s): one a `timezone` takes, under a day either way (the clocks of the
# world lie within 14 hours)
MAX_UTC_OFFSET_S = 86_340.0
UtcOffset = Annotated[float, Within(-MAX_UTC_OFFSET_S, MAX_UTC_OFFSET_S)]


class StateError(ValueError):
    """Stored state that cannot be what a check wrote: wrong type, non-finite, inconsistent."""


class Check(Protocol):
    """A detector check: readings in, a finding or nothing out; state to and from plain data."""

    key: ClassVar[str]  # its name in the detector's stored state

    def update(self, reading: Reading) -> Finding | None:
        """Take one reading (in time order); a Finding while the condition holds, else None."""

    @property
    def score(self) -> float:
        """How unusual things are for this check right now; 1 is its alarm bar."""

    def to_state(self) -> dict[str, Any]:
        """What the check learned and has in progress, as JSON-ready plain data."""

    @classmethod
    def from_state(cls, state: object, config: DetectorConfig) -> Self:
        """Restore a check saved by `to_state`; StateError when the data is not valid."""


def local_seconds(moment: datetime) -> float:
    """Seconds since 1970-01-01 00:00 on the moment's own wall clock (its UTC offset applied)."""
    offset = moment.utcoffset()
    return moment.timestamp() + (offset.total_seconds() if offset is not None else 0.0)


@dataclass(slots=True)
class HourOf:
    """Which local hour an epoch falls in, remembered between readings.

    A reading in the same hour and time zone as the one before then costs two comparisons
    instead of a time-zone conversion. The zone counts: after the host's time zone changed, the
    same epoch is another local hour (and a restored check, which remembers nothing, knows it).
    """

    index: int | None = None
    start: float = 0.0  # epoch of the hour's start
    end: float = 0.0  # epoch of its end
    zone: tzinfo | None = None  # the time zone the hour is local to

    def of(self, moment: datetime, epoch: float) -> int:
        """The local hour index of `moment` (whose epoch is `epoch`)."""
        if self.index is None or not self.start <= epoch < self.end or moment.tzinfo != self.zone:
            local = local_seconds(moment)
            self.index = int(local // HOUR_S)
            self.start = epoch - (local - self.index * HOUR_S)
            self.end = self.start + HOUR_S
            self.zone = moment.tzinfo
        return self.index


def tail_score(probability: float, threshold: float, floor: float) -> float:
    """A tail probability on the score scale: -log10(p) / -log10(threshold), 1 at the threshold."""
    return math.log10(max(probability, floor)) / math.log10(threshold)


@dataclass(slots=True)
class Mean:
    """A running sum and count (power, temperature) of one bucket: a minute, an hour, a day."""

    total: float = 0.0
    count: int = 0

    def add(self, value: float, count: int = 1) -> None:
        """Count one value (`count` times: an aggregate of that many minutes, for instance)."""
        self.total += value * count
        self.count += count

    @property
    def mean(self) -> float | None:
        """The mean, None while empty."""
        return self.total / self.count if self.count else None


@dataclass(slots=True)
class RoundedFloat:
    """`round(value, digits)` of a float, remembered for the last value rounded.

    Rounding to digits goes through decimal digits (a quarter of a microsecond), and a
    minute's mean outdoor temperature is mostly the last one again (a sensor reports every few
    minutes). Zeros are rounded afresh: 0.0 and -0.0 are equal but round to themselves; NaN is
    never equal, so it is too. Only floats: an int rounds to an int.
    """

    digits: int
    value: float = math.nan
    rounded: float = math.nan

    def of(self, value: float) -> float:
        """`round(value, digits)`."""
        if value != self.value or not value:
            self.value, self.rounded = value, round(value, self.digits)
        return self.rounded


# -- validated plain state ----------------------------------------------------------------------


def load_state[T](cls: type[T], data: object) -> T:
    """Build dataclass `cls` from JSON-ready `data`, checking every field against its annotation.

    Floats must be finite (an int is accepted for a float), and a stored time (`Epoch`, ...)
    within its range; lists become tuples where the annotation says tuple; nested dataclasses are
    loaded the same way. Unknown keys are refused,
    missing keys take the field's default when it has one.
    """
    if not isinstance(data, dict):
        raise StateError(f"{cls.__name__}: expected an object, got {type(data).__name__}")
    hints = get_type_hints(cls, include_extras=True)
    values: dict[str, Any] = {}
    known = set()
    for spec in fields(cls):  # type: ignore[arg-type]
        known.add(spec.name)
        if spec.name in data:
            values[spec.name] = _value(hints[spec.name], data[spec.name], spec.name)
        elif spec.default is MISSING and spec.default_factory is MISSING:
            raise StateError(f"{cls.__name__}: {spec.name} is missing")
    if unknown := set(data) - known:
        raise StateError(f"{cls.__name__}: unknown {sorted(unknown)}")
    return cls(**values)


def _value(hint: Any, value: object, name: str) -> Any:
    """`value` checked (and converted) against the type `hint`."""
    if hint is Any:  # validated by whoever loads it further
        return value
    origin = get_origin(hint)
    if origin is Annotated:  # a number within a range (`Within`): a stored time
        base, within = get_args(hint)
        loaded = _value(base, value, name)
        if not within.low <= loaded <= within.high:
            raise StateError(f"{name}: {value!r:.40} is not within {within.low:g}..{within.high:g}")
        return loaded
    if origin in (Union, types.UnionType):
        errors = []
        for option in get_args(hint):
            try:
                return _value(option, value, name)
            except StateError as err:
                errors.append(str(err))
        raise StateError("; ".join(errors))
    if origin in (list, tuple, dict):
        return _container(hint, value, name)
    if is_dataclass(hint) and isinstance(hint, type):
        return load_state(hint, value)
    return _scalar(hint, value, name)


def _scalar(hint: Any, value: object, name: str) -> Any:
    """None, a bool, an int, a finite float (an int is accepted) or text, as `hint` says."""
    if hint is type(None) and value is None:
        return None
    if hint is bool and isinstance(value, bool):
        return value
    if (
        hint is int
        and isinstance(value, int)
        and not isinstance(value, bool)
        and abs(value) <= MAX_STATE_NUMBER
    ):
        return value
    if hint is str and isinstance(value, str):
        return value
    if (
        hint is float
        and isinstance(value, int | float)
        and not isinstance(value, bool)
        and abs(value) <= MAX_STATE_NUMBER  # NaN fails this too
    ):
        return value  # an int stays an int, so the state is stored again as it was
    raise StateError(f"{name}: {value!r:.40} is not a valid {getattr(hint, '__name__', hint)}")


def _container(hint: Any, value: object, name: str) -> Any:
    """A list, a fixed-length or variable tuple, or a dict with text keys, item by item."""
    origin, args = get_origin(hint), get_args(hint)
    if origin is dict and isinstance(value, dict):
        return {str(k): _value(args[1], v, name) for k, v in value.items()}
    if origin is dict or not isinstance(value, list | tuple):
        raise StateError(f"{name}: expected {origin.__name__}, got {type(value).__name__}")
    if origin is tuple and args and args[-1] is not Ellipsis:
        if len(args) != len(value):
            raise StateError(f"{name}: expected {len(args)} values")
        return tuple(_value(a, v, name) for a, v in zip(args, value, strict=True))
    items = [_value(args[0], v, name) for v in value]
    return tuple(items) if origin is tuple else items
