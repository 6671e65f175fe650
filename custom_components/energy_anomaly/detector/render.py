"""Findings in plain English: the default wording of a finding's facts (the `reason`).

The engine only states facts; this is one way to say them, used by `scripts/score` and the
benchmark. The Home Assistant shell words a finding from its translations (`reasons.py`), its log
line too (in English, in Home Assistant's units). Times are the finding's own wall clock.
"""

from .model import TIME_OF_DAY, Cause, Finding

KW_FROM_W = 100.0  # from this many watts on, power is said in kW
SECONDS_SAID_UP_TO = 90.0  # durations up to this are said in seconds ...
MINUTES_SAID_UP_TO = 5400.0  # ... then in minutes up to this, then in hours
# Decimals of a duration under half a second (a meter's spacing): whole seconds would say "0 s"
SUB_SECOND_DECIMALS = 1


# Decimals a value may be given beyond its limit's whole unit, to read beyond it (a meter's
# voltage or current has at most 3)
MOST_DECIMALS_BEYOND = 3


def format_power(watts: float, *, decimals: int | None = None) -> str:
    """Power the way people say it: "80 W", "0.3 kW", "2.1 kW".

    With `decimals`, in watts always ("432 W", "427.5 W"): see `watts_decimals`.
    """
    if decimals is not None:
        return f"{watts:z.{decimals}f} W"
    if abs(watts) < KW_FROM_W:
        return f"{watts:z.0f} W"
    return f"{watts / 1000:z.1f} kW"


def said_watts(watts: float) -> float:
    """The power `format_power` says, in watts: 432.8 W is "0.4 kW", 400 W."""
    return round(watts) if abs(watts) < KW_FROM_W else round(watts / 1000, 1) * 1000


def watts_decimals(observed: float, expected: float) -> int | None:
    """The decimals of two powers said side by side in watts, or None as people say them.

    "0.4 kW drawn ... more than the 0.4 kW" for 433 W against 428 W, "0.1 kW ... 100 W" for 104 W
    against 99.6 W, "428 W ... more than the 428 W" for 428 W against an away bar of 427.5 W:
    powers that read alike are said in watts, with the fewest decimals that tell them apart (at
    most MOST_DECIMALS_BEYOND), so a reason's values agree with its kind (observed above expected).
    """
    if said_watts(observed) != said_watts(expected):
        return None
    for decimals in range(MOST_DECIMALS_BEYOND):
        if round(observed, decimals) != round(expected, decimals):
            return decimals
    return MOST_DECIMALS_BEYOND


def decimals_beyond(value: float, limit: float, *, above: bool) -> int:
    """The fewest decimals with which `value` reads beyond `limit`, itself said whole.

    A sag to 206.6 V said whole reads "207 V (normal 207-253 V)", inside the range it left;
    "206.6 V" does not. 25.4 A on a 25 A fuse likewise. At most MOST_DECIMALS_BEYOND.
    """
    said_limit = round(limit)
    for decimals in range(MOST_DECIMALS_BEYOND):
        said = round(value, decimals)
        if (said > said_limit) if above else (said < said_limit):
            return decimals
    return MOST_DECIMALS_BEYOND


def seconds_decimals(seconds: float) -> int:
    """Decimals a duration in seconds is said with: one where whole seconds would say 0."""
    return SUB_SECOND_DECIMALS if round(seconds) == 0 else 0


def format_duration(seconds: float) -> str:
    """A duration the way people say it: "0.5 s", "40 s", "12 minutes", "1.5 hours"."""
    if seconds < SECONDS_SAID_UP_TO:
        return f"{seconds:z.{seconds_decimals(seconds)}f} s"
    if seconds < MINUTES_SAID_UP_TO:
        return f"{seconds / 60:z.0f} minutes"
    return f"{seconds / 3600:z.1f} hours"


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
        f"but this home always draws at least {_expected(f):z.0f} W"
    )


def _negative(f: Finding) -> str:
    return (
        f"Power has been negative (down to {_value(f):z.0f} W) for "
        f"{format_duration(f.facts['lasted_s'])} without any production"
    )


def _frozen(f: Finding) -> str:
    what = "Power fed into the grid" if frozen_on_export(_value(f)) else "Power"
    return (
        f"{what} has been exactly {abs(_value(f)):z.0f} W for "
        f"{format_duration(f.facts['lasted_s'])}; "
        f"it never stayed the same for more than {format_duration(f.facts['longest_s'])} before"
    )


def frozen_on_export(watts: float) -> bool:
    """Whether a frozen value is a meter stuck on an export, which reads below 0.

    Its Power shows 0 W; the power fed in is what is stuck. Below 0 as said in whole watts: a
    clamp's offset of -0.3 W is the Power's 0 W.
    """
    return round(watts) < 0


def _gap(f: Finding) -> str:
    return (
        f"No readings for {format_duration(f.facts['lasted_s'])} (usually one every "
        f"{format_duration(f.facts['spacing_s'])})"
    )


def voltage_decimals(f: Finding) -> int:
    """Decimals of a voltage finding's value, so it reads outside its normal range."""
    if f.cause is Cause.OVERVOLTAGE:
        return decimals_beyond(_value(f), f.facts["high_v"], above=True)
    return decimals_beyond(_value(f), f.facts["low_v"], above=False)


def current_decimals(f: Finding) -> int:
    """Decimals of an overcurrent finding's value, so it reads above the fuse."""
    return decimals_beyond(_value(f), _expected(f), above=True)


def _voltage(f: Finding) -> str:
    return (
        f"Voltage on L{f.facts['phase']:z.0f} has been {_value(f):z.{voltage_decimals(f)}f} V for "
        f"{format_minutes(f.facts['lasted_s'])} "
        f"(normal {f.facts['low_v']:z.0f}-{f.facts['high_v']:z.0f} V)"
    )


def _lost_phase(f: Finding) -> str:
    return (
        f"L{f.facts['phase']:z.0f} has been lost ({_value(f):z.0f} V) for "
        f"{format_minutes(f.facts['lasted_s'])}: a blown fuse or a cut supply"
    )


def _current(f: Finding) -> str:
    return (
        f"Current on L{f.facts['phase']:z.0f} is {_value(f):z.{current_decimals(f)}f} A, above the "
        f"{_expected(f):z.0f} A fuse, for {format_minutes(f.facts['lasted_s'])}"
    )


def _powers(f: Finding) -> tuple[str, str]:
    """A consumption finding's observed and expected power, said so that they differ."""
    decimals = watts_decimals(_value(f), _expected(f))
    return format_power(_value(f), decimals=decimals), format_power(_expected(f), decimals=decimals)


def _consumption(f: Finding) -> str:
    observed, expected = _powers(f)
    drawn = f"{observed} drawn since {f.since:%H:%M}"
    if f.facts.get("certainty", 1.0) < 1.0:
        when = "around this time of day" if TIME_OF_DAY in f.facts else "at any hour"
        return (
            f"{drawn}, far above the {expected} this home drew {when} "
            f"so far (still learning, {f.facts['certainty']:.0%} of the learning period known)"
        )
    return f"{drawn}, at most about {expected} usual at this hour"


def _away(f: Finding) -> str:
    observed, expected = _powers(f)
    return (
        f"{observed} drawn since {f.since:%H:%M} while away, more than the "
        f"{expected} the empty home draws"
    )


def _pattern(f: Finding) -> str:
    return (
        f"The last {f.facts['window_h']:z.0f} h do not follow this home's daily pattern: "
        f"the last hour averaged {_value(f):z.0f} W, {_expected(f):z.0f} W expected"
    )


def _baseload(f: Finding) -> str:
    temperature = f.facts.get("temperature_c")
    at = "" if temperature is None else f" at {temperature:z.0f} °C"  # z: -0.4 is "0", not "-0"
    nights = f.facts["nights"]
    return (
        f"Baseload has been about {_value(f):z.0f} W for {nights:z.0f} night{'s' * (nights != 1)}, "
        f"up {whole_rise(f):z.0f} W from the usual {_expected(f):z.0f} W{at}"
    )


def whole_rise(f: Finding) -> int:
    """A baseload step's rise as the difference of the whole watts said.

    "About 240 W, up 80 W from the usual 160 W" for 240.4 W against 159.6 W, not "up 81 W".
    """
    return round(_value(f)) - round(_expected(f))


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
