"""Event-based evaluation (issue #3's rules).

- An event is found when an alarm (a reading whose Result.anomaly is True) falls inside it or within
  `grace` (15 min) after its end; its delay is that first alarm's time minus the event's start.
- An alarm episode (maximal run of consecutive readings with anomaly True) is a false alarm when it
  touches no event, the event windows again extended by `grace`. Don't-care regions (events with
  counted=False) neither count as events to find nor make an episode touching them false.
- Only the evaluation period counts: episodes that end before `eval_start` (the learning weeks) are
  reported separately as warm-up episodes.
- A lasting fault (`lasting`) is found when an alarm comes within 48 h of its onset. After that it
  is part of the home: an alarm episode that starts later and touches nothing else is false (a
  detector should say it once, or stay on; an episode begun in the 48 h may run on). A
  don't-care tail to the end would excuse every other false alarm in the rest of that home.
- A new recurring pattern (`recurring`): the first occurrence is the event, the second is
  don't-care, an alarm on the third or a later one is a false alarm.
- Normal-life windows (`Window`: cold snap, overcast days, a DST day, guests, absence) hold no
  event: a false-alarm episode overlapping one is still a false alarm, and is also counted for that
  window's kind, so a table can show which part of normal life a detector mistakes for an anomaly.
- A reason must agree with its kind and values (`reason_problem`): more drawn than expected for
  unusual consumption, a new pattern and a baseload step; a value beyond its limit for a meter
  fault or power quality; a start that is not after the alarm.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
import statistics
from typing import TYPE_CHECKING

import numpy as np

from custom_components.energy_anomaly.detector.model import Cause, Finding
from custom_components.energy_anomaly.detector.render import render

from .streams import KINDS, Event

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from datetime import datetime


GRACE = 15 * 60
LASTING_FOUND_WITHIN = 48 * 3_600  # s: a lasting fault must be found this soon after its onset


@dataclass(frozen=True)
class Window:
    """A labelled stretch of normal life, [start, end] in seconds (see the module docstring)."""

    kind: str
    start: int
    end: int


def lasting(kind: str, start: int, end: int, what: str) -> list[Event]:
    """Labels of a fault that lasts: the event is its first 48 h (see the module docstring)."""
    return [Event(kind, start, min(end, start + LASTING_FOUND_WITHIN), what)]


def recurring(kind: str, occurrences: Sequence[tuple[int, int]], what: str) -> list[Event]:
    """Labels of a new recurring pattern: occurrence 1 counted, 2 don't-care, 3+ unlabelled.

    A detector may need the second occurrence to tell a new habit from a one-off; from the third
    on, the habit is normal life and an alarm on it is false.
    """
    labels = []
    for k, (start, end) in enumerate(occurrences[:2]):
        labels.append(Event(kind, start, end, f"{what}: occurrence {k + 1}", counted=k == 0))
    return labels


# Per cause: does the finding's observed value lie beyond what it says is normal?
BEYOND: dict[Cause, Callable[[float, float | None, Mapping[str, float]], bool]] = {
    Cause.ZEROS: lambda o, e, f: o == 0 and e is not None and e > 0,
    Cause.NEGATIVE: lambda o, e, f: o < 0,
    Cause.FROZEN: lambda o, e, f: f["lasted_s"] > f["longest_s"],
    Cause.GAP: lambda o, e, f: f["lasted_s"] > f["spacing_s"],
    Cause.UNDERVOLTAGE: lambda o, e, f: o < f["low_v"],
    Cause.LOST_PHASE: lambda o, e, f: o < f["low_v"],
    Cause.OVERVOLTAGE: lambda o, e, f: o > f["high_v"],
    Cause.OVERCURRENT: lambda o, e, f: e is not None and o > e,
    Cause.HIGH_CONSUMPTION: lambda o, e, f: e is not None and o > e,
    Cause.LOAD_WHILE_AWAY: lambda o, e, f: e is not None and o > e,
    Cause.DAILY_PATTERN: lambda o, e, f: e is not None and o > e,
    Cause.BASELOAD_STEP: lambda o, e, f: e is not None and o > e,
}


def reason_problem(finding: Finding, raised: datetime) -> str | None:
    """What is wrong with a finding raised at `raised`, as its reason says it; None if nothing."""
    said = render(finding)
    if finding.since > raised:
        return f"starts {finding.since:%d.%m %H:%M}, after the alarm: {said}"
    observed = 0.0 if finding.observed is None else finding.observed
    if finding.observed is None and finding.cause is not Cause.GAP:
        return f"no observed value: {said}"
    if not BEYOND[finding.cause](observed, finding.expected, finding.facts):
        return f"{finding.kind}, but {observed:g} against {finding.expected}: {said}"
    return None


@dataclass(frozen=True)
class Outcome:
    event: Event
    found: bool
    delay: float | None  # seconds


@dataclass(frozen=True)
class HomeEvaluation:
    outcomes: list[Outcome]
    false_alarms: int
    episodes: int
    warmup_episodes: int
    weeks: float
    alarm_share_outside: (
        float  # share of evaluation-period readings in alarm outside any event window
    )
    false_episodes: list[tuple[int, int]]
    window_alarms: Counter[str] = field(default_factory=Counter)  # false episodes per window kind


def episodes(t: np.ndarray, alarm: np.ndarray) -> list[tuple[int, int]]:
    """Maximal runs of alarm=True as (time of first, time of last) reading."""
    a = np.asarray(alarm, dtype=np.int8)
    if not len(a):
        return []
    edges = np.diff(np.concatenate([[0], a, [0]]))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1) - 1
    return [(int(t[s]), int(t[e])) for s, e in zip(starts, ends, strict=True)]


def evaluate(
    t: np.ndarray,
    alarm: np.ndarray,
    events: Sequence[Event],
    eval_start: int,
    eval_end: int,
    *,
    grace: int = GRACE,
    normal_life: Sequence[Window] = (),
) -> HomeEvaluation:
    """Score one home's alarm series (`alarm[i]` = state right after the reading at `t[i]`)."""
    t = np.asarray(t)
    alarm = np.asarray(alarm, dtype=bool)
    outcomes = []
    for ev in events:
        if not ev.counted:
            continue
        lo = int(np.searchsorted(t, ev.start, side="left"))
        hi = int(np.searchsorted(t, ev.end + grace, side="right"))
        hits = np.flatnonzero(alarm[lo:hi])
        if len(hits):
            outcomes.append(Outcome(ev, True, float(t[lo + hits[0]] - ev.start)))
        else:
            outcomes.append(Outcome(ev, False, None))
    windows = [(ev.start, ev.end + grace) for ev in events]
    false_eps: list[tuple[int, int]] = []
    n_eps = warm = 0
    for s, e in episodes(t, alarm):
        if e < eval_start:
            warm += 1
            continue
        n_eps += 1
        if not any(s <= we and e >= ws for ws, we in windows):
            false_eps.append((s, e))
    in_eval = t >= eval_start
    outside = in_eval.copy()
    for ws, we in windows:
        outside &= ~((t >= ws) & (t <= we))
    share = float(alarm[outside].mean()) if outside.any() else 0.0
    in_window: Counter[str] = Counter()
    for s, e in false_eps:
        in_window.update({w.kind for w in normal_life if s <= w.end and e >= w.start})
    return HomeEvaluation(
        outcomes=outcomes,
        false_alarms=len(false_eps),
        episodes=n_eps,
        warmup_episodes=warm,
        weeks=(eval_end - eval_start) / (7 * 86_400),
        alarm_share_outside=share,
        false_episodes=false_eps,
        window_alarms=in_window,
    )


@dataclass(frozen=True)
class Summary:
    recall: dict[str, float | None]  # per kind
    delay_min: dict[str, float | None]  # median delay of found events, minutes
    found: dict[str, tuple[int, int]]  # per kind: (found, total)
    overall_recall: float | None
    false_alarms: int
    home_weeks: float
    fa_per_home_week: float
    warmup_episodes: int
    alarm_share_outside: float
    window_alarms: Counter[str] = field(default_factory=Counter)


def summarise(homes: Sequence[HomeEvaluation], kinds: Sequence[str] = KINDS) -> Summary:
    """Pool homes: recall and median delay per kind, overall recall, false alarms/home-week."""
    outcomes = [o for h in homes for o in h.outcomes]
    recall: dict[str, float | None] = {}
    delay: dict[str, float | None] = {}
    found: dict[str, tuple[int, int]] = {}
    for kind in kinds:
        mine = [o for o in outcomes if o.event.kind == kind]
        hits = [o for o in mine if o.found]
        found[kind] = (len(hits), len(mine))
        recall[kind] = len(hits) / len(mine) if mine else None
        delays = [o.delay / 60 for o in hits if o.delay is not None]
        delay[kind] = statistics.median(delays) if delays else None
    fa = sum(h.false_alarms for h in homes)
    weeks = sum(h.weeks for h in homes)
    share = sum(h.alarm_share_outside * h.weeks for h in homes) / weeks if weeks else 0.0
    return Summary(
        recall=recall,
        delay_min=delay,
        found=found,
        overall_recall=sum(o.found for o in outcomes) / len(outcomes) if outcomes else None,
        false_alarms=fa,
        home_weeks=weeks,
        fa_per_home_week=fa / weeks if weeks else 0.0,
        warmup_episodes=sum(h.warmup_episodes for h in homes),
        alarm_share_outside=share,
        window_alarms=sum((h.window_alarms for h in homes), Counter()),
    )
