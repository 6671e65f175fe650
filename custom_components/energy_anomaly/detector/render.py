"""Findings in plain English: the default wording of a finding's facts (the `reason`).

The engine only states facts; this is one way to say them, used by `scripts/score`, the benchmark
and as the Home Assistant shell's fallback. Times are the finding's own wall clock.
"""

from .model import TIME_OF_DAY, Cause, Finding

KW_FROM_W = 100.0  # from this many watts on, power is said in kW
SECONDS_SAID_UP_TO = 90.0  # durations up to this are said in seconds ...
MINUTES_SAID_UP_TO = 5400.0  # ... then in minutes up to this, then in hours


def format_power(watts: float) -> str:
    """Power the way people say it: "80 W", "0.3 kW", "2.1 kW"."""
    if abs(watts) < KW_FROM_W:
        return f"{watts:.0f} W"
    return f"{watts / 1000:.1f} kW"


def format_duration(seconds: float) -> str:
    """A duration the way people say it: "40 s", "12 minutes", "1.5 hours"."""
    if seconds < SECONDS_SAID_UP_TO:
        return f"{seconds:.0f} s"
    if seconds < MINUTES_SAID_UP_TO:
        return f"{seconds / 60:.0f} minutes"
    return f"{seconds / 3600:.1f} hours"


def format_minutes(seconds: float) -> str:
    """Whole minutes, at least one: "1 minute", "2 minutes"."""
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def render(finding: Finding) -> str:
    """The finding as one English sentence."""
    return _SENTENCES[finding.cause](finding)


def _value(finding: Finding) -> float:
    return finding.observed if finding.observed is not None else 0.0


def _expected(finding: Finding) -> float:
    return finding.expected if finding.expected is not None else 0.0


def _zeros(f: Finding) -> str:
    return (
        f"Power has been reported as exactly 0 W for {format_duration(f.facts['lasted_s'])}, "
        f"but this home always draws at least {_expected(f):.0f} W"
    )


def _negative(f: Finding) -> str:
    return (
        f"Power has been negative (down to {_value(f):.0f} W) for "
        f"{format_duration(f.facts['lasted_s'])} without any production"
    )


def _frozen(f: Finding) -> str:
    return (
        f"Power has been exactly {_value(f):.0f} W for {format_duration(f.facts['lasted_s'])}; "
        f"it never stayed the same for more than {format_duration(f.facts['longest_s'])} before"
    )


def _gap(f: Finding) -> str:
    return (
        f"No readings for {format_duration(f.facts['lasted_s'])} (usually one every "
        f"{format_duration(f.facts['spacing_s'])})"
    )


def _voltage(f: Finding) -> str:
    return (
        f"Voltage on L{f.facts['phase']:.0f} has been {_value(f):.0f} V for "
        f"{format_minutes(f.facts['lasted_s'])} "
        f"(normal {f.facts['low_v']:.0f}-{f.facts['high_v']:.0f} V)"
    )


def _lost_phase(f: Finding) -> str:
    return (
        f"L{f.facts['phase']:.0f} has been lost ({_value(f):.0f} V) for "
        f"{format_minutes(f.facts['lasted_s'])}: a blown fuse or a cut supply"
    )


def _current(f: Finding) -> str:
    return (
        f"Current on L{f.facts['phase']:.0f} is {_value(f):.0f} A, above the "
        f"{_expected(f):.0f} A fuse, for {format_minutes(f.facts['lasted_s'])}"
    )


def _consumption(f: Finding) -> str:
    drawn = f"{format_power(_value(f))} drawn since {f.since:%H:%M}"
    if f.facts.get("certainty", 1.0) < 1.0:
        when = "around this time of day" if TIME_OF_DAY in f.facts else "at any hour"
        return (
            f"{drawn}, far above the {format_power(_expected(f))} this home drew {when} "
            f"so far (still learning, {f.facts['certainty']:.0%} of the learning period known)"
        )
    return f"{drawn}, at most about {format_power(_expected(f))} usual at this hour"


def _away(f: Finding) -> str:
    return (
        f"{format_power(_value(f))} drawn since {f.since:%H:%M} while away, more than the "
        f"{format_power(_expected(f))} the empty home draws"
    )


def _pattern(f: Finding) -> str:
    return (
        f"The last {f.facts['window_h']:.0f} h do not follow this home's daily pattern: "
        f"the last hour used {_value(f):.0f} W, {_expected(f):.0f} W expected"
    )


def _baseload(f: Finding) -> str:
    temperature = f.facts.get("temperature_c")
    at = "" if temperature is None else f" at {temperature:.0f} °C"
    nights = f.facts["nights"]
    return (
        f"Baseload has been about {_value(f):.0f} W for {nights:.0f} night{'s' * (nights != 1)}, "
        f"up {_value(f) - _expected(f):.0f} W from the usual {_expected(f):.0f} W{at}"
    )


_SENTENCES = {
    Cause.ZEROS: _zeros,
    Cause.NEGATIVE: _negative,
    Cause.FROZEN: _frozen,
    Cause.GAP: _gap,
    Cause.UNDERVOLTAGE: _voltage,
    Cause.OVERVOLTAGE: _voltage,
    Cause.LOST_PHASE: _lost_phase,
    Cause.OVERCURRENT: _current,
    Cause.HIGH_CONSUMPTION: _consumption,
    Cause.LOAD_WHILE_AWAY: _away,
    Cause.DAILY_PATTERN: _pattern,
    Cause.BASELOAD_STEP: _baseload,
}
