"""Every alarm the benchmark raises has a reason that agrees with its kind and values (issue #8).

The detector runs once over all eleven homes of the `homes` suite (about a minute and a half of
CPU, in the test process: sockets, which a process pool needs, are closed in tests); the tests
share that run.
"""

from datetime import UTC, datetime
from functools import cache

from benchmarks import households
from benchmarks.detection import Scored, explain, reason_problems, score
from benchmarks.evaluation import evaluate, reason_problem
from custom_components.energy_anomaly.detector.model import Cause, Finding, Kind

NOON = datetime(2024, 3, 20, 12, 0, tzinfo=UTC)


@cache
def runs() -> dict[tuple[str, int], Scored]:
    homes = range(len(households.streams()))
    return score(["energy_anomaly"], "homes", list(homes), jobs=1)


def test_every_alarm_of_every_home_has_a_reason_that_agrees_with_it() -> None:
    ss = households.streams()
    problems = [p for (_, h), run in runs().items() for p in reason_problems(run, ss[h])]
    raised = sum(f is not None for run in runs().values() for _, f in run.changes)

    assert raised > 50  # every home raises alarms: the check is not vacuous
    assert problems == []


def test_each_false_alarm_is_explained_with_the_finding_behind_it() -> None:
    s = next(s for s in households.streams() if s.home == "three_phase_sauna")  # a Saturday lunch
    h = households.streams().index(s)
    run = runs()["energy_anomaly", h]
    ev = evaluate(s.t, run.alarms, s.events, s.eval_start, s.eval_end, normal_life=s.windows)
    lines = [*explain(run, s, ev).splitlines(), ""]
    false_at = [i for i, line in enumerate(lines) if line.endswith(" FALSE")]

    assert ev.false_alarms > 0  # the home has one: the check is not vacuous
    assert len(false_at) == ev.false_alarms
    assert all(" since " in lines[i + 1] for i in false_at)  # each followed by its finding


def _finding(kind: Kind, cause: Cause, observed: float, expected: float) -> Finding:
    return Finding(kind, cause, 1.0, NOON, observed, expected, "W", {"certainty": 1.0})


def test_unusual_consumption_at_or_below_the_usual_is_a_contradiction() -> None:
    below = _finding(Kind.UNUSUAL_CONSUMPTION, Cause.HIGH_CONSUMPTION, 600.0, 2100.0)
    above = _finding(Kind.UNUSUAL_CONSUMPTION, Cause.HIGH_CONSUMPTION, 2100.0, 600.0)

    assert reason_problem(below, NOON) is not None
    assert reason_problem(above, NOON) is None


def test_a_new_pattern_of_using_less_is_a_contradiction() -> None:
    less = _finding(Kind.NEW_PATTERN, Cause.DAILY_PATTERN, 1686.0, 2104.0)
    less = Finding(less.kind, less.cause, 1.0, NOON, 1686.0, 2104.0, "W", {"window_h": 24.0})

    assert reason_problem(less, NOON) is not None


def test_a_reason_that_starts_after_its_alarm_is_a_contradiction() -> None:
    later = _finding(Kind.UNUSUAL_CONSUMPTION, Cause.HIGH_CONSUMPTION, 2100.0, 600.0)

    assert reason_problem(later, NOON.replace(hour=11)) is not None
