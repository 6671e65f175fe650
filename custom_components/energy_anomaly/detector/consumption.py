"""Unusual consumption: power that stays above what this home has drawn at this time of day.

Readings are averaged per minute. Running means follow the power: a short one (15 min) for a large
load left on, found within minutes, a long one (60 min) for a smaller load that only stands out by
lasting (a 400 W PC all night in a small flat), and a quick one (5 min) for a load far above
anything usual at that hour (a fan heater at night), found sooner. For each, the model keeps per
day the highest running mean in every 10-minute slot; the *envelope* of a day at a time of day is
the highest value within an hour either side. The reference is the second-highest envelope of the
last `days` days, so one odd evening in the past does not hide a new one, while a habit that recurs
(EV charging every night) becomes the reference after a couple of occurrences and stops alarming. A
running mean above its reference by more than max(`margin_w`, `margin_share` x the reference) for
`persistence` minutes is unusual: a kettle or a dinner oven never is, because they are either short
or usual at that hour. It alarms only while the home draws that much now (the last `persistence`
minutes as far above the reference, the last minute above it, and all but `lasting_gaps` of the
last `lasting_minutes` minutes, for the long mean of the last half of its length): a long mean
still lifted by a load that is over is no reason, nor is a short load drawn just after it, nor a
usual load that ran a little longer than usual (a washing machine's heating phase, a hob). The
finding states what was true when the alarm started (the load's mean since it went above the
reference, and that reference) and the alarm ends when the last `persistence` minutes are back at
or below that reference. After an alarm has ended, a running mean is judged again only once it
holds no minute of it: an hour's mean still lifted by three hours of EV charging that stopped is no
reason for a new alarm when the home's ordinary draw (a heat pump's cycle) comes on.

Active once `min_days` days have passed since it began learning and all but `MAY_MISS_DAYS` of them
had readings (a day Home Assistant was off does not hold it back for two weeks); it stays active
while `STAYS_ACTIVE_SHARE` of the kept days had readings. Once active, a time of day is judged by a
tier when every kept day with a reading near it gives that tier's envelope there, and at least that
share of the kept days did (Home Assistant off for some hours, or a history that ended hours before
the first live reading), against the `rank`-th highest envelope scaled to the days known
(`_known_rank`).

While learning a time of day has no reliable reference yet, so
only what is clearly unusual alarms: from `early_min_days` days on, a running mean far above the
highest one of that tier at any hour of the days seen so far (by max(`early_margin_w`,
`early_margin_share` x that peak)) for `early_persistence` minutes. From `early_week_days` days on
(each weekday seen once) the time of day counts too: the highest the days seen drew within
`weekend_reach_minutes` of it replaces the peak of the whole day, so a heater switched on at night
stands out against the nights, not against dinner; not in sun hours (the import follows the
weather) nor at a time of day colder than on every day seen (it may need more heating). Such a
finding says how sure it is: `facts["certainty"]` is the share of the learning period known (1
once active).

In a home with solar panels (readings carry `power_production`, and it exported), what it imports
by day depends on the sun: a grey day imports what a sunny day's panels covered. Near the slots
in which a kept day exported (sun hours) the reference is weather-matched: the highest envelope
of the `sun_days` kept days whose sun so far was most like today's, measured by the most they
exported in a slot before this one (a load switched on later cannot make a sunny morning look
grey, as it would the export since midnight). An overcast or dark day is compared with the
greyest days, a sunny one with sunny days, where a load the panels only partly cover stands out.
In sun hours a mean must also be `sun_margin_w` above its reference: passing clouds move the
import by a few hundred watts. At night nothing changes. No envelope moved for the heating is
below 0 W: nothing drawn is never unusual.

At the home's busy hours (where the usual short running mean is at least the median of the
day's, as at dinner) every running mean must be at least `busy_share` above its reference (twice
the usual): a load there is mostly more of what the home does then (guests for dinner), and one
left on stands out as soon as the busy hour is over, or at once when it is more than twice the
usual (an EV's first night); the quick mean asks that much at every hour anyway. On a weekend
day the kept weekend days' own busy hours count too, found the same way from what they drew
within `weekend_reach_minutes` (a late family lunch, a roast, which the weekdays do not show).

Households live differently at weekends, and a fortnight holds only four weekend days: on a
Saturday or Sunday the reference is at least the highest envelope of the kept weekend days
(`weekend_rank`), each taken within `weekend_reach_minutes` either side (a free day has no
timetable: the roast or the laundry comes hours earlier or later), so a weekend habit one of
them had is usual on the next one; a weekday is compared with every kept day as before.

When readings carry the outdoor temperature, a cold day's heating is expected: the model learns
how much more power a day draws per heating degree (below 16 °C) from the kept days (the median
of the changes from one day to the next in each day's level, its mean power without its busiest
quarter of hours, which a week away or a sauna evening does not sway; in a home that exports, of
each day's quietest hour without sun, as its day's import follows the sun too), and moves each
past day's envelope by that slope times the difference in heating degrees between now and that
day at the same time of day, so a cold week is compared with what the past days would have drawn
in the same cold (and a warm afternoon with past afternoons, not with past days' means).
"""

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, tzinfo
from itertools import accumulate, islice, pairwise
import math
import statistics
from typing import Any, NamedTuple, Self

from .check import DateOrdinal, Epoch, EpochMinute, Mean, RoundedFloat, StateError, load_state
from .config import HOUR_S, MINUTE_S, DetectorConfig, Tier
from .model import TIME_OF_DAY, Cause, Finding, Kind, Reading

HOURS_PER_DAY = 24
LEVEL_SHARE = 0.75  # the quietest share of a day's slots its level for the heating slope holds
SATURDAY = 5  # date.weekday() of the first weekend day
LEARNING_MAX_BEFORE_ACTIVE = 0.99  # progress never says 100 % before the model is active
# Days of the learning period without readings that do not hold back its end (days)
MAY_MISS_DAYS = 2
# An active model stays active while this share of `min_days` kept days had readings; a time of day
# is judged by a tier while this share of them has its envelope there (`_reference_of`)
STAYS_ACTIVE_SHARE = 0.5
TENTHS_PER_W = 10  # minute means are kept to 0.1 W: their running sums are ints of tenths of a W


def _is_weekend(ordinal: int) -> bool:
    """Whether the date with this ordinal is a Saturday or a Sunday (ordinal 1 is a Monday)."""
    return (ordinal - 1) % 7 >= SATURDAY


# Slots' references kept per day at most: one entry per slot and temperature (a minute's), so a
# day asks for at most 1 440 (1 500 on the day clocks go back)
REFERENCE_CACHE_SIZE = 4096


@dataclass(slots=True)
class _DaySums:
    """A day's sum of minute means (W) and of outdoor temperatures (°C) with their counts.

    `slots` is the outdoor temperature (°C) per slot of the day (its latest minute's), empty
    while the day has none (and in states stored before it was kept); `sun` the slots in which
    the home exported (sent production to the grid); `export` the energy it exported per slot
    (Wh), empty while the day exported nothing (and in states stored before it was kept).
    """

    power: Mean = field(default_factory=Mean)
    temperature: Mean = field(default_factory=Mean)
    slots: list[float | None] = field(default_factory=list)
    sun: list[int] = field(default_factory=list)
    export: list[float] = field(default_factory=list)


class _PastDay(NamedTuple):
    """What a past day is compared by, made once when it becomes past (derived, not kept).

    Envelopes per tier and slot (W): `near` within `reach_minutes`, `wide` within
    `weekend_reach_minutes`; `degrees` its heating degrees per slot; `exported` the most it had
    exported in one slot (Wh) before each slot, empty for a day that exported nothing.
    """

    near: list[list[float | None]]
    wide: list[list[float | None]]
    degrees: list[float | None]
    exported: list[float]


@dataclass(slots=True)
class _Stored:
    """The stored form of the model (validated on restore)."""

    minutes: list[float]
    minute: EpochMinute | None
    minute_power: Mean
    minute_temp: Mean
    day: DateOrdinal | None
    today: list[list[float | None]]
    past: list[list[list[float | None]]]
    today_sums: _DaySums
    past_sums: list[_DaySums]
    temperature: float | None
    slope: float
    above: list[int]
    since: Epoch | None
    run: Mean
    score: float
    reference: float | None
    minute_export: bool = False  # absent from states stored before exports were followed
    minute_production: Mean = field(default_factory=Mean)  # absent before exports were summed
    after: int | None = None  # absent from states stored before ended alarms were followed
    around: bool = False  # absent from states stored before the learning week's time of day
    active: bool = False  # absent from states stored before it was kept through gaps


class ConsumptionCheck:
    """Streaming per-minute consumption model for one home; `update` per reading, in time order."""

    key = "consumption"

    def __init__(self, config: DetectorConfig | None = None) -> None:
        """Start with nothing learned."""
        self.config = c = (config or DetectorConfig()).consumption
        self._slots = HOURS_PER_DAY * 60 // c.slot_minutes
        longest = max(t.minutes for t in c.tiers)
        self._minutes: deque[float] = deque(maxlen=longest)
        # the tier whose slots a day's level for the heating slope is read from
        self._longest = next(i for i, t in enumerate(c.tiers) if t.minutes == longest)
        # per tier, the sum of its last `minutes` kept minute means in tenths of a W (see
        # `_keep_minute`); derived from `_minutes`, not stored
        self._tenths = [0] * len(c.tiers)
        self._minute: int | None = None  # epoch minute being collected
        self._minute_power = Mean()
        self._minute_temp = Mean()
        self._minute_export = False  # whether the minute being collected exported
        self._minute_production = Mean()  # the export (W) of the minute being collected
        self._day: int | None = None  # local date ordinal of `_today`
        self._today: list[list[float | None]] = self._empty_day()
        self._past: deque[list[list[float | None]]] = deque(maxlen=c.days)
        self._today_sums = _DaySums()
        self._past_sums: deque[_DaySums] = deque(maxlen=c.days)
        self._days_seen = 0  # past days with readings
        # Whether enough days with readings are known to judge (empty days of a gap are not);
        # asked on every reading, so kept up to date where the days are counted (`_learn_past`)
        self.active = False
        self._today_slots = 0  # slots of today with a running mean (learning progress)
        # per past day (derived, not kept): its envelopes per tier and slot, its heating degrees
        # and the most it had exported in one slot (Wh) before each slot
        self._envelopes: deque[_PastDay] = deque(maxlen=c.days)
        self._temperature: float | None = None  # latest outdoor temperature (°C)
        # the minute's mean temperature to 0.01 °C, and that to 0.1 °C (`RoundedFloat`, derived)
        self._hundredths, self._tenths_of = RoundedFloat(2), RoundedFloat(1)
        self._slope = 0.0  # W per heating degree, refitted each day
        self._above = [0] * len(c.tiers)
        self._after: int | None = None  # minutes closed since the last alarm ended (None: none)
        # How far the running means are above their references, 1 = the bar; a plain
        # attribute, as the engine reads every check's score on every reading
        self.score = 0.0
        self._since: float | None = None  # epoch when the unusual load of the alarm began
        self._run = Mean()  # minute means from `_since` to the alarm's start (its `observed`)
        self._reference: float | None = None  # what the alarm compares with (its `expected`)
        self._around = False  # while learning, whether that was the time of day's, not a peak
        self._references: tuple[float | None, ...] = (None,) * len(c.tiers)  # per tier, last minute
        self._finding: Finding | None = None
        self._peaks: list[float | None] = [None] * len(c.tiers)  # per tier, over the past days
        self._sun: set[int] = set()  # slots near one in which a kept day exported (sun hours)
        self._busy: set[int] = set()  # slots usually busier than half the day (derived)
        self._weekend_busy: set[int] = set()  # those and the weekend days' own (derived)
        # while learning, from a week on: per tier and slot the days' highest near it, and the
        # most heating degrees then (derived, see `_early_envelopes`)
        self._early: tuple[list[list[float | None]], list[float | None]] | None = None
        # (slot, temperature) -> the references per tier, for the current past days (derived)
        self._reference_cache: dict[tuple[int, float | None], tuple[float | None, ...]] = {}
        self.bar = 1.0  # the score at which it alarms; the engine moves it with the sensitivity

    def _empty_day(self) -> list[list[float | None]]:
        return [[None] * self._slots for _ in self.config.tiers]

    @property
    def learning_progress(self) -> float:
        """Share of the learning period done: days with readings, and today's part (by slots)."""
        if self.active:
            return 1.0
        today = self._today_slots / self._slots
        return min(LEARNING_MAX_BEFORE_ACTIVE, (self._days_seen + today) / self.config.min_days)

    def update(self, reading: Reading) -> Finding | None:
        """Account for one reading; a Finding while an unusual load lasts.

        The work happens when a minute closes; a reading older than the open minute is ignored.
        """
        minute = int(reading.epoch // MINUTE_S)
        if self._finding is None and self._since is not None:  # restored during an alarm
            self._finding = self._alarm(reading.timestamp.tzinfo)
        if minute != self._minute:
            if self._minute is not None and minute < self._minute:
                return self._finding
            if self._minute is not None and self._minute_power.count:
                self._close_minute(reading.timestamp.tzinfo)
            self._minute = minute
            self._minute_power, self._minute_temp = Mean(), Mean()
            self._minute_export = False
            self._minute_production = Mean()
        # The open minute's sums, added to in place (cheaper than `Mean.add`: every reading)
        power, production = self._minute_power, self._minute_production
        power.total += reading.power
        power.count += 1
        exported = reading.power_production or 0.0
        if exported > 0.0:  # the minute exported (set, not or-ed: most readings export nothing)
            self._minute_export = True
        production.total += exported
        production.count += 1
        if (temperature := reading.temperature) is not None:
            temperatures = self._minute_temp
            temperatures.total += temperature
            temperatures.count += 1
        return self._finding

    def _close_minute(self, zone: tzinfo | None) -> None:
        """One minute complete: update the running means, judge them, remember them.

        Values are rounded as they are kept, so a restored model holds exactly what this one does.
        """
        assert self._minute is not None
        moment = datetime.fromtimestamp(self._minute * MINUTE_S, zone)
        self._roll_to(moment.date().toordinal())
        mean = round(self._minute_power.total / self._minute_power.count, 1)
        self._keep_minute(mean)
        self._today_sums.power.add(mean)
        slot = (moment.hour * 60 + moment.minute) // self.config.slot_minutes
        sun = slot in self._sun
        busy = slot in (self._weekend_busy if _is_weekend(self._day or 0) else self._busy)
        if (temperature := self._minute_temp.mean) is not None:  # a float: a sum over a count
            self._temperature = self._hundredths.of(temperature)
            self._today_sums.temperature.add(self._temperature)
            self._note_temperature(slot, self._tenths_of.of(self._temperature))
        if self._minute_export:
            self._note_export(slot)
        if self._after is not None:
            self._after += 1
        self._references = references = self._cached_references(slot)
        self.score = max(self._judge_tiers(slot, references, sun, busy), 0.0)
        self._judge(moment, sun, busy)

    def _judge_tiers(
        self, slot: int, references: tuple[float | None, ...], sun: bool, busy: bool
    ) -> float:
        """Keep each tier's running mean in today's `slot`, count its minutes above its bar.

        The highest of the tiers' scores comes back (0 when none is judged). A tier's mean is
        not judged while it has fewer minutes than its length, has no reference, or still holds
        minutes of an alarm that has ended (`_after`): such a mean is lifted by a load that is
        over (an hour's mean still holds the last of three hours of EV charging), and the
        home's ordinary draw (a heat pump's cycle) would raise a new alarm on it.

        Every minute, for every tier: the length's `min`, the helper for an ended alarm and the
        `max` of two values are written out (the same comparisons `min` and `max` make), as such
        calls were a large part of the check's time.
        """
        best = 0.0
        kept = len(self._minutes)
        after = self._after
        above = self._above
        for i, tier in enumerate(self.config.tiers):
            minutes = tier.minutes
            level = self._tenths[i] / (TENTHS_PER_W * (kept if kept < minutes else minutes))
            row = self._today[i]
            rounded = round(level)
            if (previous := row[slot]) is None:
                self._today_slots += i == 0
                row[slot] = rounded
            elif rounded > previous:  # `max(previous, rounded)`: the first of equal ones stays
                row[slot] = rounded
            reference = references[i]
            if kept < minutes or reference is None or (after is not None and after < minutes):
                above[i] = 0
                continue
            ratio = (level - reference) / self._margin(tier, reference, sun, busy)
            above[i] = above[i] + 1 if ratio >= self.bar else 0
            best = ratio if ratio > best else best  # `max(best, ratio)`
        return best

    def _keep_minute(self, mean: float) -> None:
        """Keep a minute mean (W, rounded to 0.1 W) and move each tier's running sum with it.

        A fresh sum of up to an hour of minutes for every tier at every minute was the largest
        cost of the check. Moving a sum (add the new minute, take away the one that left the
        tier) is cheaper, and done in whole tenths of a watt (Python ints) it is exact: it never
        drifts from a fresh sum, and a model restored from its stored minutes (`_sum_tenths`)
        holds the very sums of one that never stopped.
        """
        kept = self._minutes
        count = len(kept)
        sums = self._tenths
        tenths = round(mean * TENTHS_PER_W)
        for i, tier in enumerate(self.config.tiers):
            if count >= (minutes := tier.minutes):
                sums[i] -= round(kept[-minutes] * TENTHS_PER_W)
            sums[i] += tenths
        kept.append(mean)

    def _sum_tenths(self) -> list[int]:
        """Per tier, the sum of its last `minutes` kept minute means in tenths of a W."""
        kept = self._minutes
        return [
            sum(round(v * TENTHS_PER_W) for v in islice(kept, max(len(kept) - t.minutes, 0), None))
            for t in self.config.tiers
        ]

    def _recent_mean(self, minutes: int) -> float:
        """Mean (W) of the last `minutes` kept minute means (all, when fewer), without a copy."""
        kept = self._minutes
        count = min(minutes, len(kept))
        return sum(islice(kept, len(kept) - count, None)) / count

    def _cached_references(self, slot: int) -> tuple[float | None, ...]:
        """`_references_of`, worked out once per slot and temperature of the day.

        It depends on nothing else that changes within a day: the past days, the slope, the sun
        hours and, while learning, the days seen, their peaks and early envelopes (and whether
        the model is active) change only in `_learn_past`, which forgets what was worked out, and
        today's sun before a slot (`_exported_before`) is complete once the slot begins. A slot
        lasts `slot_minutes` minutes: most minutes ask again what was just found (one look-up
        for all the tiers, every minute).
        """
        key = (slot, self._temperature)
        cache = self._reference_cache
        if (references := cache.get(key)) is None:
            if len(cache) >= REFERENCE_CACHE_SIZE:
                cache.clear()
            references = cache[key] = self._references_of(slot)
        return references

    def _references_of(self, slot: int) -> tuple[float | None, ...]:
        """Each tier's reference at `slot`: `_reference_of`, `_early_reference` while learning."""
        reference_of = self._reference_of if self.active else self._early_reference
        return tuple(reference_of(tier, slot) for tier in range(len(self.config.tiers)))

    def _learn_past(self) -> None:
        """The past days changed: count them, refit the heating slope, find their peaks."""
        self._reference_cache.clear()
        self._days_seen = sum(1 for sums in self._past_sums if sums.power.count)
        # Active once `min_days` days passed and all but a few of them had readings, and it
        # stays active while a share of them have: days without readings (Home Assistant off
        # for a weekend) stay among the kept days for two weeks, and would send the home back
        # to learning. (The past days include empty ones for a gap, so the kept days are full
        # only `min_days` days after the first.)
        passed = len(self._past_sums) >= self.config.min_days
        needed = self._days_known_needed if self.active else self.config.min_days - MAY_MISS_DAYS
        self.active = passed and self._days_seen >= needed
        self._sun = self._sun_slots()
        self._slope = self._fit_slope()
        self._peaks = self._past_peaks()
        self._busy = self._busy_slots()
        self._weekend_busy = self._busy | self._weekend_busy_slots()
        self._early = self._early_envelopes()

    @property
    def _days_known_needed(self) -> int:
        """Kept days an active model needs: with readings to stay active, and more.

        With a tier's envelope at a time of day for that tier to judge it, and with a level to
        fit the heating slope.
        """
        return math.ceil(self.config.min_days * STAYS_ACTIVE_SHARE)

    def _known_rank(self, known: int) -> int:
        """The `rank` for `known` envelopes: as high a share of them as `rank` of `min_days`.

        Two of fourteen kept days is one of seven: the second highest of seven days would let
        the home's fourth-busiest evening of a fortnight pass for usual.
        """
        return max(1, round(self.config.rank * known / self.config.min_days))

    def _busy_slots(self) -> set[int]:
        """The home's busy hours: slots whose plain short reference is high for the day.

        Plain: the `rank`-th highest envelope of the kept days, without the weekend, sun or
        heating adjustments (a property of the household's day, worked out once a day); busy
        when at least `busy_ratio` x the median of the day's slots.
        """
        known = [[day.near[0][slot] for day in self._envelopes] for slot in range(self._slots)]
        return _busy_of(known, self.config.rank, self.config.busy_ratio)

    def _weekend_busy_slots(self) -> set[int]:
        """The weekend days' own busy hours, judged as their references are.

        A free day has its own rhythm (a late family lunch, a roast) that the weekdays, five
        of every seven kept days, do not show: from the kept weekend days' wide envelopes and
        their `weekend_rank`-th highest, busy when at least `busy_ratio` x their median. On a
        weekend day these count as well as the every-day busy hours.
        """
        first = (self._day or 0) - len(self._envelopes)
        weekends = [day for age, day in enumerate(self._envelopes) if _is_weekend(first + age)]
        known = [[day.wide[0][slot] for day in weekends] for slot in range(self._slots)]
        return _busy_of(known, self.config.weekend_rank, self.config.busy_ratio)

    def _sun_slots(self) -> set[int]:
        """The slots within `reach_minutes` of one in which a kept day exported."""
        reach = self.config.reach_minutes // self.config.slot_minutes
        exported = {slot for sums in self._past_sums for slot in sums.sun}
        return {(slot + k) % self._slots for slot in exported for k in range(-reach, reach + 1)}

    def _note_export(self, slot: int) -> None:
        """Keep that the minute just closed exported at `slot`, and how much (Wh)."""
        sums = self._today_sums
        if slot not in sums.sun:
            sums.sun.append(slot)
        if not sums.export:
            sums.export = [0.0] * self._slots
        exported = (self._minute_production.mean or 0.0) * MINUTE_S / HOUR_S
        sums.export[slot] = round(sums.export[slot] + exported, 2)

    def _exported_before(self, slot: int) -> float:
        """The most today exported in one slot (Wh) before `slot` (0 for a day that did not)."""
        return max(self._today_sums.export[:slot], default=0.0)

    def _note_temperature(self, slot: int, temperature: float) -> None:
        """Keep today's outdoor temperature (°C, rounded to 0.1) at `slot`."""
        sums = self._today_sums
        if not sums.slots:
            sums.slots = [None] * self._slots
        sums.slots[slot] = temperature

    def _day_envelopes(self, day: list[list[float | None]], sums: _DaySums) -> _PastDay:
        """A past day's envelopes per tier, heating degrees and most exported before each slot.

        A slot without a temperature of its own takes the day's mean (None without either).
        """
        mean = self._day_degrees(sums)
        degrees = [
            mean if t is None else self._degrees(t) for t in sums.slots or [None] * self._slots
        ]
        exported = list(accumulate(sums.export[:-1], max, initial=0.0)) if sums.export else []
        near, wide = self.config.reach_minutes, self.config.weekend_reach_minutes
        return _PastDay(
            [self._envelope(row, near) for row in day],
            [self._envelope(row, wide) for row in day],
            degrees,
            exported,
        )

    def _envelope(self, row: list[float | None], minutes: int) -> list[float | None]:
        """Per slot, the highest running mean within `minutes` either side (None: no data).

        Past days do not change, so this is done once per day (when it becomes past) instead of
        on every judgement.
        """
        reach = minutes // self.config.slot_minutes
        return window_highest(row, -reach, 2 * reach + 1)

    def _roll_to(self, day: int) -> None:
        """Make `day` (a date ordinal) today: finished days go to the past, empty ones for a gap."""
        previous, self._day = self._day, day  # the past days are known by their distance from it
        if previous is not None and day != previous:
            for _ in range(min(day - previous, self.config.days)):
                self._past.append(self._today)
                self._past_sums.append(self._today_sums)
                self._envelopes.append(self._day_envelopes(self._today, self._today_sums))
                self._today = self._empty_day()
                self._today_sums = _DaySums()
                self._today_slots = 0
            self._learn_past()

    def _past_peaks(self) -> list[float | None]:
        """Per tier, the highest running mean of the kept past days at any time of day."""
        return [
            _highest(v for day in self._past for v in day[i]) for i in range(len(self.config.tiers))
        ]

    def _early_reference(self, tier: int, slot: int) -> float | None:
        """While learning: the tier's peak so far, once `early_min_days` days were seen.

        From `early_week_days` days on, the highest the days seen drew near this time of day
        (`_early_envelopes`), except in sun hours or when it is colder now than it was then on
        every day seen: a solar home's import follows the weather, and a colder hour than any
        learned may need more heating than any of them.
        """
        if self._days_seen < self.config.early_min_days:
            return None
        peak = self._peaks[tier]
        if self._early is None or slot in self._sun:
            return peak
        levels, degrees = self._early
        level, then = levels[tier][slot], degrees[slot]
        now = self._degrees(self._temperature)
        if level is None or (now is not None and (then is None or now > then)):
            return peak
        return level

    def _early_envelopes(self) -> tuple[list[list[float | None]], list[float | None]] | None:
        """While learning, what the days seen drew near each time of day, and how cold it was.

        Per tier and slot the highest of their wide envelopes, where `early_week_days` of them
        have one (hourly history gives the short means none: a week of it and two live days are
        not a week of those), and per slot the most heating degrees one of them had then; None
        before `early_week_days` days were seen and once active. Worked out once a day.
        """
        week = self.config.early_week_days
        if self.active or self._days_seen < week:
            return None
        days = list(self._envelopes)
        levels = [
            [_highest((day.wide[tier][slot] for day in days), week) for slot in range(self._slots)]
            for tier in range(len(self.config.tiers))
        ]
        degrees = [_highest(day.degrees[slot] for day in days) for slot in range(self._slots)]
        return levels, degrees

    def _margin(self, tier: Tier, reference: float, sun: bool, busy: bool) -> float:
        """How far above its reference a running mean must be to count (W); wider while learning.

        In sun hours at least `sun_margin_w`: passing clouds move what a solar home imports.
        """
        c = self.config
        if self.active:
            share = max(tier.margin_share, c.busy_share) if busy else tier.margin_share
            return max(tier.margin_w, share * reference, c.sun_margin_w * sun)
        return max(c.early_margin_w, c.early_margin_share * reference)

    def learn_aggregate(  # noqa: PLR0917
        self,
        day: int,
        first_minute: int,
        minutes: int,
        levels: Sequence[float | None],
        power: float,
        temperature: float | None,
    ) -> None:
        """Learn one aggregate of history as its minutes would have taught the model.

        `day` is its date ordinal, `first_minute` its start (minutes after midnight), `levels`
        the running mean (W) per tier to put in every slot it covers (None: unknown); `power` its
        mean (W) counts `minutes` times in the day's sums, like the minute means it stands for.
        `day` may be after the last aggregate's (a gap), never before.
        """
        self._roll_to(day)
        self._today_sums.power.add(round(power, 1), minutes)
        size = self.config.slot_minutes
        slots = range(first_minute // size, (first_minute + minutes - 1) // size + 1)
        if temperature is not None:
            self._temperature = round(temperature, 2)
            self._today_sums.temperature.add(self._temperature, minutes)
            tenths = round(self._temperature, 1)
            for slot in slots:
                self._note_temperature(slot, tenths)
        for tier, (row, level) in enumerate(zip(self._today, levels, strict=True)):
            if level is None:
                continue
            for slot in slots:
                previous = row[slot]
                if previous is None:
                    self._today_slots += tier == 0
                row[slot] = round(level) if previous is None else max(previous, round(level))

    def finish_history(self, day: int) -> None:
        """History ended at the start of `day` or during it: later readings continue from there."""
        self._roll_to(day)

    def _degrees(self, temperature: float | None) -> float | None:
        if temperature is None:
            return None
        return max(self.config.heating_base_c - temperature, 0.0)

    def _day_degrees(self, sums: _DaySums) -> float | None:
        share = self.config.min_temperature_share
        if sums.temperature.count < share * sums.power.count:
            return None
        return self._degrees(sums.temperature.mean)

    def _dark_slots(self) -> set[int]:
        """The slots whose longest running mean holds no minute of the sun hours."""
        longest = max(tier.minutes for tier in self.config.tiers)
        held = -(-longest // self.config.slot_minutes)  # slots a running mean reaches back
        lit = {(slot + k) % self._slots for slot in self._sun for k in range(held + 1)}
        return set(range(self._slots)) - lit

    def _day_level(
        self, day: list[list[float | None]], sums: _DaySums
    ) -> tuple[float, float] | None:
        """A kept day's (heating degrees, W) at its level without its busiest hours.

        The level is the mean over the day's slots of the longest running mean's highest, the
        highest `1 - LEVEL_SHARE` of them left out: a sauna evening, a day's baking or laundry,
        or guests are a few hours of a day, and would make that day's change to the next pass
        for heating whenever the weather changed too. A day's heating is in all its hours (a
        heat pump, panel heaters) or, with night storage heaters, mostly in the few off-peak
        hours left out with them: such a home learns little heating per degree, and its cold
        nights are compared with the cold nights kept (its references). None without enough
        temperatures or slots.
        """
        if not sums.power.count or (degrees := self._day_degrees(sums)) is None:
            return None
        row = sorted(v for v in day[self._longest] if v is not None)
        kept = row[: int(len(row) * LEVEL_SHARE)]
        if not kept:
            return None
        return degrees, sum(kept) / len(kept)

    def _quiet_hour(
        self, day: list[list[float | None]], sums: _DaySums, dark: set[int]
    ) -> tuple[float, float] | None:
        """A kept day's (heating degrees, W) at its quietest slot in `dark` (None: none known).

        The level is the longest running mean's there, the degrees those of that slot: in a
        home that exports, what it imports over a day follows the sun as much as the cold (a
        clear day's panels cover part of its heating), and its nights hold the loads that wait
        for them (a car's charge); its quietest hour without sun draws its standby and the
        heating at that hour's outdoor temperature.
        """
        row = day[self._longest]
        quiet = min(
            ((v, slot) for slot, v in enumerate(row) if v is not None and slot in dark),
            default=None,
        )
        if (
            quiet is None
            or not sums.slots
            or (degrees := self._degrees(sums.slots[quiet[1]])) is None
        ):
            return None
        return degrees, quiet[0]

    def _fit_slope(self) -> float:
        """W per heating degree, from how the kept days' levels changed from day to day.

        The median of the day-to-day changes' ratios (power over heating degrees), not a fit on
        the days' levels: what the household does besides heating shifts whole stretches of
        days (a week away, guests), and on levels a week away on milder days passes for a steep
        slope that then expects far less on a mild night after the return. From one day to the
        next such a stretch makes only the odd change at its ends, which the median ignores;
        a day's busiest hours (a weekly sauna) are not in its level (`_day_level`). In a home
        that exports, each day counts by its quietest hour without sun instead
        (`_quiet_hour`). 0 without enough days or spread of degrees.
        """
        dark = self._dark_slots() if self._sun else set()
        days = [
            self._quiet_hour(day, sums, dark) if self._sun else self._day_level(day, sums)
            for day, sums in zip(self._past, self._past_sums, strict=True)
        ]
        known = [day for day in days if day is not None]
        if len(known) < (self._days_known_needed if self.active else self.config.min_days):
            return 0.0
        xs = [x for x, _ in known]
        if max(xs) - min(xs) < self.config.min_degree_spread:
            return 0.0
        ratios = sorted(
            (b[1] - a[1]) / (b[0] - a[0])
            for a, b in pairwise(days)
            if a is not None and b is not None and abs(b[0] - a[0]) >= self.config.min_step_c
        )
        if not ratios:
            return 0.0
        return round(max(statistics.median(ratios), 0.0), 3)

    def _reference_of(self, tier: int, slot: int) -> float | None:
        """The `rank`-th highest envelope of the past days at `slot` (None if too few days).

        Of the days known at `slot`: with fewer than `min_days`, `rank` scaled (`_known_rank`).
        A day without a reading near `slot` (Home Assistant off) is excused, down to
        `_days_known_needed` days; one that had readings but no envelope of this tier (an hourly
        history has no 5-minute peaks) is not: the tier waits for `min_days` days that have it.

        In sun hours the weather-matched one instead (`_sun_reference`); None there on a day
        greyer so far than every kept day (`grey_min_wh`): their panels all covered some of what
        it imports.

        On a weekend day at least the `weekend_rank`-th highest of the kept weekend days' (the
        past days are consecutive: the last one is yesterday).

        Each day's envelope is moved by the heating it would have needed at the temperature now,
        compared with that day's temperature at the same time of day: an afternoon is warmer
        than its day's mean, and held to that mean it would be expected to need less heating
        than the past afternoons had. Never below 0 W: a home does not draw less than nothing
        (a sunny day's import of 0 W moved by a mild day's heating would be, and then 0 W drawn
        would look unusual).
        """
        c = self.config
        now = self._degrees(self._temperature) if self._slope else None
        envelopes: list[float] = []
        weekends: list[float] = []
        weekend = self._day is not None and _is_weekend(self._day)
        first = (self._day or 0) - len(self._envelopes)
        sun = slot in self._sun
        today = self._exported_before(slot) if sun else 0.0
        unlike: list[float] = []  # per kept day, how far its sun before `slot` was from today's
        greyest = float("inf")  # the least a kept day had exported in a slot before `slot` (Wh)
        absent = 0  # kept days without a reading near `slot` (no tier's envelope there)
        for age, past in enumerate(self._envelopes):
            envelope, then = past.near[tier][slot], past.degrees[slot]
            if envelope is None:
                absent += all(row[slot] is None for row in past.near)
                continue
            shift = 0.0 if now is None or then is None else self._slope * (now - then)
            envelopes.append(max(envelope + shift, 0.0))
            if sun:
                theirs = past.exported[slot] if past.exported else 0.0
                unlike.append(abs(theirs - today))
                greyest = min(greyest, theirs)
            if weekend and _is_weekend(first + age) and (wide := past.wide[tier][slot]) is not None:
                weekends.append(max(wide + shift, 0.0))
        if len(envelopes) < max(self._days_known_needed, c.min_days - absent) or (
            sun and today < greyest and greyest >= c.grey_min_wh
        ):
            return None
        rank = self._known_rank(len(envelopes))
        reference = self._sun_reference(envelopes, unlike) if sun else sorted(envelopes)[-rank]
        if len(weekends) < c.weekend_rank:
            return reference
        return max(reference, sorted(weekends)[-c.weekend_rank])

    def _sun_reference(self, envelopes: list[float], unlike: list[float]) -> float:
        """In sun hours: the highest envelope of the kept days with the sun most like today's.

        Those are the `sun_days` days whose most exported in a slot before this one was closest
        to today's (and any as close). What a solar home imports by day depends on how much its
        panels produce: a grey day is compared with grey days, a sunny one with sunny days (where
        a load the panels only partly cover stands out). `unlike` holds, per envelope, how far
        that day's sun was from today's.
        """
        bound = sorted(unlike)[min(self.config.sun_days, len(unlike)) - 1]
        return max(e for e, d in zip(envelopes, unlike, strict=True) if d <= bound)

    def _judge(self, moment: datetime, sun: bool, busy: bool) -> None:
        """Alarm while a running mean stays above its bar and the home still draws above it.

        A running mean that has stayed above its bar for `persistence` minutes raises the alarm,
        but only while the minute just closed is above that tier's reference and the home drew
        above it for most of the last `lasting_minutes` (`_lasting`): a long mean still lifted
        by a load that has ended is not a reason, nor is a short load drawn while it is. The
        alarm states what was true when it started (see `_start`) and ends when the draw of
        the last `persistence` minutes is back at or below the reference it named, or no
        running mean is above its bar any more; a new one needs `persistence` minutes above a
        bar again, so a load that wavers around its reference is one alarm, not many.
        """
        c = self.config
        persistence = c.persistence if self.active else c.early_persistence
        if self._since is None and max(self._above) < persistence:  # no mean above its bar, no
            return  # alarm: most minutes (one look instead of a list of the tripped tiers)
        tripped = [i for i, n in enumerate(self._above) if n >= persistence]
        now = self._recent_mean(persistence)
        if self._since is not None:
            if tripped and now > (self._reference or 0.0):
                self._finding = self._alarm(moment.tzinfo)  # as raised, with today's score
                return
            self._since, self._run, self._finding = None, Mean(), None
            self._after = 0
        causes = [
            r
            for i in tripped
            if (r := self._references[i]) is not None
            and now - r >= self.bar * self._margin(self.config.tiers[i], r, sun, busy)
            and self._minutes[-1] > r
            and self._lasting(r, self.config.tiers[i])
        ]
        if causes:
            self._start(moment, max(causes))

    def _lasting(self, reference: float, tier: Tier) -> bool:
        """Whether the home drew above `reference` in nearly all of the last minutes.

        The last `lasting_minutes` of them, or `lasting_share` of the tier's length if more, all
        but `lasting_gaps` per `lasting_minutes`: a load that has lasted, not a short one whose
        running mean is lifted by an earlier load that is over. A load only the long mean finds
        stands out by lasting, so it must have lasted: a usual load that ran a quarter of an
        hour longer than usual lifts an hour's mean as much as a small one left on.
        """
        c = self.config
        minutes = max(c.lasting_minutes, round(c.lasting_share * tier.minutes))
        gaps = c.lasting_gaps * minutes // c.lasting_minutes
        recent = islice(self._minutes, max(len(self._minutes) - minutes, 0), None)
        return sum(v > reference for v in recent) >= minutes - gaps

    def _alarm(self, zone: tzinfo | None) -> Finding | None:
        """The finding of the alarm in progress, on the readings' clock (None when none is)."""
        observed = self._run.mean
        if self._since is None or observed is None:
            return None
        since = datetime.fromtimestamp(self._since, zone)
        score = max(self.score, 1.0)
        certainty = 1.0 if self.active else round(self._days_seen / self.config.min_days, 2)
        facts = {"certainty": certainty}
        if certainty < 1.0 and self._around:  # the expected is what it drew near this time
            facts[TIME_OF_DAY] = 1.0
        return Finding(
            Kind.UNUSUAL_CONSUMPTION,
            Cause.HIGH_CONSUMPTION,
            score,
            since,
            observed,
            self._reference,
            "W",
            facts,
        )

    def _start(self, moment: datetime, reference: float) -> None:
        """Raise the alarm against `reference` (the highest of the tripped tiers' references).

        The unusual load began with the first of the latest minutes drawn above the reference
        (looking back over the kept minutes, the longest running mean; `moment` is the minute
        just closed, itself above it). The finding says that load's mean since then and the
        reference, so its numbers are true when it is raised and stay as they were.
        """
        run = Mean()
        for value in reversed(self._minutes):
            if value <= reference:
                break
            run.add(value)
        self._reference, self._run = reference, Mean(round(run.total, 1), run.count)
        self._around = not self.active and reference not in self._peaks
        self._since = moment.timestamp() - MINUTE_S * (run.count - 1)
        self._finding = self._alarm(moment.tzinfo)

    def to_state(self) -> dict[str, Any]:
        """What was learned and the minute in progress, as JSON-ready plain data."""
        return {
            "minutes": list(self._minutes),
            "minute": self._minute,
            "minute_power": asdict(self._minute_power),
            "minute_temp": asdict(self._minute_temp),
            "minute_export": self._minute_export,
            "minute_production": asdict(self._minute_production),
            "day": self._day,
            "today": self._today,
            "past": list(self._past),
            "today_sums": asdict(self._today_sums),
            "past_sums": [asdict(sums) for sums in self._past_sums],
            "temperature": self._temperature,
            "slope": self._slope,
            "above": list(self._above),
            "after": self._after,
            "since": self._since,
            "run": asdict(self._run),
            "score": self.score,
            "reference": self._reference,
            "around": self._around,
            "active": self.active,
        }

    @classmethod
    def from_state(cls, state: object, config: DetectorConfig | None = None) -> Self:
        """Restore a model saved by `to_state` (tuning from `config`; StateError if invalid)."""
        stored = load_state(_Stored, state)
        model = cls(config)
        tiers = len(model.config.tiers)
        days = [stored.today, *stored.past]
        if any(len(d) > tiers or any(len(r) != model._slots for r in d) for d in days):
            raise StateError("consumption: envelopes of another shape")
        if len(stored.above) != len(stored.today) or len(stored.past) != len(stored.past_sums):
            raise StateError("consumption: inconsistent days")
        _add_tiers(stored, tiers, model._slots)
        if any(
            s.slots and len(s.slots) != model._slots for s in [stored.today_sums, *stored.past_sums]
        ):
            raise StateError("consumption: temperatures of another shape")
        model._minutes.extend(stored.minutes)
        model._tenths = model._sum_tenths()
        model._minute = stored.minute
        model._minute_power, model._minute_temp = stored.minute_power, stored.minute_temp
        model._minute_export = stored.minute_export
        model._minute_production = stored.minute_production
        model._day = stored.day
        model._today = stored.today
        model._today_slots = sum(v is not None for v in stored.today[0])
        model._past.extend(stored.past)
        model._today_sums = stored.today_sums
        model._past_sums.extend(stored.past_sums)
        model._envelopes.extend(
            model._day_envelopes(day, sums)
            for day, sums in zip(model._past, model._past_sums, strict=True)
        )
        model.active = stored.active
        model._learn_past()
        model._temperature, model._slope = stored.temperature, stored.slope
        model._above = stored.above
        model._after = stored.after
        model._since, model._run = stored.since, stored.run
        model.score, model._reference = stored.score, stored.reference
        model._around = stored.around
        return model


def _busy_of(known: list[list[float | None]], rank: int, ratio: float) -> set[int]:
    """The slots whose `rank`-th highest value is at least `ratio` x the median of the slots'.

    `known` holds per slot the days' values (None: unknown); a slot with fewer than `rank`
    known is not busy.
    """
    refs: dict[int, float] = {}
    for slot, values in enumerate(known):
        ranked = sorted(v for v in values if v is not None)
        if len(ranked) >= rank:
            refs[slot] = ranked[-rank]
    if not refs:
        return set()
    middle = statistics.median(refs.values())
    return {slot for slot, r in refs.items() if r >= ratio * middle}


def window_highest(row: list[float | None], start: int, width: int) -> list[float | None]:
    """Per slot i, `max` of the known values of the `width` slots from i + `start` (cyclic).

    None where none is known. By doubling: the highest of every run of 1, 2, 4, ... slots from
    each slot, then two overlapping runs of the longest such length cover each window; a few
    passes over the row instead of `width` values per slot, which made a new past day's
    envelopes cost a millisecond. The value kept is the one `max` of the window's values in
    their order keeps (`_higher`), so an int and a float of one value stay which they were.
    """
    runs = row  # the highest of the `length` slots from each slot
    length = 1
    while 2 * length <= width:
        runs = [_higher(a, b) for a, b in zip(runs, _rotated(runs, length), strict=True)]
        length *= 2
    firsts, lasts = _rotated(runs, start), _rotated(runs, start + width - length)
    return [_higher(a, b) for a, b in zip(firsts, lasts, strict=True)]


def _higher(kept: float | None, later: float | None) -> float | None:
    """What `max` keeps of `kept` and a `later` value: `later` only when it is higher.

    So of several equal highest values the first is kept, whichever runs they are combined in.
    """
    return later if later is not None and (kept is None or later > kept) else kept


def _rotated(row: list[float | None], by: int) -> list[float | None]:
    """`row` with the value of slot (i + `by`) mod its length at each slot i."""
    start = by % len(row)
    return row[start:] + row[:start]


def _highest(values: Iterable[float | None], least: int = 1) -> float | None:
    """The highest of the known values (None when fewer than `least` are known)."""
    known = [v for v in values if v is not None]
    return max(known) if len(known) >= least else None


def _add_tiers(stored: _Stored, tiers: int, slots: int) -> None:
    """Give a state stored with fewer tiers (before the 5-minute one) empty rows for the rest.

    A tier without envelopes has no reference until enough days have filled them
    (`_days_known_needed`): the tiers the state had go on judging at once, the new one learns
    from then on.
    """
    empty: list[float | None] = [None] * slots
    for day in [stored.today, *stored.past]:
        day.extend(list(empty) for _ in range(tiers - len(day)))
    stored.above.extend([0] * (tiers - len(stored.above)))
