"""Reasons in Home Assistant's language: every cause worded in English, Norwegian, Swedish,
German and Dutch, with the language's decimal comma and the home's wall clock."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
import random
import re
from typing import Any
from zoneinfo import ZoneInfo

from homeassistant.components.logbook import DOMAIN as LOGBOOK
from homeassistant.components.logbook.models import LogbookConfig
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.translation import async_get_translations
from homeassistant.setup import async_setup_component
from homeassistant.util.unit_system import US_CUSTOMARY_SYSTEM
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    mock_component,
)

from custom_components.energy_anomaly.analysis import find_anomalies
from custom_components.energy_anomaly.const import DOMAIN, EVENT_ANOMALY
from custom_components.energy_anomaly.detector.baseload import BaseloadCheck
from custom_components.energy_anomaly.detector.config import DetectorConfig
from custom_components.energy_anomaly.detector.engine import Detector
from custom_components.energy_anomaly.detector.model import (
    Cause,
    Finding,
    HistoryRow,
    Kind,
    Mode,
    Reading,
)
from custom_components.energy_anomaly.detector.render import render
from custom_components.energy_anomaly.history import wall_clock
from custom_components.energy_anomaly.reasons import CATEGORY, async_log_reason, async_reason
from custom_components.energy_anomaly.tibber_payload import (
    on_local_clock,
    reading_from_live_data,
)

from .conftest import HOME_A
from .detector.household import at as household_at
from .detector.household import first_alarm, normal_days, with_load
from .detector.household import readings as household_readings
from .detector.test_baseload import DAY as BASELOAD_DAY
from .detector.test_baseload import at as baseload_at
from .detector.test_baseload import run as baseload_run
from .detector.test_feedback import _away_day
from .test_analysis import usual_hour
from .test_anomaly_surface import over_the_fuse
from .test_write_throttles import cabin
from .tibber_server import LocalTibberServer

LANGUAGES = ("en", "nb", "sv", "de", "nl")
SINCE = datetime.fromisoformat("2026-11-24T02:10:00+01:00")  # the home's wall clock (Oslo)


def finding(
    kind: Kind,
    cause: Cause,
    observed: float,
    expected: float,
    unit: str = "W",
    **facts: float,
) -> Finding:
    return Finding(kind, cause, 2.0, SINCE, observed, expected, unit, facts)


def voltage(cause: Cause, observed: float, **facts: float) -> Finding:
    """A voltage finding on a 230 V grid whose normal range is 207-253 V."""
    return finding(Kind.POWER_QUALITY, cause, observed, 230, "V", low_v=207, high_v=253, **facts)


# One finding of each cause, with the facts its check gives. A cause missing here fails the test
# that words every cause in every language.
SAMPLES = {
    Cause.ZEROS: finding(Kind.METER_FAULT, Cause.ZEROS, 0, 150, lasted_s=600),
    Cause.NEGATIVE: finding(Kind.METER_FAULT, Cause.NEGATIVE, -300, 0, lasted_s=300),
    Cause.FROZEN: finding(Kind.METER_FAULT, Cause.FROZEN, 812, 0, lasted_s=7200, longest_s=1800),
    Cause.GAP: finding(Kind.METER_FAULT, Cause.GAP, 0, 0, lasted_s=240, spacing_s=10),
    Cause.UNDERVOLTAGE: voltage(Cause.UNDERVOLTAGE, 201, phase=2, lasted_s=120),
    Cause.OVERVOLTAGE: voltage(Cause.OVERVOLTAGE, 258, phase=3, lasted_s=60),
    Cause.LOST_PHASE: voltage(Cause.LOST_PHASE, 0, phase=3, lasted_s=21600),
    Cause.OVERCURRENT: finding(
        Kind.POWER_QUALITY, Cause.OVERCURRENT, 32, 25, "A", phase=1, lasted_s=70
    ),
    Cause.HIGH_CONSUMPTION: finding(
        Kind.UNUSUAL_CONSUMPTION, Cause.HIGH_CONSUMPTION, 2156, 1450, certainty=1.0
    ),
    Cause.LOAD_WHILE_AWAY: finding(Kind.UNUSUAL_CONSUMPTION, Cause.LOAD_WHILE_AWAY, 1800, 450),
    Cause.DAILY_PATTERN: finding(Kind.NEW_PATTERN, Cause.DAILY_PATTERN, 640, 310, window_h=6),
    Cause.BASELOAD_STEP: finding(Kind.BASELOAD, Cause.BASELOAD_STEP, 245, 180, nights=3),
}

# The variants with a sentence of their own: still learning (from a week on, against what the home
# drew around this time of day), and a baseload step on a cold night.
LEARNING = finding(Kind.UNUSUAL_CONSUMPTION, Cause.HIGH_CONSUMPTION, 2156, 80, certainty=0.25)
LEARNING_WEEK = finding(
    Kind.UNUSUAL_CONSUMPTION, Cause.HIGH_CONSUMPTION, 1650, 410, certainty=0.57, time_of_day=1.0
)
COLD = finding(Kind.BASELOAD, Cause.BASELOAD_STEP, 245, 180, nights=3, temperature_c=-4.4)
# Values a reason must say with care to agree with its kind (`detector/render.py` decides how)
AT_THE_EDGE = [
    finding(Kind.BASELOAD, Cause.BASELOAD_STEP, 140, 60, nights=1),
    finding(Kind.BASELOAD, Cause.BASELOAD_STEP, 240.4, 159.6, nights=2, temperature_c=-0.4),
    voltage(Cause.UNDERVOLTAGE, 206.6, phase=1, lasted_s=130),
    voltage(Cause.OVERVOLTAGE, 253.04, phase=2, lasted_s=130),
    finding(Kind.POWER_QUALITY, Cause.OVERCURRENT, 25.4, 25, "A", phase=1, lasted_s=70),
    finding(Kind.UNUSUAL_CONSUMPTION, Cause.LOAD_WHILE_AWAY, 432.8, 427.5),
    finding(Kind.UNUSUAL_CONSUMPTION, Cause.HIGH_CONSUMPTION, 2140, 2110, certainty=1.0),
]


async def reason_in(hass: HomeAssistant, language: str, subject: Finding) -> str:
    """The reason as Home Assistant words it once the user chose `language`."""
    await async_get_translations(hass, language, CATEGORY, {DOMAIN})
    hass.config.language = language
    return async_reason(hass, subject)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("cause", list(Cause))
async def test_every_cause_has_a_sentence_in_every_language(
    hass: HomeAssistant, cause: Cause, language: str
) -> None:
    english = await reason_in(hass, "en", SAMPLES[cause])

    sentence = await reason_in(hass, language, SAMPLES[cause])

    assert "{" not in sentence
    assert (sentence == english) is (language == "en")


@pytest.mark.parametrize(
    "subject", [*SAMPLES.values(), LEARNING, LEARNING_WEEK, COLD, *AT_THE_EDGE]
)
async def test_the_english_reason_is_the_engines_sentence(
    hass: HomeAssistant, subject: Finding
) -> None:
    """The tripwire for a change in the engine: a cause whose facts or wording changed in
    `detector/render.py` fails here until its sample and its templates follow."""
    sentence = await reason_in(hass, "en", subject)

    assert sentence == render(subject)


@pytest.mark.parametrize(
    ("language", "sentence"),
    [
        ("en", "2.2 kW drawn since 02:10, at most about 1.4 kW usual at this hour"),
        ("nb", "2,2 kW trukket siden 02:10, vanligvis høyst rundt 1,4 kW på denne tiden"),
        ("sv", "2,2 kW dras sedan 02:10, normalt högst cirka 1,4 kW vid den här tiden"),
        ("de", "2,2 kW Bezug seit 02:10, zu dieser Stunde üblich höchstens etwa 1,4 kW"),
        (
            "nl",
            "2,2 kW afgenomen sinds 02:10, terwijl op dit uur hoogstens ongeveer 1,4 kW "
            "gebruikelijk is",
        ),
    ],
)
async def test_numbers_use_the_languages_decimal_separator(
    hass: HomeAssistant, language: str, sentence: str
) -> None:
    assert await reason_in(hass, language, SAMPLES[Cause.HIGH_CONSUMPTION]) == sentence


async def test_the_time_is_the_homes_wall_clock_not_home_assistants(hass: HomeAssistant) -> None:
    assert hass.config.time_zone == "US/Pacific"

    sentence = await reason_in(hass, "de", SAMPLES[Cause.HIGH_CONSUMPTION])

    assert "seit 02:10" in sentence  # Oslo; 17:10 the evening before in Home Assistant's zone


@pytest.mark.parametrize(("lasted_s", "said"), [(70, "1 Minute"), (190, "3 Minuten")])
async def test_one_minute_is_singular_more_are_plural(
    hass: HomeAssistant, lasted_s: float, said: str
) -> None:
    over = finding(Kind.POWER_QUALITY, Cause.OVERCURRENT, 32, 25, "A", phase=1, lasted_s=lasted_s)

    sentence = await reason_in(hass, "de", over)

    assert sentence == f"Der Strom auf L1 liegt seit {said} bei 32 A, über der Sicherung von 25 A"


async def test_durations_are_said_in_seconds_minutes_or_hours(hass: HomeAssistant) -> None:
    sentence = await reason_in(hass, "nl", SAMPLES[Cause.FROZEN])

    assert sentence == (
        "Het vermogen staat al 2,0 uur op precies 812 W; eerder bleef het nooit langer dan "
        "30 minuten gelijk"
    )


async def test_the_learning_and_the_temperature_variants_have_their_own_sentences(
    hass: HomeAssistant,
) -> None:

    assert await reason_in(hass, "sv", LEARNING) == (
        "2,2 kW dras sedan 02:10, långt över de 80 W som hemmet har dragit under någon timme "
        "hittills (lär sig fortfarande, 25 % av inlärningsperioden känd)"
    )
    assert await reason_in(hass, "de", LEARNING_WEEK) == (
        "1,6 kW Bezug seit 02:10, weit über den 0,4 kW, die dieses Zuhause bisher um diese "
        "Tageszeit bezog (lernt noch, 57 % der Lernphase bekannt)"
    )
    assert await reason_in(hass, "nb", COLD) == (
        "Grunnlasten har vært rundt 245 W i 3 netter, 65 W høyere enn de vanlige 180 W ved -4 °C"
    )


async def test_a_language_without_translations_gets_english(hass: HomeAssistant) -> None:
    sentence = await reason_in(hass, "fr", SAMPLES[Cause.GAP])

    assert sentence == "No readings for 4 minutes (usually one every 10 s)"


async def test_a_spacing_under_a_second_is_said_in_tenths(hass: HomeAssistant) -> None:
    gap = finding(Kind.METER_FAULT, Cause.GAP, 0, 0, lasted_s=240, spacing_s=0.5)

    sentence = await reason_in(hass, "de", gap)

    assert sentence == "Seit 4 Minuten keine Messwerte (üblich ist einer alle 0,5 s)"


async def test_a_language_not_loaded_yet_gets_english_meanwhile(hass: HomeAssistant) -> None:
    await async_get_translations(hass, "en", CATEGORY, {DOMAIN})
    hass.config.language = "xx"  # as right after a change of language, before it loaded

    sentence = async_reason(hass, SAMPLES[Cause.NEGATIVE])

    assert (
        sentence == "Power has been negative (down to -300 W) for 5 minutes without any production"
    )


def attributes(hass: HomeAssistant, platform: str, key: str) -> dict[str, Any]:
    """The attributes of the Cabin's entity `key`, whatever its (translated) entity id."""
    entity_id = er.async_get(hass).async_get_entity_id(platform, DOMAIN, f"{HOME_A}_{key}")
    assert entity_id is not None
    state = hass.states.get(entity_id)
    assert state is not None
    return dict(state.attributes)


GERMAN_REASON = "Der Strom auf L1 liegt seit 1 Minute bei 32 A, über der Sicherung von 25 A"


async def over_the_fuse_in_german(
    hass: HomeAssistant, server: LocalTibberServer, entry: MockConfigEntry
) -> list[Event]:
    """The Cabin over its fuse in a German Home Assistant; the anomaly events it fired."""
    await hass.config.async_update(language="de")
    fired = async_capture_events(hass, EVENT_ANOMALY)
    await over_the_fuse(hass, server, entry)
    return fired


async def test_a_german_home_assistant_shows_the_reason_in_german_beside_the_values(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    fired = await over_the_fuse_in_german(hass, tibber_server, tibber_entry)

    anomaly = attributes(hass, "binary_sensor", "anomaly")  # entity ids are German here
    event = attributes(hass, "event", "anomaly_started")
    for shown in (anomaly, event, fired[0].data):
        assert shown["reason"] == GERMAN_REASON
        assert (shown["observed"], shown["expected"], shown["unit"]) == (32.0, 25.0, "A")
    assert (anomaly["kind"], event["event_type"]) == ("power_quality", "power_quality")


async def test_activity_reads_the_anomaly_in_german(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    fired = await over_the_fuse_in_german(hass, tibber_server, tibber_entry)
    mock_component(hass, "frontend")  # its panel files are not installed; Activity's data is
    mock_component(hass, "recorder")
    assert await async_setup_component(hass, LOGBOOK, {})
    await hass.async_block_till_done()

    config: LogbookConfig = hass.data[LOGBOOK]
    _domain, describe = config.external_events[EVENT_ANOMALY]
    entry = describe(fired[0])  # type: ignore[arg-type]

    assert f"{entry['name']} {entry['message']}" == f"Anomalie bei Cabin: {GERMAN_REASON}"


def one_night_step() -> Finding:
    """The baseload check's alarm on an 80 W step, raised after the step's first night."""
    check = BaseloadCheck()
    step = baseload_at(14, 15)
    found = baseload_run(check, 0, 16, extra=lambda minute: 80.0 if minute >= step else 0.0)
    finding = next(finding for _, finding in found if finding is not None)
    assert finding.facts["nights"] == 1
    return finding


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("en", "for 1 night,"),
        ("nb", "i 1 natt,"),
        ("sv", "i 1 natt,"),
        ("de", "seit 1 Nacht bei"),
        ("nl", "al 1 nacht ongeveer"),
    ],
)
async def test_a_baseload_step_of_one_night_is_said_in_the_singular(
    hass: HomeAssistant, language: str, said: str
) -> None:
    sentence = await reason_in(hass, language, one_night_step())

    assert said in sentence


def numbers_in_the_reason(hass: HomeAssistant, pattern: re.Pattern[str]) -> tuple[str, list[float]]:
    """The Cabin's Anomaly reason and the numbers `pattern` finds in it."""
    reason = attributes(hass, "binary_sensor", "anomaly")["reason"]
    stated = pattern.search(reason)
    assert stated is not None, reason
    return reason, [float(number) for number in stated.groups()]


STATED_VOLTAGE = re.compile(r"has been ([\d.]+) V for .* \(normal (\d+)-(\d+) V\)")


async def test_an_undervoltage_reason_states_a_voltage_below_the_normal_range(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    home = await cabin(hass, tibber_server, tibber_entry)
    for at in range(0, 131, 10):  # L1 sags just under 207 V for over two minutes
        await home.push(at, voltagePhase1=206.6)

    reason, (observed, low, _high) = numbers_in_the_reason(hass, STATED_VOLTAGE)

    assert observed < low, reason


STATED_CURRENT = re.compile(r"is ([\d.]+) A, above the (\d+) A fuse")


async def test_an_overcurrent_reason_states_a_current_above_the_fuse(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    home = await cabin(hass, tibber_server, tibber_entry, fuse=25)
    for at in range(0, 71, 10):  # L1 draws a little more than its fuse for over a minute
        await home.push(at, currentL1=25.4)

    reason, (observed, fuse) = numbers_in_the_reason(hass, STATED_CURRENT)

    assert observed > fuse, reason


def watts(said: str) -> float:
    """A power as a reason says it ("0.4 kW", "433 W"), in watts."""
    number, unit = said.split()
    return float(number) * (1000.0 if unit == "kW" else 1.0)


async def test_a_load_while_away_is_said_to_be_more_than_the_empty_home_draws(
    hass: HomeAssistant,
) -> None:
    alarm = first_alarm(_away_day(280.0))  # 433 W against the empty home's 428 W
    assert alarm is not None
    assert alarm.finding is not None

    sentence = await reason_in(hass, "en", alarm.finding)

    drawn, bar = (watts(said) for said in re.findall(r"[\d.]+ k?W", sentence))
    assert drawn > bar, sentence


OSLO = ZoneInfo("Europe/Oslo")
SPRING_FORWARD_LEARNED_FROM = datetime(2024, 3, 16, tzinfo=OSLO)  # 15 days before 31 March


def heater_on_as_the_clocks_go_forward(home_zone: ZoneInfo | None = None) -> Finding:
    """A 700 W heater on from 01:40 on the night the clocks go from 02:00 to 03:00 (Oslo), after
    15 ordinary days, each minute as Tibber sends it (the time with the offset then) and read by
    the integration's parser; put on `home_zone`'s clock, as a home's runner does for a Tibber
    home whose zone Tibber names."""
    power = with_load(normal_days(16), household_at(15, 1, 40), 120, 700.0)
    detector = Detector()
    first = SPRING_FORWARD_LEARNED_FROM.astimezone(UTC)
    for minute, drawn in enumerate(power):
        stamp = (first + timedelta(minutes=minute)).astimezone(OSLO).isoformat()
        message = {"liveMeasurement": {"timestamp": stamp, "power": float(drawn)}}
        reading = reading_from_live_data(message)
        if home_zone is not None:
            reading = replace(reading, timestamp=on_local_clock(reading.timestamp, home_zone))
        result = detector.update(reading)
        if result.finding is not None and minute >= household_at(15, 0):
            return result.finding
    raise AssertionError("no alarm")


async def test_a_tibber_homes_reason_says_since_on_the_clock_of_that_moment_across_dst(
    hass: HomeAssistant,
) -> None:
    await hass.config.async_set_time_zone("Europe/Oslo")

    sentence = await reason_in(hass, "en", heater_on_as_the_clocks_go_forward())

    assert "drawn since 01:40," in sentence


FROSTY_NIGHTS = [-6, 2, -2, 4, 0, -4, 3, -1, 1, -5, -3, 4, 0, -6, -2, 1, -4, 3]


def step_on_a_night_just_below_freezing() -> Finding:
    """A heat pump home's 100 W step, alarmed after its first night, which was -0.4 °C."""

    def temperature(minute: int) -> float:
        return FROSTY_NIGHTS[minute // BASELOAD_DAY] - 1.4

    def heating(minute: int) -> float:
        step = 100.0 if minute >= baseload_at(14, 15) else 0.0
        return 400.0 + 60.0 * (8.0 - temperature(minute)) + step

    found = baseload_run(BaseloadCheck(), 0, 18, extra=heating, temperature=temperature)
    finding = next(finding for _, finding in found if finding is not None)
    assert round(finding.facts["temperature_c"], 1) == -0.4
    return finding


async def test_a_baseload_step_on_a_night_just_below_freezing_is_at_0_c_not_minus_0(
    hass: HomeAssistant,
) -> None:
    sentence = await reason_in(hass, "en", step_on_a_night_just_below_freezing())

    assert sentence.endswith(" at 0 °C"), sentence


async def test_the_english_reason_of_a_value_frozen_just_below_0_w_is_the_engines_sentence(
    hass: HomeAssistant,
) -> None:
    frozen = finding(Kind.METER_FAULT, Cause.FROZEN, -0.3, 0, lasted_s=7200, longest_s=1800)

    assert await reason_in(hass, "en", frozen) == render(frozen)


def a_steady_load_just_above_the_empty_homes_bar() -> Finding:
    """Away from 08:00 after 15 ordinary days; from 10:00 the home draws a steady 428 W for an
    hour (a heater on its thermostat and the standby), just above the 427.5 W it learned the empty
    home draws on its own."""
    power = normal_days(16)
    power[household_at(15, 10) : household_at(15, 11)] = 428.0
    stream = household_readings(power)
    detector = Detector()
    for reading in stream[: household_at(15, 8)]:
        detector.update(reading)
    detector.set_mode(Mode.AWAY)
    alarm = first_alarm([detector.update(r) for r in stream[household_at(15, 8) :]])
    assert alarm is not None
    assert alarm.finding is not None
    assert alarm.finding.cause is Cause.LOAD_WHILE_AWAY
    return alarm.finding


async def test_a_steady_load_just_above_the_away_bar_is_said_to_be_more_than_it(
    hass: HomeAssistant,
) -> None:
    sentence = await reason_in(hass, "en", a_steady_load_just_above_the_empty_homes_bar())

    drawn, bar = (watts(said) for said in re.findall(r"[\d.]+ k?W", sentence))
    assert drawn > bar, sentence


def recorded_hours_over_the_spring_forward_night() -> list[HistoryRow]:
    """Three weeks of hourly power statistics up to 30 March 2026, as the recorder gives them to
    the action (`history.wall_clock`: Home Assistant's local time), with a 900 W heater on in the
    first three hours of summer time (from 03:00, the hour after 01:59 on 29 March)."""
    noise = random.Random(9)
    clocks_forward = datetime(2026, 3, 29, 1, tzinfo=UTC)  # 02:00 CET is 03:00 CEST
    end = datetime(2026, 3, 30, 12, tzinfo=UTC)
    rows = []
    for hour in range(21 * 24, 0, -1):
        start = end - timedelta(hours=hour)
        mean = usual_hour(start, noise)
        if clocks_forward <= start < clocks_forward + timedelta(hours=3):
            mean += 900.0
        rows.append(HistoryRow(wall_clock(start.timestamp()), 3600.0, mean, mean * 0.6, mean * 1.8))
    return rows


async def test_an_analysed_alarm_across_the_clock_change_says_since_on_the_homes_clock(
    hass: HomeAssistant,
) -> None:
    await hass.config.async_set_time_zone("Europe/Oslo")
    rows = recorded_hours_over_the_spring_forward_night()

    episodes = find_anomalies(rows, rows[-1].start - timedelta(days=7), DetectorConfig())

    (heater,) = (e for e in episodes if e.finding.kind is Kind.UNUSUAL_CONSUMPTION)
    started = heater.start.astimezone(OSLO)
    assert started.hour == 1  # before the clocks went forward: the ramp of the hourly means
    sentence = await reason_in(hass, "en", heater.finding)
    assert f"drawn since {started:%H:%M}," in sentence, sentence


async def test_a_current_just_over_the_fuse_shows_an_observed_value_above_the_expected(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    home = await cabin(hass, tibber_server, tibber_entry, fuse=25)
    fired = async_capture_events(hass, EVENT_ANOMALY)
    for at in range(0, 71, 10):  # L1 draws a few hundredths of an ampere over its fuse
        await home.push(at, currentL1=25.04)

    anomaly = attributes(hass, "binary_sensor", "anomaly")
    assert "is 25.04 A, above the 25 A fuse" in anomaly["reason"]
    for shown in (anomaly, fired[0].data):
        assert shown["observed"] > shown["expected"], shown


def frozen_while_exporting() -> Finding:
    """A day of ordinary readings, then a meter stuck on an export: 0 W drawn and 812 W produced
    in every reading (a Tibber home's Power sensor shows 0 W, its Power production 812 W)."""
    stream = household_readings(normal_days(2))
    detector = Detector()
    for reading in stream:
        detector.update(reading)
    last = stream[-1].timestamp
    for minute in range(1, 60):
        stuck = Reading(last + timedelta(minutes=minute), power=0.0, power_production=812.0)
        if (finding := detector.update(stuck).finding) is not None:
            assert finding.cause is Cause.FROZEN
            return finding
    raise AssertionError("no alarm")


async def test_a_meter_frozen_on_an_export_is_not_said_to_draw_a_negative_power(
    hass: HomeAssistant,
) -> None:
    frozen = frozen_while_exporting()

    sentence = await reason_in(hass, "en", frozen)

    assert sentence.startswith("Power fed into the grid has been exactly 812 W for "), sentence
    assert sentence == render(frozen)


async def test_a_baseload_step_in_a_home_that_uses_fahrenheit_gives_the_night_in_fahrenheit(
    hass: HomeAssistant,
) -> None:
    hass.config.units = US_CUSTOMARY_SYSTEM  # -4.4 °C is 24 °F

    sentence = await reason_in(hass, "en", COLD)

    assert sentence.endswith(" at 24 °F"), sentence


async def test_the_log_says_a_baseload_step_in_english_and_in_fahrenheit_in_such_a_home(
    hass: HomeAssistant,
) -> None:
    """Log lines are English, but in the home's units: a US home's log does not say °C."""
    hass.config.units = US_CUSTOMARY_SYSTEM
    await reason_in(hass, "en", COLD)
    await reason_in(hass, "de", COLD)  # the user reads the dashboard in German

    line = async_log_reason(hass, COLD)

    assert line.startswith("Baseload has been about "), line
    assert line.endswith(" at 24 °F"), line


async def test_a_tibber_home_in_another_zone_says_since_on_its_own_clock_across_dst(
    hass: HomeAssistant,
) -> None:
    assert hass.config.time_zone == "US/Pacific"  # its clocks went forward three weeks before

    sentence = await reason_in(hass, "en", heater_on_as_the_clocks_go_forward(OSLO))

    assert "drawn since 01:40," in sentence, sentence


async def test_a_value_frozen_just_below_0_w_is_said_as_the_power_not_as_power_fed_in(
    hass: HomeAssistant,
) -> None:
    """A clamp's offset: the meter stuck at -0.3 W, which its Power sensor shows as 0 W."""
    frozen = finding(Kind.METER_FAULT, Cause.FROZEN, -0.3, 0, lasted_s=7200, longest_s=1800)

    sentence = await reason_in(hass, "en", frozen)

    assert sentence.startswith("Power has been exactly 0 W for "), sentence
