"""Unusual consumption: power that stays above what this home has drawn at this time of day.

Readings are averaged per minute. Two running means follow the power: a short one (15 min) for a
large load left on, found within minutes, and a long one (60 min) for a smaller load that only
stands out by lasting (a 400 W PC all night in a small flat). For each, the model keeps per day
the highest running mean in every 10-minute slot; the *envelope* of a day at a time of day is
the highest value within an hour either side. The reference is the second-highest envelope of
the last `days` days, so one odd evening in the past does not hide a new one, while a habit that
recurs (EV charging every night) becomes the reference after a couple of occurrences and stops
alarming. A running mean above its reference by more than max(`margin_w`, `margin_share` x the
reference) for `persistence` minutes is unusual: a kettle or a dinner oven never is, because they
are either short or usual at that hour. Nothing alarms before `min_days` days were seen.

When readings carry the outdoor temperature, a cold day's heating is expected: the model fits
how much more power a day draws per heating degree (below 16 °C) across the kept days, and moves
each past day's envelope by that slope times the difference in heating degrees between then and
now, so a cold week is compared with what the past days would have drawn in the same cold.
"""

from collections import deque
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

KIND = "unusual_consumption"
SLOT_MINUTES = 10
SLOTS = 24 * 60 // SLOT_MINUTES


@dataclass(frozen=True, slots=True)
class Tier:
    """One running mean and what counts as unusual for it."""

    minutes: int
    margin_w: float
    margin_share: float


@dataclass(frozen=True, slots=True)
class ConsumptionConfig:
    """Tiers, how far the envelope reaches, how many past days are compared, when to alarm."""

    tiers: tuple[Tier, ...] = (Tier(15, 700.0, 0.4), Tier(60, 200.0, 0.3))
    reach_minutes: int = 60
    days: int = 14
    rank: int = 2
    min_days: int = 14
    persistence: int = 5
    heating_base_c: float = 16.0
    min_degree_spread: float = 2.0


class ConsumptionModel:
    """Streaming per-minute consumption model for one home; `update` per reading, in time order."""

    def __init__(self, config: ConsumptionConfig | None = None) -> None:
        """Start with nothing learned."""
        self.config = c = config or ConsumptionConfig()
        longest = max(t.minutes for t in c.tiers)
        self._minutes: deque[float] = deque(maxlen=longest)
        self._minute: int | None = None  # epoch minute being collected
        self._sum = 0.0
        self._count = 0
        self._day: int | None = None  # local date ordinal of `_today`
        self._today: list[list[float | None]] = self._empty_day()
        self._past: deque[list[list[float | None]]] = deque(maxlen=c.days)
        # per day: [power sum, minutes, temperature sum, minutes with temperature]
        self._today_sums = [0.0, 0, 0.0, 0]
        self._past_sums: deque[list[float]] = deque(maxlen=c.days)
        self._temperature: float | None = None  # latest outdoor temperature (°C)
        self._slope = 0.0  # W per heating degree, refitted each day
        self._minute_temp = 0.0
        self._minute_temp_count = 0
        self._above = [0] * len(c.tiers)
        self.score = 0.0
        self.alarm = False
        self.reason: str | None = None
        self._since: float | None = None
        self._run_sum = 0.0
        self._run_count = 0
        self.reference: float | None = None

    def _empty_day(self) -> list[list[float | None]]:
        return [[None] * SLOTS for _ in self.config.tiers]

    @property
    def active(self) -> bool:
        """Whether enough days are known to judge."""
        return len(self._past) >= self.config.min_days

    def update(
        self, epoch: float, power: float, moment: datetime, temperature: float | None = None
    ) -> None:
        """Account for one reading (epoch seconds, W, its local time, outdoor °C if known)."""
        minute = int(epoch // 60)
        if self._minute is not None and minute < self._minute:
            return
        if minute != self._minute:
            if self._minute is not None and self._count:
                self._close_minute(moment.tzinfo)
            self._minute, self._sum, self._count = minute, 0.0, 0
            self._minute_temp, self._minute_temp_count = 0.0, 0
        self._sum += power
        self._count += 1
        if temperature is not None:
            self._minute_temp += temperature
            self._minute_temp_count += 1

    def _close_minute(self, zone: tzinfo | None) -> None:
        """One minute complete: update the running means, judge them, remember them.

        Values are rounded as they are kept, so a restored model holds exactly what this one does.
        """
        assert self._minute is not None
        moment = datetime.fromtimestamp(self._minute * 60, zone)
        day = moment.date().toordinal()
        if self._day is not None and day != self._day:
            for _ in range(min(day - self._day, self.config.days)):
                self._past.append(self._today)
                self._past_sums.append(self._today_sums)
                self._today = self._empty_day()
                self._today_sums = [0.0, 0, 0.0, 0]
            self._slope = self._fit_slope()
        self._day = day
        mean = round(self._sum / self._count, 1)
        self._minutes.append(mean)
        sums = self._today_sums
        sums[0] += mean
        sums[1] += 1
        if self._minute_temp_count:
            self._temperature = round(self._minute_temp / self._minute_temp_count, 2)
            sums[2] += self._temperature
            sums[3] += 1
        slot = (moment.hour * 60 + moment.minute) // SLOT_MINUTES
        best = 0.0
        values = list(self._minutes)
        for i, tier in enumerate(self.config.tiers):
            recent = values[-tier.minutes :]
            level = sum(recent) / len(recent)
            row = self._today[i]
            previous = row[slot]
            row[slot] = round(level) if previous is None else max(previous, round(level))
            if len(recent) < tier.minutes or not self.active:
                self._above[i] = 0
                continue
            reference = self._reference(i, slot)
            if reference is None:
                self._above[i] = 0
                continue
            ratio = (level - reference) / max(tier.margin_w, tier.margin_share * reference)
            self._above[i] = self._above[i] + 1 if ratio >= 1.0 else 0
            if ratio > best:
                best, self.reference = ratio, reference
        self.score = max(best, 0.0)
        self._judge(moment, mean)

    def _degrees(self, temperature: float | None) -> float | None:
        if temperature is None:
            return None
        return max(self.config.heating_base_c - temperature, 0.0)

    def _day_degrees(self, sums: list[float]) -> float | None:
        return self._degrees(sums[2] / sums[3]) if sums[3] >= 0.5 * sums[1] else None

    def _fit_slope(self) -> float:
        """W per heating degree of the kept days' mean power (0 without enough spread)."""
        pairs = [
            (degrees, sums[0] / sums[1])
            for sums in self._past_sums
            if sums[1] and (degrees := self._day_degrees(sums)) is not None
        ]
        if len(pairs) < self.config.min_days:
            return 0.0
        xs = [x for x, _ in pairs]
        mean_x = sum(xs) / len(xs)
        if max(xs) - min(xs) < self.config.min_degree_spread:
            return 0.0
        mean_y = sum(y for _, y in pairs) / len(pairs)
        covariance = sum((x - mean_x) * (y - mean_y) for x, y in pairs)
        variance = sum((x - mean_x) ** 2 for x in xs)
        return round(max(covariance / variance, 0.0), 3)

    def _reference(self, tier: int, slot: int) -> float | None:
        """The `rank`-th highest envelope of the past days at `slot` (None if too few days).

        Each day's envelope is moved by the heating it would have needed at today's temperature.
        """
        reach = self.config.reach_minutes // SLOT_MINUTES
        now = self._degrees(self._temperature) if self._slope else None
        envelopes = []
        for day, sums in zip(self._past, self._past_sums, strict=True):
            row = day[tier]
            near = [row[(slot + k) % SLOTS] for k in range(-reach, reach + 1)]
            known = [v for v in near if v is not None]
            if known:
                then = self._day_degrees(sums) if now is not None else None
                shift = 0.0 if now is None or then is None else self._slope * (now - then)
                envelopes.append(max(known) + shift)
        if len(envelopes) < self.config.min_days:
            return None
        envelopes.sort()
        return envelopes[-self.config.rank]

    def _judge(self, moment: datetime, mean: float) -> None:
        on = any(n >= self.config.persistence for n in self._above)
        if not on:
            self.alarm, self.reason, self._since = False, None, None
            self._run_sum, self._run_count = 0.0, 0
            return
        if self._since is None:
            lead = max(t.minutes for t, n in zip(self.config.tiers, self._above, strict=True) if n)
            self._since = moment.timestamp() - 60 * min(lead, 15)
        self._run_sum += mean
        self._run_count += 1
        self.alarm = True
        since = datetime.fromtimestamp(self._since, moment.tzinfo).strftime("%H:%M")
        drawn = format_power(self._run_sum / self._run_count)
        usual = format_power(self.reference or 0.0)
        self.reason = f"{drawn} drawn since {since}, at most about {usual} usual at this hour"

    def to_state(self) -> dict[str, Any]:
        """What was learned and the minute in progress, as JSON-ready plain data."""
        return {
            "minutes": list(self._minutes),
            "minute": self._minute,
            "sum": self._sum,
            "count": self._count,
            "day": self._day,
            "today": self._today,
            "past": list(self._past),
            "today_sums": self._today_sums,
            "past_sums": list(self._past_sums),
            "temperature": self._temperature,
            "slope": self._slope,
            "minute_temp": [self._minute_temp, self._minute_temp_count],
            "above": list(self._above),
            "since": self._since,
            "run": [self._run_sum, self._run_count],
            "alarm": self.alarm,
            "reason": self.reason,
            "score": self.score,
            "reference": self.reference,
        }

    @classmethod
    def from_state(
        cls, state: dict[str, Any], config: ConsumptionConfig | None = None
    ) -> ConsumptionModel:
        """Restore a model saved by `to_state` (tuning comes from `config`, not the state)."""
        model = cls(config)
        tiers = len(model.config.tiers)
        model._minutes.extend(state["minutes"])
        model._minute, model._sum, model._count = state["minute"], state["sum"], state["count"]
        model._day = state["day"]
        if len(state["today"]) == tiers:
            model._today = [list(row) for row in state["today"]]
            model._past.extend([list(r) for r in day] for day in state["past"])
            model._above = list(state["above"])
            model._past_sums.extend(list(sums) for sums in state["past_sums"])
            model._today_sums = list(state["today_sums"])
        model._temperature, model._slope = state["temperature"], state["slope"]
        model._minute_temp, model._minute_temp_count = state["minute_temp"]
        model._since = state["since"]
        model._run_sum, model._run_count = state["run"]
        model.alarm, model.reason = state["alarm"], state["reason"]
        model.score, model.reference = state["score"], state["reference"]
        return model


def format_power(watts: float) -> str:
    """Power the way people say it: "80 W", "0.3 kW", "2.1 kW"."""
    if abs(watts) < 100:
        return f"{watts:.0f} W"
    return f"{watts / 1000:.1f} kW"
