"""PARX: prediction-based daily-pattern anomaly detection (Liu & Nielsen).

After X. Liu and P. S. Nielsen, "Scalable Prediction-based Online Anomaly Detection for Smart
Meter Data", Information Systems 77 (2018):

- Hourly consumption is predicted per hour of day by a periodic auto-regressive model with
  exogenous temperature (PARX): the same hour on the previous `lags` days plus heating/cooling
  degree terms with break points 5, 16 and 20 °C (max(16 - T, 0), max(5 - T, 0), max(T - 20, 0))
  and an intercept. Without temperature the model has no degree terms. Each hour's model is
  refitted once a day, when that hour is first needed, by (lightly ridge-regularised) least squares
  from the days before: 24 small fits spread over the day instead of one large one, so no single
  step holds the interpreter for long.
- As each hour completes, the last `window_h` hours observed are compared with their predictions by
  the shift-tolerant KSC distance (scale-invariant, shift -1..+1 h), so a morning that starts an
  hour later is not an anomaly.
- A Gaussian is fitted to the log of past distances (those not themselves anomalous); the hour is
  anomalous when the upper-tail probability of its distance falls below `threshold`, the
  distance is still rising (so one deviation alarms while it grows, not for the whole day after)
  and the hour drew clearly more than predicted (`min_excess_w`, `min_excess_share`): a new
  pattern is a load added, not an hour that used less.
- In a home with solar panels the hours of the day in which it exported lately are not judged:
  their import follows the weather, which the model does not know.
- A recurring new pattern enters the lags and the refit, so it is flagged on its first
  occurrence(s) and then learned; an hour that drew the load on one of the last `lags` days, or
  on the same weekday one or two weeks before (a weekly sauna), is not new.

`HourlyParx` is the hourly API (one call per completed hour); `PatternCheck` is the detector check
built on it, taking readings and building the hourly means on the readings' wall clock.
"""

from collections import deque
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta, timezone
import math
from typing import Any, Self

import numpy as np
import numpy.typing as npt

from .check import EpochHour, HourOf, Mean, StateError, UtcOffset, load_state, tail_score
from .config import HOUR_S, DetectorConfig, PatternConfig
from .model import Cause, Finding, Kind, Reading
from .validation import TEMPERATURE

FloatArray = npt.NDArray[np.float64]

BREAK_POINTS = (5.0, 16.0, 20.0)  # °C: extra heating below, heating below, cooling above
HOURS = 24
DAYS_PER_WEEK = 7
DEGREE_TERMS = 3


def degree_terms(temperature: float) -> tuple[float, float, float]:
    """Heating below 16 °C, extra heating below 5 °C, cooling above 20 °C (degrees)."""
    low, heat, cool = BREAK_POINTS
    return max(heat - temperature, 0.0), max(low - temperature, 0.0), max(temperature - cool, 0.0)


def ksc_distance(observed: FloatArray, predicted: FloatArray, max_shift: int = 1) -> float:
    """Shift-tolerant KSC distance: min over shifts q and scale a of |x - a*y_q| / |x|.

    Pairs with a NaN on either side are left out; a shift compares only the overlapping part.
    Returns a value in [0, 1] (0 = same shape).
    """
    best = 1.0
    n = len(observed)
    for q in range(-max_shift, max_shift + 1):
        if q >= 0:
            x, y = observed[q:], predicted[: n - q]
        else:
            x, y = observed[: n + q], predicted[-q:]
        ok = np.isfinite(x) & np.isfinite(y)
        if ok.sum() < 2:
            continue
        xv, yv = x[ok], y[ok]
        nx = float(np.dot(xv, xv))
        ny = float(np.dot(yv, yv))
        if nx <= 0.0:
            d = 0.0 if ny <= 0.0 else 1.0
        elif ny <= 0.0:
            d = 1.0
        else:
            alpha = float(np.dot(xv, yv)) / ny
            d = math.sqrt(float(np.dot(xv - alpha * yv, xv - alpha * yv)) / nx)
        best = min(best, d)
    return best


def _inputs(
    lags: list[float], temperature: float | None, with_temperature: bool
) -> list[float] | None:
    """The model's inputs for an hour: its `lags` (W), degree terms, 1; None if one is unknown."""
    if any(math.isnan(v) for v in lags):
        return None
    if not with_temperature:
        return [*lags, 1.0]
    if temperature is None or math.isnan(temperature):
        return None
    return [*lags, *degree_terms(temperature), 1.0]


@dataclass(frozen=True, slots=True)
class HourVerdict:
    """The verdict for one completed hour."""

    hour: EpochHour  # local hour index (hours since 1970-01-01 00:00 local time)
    observed: float  # mean power (W) of the hour
    expected: float | None  # predicted mean power (W), None while learning
    distance: float | None  # KSC distance of the last `window_h` hours
    probability: float | None  # upper-tail probability of that distance
    anomaly: bool


@dataclass(slots=True)
class _StoredModel:
    """The stored form of `HourlyParx` (validated on restore)."""

    days: dict[str, tuple[list[float | None], list[float | None], list[float | None]]]
    distances: list[float]
    last_distance: float | None
    last_temperature: float | None


class HourlyParx:
    """PARX on hourly mean power; call `add_hour` once per completed local hour, in order.

    Parameters
    ----------
    config
        Lags, window, threshold, history and fit settings (`PatternConfig`).

    Attributes
    ----------
    power, temp, pred
        Per local day (days since 1970-01-01): the 24 hourly mean powers (W), outdoor temperatures
        (°C) and predictions (W); NaN where unknown.
    distances
        Log KSC distances of past hours that were not themselves anomalous.

    References
    ----------
    X. Liu and P. S. Nielsen, "Scalable Prediction-based Online Anomaly Detection for Smart Meter
    Data", Information Systems 77 (2018).

    """

    def __init__(self, config: PatternConfig | None = None) -> None:
        self.config = c = config or PatternConfig()
        self.power: dict[int, FloatArray] = {}
        self.temp: dict[int, FloatArray] = {}
        self.pred: dict[int, FloatArray] = {}
        self.distances: deque[float] = deque(maxlen=c.history_days * HOURS)
        self.last_distance: float | None = None
        self.last_temperature: float | None = None
        self._coef: list[FloatArray | None] = [None] * HOURS  # per hour of day
        self._fitted: list[int | None] = [None] * HOURS  # the day each hour was fitted for
        self._temperature_for: tuple[int, bool] | None = None  # (day, whether degree terms)
        self.bar = 1.0  # the score at which it alarms; the engine moves it with the sensitivity

    # -- model -----------------------------------------------------------------------------
    def _use_temperature(self, today: int) -> bool:
        """Whether the fits for `today` use degree terms: almost every kept hour had one."""
        if self._temperature_for is None or self._temperature_for[0] != today:
            days = self._days_before(today)
            seen = sum(int(np.isfinite(self.temp[d]).sum()) for d in days)
            total = HOURS * len(days)
            use = total > 0 and seen >= self.config.temperature_share * total
            self._temperature_for = (today, use)
        return self._temperature_for[1]

    def _days_before(self, today: int) -> list[int]:
        return sorted(d for d in self.power if d < today)[-self.config.history_days :]

    def _features(
        self, day: int, hour: int, temperature: float | None, with_temperature: bool
    ) -> list[float] | None:
        lags = [self._value(day - i, hour) for i in range(1, self.config.lags + 1)]
        return _inputs(lags, temperature, with_temperature)

    def _value(self, day: int, hour: int) -> float:
        values = self.power.get(day)
        return float("nan") if values is None else float(values[hour])

    def _fit_hour(self, today: int, hour: int) -> FloatArray | None:
        """Refit one hour's model from the days before `today` (None: too few days)."""
        if self._fitted[hour] == today:
            return self._coef[hour]
        c = self.config
        with_temperature = self._use_temperature(today)
        rows: list[list[float]] = []
        ys: list[float] = []
        # The hour's power on each kept day, read once: a day's lags are the days before it
        powers = {d: float(values[hour]) for d, values in self.power.items()}
        back = range(1, c.lags + 1)
        for d in self._days_before(today):
            y = powers[d]
            if math.isnan(y):
                continue
            t = float(self.temp[d][hour])
            lags = [powers.get(d - i, math.nan) for i in back]
            x = _inputs(lags, None if math.isnan(t) else t, with_temperature)
            if x is not None:
                rows.append(x)
                ys.append(y)
        coef = None
        if len(rows) >= c.min_fit_days:
            x_mat = np.array(rows)
            n_feat = x_mat.shape[1]
            scale = np.sqrt((x_mat**2).mean(axis=0))
            scale[scale <= 0] = 1.0
            penalty = math.sqrt(c.ridge) * np.eye(n_feat)
            penalty[-1, -1] = 0.0  # the intercept is not shrunk
            a = np.vstack([x_mat / scale, penalty])
            b = np.concatenate([np.array(ys), np.zeros(n_feat)])
            solution, *_ = np.linalg.lstsq(a, b, rcond=None)
            coef = solution / scale
        self._coef[hour], self._fitted[hour] = coef, today
        return coef

    def predict(self, day: int, hour: int, temperature: float | None) -> float | None:
        """Predicted mean power (W) of `hour` on `day`, None while the model cannot say."""
        coef = self._fit_hour(day, hour)
        if coef is None:
            return None
        if temperature is None:
            temperature = self.last_temperature
        x = self._features(day, hour, temperature, self._use_temperature(day))
        if x is None or len(x) != len(coef):
            return None
        return max(float(np.dot(x, coef)), 0.0)

    # -- detection -------------------------------------------------------------------------
    def add_hour(
        self, hour_index: int, power: float, temperature: float | None = None
    ) -> HourVerdict:
        """Record a completed hour (mean power W, mean outdoor temperature °C or None) and judge."""
        c = self.config
        day, hour = divmod(hour_index, HOURS)
        power = round(power, 1)  # what the stored state keeps, so a restored model is the same
        if temperature is not None:
            temperature = round(temperature, 1)
        if temperature is not None and not math.isnan(temperature):
            self.last_temperature = temperature
        expected = self.predict(day, hour, temperature)
        if expected is not None:
            expected = round(expected, 1)
        for store in (self.power, self.temp, self.pred):
            if day not in store:
                store[day] = np.full(HOURS, np.nan)
        self.power[day][hour] = power
        self.temp[day][hour] = np.nan if temperature is None else temperature
        self.pred[day][hour] = np.nan if expected is None else expected
        self._forget_fits_made_ahead(day, hour)
        for old in [d for d in self.power if d < day - c.history_days - c.lags - 1]:
            del self.power[old], self.temp[old], self.pred[old]
            self._coef, self._fitted = [None] * HOURS, [None] * HOURS
            self._temperature_for = None
        if expected is None:
            self.last_distance = None
            return HourVerdict(hour_index, power, None, None, None, False)
        obs, pred = self._window(hour_index)
        if np.isfinite(pred).sum() < c.window_h // 2:
            self.last_distance = None
            return HourVerdict(hour_index, power, expected, None, None, False)
        distance = ksc_distance(obs, pred)
        log_d = round(math.log(max(distance, c.min_distance)), 4)
        probability: float | None = None
        anomaly = False
        if len(self.distances) >= c.min_distances:
            arr = np.fromiter(self.distances, dtype=float)
            mu = float(arr.mean())
            sigma = max(float(arr.std()), c.min_spread)
            probability = 0.5 * math.erfc((log_d - mu) / sigma / math.sqrt(2.0))
            rising = self.last_distance is None or distance > self.last_distance * (1 + c.min_rise)
            anomaly = (
                probability < c.threshold**self.bar
                and rising
                and self.more(power, expected)
                and self._new(hour_index, power, expected)
            )
        if probability is None or probability >= c.threshold:
            self.distances.append(log_d)
        self.last_distance = distance
        return HourVerdict(hour_index, power, expected, distance, probability, anomaly)

    def _forget_fits_made_ahead(self, day: int, hour: int) -> None:
        """Forget the fits made for a later day than this hour's, which did not see it.

        A reading stamped ahead (held, then dropped) has its hour predicted, so fitted, before
        the hours up to it are known; kept, that fit would differ from the one a restored
        detector makes from the same history (as would one made before a day was dropped).
        """
        fitted = self._fitted[hour]
        if fitted is not None and fitted > day:
            self._coef[hour], self._fitted[hour] = None, None
        if self._temperature_for is not None and self._temperature_for[0] > day:
            self._temperature_for = None

    def more(self, power: float, expected: float) -> bool:
        """Whether the judged hour drew clearly more than predicted (W).

        A new pattern worth an alarm is a load the home did not have: an hour that used less
        than predicted (a heater that stayed off on a mild night, an outing) is a day that
        differs, not something to act on.
        """
        c = self.config
        return power - expected > self.bar * max(c.min_excess_w, c.min_excess_share * expected)

    def _new(self, hour_index: int, power: float, expected: float) -> bool:
        """Whether no recent day drew this hour's extra load at this time of day.

        A load drawn at this hour (give or take the hour the distance tolerates) on one of the
        last `lags` days is a habit forming, not a new pattern: after a change of habit the
        refit can mispredict it for weeks (a nightly EV charge that starts an hour earlier or
        later and takes what the car needs), and it alarmed already on its first night. On the
        same weekday of the last `habit_weeks` weeks it is a weekly habit (a Wednesday sauna),
        which lags of a few days never predict. Such a day drew at least half the extra over
        the prediction (the halfway the check also asks of a load still on).
        """
        c = self.config
        days = [*range(1, c.lags + 1), *(DAYS_PER_WEEK * w for w in range(1, c.habit_weeks + 1))]
        shift = HOURS * np.array(days)
        recent = [
            self._value(*divmod(hour_index - back + q, HOURS)) for back in shift for q in (-1, 0, 1)
        ]
        known = [v for v in recent if not math.isnan(v)]
        return not known or max(known) < (power + expected) / 2

    def to_state(self) -> dict[str, Any]:
        """The hourly history and past distances as JSON-ready data (not the tuning).

        The coefficients are not kept: they are refitted from the history when needed, which
        gives the same model (a fit made before the history changed is forgotten, see
        `_forget_fits_made_ahead`).
        """
        return {
            "days": {
                str(day): [_plain(self.power[day]), _plain(self.temp[day]), _plain(self.pred[day])]
                for day in sorted(self.power)
            },
            "distances": list(self.distances),
            "last_distance": self.last_distance,
            "last_temperature": self.last_temperature,
        }

    @classmethod
    def from_state(cls, state: object, config: PatternConfig | None = None) -> Self:
        """Restore a model saved by `to_state` (StateError when the data is not valid)."""
        stored = load_state(_StoredModel, state)
        model = cls(config)
        for key, (power, temp, pred) in stored.days.items():
            if not key.lstrip("-").isdigit() or any(len(v) != HOURS for v in (power, temp, pred)):
                raise StateError(f"pattern: day {key!r} is not {HOURS} hours")
            day = int(key)
            model.power[day], model.temp[day], model.pred[day] = (
                _array(power),
                _array(temp),
                _array(pred),
            )
        model.distances.extend(stored.distances)
        model.last_distance = stored.last_distance
        model.last_temperature = stored.last_temperature
        return model

    def _window(self, hour_index: int) -> tuple[FloatArray, FloatArray]:
        window = self.config.window_h
        obs = np.full(window, np.nan)
        pred = np.full(window, np.nan)
        for i, k in enumerate(range(hour_index - window + 1, hour_index + 1)):
            d, h = divmod(k, HOURS)
            if d in self.power:
                obs[i] = self.power[d][h]
                pred[i] = self.pred[d][h]
        return obs, pred


@dataclass(slots=True)
class _Stored:
    """The stored form of `PatternCheck` (validated on restore)."""

    model: dict[str, Any]
    hour: EpochHour | None
    power: Mean = field(default_factory=Mean)
    temperature: Mean = field(default_factory=Mean)
    verdict: HourVerdict | None = None
    expected_hour: EpochHour | None = None
    expected: float | None = None
    exported: bool = False
    sun: dict[str, int] = field(default_factory=dict)
    on: bool = False  # absent from states stored before an alarm's end waited for a settled mean
    hour_offset: UtcOffset | None = None  # absent from states stored before `since` had it
    judged_offset: UtcOffset | None = None


class PatternCheck:
    """The new-pattern check: hourly means of the readings (wall clock) judged by PARX.

    The verdict of the last completed hour holds until the next hour completes. Its findings are
    reported whatever the learning period; the engine decides when they count.
    """

    key = "pattern"

    def __init__(self, config: DetectorConfig | None = None) -> None:
        self.config = (config or DetectorConfig()).pattern
        self.model = HourlyParx(self.config)
        self._hour: int | None = None
        self._power = Mean()
        self._temperature = Mean()
        self._exported = False  # whether the hour being collected exported production
        self._sun: dict[str, int] = {}  # hour of day -> the latest local day it exported
        self._verdict: HourVerdict | None = None
        # The last hour's tail probability on the score scale (1 at the threshold); a plain
        # attribute, as the engine reads every check's score on every reading
        self.score = 0.0
        self._finding: Finding | None = None
        self._on = False  # whether the alarm of the last anomalous hour is on (kept)
        self._expected_hour: int | None = None
        self._expected: float | None = None
        self._clock = HourOf()  # the hour of the readings
        # The UTC offset (s) of the hour being collected and of the hour judged last, as their
        # readings stamped them: a new pattern's `since` is told with its hour's own offset
        self._hour_offset: float | None = None
        self._judged_offset: float | None = None
        self._expected_clock = HourOf()  # the hour expected power was asked for

    def _verdict_score(self) -> float:
        """The last verdict's tail probability on the score scale, if it is an anomaly; else 0.

        Only an hour the check alarms for scores: the window of the last 24 hours stays unusual
        for a day after one unusual hour, and a score past the bar all that day without an alarm
        (the demo's heater, over at 05:00) would say the home is unusual now.
        """
        verdict = self._verdict
        if verdict is None or verdict.probability is None or not verdict.anomaly:
            return 0.0
        c = self.config
        return tail_score(verdict.probability, c.threshold, c.min_probability)

    def update(self, reading: Reading) -> Finding | None:
        """Take one reading; a Finding while the last hour's anomaly's load is still on.

        The load is on while the hour in progress draws, on average so far, clearly more than
        the judged hour was predicted to (`HourlyParx.more`) and at least half of that hour's
        extra: a verdict comes when its hour is over, and an evening's extra load that stopped
        before then is no reason to alarm now. An alarm that is on ends only once the hour in
        progress is `settle_minutes` old (and goes on into the next hour while that one's
        verdict is an anomaly too): the mean of an hour's first few readings swings with every
        cycling appliance, and a load that is on was raised, dropped and raised again within a
        minute (three notifications of one guests' dinner).
        """
        moment, epoch, clock = reading.timestamp, reading.epoch, self._clock
        # Still the hour of the last reading? `HourOf.of`'s own test, inline (every reading)
        if not (
            clock.start <= epoch < clock.end
            and moment.tzinfo == clock.zone
            and clock.index == self._hour
        ):
            hour = clock.of(moment, epoch)
            if self._hour is not None and hour != self._hour:
                self._close()
            if hour != self._hour and (offset := moment.utcoffset()) is not None:
                self._hour_offset = offset.total_seconds()
            self._hour = hour
        # The hour's sums, added to in place (cheaper than `Mean.add`: every reading)
        power = self._power
        power.total += reading.power
        power.count += 1
        if (reading.power_production or 0.0) > 0.0:  # set, not or-ed: most readings export nothing
            self._exported = True
        if (temperature := reading.temperature) is not None:
            self._temperature.total += temperature
            self._temperature.count += 1
        verdict = self._verdict
        if verdict is None or not verdict.anomaly:  # the common case (`_close` cleared a finding)
            return None
        if self._on:
            if reading.timestamp.minute >= self.config.settle_minutes and not self._load_on():
                self._on, self._finding = False, None
        else:
            self._on = self._load_on()
        if self._on and self._finding is None:
            self._finding = self._alarm(reading.timestamp)
        return self._finding

    def _load_on(self) -> bool:
        """Whether the last verdict is an anomaly and this hour still draws its extra load.

        Still drawn: clearly more than predicted, and at least half the judged hour's extra.
        """
        verdict, now = self._verdict, self._power.mean
        if verdict is None or not verdict.anomaly or verdict.expected is None or now is None:
            return False
        halfway = (verdict.observed + verdict.expected) / 2
        return now >= halfway and self.model.more(now, verdict.expected)

    def _close(self) -> None:
        """The hour is complete: judge it with PARX and keep the verdict.

        In a home with solar panels, an hour of the day in which it exported on one of the last
        `sun_days` days is not judged: what it imports then follows the weather, which the model
        does not know (an overcast day is no new pattern). Its hourly mean is still learned.
        """
        assert self._hour is not None
        power = self._power.mean or 0.0
        verdict = self.model.add_hour(self._hour, power, self._temperature.mean)
        day, hour = divmod(self._hour, HOURS)
        if self._exported:
            self._sun[str(hour)] = day
        if day - self._sun.get(str(hour), day - self.config.sun_days - 1) <= self.config.sun_days:
            verdict = replace(verdict, probability=None, anomaly=False)
        self._verdict, self._judged_offset = verdict, self._hour_offset
        self.score = self._verdict_score()
        self._power, self._temperature, self._exported = Mean(), Mean(), False
        self._finding = None  # made afresh for the new verdict
        self._on = self._on and verdict.anomaly

    def _alarm(self, moment: datetime) -> Finding | None:
        """The finding for the last verdict, when it is an anomaly; since = the judged hour."""
        verdict = self._verdict
        if verdict is None or not verdict.anomaly:
            return None
        since = _start_of_hour(verdict.hour, moment, self._judged_offset)
        return Finding(
            Kind.NEW_PATTERN,
            Cause.DAILY_PATTERN,
            max(self.score, 1.0),
            since,
            verdict.observed,
            verdict.expected,
            "W",
            {"window_h": float(self.config.window_h)},
        )

    def expected_power(self, reading: Reading) -> float | None:
        """PARX's prediction for the reading's hour, else this hour's mean on recent days.

        Made once per hour, at the temperature of its first reading, and kept with the state, so
        a restored detector expects the same. An implausible temperature (an infinite one, of a
        reading refused) counts as none: the hour's expectation must stay a number.
        """
        clock = self._expected_clock
        if clock.start <= reading.epoch < clock.end and reading.timestamp.tzinfo == clock.zone:
            return self._expected  # the hour asked for last (every reading)
        index = clock.of(reading.timestamp, reading.epoch)
        if index != self._expected_hour:
            self._expected_hour = index
            day, hour = divmod(index, HOURS)
            expected = self.model.predict(day, hour, TEMPERATURE.keep(reading.temperature))
            if expected is None:
                days = range(day - self.config.profile_days, day)
                known = [self.model.power[d][hour] for d in days if d in self.model.power]
                values = [float(v) for v in known if not math.isnan(v)]
                # At least 0 W, as the model's prediction: a signed meter's exporting hours
                # average below 0, and power drawn (which a stand-in stores) never is.
                expected = max(sum(values) / len(values), 0.0) if values else None
            self._expected = expected
        return self._expected

    def to_state(self) -> dict[str, Any]:
        """The model's history, the hour being collected and the last verdict, as plain data."""
        return {
            "model": self.model.to_state(),
            "hour": self._hour,
            "power": asdict(self._power),
            "temperature": asdict(self._temperature),
            "verdict": None if self._verdict is None else asdict(self._verdict),
            "expected_hour": self._expected_hour,
            "expected": self._expected,
            "exported": self._exported,
            "sun": self._sun,
            "on": self._on,
            "hour_offset": self._hour_offset,
            "judged_offset": self._judged_offset,
        }

    @classmethod
    def from_state(cls, state: object, config: DetectorConfig | None = None) -> Self:
        """Restore a check saved by `to_state` (StateError when the data is not valid)."""
        stored = load_state(_Stored, state)
        check = cls(config)
        check.model = HourlyParx.from_state(stored.model, check.config)
        check._hour = stored.hour
        check._power, check._temperature = stored.power, stored.temperature
        check._verdict = stored.verdict
        check.score = check._verdict_score()
        check._expected_hour, check._expected = stored.expected_hour, stored.expected
        check._exported, check._sun = stored.exported, stored.sun
        check._on = stored.on
        check._hour_offset, check._judged_offset = stored.hour_offset, stored.judged_offset
        return check


def _plain(values: FloatArray) -> list[float | None]:
    """An hourly array as JSON-ready data (NaN as None)."""
    return [None if math.isnan(v) else float(v) for v in values.tolist()]


def _array(values: list[float | None]) -> FloatArray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def _start_of_hour(hour: int, moment: datetime, offset: float | None) -> datetime:
    """The start of local hour `hour` (hours since the epoch on the wall clock) on `moment`'s clock.

    With that hour's own UTC offset (`offset`, s, as its readings stamped it): the alarm comes an
    hour or more later, after the clocks may have changed (01:00 judged at 03:00 on the night
    they go forward is 01:00+01:00). In `moment`'s zone, or at that offset where readings carry a
    bare one (Tibber's, a CSV's). Without it (a state stored before it was kept), the hour in
    `moment`'s zone, an hour the clocks repeat at its first pass.
    """
    wall = datetime(1970, 1, 1) + timedelta(seconds=hour * HOUR_S)
    zone = moment.tzinfo
    if offset is None:
        return wall.replace(tzinfo=zone)
    if isinstance(zone, timezone):  # a bare offset: the hour's own
        zone = timezone(timedelta(seconds=offset))
    return (wall - timedelta(seconds=offset)).replace(tzinfo=UTC).astimezone(zone)
