"""Stored states of earlier versions, brought to the current format so an upgrade keeps learning.

Version 2 (integration 0.1.0) kept running sums as positional lists and alarm sentences instead
of facts. What maps is moved to its new place; an alarm in progress of the baseload check, which
v2 kept only as a sentence, is dropped (the next night confirms it again). Anything unexpected
raises StateError, as for any damaged state.
"""

from typing import Any

from .check import StateError

Data = dict[str, Any]


def upgrade(state: Data) -> Data:
    """The state in the current format (version 3); StateError when it cannot be read."""
    version = state.get("version")
    if version == 2:
        try:
            return _from_v2(state)
        except (KeyError, TypeError, ValueError, IndexError) as err:
            raise StateError(f"cannot upgrade the version 2 state: {err!r}") from err
    return state


def _mean(total: Any, count: Any) -> Data:
    return {"total": total, "count": count}


def _day_sums(sums: list[Any]) -> Data:
    power, minutes, temperature, with_temperature = sums
    return {"power": _mean(power, minutes), "temperature": _mean(temperature, with_temperature)}


def _from_v2(state: Data) -> Data:
    consumption, parx, baseload = state["consumption"], state["parx"], state["baseload"]
    power, count, temperature, with_temperature = parx["sums"]
    model = {key: value for key, value in parx["model"].items() if key != "fitted_day"}
    return {
        "version": 3,
        "options": state["options"],
        "last_epoch": state["last_epoch"],
        "faults": state["faults"],
        "power_quality": state["power_quality"],
        "consumption": {
            **{
                key: consumption[key]
                for key in (
                    "minutes",
                    "minute",
                    "day",
                    "today",
                    "past",
                    "temperature",
                    "slope",
                    "above",
                    "since",
                    "score",
                    "reference",
                )
            },
            "minute_power": _mean(consumption["sum"], consumption["count"]),
            "minute_temp": _mean(*consumption["minute_temp"]),
            "today_sums": _day_sums(consumption["today_sums"]),
            "past_sums": [_day_sums(sums) for sums in consumption["past_sums"]],
            "run": _mean(*consumption["run"]),
        },
        "pattern": {
            "model": model,
            "hour": parx["hour"],
            "power": _mean(power, count),
            "temperature": _mean(temperature, with_temperature),
            "verdict": parx["verdict"],
        },
        "baseload": {
            **{
                key: baseload[key]
                for key in (
                    "minute",
                    "minute_night",
                    "night",
                    "night_min",
                    "night_temp",
                    "night_minutes",
                    "history",
                    "held",
                    "steps",
                    "value",
                    "expected",
                )
            },
            "minute_power": _mean(baseload["minute_sum"], baseload["minute_count"]),
            "minute_temp": _mean(baseload["minute_temp_sum"], baseload["minute_temp_count"]),
        },
    }
