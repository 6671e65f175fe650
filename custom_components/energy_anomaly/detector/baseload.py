"""Baseload: the home's always-on power, tracked night by night, with an alarm on a lasting step up.

The baseload of a night is the lowest 1-minute mean power between `night_start_hour` and
`night_end_hour` (local wall clock of the readings). The minimum, not a low percentile: fridges
and thermostatic heaters cycle, and on a cold night a heater is on for most minutes, so even the
5th percentile jumps by hundreds of watts; the quietest minute is when everything that cycles is
off, which is what is always on. Zero and negative readings are faults (or PV export), not
consumption, and are left out.

A step up is judged against the home's own previous nights (`history_nights`): their median, or,
when they vary more than the smallest step (heating at night) and the outdoor temperature is known,
a polynomial in the temperature at the quietest minute, so a heat pump that never stops on a cold
night is not a step (unless the polynomial explains the nights no better than their median, as
where heaters run through a few cold nights only: then a night at least as warm as their median
night is judged against the median). A night colder than all of those nights (by
`temperature_margin`) is not judged, whether or not they showed heating: nothing says how much
heating it needs (panel heaters kept at a night setback may never run on the nights learned, and
all night in a cold snap). A night warmer than all of them needs no more heating than the warmest
did, so it is judged against that night's expectation (mirrored for a home that draws more on warm
nights: cooling); where the nights follow the temperature closely (a modulating heat pump), a few
degrees warmer are expected to save what the straight line through the nights says, with a
tolerance, or a server started on the first mild night hides in the heating saved. Where the nights
scatter around the curve (a heat pump runs all night in the cold and cycles above some temperature:
its nights bend there), a night is judged against the nights about as warm as it, colder and warmer
ones, when they agree with each other. A night is a step when it exceeds the expectation by
max(`min_step_w`, `noise_factor` x the robust spread of the nights it came from), and also
everything a night at least as warm drew in the last `memory_nights`: heating only grows as it gets
colder, and a heat pump that cycles on mild nights runs through the night below some temperature, a
jump no fit of a fortnight's mild nights foresees (the memory keeps the nights the check judged
normal, not an odd one). Nothing is judged before the history first holds `history_nights` nights:
the first nights of a new home (its learning fortnight) drift and say little about its usual ones.

Without a temperature, a night within the bar of `usual_nights` of the history's is no step: a
heat pump's cold nights recur, and nothing else tells them apart from a step (`_drawn_often`).

A step must usually be seen on `confirm_nights` nights in a row: one odd night is normal life.
A first step night alarms alone, at `strong_step_score` times the smallest step, when heating
cannot explain it: without a temperature; where the nights follow the temperature, when a
remembered night as cold or colder drew less; where they do not (yet), when it is no colder than
the history's median night. A fridge that no longer stops is then found after its first whole
night. Such an alarm ends, and the night is let go as an odd one, at the first minute the home
draws less than the step again (a heater left on for the night is switched off in the morning;
an always-on load never is); when the expectation came from the temperature it waits for the
next night instead, as the day's heating is not the night's. Once confirmed, a step ends after as
many nights under the bar in a row as confirming it took (a heated night can fall under it by
the fit's error while the step goes on); a night whose bar is wider than the step cannot show it
and is held with it, neither confirming nor ending it. Step nights are held out of the history,
so the step stays visible; once `accept_nights` nights are held, a confirmed step becomes the new
baseline (and the alarm ends): an always-on load is drawn on every night, so the nights learned
before it are kept, moved up by the step (the held nights' median excess over what they
expected), and go on saying how the nights follow the temperature (a heat pump's cold nights,
which the few nights at the new level rarely hold). When none of the held nights could be judged
by them, the held nights start the history afresh and `min_nights` at the new level suffice.

A step night's alarm waits for the morning after it (`morning_minutes`): a load drawn all night
and switched off in the morning (an EV charged on the night tariff, a heater on a timer) is no
step in what the home always draws. The lowest minute of each of the last `floor_days` days, day
or night, is at most the home's always-on power, so after an always-on step no minute is under it
plus the step; a morning minute under it plus half the step forgets the step nights (neither
learned nor held: they show the night's load, not the baseload). Where the expectation came from
the temperature, only the days at least as warm as the morning count: a heat pump that modulated
all day through a cold fortnight draws less on the first mild morning than on any day of it,
step or not. The import of a home with solar panels dips as the sun rises, so there its alarm
is raised when the night ends and no morning is watched.
"""

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time
from statistics import median
from typing import Any, Self

import numpy as np

from .check import DateOrdinal, EpochMinute, Mean, load_state
from .config import MINUTE_S, DetectorConfig
from .model import Cause, Finding, Kind, Reading

MAD_TO_STD = 1.4826  # robust spread: median absolute deviation scaled to a normal's std


@dataclass(slots=True)
class _State:
    """Open minute, open night, learned nights and the alarm (all plain data)."""

    minute: EpochMinute | None = None  # epoch minute of the open minute
    minute_night: DateOrdinal | None = None  # date ordinal of its night, None outside the night
    minute_power: Mean = field(default_factory=Mean)
    minute_temp: Mean = field(default_factory=Mean)
    night: DateOrdinal | None = None
    night_min: float | None = None
    night_temp: float | None = None  # temperature at the quietest minute
    night_minutes: int = 0
    history: list[tuple[float, float | None]] = field(default_factory=list)
    memory: list[tuple[float, float]] = field(default_factory=list)  # normal nights' (W, °C)
    learned: bool = False  # the history once held `history_nights` nights
    held: list[tuple[float, float | None]] = field(default_factory=list)  # a step in question
    steps: int = 0  # judged step nights among them, in a row
    quiet: int = 0  # nights under the bar in a row since the step was confirmed
    step_night: DateOrdinal | None = None  # date ordinal of the first step night
    value: float | None = None
    expected: float | None = None
    alarm_observed: float | None = None  # the confirming night's baseload (W)
    alarm_expected: float | None = None  # what was expected of it (W)
    alarm_temp: float | None = None  # its temperature, when the expectation used it (°C)
    alarm_floor: float | None = None  # a minute below this (W) ends a one-night alarm
    score: float = 0.0  # > 0 while a step alarms
    pending: float = 0.0  # a step night's score, raised once the morning after it has passed
    morning_until: EpochMinute | None = None  # epoch minute the morning after a step night ends
    veto_step: float | None = None  # the step night's step (W), while its morning can undo it
    veto_by_temp: bool = False  # whether its expectation came from the temperature
    minute_day: DateOrdinal | None = None  # date ordinal of the open minute
    floors: list[tuple[DateOrdinal, float, float | None]] = field(
        default_factory=list
    )  # (day, W, °C)
    solar: bool = False  # export seen: the sun can hide load from the import


class BaseloadCheck:
    """Streaming baseload tracker and step-up alarm for one home: `update` per reading.

    A Finding's score is the step over the smallest step that counts (at least 1 while on).
    """

    key = "baseload"

    def __init__(self, config: DetectorConfig | None = None, state: _State | None = None) -> None:
        """Create a tracker that has seen no night yet (or continue from `state`)."""
        self.config = (config or DetectorConfig()).baseload
        self._s = state or _State()
        self._finding: Finding | None = None
        self._finding_key: tuple[int | None, int, float] | None = None  # what it was made of
        self.bar = 1.0  # the score at which it alarms; the engine moves it with the sensitivity

    @property
    def score(self) -> float:
        """The confirmed step over the smallest step that counts (0 while none)."""
        return self._s.score

    @property
    def value(self) -> float | None:
        """The latest night's baseload (W), None before the first night ends."""
        return self._s.value

    @property
    def floor(self) -> float | None:
        """The least the home draws (W): its baseload, None before the first night or with solar.

        A home with solar panels imports less than it uses while the sun shines, down to 0 W.
        """
        return None if self._s.solar else self._s.value

    @property
    def expected(self) -> float | None:
        """The baseload (W) the previous nights led to expect for the latest night, if judged."""
        return self._s.expected

    def update(self, reading: Reading) -> Finding | None:
        """Account for one reading; a Finding while a confirmed step up is not yet accepted.

        The work happens once a minute (close the minute) and once a night (judge it); a
        reading older than the open minute is ignored.
        """
        s = self._s
        minute = int(reading.epoch // MINUTE_S)
        if s.minute is not None and minute < s.minute:
            return self._current(reading.timestamp)
        if minute != s.minute:
            self._close_minute()
            c = self.config
            in_night = c.night_start_hour <= reading.timestamp.hour < c.night_end_hour
            day = reading.timestamp.date().toordinal()
            night = day if in_night else None
            if s.night is not None and night != s.night:
                self._close_night(morning=minute)
            s.minute, s.minute_night, s.minute_day = minute, night, day
            s.minute_power, s.minute_temp = Mean(), Mean()
        # The open minute's sums, added to in place (cheaper than `Mean.add`: every reading)
        if (power := reading.power) > 0:
            s.minute_power.total += power
            s.minute_power.count += 1
        if (temperature := reading.temperature) is not None:
            s.minute_temp.total += temperature
            s.minute_temp.count += 1
        if not s.solar and (production := reading.power_production) is not None:
            s.solar = production > 0
        if not s.score:  # no confirmed step: the common case, on every reading
            return None
        return self._current(reading.timestamp)

    def _current(self, moment: datetime) -> Finding | None:
        """The alarm while a confirmed step is not yet accepted (made once per judged night)."""
        s = self._s
        if not s.score or s.alarm_observed is None or s.step_night is None:
            return None
        key = (s.step_night, s.steps, s.score)
        if self._finding is None or self._finding_key != key:
            first = date.fromordinal(s.step_night)
            since = datetime.combine(first, time(self.config.night_start_hour), moment.tzinfo)
            facts = {"nights": float(s.steps)}
            if s.alarm_temp is not None:
                facts["temperature_c"] = s.alarm_temp
            self._finding = Finding(
                Kind.BASELOAD,
                Cause.BASELOAD_STEP,
                s.score,
                since,
                s.alarm_observed,
                s.alarm_expected,
                "W",
                facts,
            )
            self._finding_key = key
        return self._finding

    def _close_minute(self) -> None:
        """Fold the open minute's mean into its day's floor, a watched morning and its night."""
        s = self._s
        mean = s.minute_power.mean
        temp = s.minute_temp.mean
        if mean is not None:
            self._floor(mean, temp)
        if s.morning_until is not None:
            self._morning(mean, temp)
        if s.alarm_floor is not None and mean is not None and mean < s.alarm_floor:
            self._let_go()
        if s.minute_night is None or mean is None:
            return
        if s.night != s.minute_night:
            s.night, s.night_min, s.night_temp, s.night_minutes = s.minute_night, None, None, 0
        s.night_minutes += 1
        if s.night_min is None or mean < s.night_min:
            s.night_min = mean
            s.night_temp = temp

    def _floor(self, watts: float, temp: float | None) -> None:
        """Keep the quietest minute (W, and °C then) of each of the last `floor_days` days.

        Day or night: their least is at most what the home always draws (a heat pump that runs
        all night stops on a mild afternoon, a load drawn all night is off in the day), plus what
        heating it needed then.
        """
        s = self._s
        if (day := s.minute_day) is None:  # an open minute restored from 0.2.0 or before
            return
        if not s.floors or s.floors[-1][0] != day:
            s.floors.append((day, watts, temp))
            del s.floors[: -self.config.floor_days]
        elif watts < s.floors[-1][1]:
            s.floors[-1] = (day, watts, temp)

    def _home_floor(self, temp: float | None) -> float | None:
        """The least the home drew (W) on the days kept before the step began (None: no day).

        Where the step's expectation came from the temperature, only the days at least as warm
        as `temp` count. A day of the step holds it in its floor. A heat pump that modulated
        through a cold fortnight never stopped: its floor holds heating a mild morning does not
        need.
        """
        s = self._s
        before = [(w, t) for day, w, t in s.floors if day < (s.step_night or 0)]
        if not s.veto_by_temp:
            return min((w for w, _ in before), default=None)
        if temp is None:
            return None
        return min((w for w, t in before if t is not None and t >= temp), default=None)

    def _morning(self, watts: float | None, temp: float | None) -> None:
        """Watch the morning after a step night: a load drawn all night shows there as a dip.

        An always-on step keeps every minute at least the home's floor plus the step; a minute
        under the floor plus half the step says the night's load has stopped (a charger, a
        night's heater): the step nights say nothing of the baseload and are forgotten. Once the
        morning has passed, a step night's alarm is raised.
        """
        s = self._s
        if watts is not None and s.veto_step is not None:
            floor = self._home_floor(temp)
            if floor is not None and watts < floor + s.veto_step / 2:
                self._forget()
                return
        if s.minute is not None and s.morning_until is not None and s.minute + 1 >= s.morning_until:
            self._raise()

    def _forget(self) -> None:
        """The step nights held a load drawn all night: forget them.

        The baseload shown is what was expected of the last one, not its quietest minute with
        that load in it.
        """
        s = self._s
        if s.expected is not None:
            s.value = s.expected
        self._end_step()

    def _raise(self) -> None:
        """The step night's alarm, if it has one, is raised; no morning is watched any more."""
        s = self._s
        if s.pending:
            s.score = s.pending
        s.pending, s.morning_until, s.veto_step = 0.0, None, None

    def learn_night(
        self, night: int, minimum: float, temperature: float | None, minutes: int
    ) -> None:
        """Learn a night of history: its quietest power (W), the temperature then, minutes seen.

        Judged like a live night (the same coverage rule), so a step in the history is held out.
        """
        s = self._s
        s.night, s.night_min, s.night_temp, s.night_minutes = night, minimum, temperature, minutes
        self._close_night()

    def _close_night(self, morning: int | None = None) -> None:
        """Judge the finished night if enough of it was seen, then start afresh.

        A live step night (`morning`: the epoch minute after it) is watched for `morning_minutes`
        before its alarm is raised; a night of history raises it at once, and so does a home with
        solar panels: its morning import dips as the sun rises.
        """
        s, c = self._s, self.config
        night_minutes = (c.night_end_hour - c.night_start_hour) * 60
        if s.night_min is not None and s.night_minutes >= c.min_coverage * night_minutes:
            self._judge(s.night_min, s.night_temp, s.night or 0)
        s.night, s.night_min, s.night_temp, s.night_minutes = None, None, None, 0
        if morning is None or s.solar or not (s.pending or s.veto_step is not None):
            self._raise()
        else:
            s.morning_until = morning + c.morning_minutes

    def _judge(self, watts: float, temp: float | None, night_day: int) -> None:
        """Compare a night's baseload with the expectation; hold, confirm, accept or learn it.

        A night that cannot be judged is learned, or held with the step nights while a step is
        in question (it is likely at the step's level and must not teach the old baseline).
        """
        s, c = self._s, self.config
        s.value = watts
        s.expected = None
        night = (watts, temp)
        expectation = self._expect(temp)
        if expectation is None:
            if s.held:
                self._hold(night)
            else:
                self._learn(night)
            return
        expected, limit, with_temp = expectation
        s.expected = expected
        bar = self.bar * limit  # W above the expected night that make a step
        if self._blind_to_step(bar):
            self._hold(night)
            return
        if (
            watts - expected < bar
            or self._drawn_as_warm(watts - bar, temp)
            or self._drawn_often(watts, bar, temp)
        ):
            if s.steps < c.confirm_nights:  # one odd night, not a step: it is normal life
                self._let_go()
                self._learn(night)
            else:
                self._quiet_night(night)
        else:
            s.steps += 1
            s.quiet = 0
            if s.step_night is None:
                s.step_night = night_day
            score = (watts - expected) / limit
            if self._hold(night):
                return
            if s.floors and not s.solar:
                s.veto_step, s.veto_by_temp = watts - expected, with_temp
            confirmed = s.steps >= c.confirm_nights
            if confirmed or self._unexplained(score, watts - bar, temp, with_temp):
                s.alarm_observed, s.alarm_expected = watts, expected
                s.alarm_temp = temp if with_temp else None
                s.pending = score
                alone = not confirmed and not with_temp
                s.alarm_floor = expected + limit if alone else None

    def _hold(self, night: tuple[float, float | None]) -> bool:
        """Hold a night while a step is in question; settle the step once enough are held."""
        s = self._s
        s.held.append(night)
        if len(s.held) < self.config.accept_nights:
            return False
        self._settle()
        return True

    def _blind_to_step(self, bar: float) -> bool:
        """Whether a night judged with this bar (W) cannot show the step that alarms.

        Where a heat pump's nights bend, a night whose neighbours disagree is judged against
        the curve through all nights, whose bar can be wider than the step: a freezer that goes
        on would pass for a quiet night, two of them would end the step, its nights would be
        forgotten and the next mild night would raise it again. Such a night is held with the
        step's nights instead: it neither confirms nor ends the step.
        """
        s = self._s
        if not s.score or s.alarm_observed is None or s.alarm_expected is None:
            return False
        return bar > s.alarm_observed - s.alarm_expected

    def _quiet_night(self, night: tuple[float, float | None]) -> None:
        """A night under the bar while a confirmed step alarms: it ends after `confirm_nights`.

        A heated home's night can fall under the bar by the fit's error while the step goes
        on; ending the alarm on that one night would raise it again the next, two notifications
        of one step. Ending takes as many quiet nights in a row as confirming took step nights;
        then the step did not last: its nights teach nothing, the quiet ones are learned.
        """
        s = self._s
        s.quiet += 1
        if s.quiet < self.config.confirm_nights:
            self._hold(night)
            return
        quiet = [*s.held[len(s.held) - s.quiet + 1 :], night]
        self._end_step()
        for each in quiet:
            self._learn(each)

    def _let_go(self) -> None:
        """The held nights were odd ones, not a step: learn them as normal life; end any alarm."""
        for held in self._s.held:
            self._learn(held, remember=False)
        self._end_step()

    def _end_step(self) -> None:
        """Forget the held nights and any alarm: no step is in question any more."""
        s = self._s
        s.held = []
        s.steps, s.quiet, s.step_night, s.score, s.alarm_floor = 0, 0, None, 0.0, None
        s.pending, s.morning_until, s.veto_step = 0.0, None, None

    def _drawn_as_warm(self, watts: float, temp: float | None) -> bool:
        """Whether a remembered normal night at least as warm drew `watts` or more.

        Heating only grows as it gets colder, so what a warmer night drew is never a step on a
        colder one. Not "about as warm": on a heat pump's steep curve a degree is 100 W and more,
        a whole fridge that no longer stops.
        """
        if temp is None:
            return False
        return any(w >= watts for w, t in self._s.memory if t >= temp)

    def _drawn_often(self, watts: float, bar: float, temp: float | None) -> bool:
        """Whether, on a night without a temperature, `usual_nights` of the history were like it.

        A heat pump runs through the cold nights and cycles off on the mild ones: without a
        temperature to tell them apart, a night within `bar` (W) of several of the last
        fortnight's is the home's own, not a step (one heater left on, let go as odd, is not
        several). Only nights like it: a fridge that no longer stops raises the mild nights to
        a level none drew, below the cold nights', and is still a step.
        """
        if temp is not None:
            return False
        like = sum(abs(w - watts) <= bar for w, _ in self._s.history)
        return like >= self.config.usual_nights

    def _drawn_less_as_cold(self, watts: float, temp: float) -> bool:
        """Whether a remembered normal night at most as warm drew less than `watts`.

        Then heating cannot explain `watts`: a night as cold or colder needed less.
        """
        return any(w < watts for w, t in self._s.memory if t <= temp)

    def _unexplained(self, score: float, watts: float, temp: float | None, with_temp: bool) -> bool:
        """A first step night that alarms alone: far over the bar and not explained by heating.

        `watts` is the night's power less the bar; where nights follow the temperature a night
        as cold must have drawn less, elsewhere the night must be no colder than usual.

        A heat pump's quietest minute can jump by hundreds of watts between nights a tenth of
        a degree apart (it stops cycling and runs through the night); a fit of a fortnight does
        not foresee that on a mild night, only a second such night confirms a step there.
        """
        if score < self.config.strong_step_score * self.bar:
            return False
        if temp is None:
            return True
        if with_temp:
            return self._drawn_less_as_cold(watts, temp)
        temps = [t for _, t in self._s.history if t is not None]
        return not temps or temp >= median(temps)

    def _settle(self) -> None:
        """Held long enough: a confirmed step is the new baseline, an unconfirmed one is learned.

        Called when `accept_nights` nights are held, so an alarm ends even when warmer nights
        (outside the history's temperatures) cannot be judged.
        """
        s, c = self._s, self.config
        if s.steps < c.confirm_nights:
            self._let_go()
            return
        held = [(w, t) for w, t in s.held if t is not None]
        step = self._step_size()
        if step is None:  # no held night the nights before could judge: start from them
            s.history = s.held[-c.history_nights :]
            s.memory = held
        else:
            s.history = [*((w + step, t) for w, t in s.history), *s.held][-c.history_nights :]
            s.memory = [*((w + step, t) for w, t in s.memory), *held][-c.memory_nights :]
        self._end_step()

    def _step_size(self) -> float | None:
        """How much more the held nights drew than the nights before expected (W, median).

        An accepted step is a load always on from then: every night before would have drawn it
        too. Moved up by it, those nights go on saying how the home's nights follow the
        temperature (a heat pump's cold nights, which the few nights at the new level rarely
        hold). None when no held night can be judged by them (all colder than any of them).
        """
        excess = [
            watts - expectation[0]
            for watts, temp in self._s.held
            if (expectation := self._expect(temp)) is not None
        ]
        return max(median(excess), 0.0) if excess else None

    def _learn(self, night: tuple[float, float | None], *, remember: bool = True) -> None:
        """Add a night to the history; to the memory too when it was normal and has a temperature.

        An odd night let go (`remember=False`) stays out of the memory: one heater left on
        would otherwise excuse that much on every night as warm for weeks.
        """
        s = self._s
        s.history.append(night)
        del s.history[: -self.config.history_nights]
        watts, temp = night
        if remember and temp is not None:
            s.memory.append((watts, temp))
            del s.memory[: -self.config.memory_nights]

    def _expect(self, temp: float | None) -> tuple[float, float, bool] | None:
        """(expected W, smallest step that counts, whether temperature was used) or None.

        The temperature is used only when the nights vary more around their median than the
        smallest step anyway (heating or cooling at night; `_fit`). A night colder than every
        learned one is not judged even when they did not vary: a home may start heating only
        below the nights it has seen. None too while fewer than `min_nights` are known and
        before the home is learned (`learned`).
        """
        s, c = self._s, self.config
        s.learned = s.learned or len(s.history) >= c.history_nights
        if not s.learned or len(s.history) < c.min_nights:
            return None
        watts = [w for w, _ in s.history]
        expected = median(watts)
        limit = max(c.min_step_w, c.noise_factor * _spread([w - expected for w in watts]))
        temps = [t for _, t in s.history if t is not None]
        if temp is None or len(temps) < len(watts):
            return expected, limit, False
        if temp < min(temps) - c.temperature_margin:
            return None
        if limit == c.min_step_w:
            return expected, limit, False
        return self._fit(temp, temps, watts, expected, limit)

    def _fit(
        self, temp: float, temps: list[float], watts: list[float], expected: float, limit: float
    ) -> tuple[float, float, bool] | None:
        """The expectation from a polynomial in the temperature over the history's nights.

        A night warmer than the history's range is judged only when the fit falls away from the
        range (heating): heating only shrinks as it gets warmer, so the warmest night's
        expectation is an upper bound (the first spring nights after a cold fortnight). Where the
        fit explains the nights to within the smallest step, up to `extrapolation_c` beyond the
        range the straight line's fall is taken off it and a share of the fall added to the
        step (a modulating heat pump's curve is known, and it flattens as it warms); where the
        nights scatter (a heater that stops above some temperature) the line says nothing out
        there. With cooling the expectation would be a guess: None. Too few temperatures for a
        curve: the median (`expected`, `limit`). Inside the range, where the nights scatter
        around the curve, the nights about as warm say more when they agree (`_near`).

        Where the curve explains the nights no better than their median (its bar as wide), a
        night at least as warm as the history's median night is judged against the median
        (`expected`, `limit`): heating drawn through a few cold nights only (storage heaters that
        charge on the coldest, panel heaters at a night setback) is a jump no polynomial follows.
        Bent by it, the curve was blind to a +120 W server and a fridge that no longer stops (a
        bar of 110 W to several kW where the quiet nights agree within 30-50 W), or did not
        judge a mild night at all (it rose towards the warm end: "cooling"). A colder night is
        left to the curve, as it may need the heating such nights had.
        """
        c = self.config
        low, high = min(temps), max(temps)
        span = high - low
        degree = 2 if span >= c.quadratic_span_c else 1 if span >= c.linear_span_c else 0
        degree = min(degree, len(set(temps)) - 1)  # a curve needs as many temperatures
        inside = temp <= high + c.temperature_margin
        if degree == 0:
            return (expected, limit, False) if inside else None
        x = np.array(temps)
        y = np.array(watts)
        coefficients = np.polyfit(x, y, degree)
        residuals = (y - np.polyval(coefficients, x)).tolist()
        curve_limit = max(c.min_step_w, c.noise_factor * _spread(residuals))
        if curve_limit >= limit and temp >= median(temps):  # no better than the median
            return expected, limit, False
        limit = curve_limit
        if inside:
            curve = float(np.polyval(coefficients, temp)), limit, True
            near = self._near(temp, temps, watts) if limit > c.min_step_w else None
            return min(curve, near or curve, key=lambda e: e[1])
        if np.polyval(np.polyder(coefficients), high) >= 0:  # cooling: may need more out there
            return None
        at_high = float(np.polyval(coefficients, high))
        beyond = temp - high
        if beyond > c.extrapolation_c or limit > c.min_step_w:
            return at_high, limit, True
        fall = -min(float(np.polyfit(x, y, 1)[0]), 0.0) * beyond  # the straight line's fall (W)
        return at_high - fall, limit + c.extrapolation_tolerance * fall, True

    def _near(
        self, temp: float, temps: list[float], watts: list[float]
    ) -> tuple[float, float, bool] | None:
        """The expectation from the history's nights within `near_c` of `temp`, if they bracket it.

        A heat pump modulates down to its least power and below that cycles on and off: its
        nights' quietest minute follows the cold, then stops falling where it starts cycling (the
        home's own baseload). No polynomial fits that bend, and the scatter around the curve
        would hide a freezer on every mild night; the nights about as warm as this one, some
        colder and some warmer, say what it draws when they agree (none drew more than a step
        over their median). None with fewer than `near_nights` of them, or when one of them
        did: near the bend the heat pump runs through one night and cycles through the next.
        """
        c = self.config
        near = [(t, w) for t, w in zip(temps, watts, strict=True) if abs(t - temp) <= c.near_c]
        if len(near) < c.near_nights or not min(near)[0] <= temp <= max(near)[0]:
            return None
        drawn = [w for _, w in near]
        expected = median(drawn)
        limit = max(c.min_step_w, c.noise_factor * _spread([w - expected for w in drawn]))
        if max(drawn) > expected + limit:  # near its bend: some ran all night, some cycled
            return None
        return expected, limit, True

    def to_state(self) -> dict[str, Any]:
        """Open minute and night, learned nights and the alarm, as JSON-ready plain data."""
        return asdict(self._s)

    @classmethod
    def from_state(cls, state: object, config: DetectorConfig | None = None) -> Self:
        """Restore a tracker saved by `to_state` (StateError when the data is not valid)."""
        return cls(config, load_state(_State, state))


def _spread(residuals: list[float]) -> float:
    """Robust standard deviation: the median absolute deviation, scaled."""
    centre = median(residuals)
    return MAD_TO_STD * median(abs(r - centre) for r in residuals)
