"""A finding's reason in Home Assistant's language: its facts worded from the translation files.

The templates are the `common` section of `translations/<language>.json`: the one section hassfest
lets an integration fill with its own strings. So the sentences live where every other string of
the integration is translated, the translation tests check each key and placeholder in every
language, and Home Assistant's loader falls back to English for a key a language lacks. Home
Assistant loads the section for its configured language when it sets up the integration, and again
when the user changes the language, so a reason is worded synchronously from that cache (entity
attributes and bus events are written in callbacks). Numbers use the language's decimal separator
(itself a template); times are the finding's own wall clock, the home's time zone.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from homeassistant.const import UnitOfTemperature
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.translation import async_get_cached_translations
from homeassistant.util.unit_conversion import TemperatureConverter

from .const import DOMAIN
from .detector.model import TIME_OF_DAY, Cause, Finding
from .detector.render import (
    KW_FROM_W,
    MINUTES_SAID_UP_TO,
    SECONDS_SAID_UP_TO,
    current_decimals,
    frozen_on_export,
    seconds_decimals,
    voltage_decimals,
    watts_decimals,
    whole_rise,
)

CATEGORY = "common"
FALLBACK_LANGUAGE = "en"
_PREFIX = f"component.{DOMAIN}.{CATEGORY}."
SECONDS_PER_MINUTE = 60.0
SECONDS_PER_HOUR = 3600.0
W_PER_KW = 1000.0


@dataclass(frozen=True, slots=True)
class Wording:
    """One language's templates (the `common` section, by key) and how it writes numbers.

    `temperature_unit`: the unit Home Assistant shows temperatures in (°F in a US home).
    """

    texts: Mapping[str, str]
    temperature_unit: str = UnitOfTemperature.CELSIUS

    def text(self, key: str, **values: str) -> str:
        """The template `key` with its placeholders filled in."""
        return self.texts[_PREFIX + key].format(**values)

    def number(self, value: float, decimals: int = 0) -> str:
        """`value` rounded to `decimals`, with the language's decimal separator: "1,5"."""
        # z: a value that rounds to 0 is "0", whatever its sign ("at 0 °C" for -0.4 °C)
        return f"{value:z.{decimals}f}".replace(".", self.texts[_PREFIX + "decimal_separator"])

    def watts(self, value: float) -> str:
        """A power in whole watts: "80 W"."""
        return f"{self.number(value)} W"

    def power(self, watts: float, *, decimals: int | None = None) -> str:
        """Power the way people say it: "80 W", "0,3 kW", "2,1 kW".

        With `decimals`, in watts always ("432 W", "427,5 W": see `watts_decimals`).
        """
        if decimals is not None:
            return f"{self.number(watts, decimals)} W"
        if abs(watts) < KW_FROM_W:
            return self.watts(watts)
        return f"{self.number(watts / W_PER_KW, 1)} kW"

    def duration(self, seconds: float) -> str:
        """A duration in seconds, whole minutes or hours with one decimal, by its length."""
        if seconds < SECONDS_SAID_UP_TO:
            return self.text(
                "duration_seconds", count=self.number(seconds, seconds_decimals(seconds))
            )
        if seconds < MINUTES_SAID_UP_TO:
            return self.text("duration_minutes", count=self.number(seconds / SECONDS_PER_MINUTE))
        return self.text("duration_hours", count=self.number(seconds / SECONDS_PER_HOUR, 1))

    def minutes(self, seconds: float) -> str:
        """Whole minutes, at least one, singular or plural: "1 minute", "2 minutes"."""
        return self.count("minutes", max(1, round(seconds / SECONDS_PER_MINUTE)))

    def temperature(self, celsius: float) -> str:
        """A temperature in whole degrees of Home Assistant's unit: "-4 °C", "24 °F"."""
        degrees = TemperatureConverter.convert(
            celsius, UnitOfTemperature.CELSIUS, self.temperature_unit
        )
        return f"{self.number(degrees)} {self.temperature_unit}"

    def count(self, unit: str, count: int) -> str:
        """`count` of `unit` (a key with `_one` and `_other` forms): "1 night", "3 nights"."""
        return self.text(f"{unit}_one" if count == 1 else f"{unit}_other", count=self.number(count))


@callback
def async_wording(hass: HomeAssistant) -> Wording:
    """The templates in Home Assistant's language, else in English.

    Right after the user changed the language its templates may still be loading: English until
    then. English is loaded whenever the integration is set up (it is every language's fallback).
    """
    texts = async_get_cached_translations(hass, hass.config.language, CATEGORY, DOMAIN)
    if _PREFIX + "decimal_separator" not in texts:
        texts = async_get_cached_translations(hass, FALLBACK_LANGUAGE, CATEGORY, DOMAIN)
    return Wording(texts, hass.config.units.temperature_unit)


@callback
def async_reason(hass: HomeAssistant, finding: Finding) -> str:
    """The finding as one sentence in Home Assistant's language."""
    return reason(async_wording(hass), finding)


@callback
def async_log_reason(hass: HomeAssistant, finding: Finding) -> str:
    """The finding as one English sentence, for the log (in Home Assistant's units: °F)."""
    texts = async_get_cached_translations(hass, FALLBACK_LANGUAGE, CATEGORY, DOMAIN)
    return reason(Wording(texts, hass.config.units.temperature_unit), finding)


def reason(wording: Wording, finding: Finding) -> str:
    """The finding as one sentence in `wording`'s language."""
    key, values = _SENTENCES[finding.cause](wording, finding)
    return wording.text(f"reason_{key}", **values)


type Sentence = tuple[str, dict[str, str]]


def _observed(finding: Finding) -> float:
    return finding.observed if finding.observed is not None else 0.0


def _expected(finding: Finding) -> float:
    return finding.expected if finding.expected is not None else 0.0


def _zeros(w: Wording, f: Finding) -> Sentence:
    return "zeros", {"duration": w.duration(f.facts["lasted_s"]), "expected": w.watts(_expected(f))}


def _negative(w: Wording, f: Finding) -> Sentence:
    return "negative", {
        "observed": w.watts(_observed(f)),
        "duration": w.duration(f.facts["lasted_s"]),
    }


def _frozen(w: Wording, f: Finding) -> Sentence:
    return "frozen_export" if frozen_on_export(_observed(f)) else "frozen", {
        "observed": w.watts(abs(_observed(f))),
        "duration": w.duration(f.facts["lasted_s"]),
        "longest": w.duration(f.facts["longest_s"]),
    }


def _gap(w: Wording, f: Finding) -> Sentence:
    return "gap", {
        "duration": w.duration(f.facts["lasted_s"]),
        "spacing": w.duration(f.facts["spacing_s"]),
    }


def _on_phase(w: Wording, f: Finding, decimals: int = 0) -> dict[str, str]:
    """What a power-quality sentence says of a phase: which, the value (V or A), how long."""
    return {
        "phase": w.number(f.facts["phase"]),
        "observed": f"{w.number(_observed(f), decimals)} {f.unit}",
        "duration": w.minutes(f.facts["lasted_s"]),
    }


def _voltage(w: Wording, f: Finding) -> Sentence:
    limits = {"low": w.number(f.facts["low_v"]), "high": w.number(f.facts["high_v"])}
    return "voltage", _on_phase(w, f, voltage_decimals(f)) | limits


def _lost_phase(w: Wording, f: Finding) -> Sentence:
    return "lost_phase", _on_phase(w, f)


def _current(w: Wording, f: Finding) -> Sentence:
    expected = {"expected": f"{w.number(_expected(f))} {f.unit}"}
    return "overcurrent", _on_phase(w, f, current_decimals(f)) | expected


def _powers(w: Wording, f: Finding) -> dict[str, str]:
    """A consumption finding's observed and expected power, said so that they differ."""
    decimals = watts_decimals(_observed(f), _expected(f))
    return {
        "observed": w.power(_observed(f), decimals=decimals),
        "expected": w.power(_expected(f), decimals=decimals),
    }


def _consumption(w: Wording, f: Finding) -> Sentence:
    values = _powers(w, f) | {"since": f"{f.since:%H:%M}"}
    certainty = f.facts.get("certainty", 1.0)
    if certainty < 1.0:
        key = (
            "high_consumption_learning_time"
            if TIME_OF_DAY in f.facts
            else "high_consumption_learning"
        )
        return key, values | {"certainty": w.number(certainty * 100)}
    return "high_consumption", values


def _away(w: Wording, f: Finding) -> Sentence:
    return "load_while_away", _powers(w, f) | {"since": f"{f.since:%H:%M}"}


def _pattern(w: Wording, f: Finding) -> Sentence:
    return "daily_pattern", {
        "window": w.number(f.facts["window_h"]),
        "observed": w.watts(_observed(f)),
        "expected": w.watts(_expected(f)),
    }


def _baseload(w: Wording, f: Finding) -> Sentence:
    values = {
        "observed": w.watts(_observed(f)),
        "nights": w.count("nights", round(f.facts["nights"])),
        "rise": w.watts(whole_rise(f)),
        "expected": w.watts(_expected(f)),
    }
    temperature = f.facts.get("temperature_c")
    if temperature is None:
        return "baseload_step", values
    return "baseload_step_temperature", values | {"temperature": w.temperature(temperature)}


_SENTENCES: dict[Cause, Callable[[Wording, Finding], Sentence]] = {
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


@callback
def async_logbook_name(hass: HomeAssistant, home: str) -> str:
    """Activity's lead-in of an anomaly: "Anomaly at Cabin:" in Home Assistant's language."""
    return async_wording(hass).text("logbook_anomaly_at", home=home)
