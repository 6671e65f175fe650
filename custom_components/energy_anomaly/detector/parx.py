"""PARX: prediction-based daily-pattern anomaly detection (Liu & Nielsen).

After X. Liu and P. S. Nielsen, "Scalable Prediction-based Online Anomaly Detection for Smart
Meter Data", Information Systems 77 (2018):

- Hourly consumption is predicted per hour of day by a periodic auto-regressive model with
  exogenous temperature (PARX): the same hour on the previous `p` days plus heating/cooling degree
  terms with break points 5, 16 and 20 °C (max(16 - T, 0), max(5 - T, 0), max(T - 20, 0)) and an
  intercept. Without temperature the model has no degree terms. The 24 models are refitted daily
  by (lightly ridge-regularised) least squares from the accumulated hourly history.
- As each hour completes, the last `window` hours observed are compared with their predictions by
  the shift-tolerant KSC distance (scale-invariant, shift -1..+1 h), so a morning that starts an
  hour later is not an anomaly.
- A Gaussian is fitted to the log of past distances (those not themselves anomalous); the hour is
  anomalous when the upper-tail probability of its distance falls below `threshold` and the
  distance is still rising (so one deviation alarms while it grows, not for the whole day after).
- A recurring new pattern enters the lags and the refit, so it is flagged on its first
  occurrence(s) and then learned.

`HourlyParx` is the hourly API (one call per completed hour); `Parx` wraps it as a streaming scorer
with `update(reading) -> Result`, building the hourly aggregates from the readings (local time).
Pure numpy; no Home Assistant import.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass
import math
from typing import Any

import numpy as np
import numpy.typing as npt

from .model import Reading, Result, Status

FloatArray = npt.NDArray[np.float64]

BREAK_POINTS = (5.0, 16.0, 20.0)
HOURS = 24


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


@dataclass(frozen=True, slots=True)
class HourVerdict:
    """The verdict for one completed hour."""

    hour: int  # local hour index (hours since 1970-01-01 00:00 local time)
    observed: float  # mean power (W) of the hour
    expected: float | None  # predicted mean power (W), None while learning
    distance: float | None  # KSC distance of the last `window` hours
    probability: float | None  # upper-tail probability of that distance
    anomaly: bool


class HourlyParx:
    """PARX on hourly mean power; call `add_hour` once per completed local hour, in order."""

    def __init__(
        self,
        *,
        p: int = 3,
        window: int = 24,
        threshold: float = 1e-3,
        history_days: int = 56,
        min_fit_days: int = 7,
        min_distances: int = 72,
        ridge: float = 1.0,
        min_rise: float = 0.02,
    ) -> None:
        self.p = p
        self.window = window
        self.threshold = threshold
        self.history_days = history_days
        self.min_fit_days = min_fit_days
        self.min_distances = min_distances
        self.ridge = ridge
        self.min_rise = min_rise
        self.power: dict[int, FloatArray] = {}  # day -> 24 hourly means (NaN = no data)
        self.temp: dict[int, FloatArray] = {}
        self.pred: dict[int, FloatArray] = {}
        self.coef: FloatArray | None = None  # (24, n_features)
        self.use_temperature = False
        self.fitted_day: int | None = None
        self.distances: deque[float] = deque(maxlen=history_days * HOURS)
        self.last_distance: float | None = None
        self.last_temperature: float | None = None

    # -- model -----------------------------------------------------------------------------
    def _features(self, day: int, hour: int, temperature: float | None) -> FloatArray | None:
        lags = [self._value(day - i, hour) for i in range(1, self.p + 1)]
        if any(math.isnan(v) for v in lags):
            return None
        row = lags
        if self.use_temperature:
            if temperature is None or math.isnan(temperature):
                return None
            row = [*row, *degree_terms(temperature)]
        return np.array([*row, 1.0])

    def _value(self, day: int, hour: int) -> float:
        values = self.power.get(day)
        return float("nan") if values is None else float(values[hour])

    def fit(self, today: int) -> None:
        """Refit the 24 hourly models from the days before `today`."""
        days = sorted(d for d in self.power if d < today)[-self.history_days :]
        temps = [self.temp[d] for d in days]
        seen = sum(int(np.isfinite(t).sum()) for t in temps)
        total = sum(len(t) for t in temps)
        self.use_temperature = total > 0 and seen >= 0.9 * total
        n_feat = self.p + (3 if self.use_temperature else 0) + 1
        coef = np.zeros((HOURS, n_feat))
        fitted = 0
        for h in range(HOURS):
            rows: list[FloatArray] = []
            ys: list[float] = []
            for d in days:
                y = self._value(d, h)
                if math.isnan(y):
                    continue
                t = float(self.temp[d][h])
                x = self._features(d, h, None if math.isnan(t) else t)
                if x is not None:
                    rows.append(x)
                    ys.append(y)
            if len(rows) < self.min_fit_days:
                continue
            x_mat = np.vstack(rows)
            y_vec = np.array(ys)
            scale = np.sqrt((x_mat**2).mean(axis=0))
            scale[scale <= 0] = 1.0
            xs = x_mat / scale
            penalty = np.sqrt(self.ridge) * np.eye(n_feat)
            penalty[-1, -1] = 0.0  # the intercept is not shrunk
            a = np.vstack([xs, penalty])
            b = np.concatenate([y_vec, np.zeros(n_feat)])
            sol, *_ = np.linalg.lstsq(a, b, rcond=None)
            coef[h] = sol / scale
            fitted += 1
        self.coef = coef if fitted == HOURS else None
        self.fitted_day = today

    def predict(self, day: int, hour: int, temperature: float | None) -> float | None:
        """Predicted mean power (W) of `hour` on `day`, None while the model cannot say."""
        if self.coef is None:
            return None
        if temperature is None:
            temperature = self.last_temperature
        x = self._features(day, hour, temperature)
        if x is None or len(x) != self.coef.shape[1]:
            return None
        return max(float(x @ self.coef[hour]), 0.0)

    # -- detection -------------------------------------------------------------------------
    def add_hour(
        self, hour_index: int, power: float, temperature: float | None = None
    ) -> HourVerdict:
        """Record a completed hour (mean power W, mean outdoor temperature °C or None) and judge."""
        day, hour = divmod(hour_index, HOURS)
        power = round(power, 1)  # what the stored state keeps, so a restored model is the same
        if temperature is not None:
            temperature = round(temperature, 1)
        if self.fitted_day != day:
            self.fit(day)
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
        for old in [d for d in self.power if d < day - self.history_days - self.p - 1]:
            del self.power[old], self.temp[old], self.pred[old]
        if expected is None:
            self.last_distance = None
            return HourVerdict(hour_index, power, None, None, None, False)
        obs, pred = self._window(hour_index)
        if np.isfinite(pred).sum() < self.window // 2:
            self.last_distance = None
            return HourVerdict(hour_index, power, expected, None, None, False)
        distance = ksc_distance(obs, pred)
        log_d = round(math.log(max(distance, 1e-6)), 4)
        probability: float | None = None
        anomaly = False
        if len(self.distances) >= self.min_distances:
            arr = np.fromiter(self.distances, dtype=float)
            mu = float(arr.mean())
            sigma = max(float(arr.std()), 0.05)
            probability = 0.5 * math.erfc((log_d - mu) / sigma / math.sqrt(2.0))
            rising = self.last_distance is None or distance > self.last_distance * (
                1 + self.min_rise
            )
            anomaly = probability < self.threshold and rising
        if probability is None or probability >= self.threshold:
            self.distances.append(log_d)
        self.last_distance = distance
        return HourVerdict(hour_index, power, expected, distance, probability, anomaly)

    def to_state(self) -> dict[str, Any]:
        """The hourly history and past distances as JSON-ready data (not the tuning).

        The coefficients are not kept: they are refitted from the history on restore, which
        gives the same model.
        """
        return {
            "days": {
                str(day): [_plain(self.power[day]), _plain(self.temp[day]), _plain(self.pred[day])]
                for day in sorted(self.power)
            },
            "distances": list(self.distances),
            "last_distance": self.last_distance,
            "last_temperature": self.last_temperature,
            "fitted_day": self.fitted_day,
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Load a history saved by `to_state` into this (fresh) model."""
        for key, (power, temp, pred) in state["days"].items():
            day = int(key)
            self.power[day], self.temp[day], self.pred[day] = (
                _array(power),
                _array(temp),
                _array(pred),
            )
        self.distances.extend(state["distances"])
        self.last_distance = state["last_distance"]
        self.last_temperature = state["last_temperature"]
        if state["fitted_day"] is not None:
            self.fit(state["fitted_day"])

    def _window(self, hour_index: int) -> tuple[FloatArray, FloatArray]:
        obs = np.full(self.window, np.nan)
        pred = np.full(self.window, np.nan)
        for i, k in enumerate(range(hour_index - self.window + 1, hour_index + 1)):
            d, h = divmod(k, HOURS)
            if d in self.power:
                obs[i] = self.power[d][h]
                pred[i] = self.pred[d][h]
        return obs, pred


class Parx:
    """Streaming scorer: hourly aggregates from readings (local time), `HourlyParx` on each hour.

    The verdict of the last completed hour holds until the next hour completes.
    """

    def __init__(self, model: HourlyParx | None = None) -> None:
        self.model = model if model is not None else HourlyParx()
        self._hour: int | None = None
        self._power_sum = 0.0
        self._temp_sum = 0.0
        self._count = 0
        self._temp_count = 0
        self.verdict: HourVerdict | None = None

    def update(self, reading: Reading) -> Result:
        """Take one reading; return the verdict of the last completed hour."""
        ts = reading.timestamp
        offset = ts.utcoffset()
        local = ts.timestamp() + (offset.total_seconds() if offset is not None else 0.0)
        hour = int(local // 3600)
        if self._hour is not None and hour != self._hour:
            self._close()
        self._hour = hour
        self._power_sum += reading.power
        self._count += 1
        if reading.temperature is not None:
            self._temp_sum += reading.temperature
            self._temp_count += 1
        v = self.verdict
        anomaly = v is not None and v.anomaly
        return Result(
            timestamp=ts,
            score=0.0
            if v is None or v.probability is None
            else -math.log10(max(v.probability, 1e-12)),
            anomaly=anomaly,
            status=Status.ACTIVE
            if v is not None and v.probability is not None
            else Status.LEARNING,
            observed=reading.power,
            expected=None if v is None else v.expected,
            kind="new_pattern" if anomaly else None,
            reason=(
                f"the last {self.model.window} h do not follow the predicted daily pattern "
                f"(hour used {v.observed:.0f} W, expected {v.expected:.0f} W)"
                if anomaly and v is not None and v.expected is not None
                else None
            ),
        )

    def to_state(self) -> dict[str, Any]:
        """The model's history, the hour being collected and the last verdict, as plain data."""
        return {
            "model": self.model.to_state(),
            "hour": self._hour,
            "sums": [self._power_sum, self._count, self._temp_sum, self._temp_count],
            "verdict": None if self.verdict is None else asdict(self.verdict),
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Load a state saved by `to_state` into this (fresh) scorer."""
        self.model.restore(state["model"])
        self._hour = state["hour"]
        self._power_sum, self._count, self._temp_sum, self._temp_count = state["sums"]
        verdict = state["verdict"]
        self.verdict = None if verdict is None else HourVerdict(**verdict)

    def _close(self) -> None:
        assert self._hour is not None
        temperature = self._temp_sum / self._temp_count if self._temp_count else None
        self.verdict = self.model.add_hour(self._hour, self._power_sum / self._count, temperature)
        self._power_sum = self._temp_sum = 0.0
        self._count = self._temp_count = 0


def _plain(values: FloatArray) -> list[float | None]:
    """An hourly array as JSON-ready data (NaN as None)."""
    return [None if math.isnan(v) else float(v) for v in values.tolist()]


def _array(values: list[float | None]) -> FloatArray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)
