"""The detector: every live reading goes through every check; one verdict per reading comes out.

Checks, in priority order (the verdict's kind and reason come from the first one in alarm):

1. meter_fault (`faults.py`): zeros, negatives without production, a frozen value, gaps;
2. power_quality (`power_quality.py`): voltage outside 230 V +/- 10 %, current above the fuse;
3. unusual_consumption (`consumption.py`): power that stays above what this home draws at this
   time of day;
4. new_pattern (`parx.py`): the last 24 hours do not follow the daily pattern PARX predicts
   (temperature is used when readings carry it);
5. baseload (`baseload.py`): a lasting step up of the always-on power.

Readings during a meter fault teach neither the consumption model nor PARX. The learned models
alarm only once they know the home: two weeks of data, as the consumption model compares with
the last 14 days (PARX's alarms wait for it too; baseload needs 7 nights of its own). The
fault and power-quality rules need no model of the home and alarm from the start (the zero and
frozen-value rules first watch the home for a day). The score is the highest of the checks'
normalised scores: 1 is the bar at which a check alarms.

Times of day are the readings' own wall clock: pass local timestamps (Tibber does).
"""

import math
from typing import Any

from .baseload import BaseloadCheck
from .config import DetectorConfig
from .consumption import KIND as CONSUMPTION
from .consumption import ConsumptionModel
from .faults import FaultCheck
from .model import Finding, Reading, Result, Status
from .parx import HourlyParx, Parx
from .power_quality import PowerQualityCheck, PowerQualityConfig

STATE_VERSION = 2
NEW_PATTERN = "new_pattern"
PROFILE_DAYS = 7  # days averaged for the expected power before PARX has a model


class Detector:
    """Streaming anomaly detector for one home. Not thread-safe: feed it from one worker."""

    def __init__(self, config: DetectorConfig | None = None, seed: int = 0) -> None:
        """Create a detector that has learned nothing yet.

        `seed` is kept for reproducibility of future randomised parts; the checks are
        deterministic today.
        """
        self.config = config = config or DetectorConfig()
        self._seed = seed
        self._faults = FaultCheck()
        self._power_quality = PowerQualityCheck(PowerQualityConfig(fuse_a=config.fuse_amps))
        self._consumption = ConsumptionModel(config.consumption)
        self._parx = Parx(HourlyParx(threshold=config.parx_threshold))
        self._baseload = BaseloadCheck()
        self._last_epoch: float | None = None
        self._learned_seconds = 0.0
        self._findings: list[Finding] = []
        self._expected_hour: int | None = None
        self._expected: float | None = None

    @property
    def status(self) -> Status:
        """ACTIVE once the consumption model has learned enough days; it never goes back."""
        return Status.ACTIVE if self._consumption.active else Status.LEARNING

    @property
    def learning_progress(self) -> float:
        """How much of the learning period is done, from 0 to 1 (by time covered)."""
        if self._consumption.active:
            return 1.0
        days = self.config.consumption.min_days
        return min(0.99, self._learned_seconds / (days * 86_400))

    def update(self, reading: Reading) -> Result:
        """Take one reading (in time order) and return the verdict right after it.

        A reading older than the previous one is not learned from; it gets the current verdict.
        """
        epoch = reading.timestamp.timestamp()
        if self._last_epoch is not None and epoch < self._last_epoch:
            return self._result(reading)
        if self._last_epoch is not None:
            self._learned_seconds += min(epoch - self._last_epoch, 3600.0)
        self._last_epoch = epoch
        fault = self._faults.update(reading)
        quality = self._power_quality.update(reading)
        if fault is None:
            self._consumption.update(epoch, reading.power, reading.timestamp, reading.temperature)
            self._parx.update(reading)
        baseload = self._baseload.update(reading)
        found = [fault, quality, self._consumption_finding(), self._pattern_finding(), baseload]
        self._findings = [f for f in found if f is not None]
        return self._result(reading)

    def _consumption_finding(self) -> Finding | None:
        model = self._consumption
        if not model.alarm or model.reason is None:
            return None
        return Finding(CONSUMPTION, model.reason, max(model.score, 1.0), model.reference)

    def _pattern_finding(self) -> Finding | None:
        verdict = self._parx.verdict
        if verdict is None or not verdict.anomaly or not self._consumption.active:
            return None
        expected = verdict.expected or 0.0
        reason = (
            f"The last {self._parx.model.window} h do not follow this home's daily pattern: "
            f"the last hour used {verdict.observed:.0f} W, {expected:.0f} W expected"
        )
        return Finding(NEW_PATTERN, reason, max(self._pattern_score(), 1.0), verdict.expected)

    def _pattern_score(self) -> float:
        """PARX's tail probability on the score scale: 1 at the threshold."""
        verdict = self._parx.verdict
        if verdict is None or verdict.probability is None:
            return 0.0
        bar = -math.log10(self.config.parx_threshold)
        return -math.log10(max(verdict.probability, 1e-12)) / bar

    def _expected_power(self, reading: Reading) -> float | None:
        """PARX's prediction for the current hour, else the mean of this hour on recent days."""
        offset = reading.timestamp.utcoffset()
        local = reading.timestamp.timestamp() + (offset.total_seconds() if offset else 0.0)
        index = int(local // 3600)
        if index != self._expected_hour:
            self._expected_hour = index
            model = self._parx.model
            day, hour = divmod(index, 24)
            expected = model.predict(day, hour, reading.temperature)
            if expected is None:
                past = [model.power.get(d) for d in range(day - PROFILE_DAYS, day)]
                known = [float(v[hour]) for v in past if v is not None and not math.isnan(v[hour])]
                expected = sum(known) / len(known) if known else None
            self._expected = expected
        return self._expected

    def _result(self, reading: Reading) -> Result:
        findings = self._findings
        top = findings[0] if findings else None
        scores = [f.score for f in findings]
        scores += [self._consumption.score, self._pattern_score()]
        return Result(
            timestamp=reading.timestamp,
            score=round(max(scores), 3),
            anomaly=top is not None,
            status=self.status,
            observed=reading.power,
            expected=self._expected_power(reading),
            kind=top.kind if top else None,
            reason=top.reason if top else None,
            baseload=self._baseload.value,
        )

    def to_state(self) -> dict[str, Any]:
        """What was learned (and the user's options) as JSON-ready data; no tuning defaults."""
        return {
            "version": STATE_VERSION,
            "options": self.config.options(),
            "seed": self._seed,
            "last_epoch": self._last_epoch,
            "learned_seconds": self._learned_seconds,
            "faults": self._faults.to_state(),
            "power_quality": self._power_quality.to_state(),
            "consumption": self._consumption.to_state(),
            "parx": self._parx.to_state(),
            "baseload": self._baseload.to_state(),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any], config: DetectorConfig | None = None) -> Detector:
        """Restore a detector saved by `to_state`, with the current tuning defaults.

        `config` overrides the stored user options. Raises ValueError for a state written by an
        unknown format version.
        """
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"unsupported detector state version {state.get('version')!r}")
        config = config or DetectorConfig.from_options(state["options"])
        detector = cls(config, state["seed"])
        detector._last_epoch = state["last_epoch"]
        detector._learned_seconds = state["learned_seconds"]
        detector._faults = FaultCheck.from_state(state["faults"])
        detector._power_quality = PowerQualityCheck.from_state(
            state["power_quality"], PowerQualityConfig(fuse_a=config.fuse_amps)
        )
        detector._consumption = ConsumptionModel.from_state(
            state["consumption"], config.consumption
        )
        detector._parx.restore(state["parx"])
        detector._baseload = BaseloadCheck.from_state(state["baseload"])
        return detector
