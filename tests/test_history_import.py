"""Learning a new home's past at setup, and the `analyze_history` action over recorded history.

The real recorder of the test harness (SQLite) holds imported hourly power statistics; Tibber's
hourly history comes from the local Tibber server through the real pyTibber.
"""

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
import logging
import random
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.models import StatisticData
from homeassistant.components.recorder.statistics import async_import_statistics
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.energy_anomaly import history
from custom_components.energy_anomaly.const import (
    CONF_POWER_IS_NET,
    CONF_TEMPERATURE_ENTITY,
    DOMAIN,
    HISTORY_IMPORT_DAYS,
)
from custom_components.energy_anomaly.detector.model import HistoryRow
from custom_components.energy_anomaly.live_source import async_fetch_account
from custom_components.energy_anomaly.past import (
    async_fetch_home_history,
    async_fetch_recorded_power,
)
from custom_components.energy_anomaly.services import SERVICE_ANALYZE_HISTORY

from .conftest import HOME_A, HOME_B
from .test_entity_source import POWER, home_entry, sampled, set_up_home_drawing
from .test_history_recorder import metadata
from .test_live_data import set_up, state_of, wait_until
from .test_live_data import start as start_entry
from .tibber_server import DEFAULT_TOKEN, HttpFault, LocalTibberServer, _errors_response

STATUS = "sensor.home_detector_status"
OUTDOOR = "sensor.outdoor_temperature"
HEATER_W = 2500.0
OTHER_HOME_POLLS = 100  # a retry waits at most this many polls for the other home to ask
OTHER_HOME_POLL_S = 0.02  # s between polls: 2 s at most per retry


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(recorder_db_url: str, enable_custom_integrations: None) -> None:
    """As the shared fixture, but the recorder's database is prepared before Home Assistant."""


def usual_mean(start: datetime, noise: random.Random) -> float:
    """A household's hourly mean (W): quiet nights, a morning and an evening peak, some noise."""
    hour = dt_util.as_local(start).hour
    peak = 900.0 if hour in {7, 8, 18, 19, 20} else 0.0
    night = 0.0 if hour < 6 else 250.0
    return 200.0 + night + peak + noise.uniform(-30.0, 30.0)


def hours_before_now(days: float) -> list[datetime]:
    """The starts of the full hours in the last ``days`` days, oldest first (UTC)."""
    now = dt_util.utcnow().replace(minute=0, second=0, microsecond=0)
    count = int(days * 24)
    return [now - timedelta(hours=count - i) for i in range(count)]


async def import_power_history(
    hass: HomeAssistant,
    days: float,
    heater: tuple[datetime, datetime] | None = None,
    statistic_id: str = POWER,
    **unit: str,
) -> None:
    """Hourly power statistics of a usual home over ``days``; a heater on during ``heater``."""
    noise = random.Random(9)
    rows = []
    for start in hours_before_now(days):
        mean = usual_mean(start, noise)
        if heater is not None and heater[0] <= start < heater[1]:
            mean += HEATER_W
        rows.append(StatisticData(start=start, mean=mean, min=mean * 0.6, max=mean * 1.8))
    async_import_statistics(hass, metadata(statistic_id=statistic_id, **unit), rows)
    await async_wait_recording_done(hass)


def local_days(days: float) -> int:
    """The home's local days the last ``days`` days of hours touch."""
    return len({dt_util.as_local(start).date() for start in hours_before_now(days)})


async def test_a_home_with_four_weeks_of_statistics_is_active_from_its_first_reading(
    recorder_mock: Recorder, hass: HomeAssistant
) -> None:
    await import_power_history(hass, days=HISTORY_IMPORT_DAYS)

    await set_up_home_drawing(hass, home_entry(), 350)

    status = hass.states.get(STATUS)
    assert status is not None
    assert status.state == "active"
    assert status.attributes["history"] == "done"
    assert status.attributes["history_days"] == local_days(HISTORY_IMPORT_DAYS)
    assert status.attributes["learning_progress"] == 100


async def test_a_net_sensors_exporting_hours_are_learned_as_drawing_nothing(
    recorder_mock: Recorder, hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    noise = random.Random(9)
    rows = []
    for start in hours_before_now(HISTORY_IMPORT_DAYS):
        mean = usual_mean(start, noise)
        if 10 <= dt_util.as_local(start).hour < 15:  # the panels export 1.5 kW more than used
            mean -= 1500.0
        rows.append(StatisticData(start=start, mean=mean, min=min(mean, 0.0), max=mean + 500.0))
    async_import_statistics(hass, metadata(statistic_id=POWER), rows)
    await async_wait_recording_done(hass)

    await set_up_home_drawing(hass, home_entry(**{CONF_POWER_IS_NET: True}), 350)

    used = len(rows)
    assert f"({used} rows, 0 skipped)" in caplog.text
    status = hass.states.get(STATUS)
    assert status is not None
    assert status.attributes["history_days"] == local_days(HISTORY_IMPORT_DAYS)


async def test_a_home_without_statistics_learns_live_and_says_it_found_no_history(
    recorder_mock: Recorder, hass: HomeAssistant
) -> None:
    await set_up_home_drawing(hass, home_entry(), 350)

    status = hass.states.get(STATUS)
    assert status is not None
    assert status.state == "learning"
    assert status.attributes["history"] == "none"
    assert status.attributes["history_days"] == 0


async def test_a_failed_history_fetch_leaves_the_home_learning_live_and_says_so(
    recorder_mock: Recorder, hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    # Statistics in an energy unit cannot be read as power: the fetch fails.
    await import_power_history(hass, days=HISTORY_IMPORT_DAYS, unit="Wh", unit_class="energy")

    with caplog.at_level(logging.WARNING):
        await set_up_home_drawing(hass, home_entry(), 350)

    status = hass.states.get(STATUS)
    assert status is not None
    assert status.state == "learning"
    assert status.attributes["history"] == "failed"
    assert "learning from live readings only" in caplog.text
    await wait_until(hass, lambda: state_of(hass, "sensor.home_power") == "350.0")


async def test_a_home_whose_history_import_failed_still_says_so_after_a_restart(
    recorder_mock: Recorder, hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    # Statistics in an energy unit cannot be read as power: the fetch fails.
    await import_power_history(hass, days=HISTORY_IMPORT_DAYS, unit="Wh", unit_class="energy")
    entry = home_entry()
    await set_up_home_drawing(hass, entry, 350)
    for _ in range(3):  # live minutes learned: the home no longer wants its history
        freezer.tick(timedelta(minutes=1))
        await sampled(hass)
    assert await hass.config_entries.async_unload(entry.entry_id)

    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)

    status = hass.states.get(STATUS)
    assert status is not None
    assert status.attributes["history"] == "failed"


async def test_a_restarted_home_does_not_fetch_its_history_again(
    recorder_mock: Recorder, hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    await import_power_history(hass, days=HISTORY_IMPORT_DAYS)
    entry = home_entry()
    await set_up_home_drawing(hass, entry, 350)
    assert await hass.config_entries.async_unload(entry.entry_id)

    with caplog.at_level(logging.INFO):
        caplog.clear()
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done(wait_background_tasks=True)

    assert "days of history" not in caplog.text
    status = hass.states.get(STATUS)
    assert status is not None
    assert status.state == "active"
    assert status.attributes["history"] == "done"
    assert status.attributes["history_days"] == local_days(HISTORY_IMPORT_DAYS)


async def test_a_tibber_home_learns_from_tibbers_hourly_history(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
) -> None:
    local_home = tibber_server.account.home(HOME_A)
    assert local_home is not None
    local_home.history_days = HISTORY_IMPORT_DAYS

    await set_up(hass, tibber_entry, tibber_server)
    await tibber_server.push(HOME_A, power=350.0, timestamp=dt_util.now().isoformat())
    await wait_until(hass, lambda: state_of(hass, "sensor.cabin_power") == "350.0")

    status = hass.states.get("sensor.cabin_detector_status")
    assert status is not None
    assert status.state == "active"
    assert status.attributes["history"] == "done"
    assert status.attributes["history_days"] >= HISTORY_IMPORT_DAYS


async def analyze(hass: HomeAssistant, device_id: str, days: int) -> dict[str, object]:
    response = await hass.services.async_call(
        DOMAIN,
        SERVICE_ANALYZE_HISTORY,
        {"device_id": device_id, "days": days},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    return dict(response)


def home_device(hass: HomeAssistant, entry: MockConfigEntry) -> str:
    (device,) = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    return device.id


async def home_with_a_heater_on_three_nights_ago(
    hass: HomeAssistant,
) -> tuple[MockConfigEntry, tuple[datetime, datetime]]:
    """A power-sensor home with three weeks recorded, a heater on from 01:00 to 05:00 three
    nights ago; the entry and the heater's hours (UTC)."""
    night = dt_util.start_of_local_day() - timedelta(days=3)
    heater = (
        dt_util.as_utc(night + timedelta(hours=1)),
        dt_util.as_utc(night + timedelta(hours=5)),
    )
    await import_power_history(hass, days=21, heater=heater)
    entry = home_entry()
    await set_up_home_drawing(hass, entry, 350)
    return entry, heater


async def test_the_action_finds_a_heater_left_on_in_last_weeks_history(
    recorder_mock: Recorder, hass: HomeAssistant
) -> None:
    entry, heater = await home_with_a_heater_on_three_nights_ago(hass)

    response = await analyze(hass, home_device(hass, entry), days=7)

    anomalies = response["anomalies"]
    assert isinstance(anomalies, list)
    (anomaly,) = (found for found in anomalies if found["kind"] == "unusual_consumption")
    start = datetime.fromisoformat(anomaly["start"])
    end = datetime.fromisoformat(anomaly["end"])
    # Hourly means are interpolated between the hours' middles: the heater ramps in from 00:30.
    assert heater[0] - timedelta(minutes=30) <= start < heater[0] + timedelta(minutes=30)
    assert heater[1] <= end <= heater[1] + timedelta(hours=1)
    # Nothing before the heater: the rest of the week was usual.
    assert min(datetime.fromisoformat(found["start"]) for found in anomalies) >= heater[
        0
    ] - timedelta(hours=1)
    assert "kW drawn since" in anomaly["reason"]


async def test_the_action_leaves_out_the_kinds_the_household_switched_off(
    recorder_mock: Recorder, hass: HomeAssistant
) -> None:
    """What the detector would have flagged is what the home's own switches let through: with
    *Unusual consumption alarms* off, the heater of last week is not listed."""
    entry, _ = await home_with_a_heater_on_three_nights_ago(hass)
    await hass.services.async_call(
        "switch",
        "turn_off",
        {"entity_id": "switch.home_unusual_consumption_alarms"},
        blocking=True,
    )

    response = await analyze(hass, home_device(hass, entry), days=7)

    anomalies = response["anomalies"]
    assert isinstance(anomalies, list)
    assert [found["kind"] for found in anomalies if found["kind"] == "unusual_consumption"] == []


async def test_the_action_lists_an_alarm_raised_in_the_analysed_days_for_a_load_begun_before(
    recorder_mock: Recorder, hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    now = datetime(2026, 11, 25, 20, 50, tzinfo=UTC)  # 12:50 in the harness's US/Pacific
    freezer.move_to(now)
    # From 13:00 on the first analysed day: its hourly means ramp in from 12:30, ten minutes
    # past the analysed days' start at 12:50 it is on, and it stays on for four hours.
    heater_on = now - timedelta(days=7) + timedelta(minutes=10)
    await import_power_history(hass, days=21, heater=(heater_on, heater_on + timedelta(hours=4)))
    entry = home_entry()
    await set_up_home_drawing(hass, entry, 350)

    response = await analyze(hass, home_device(hass, entry), days=7)

    anomalies = response["anomalies"]
    assert isinstance(anomalies, list)
    assert [anomaly["kind"] for anomaly in anomalies] == ["unusual_consumption"]


async def test_the_action_finds_nothing_in_a_usual_month(
    recorder_mock: Recorder, hass: HomeAssistant
) -> None:
    await import_power_history(hass, days=21)
    entry = home_entry()
    await set_up_home_drawing(hass, entry, 350)

    response = await analyze(hass, home_device(hass, entry), days=7)

    assert response["anomalies"] == []


async def test_the_action_refuses_a_device_of_another_integration(
    recorder_mock: Recorder, hass: HomeAssistant
) -> None:
    entry = home_entry()
    await set_up_home_drawing(hass, entry, 350)
    other = MockConfigEntry(domain="other")
    other.add_to_hass(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=other.entry_id, identifiers={("other", "x")}
    )

    with pytest.raises(ServiceValidationError) as raised:
        await analyze(hass, device.id, days=7)
    assert raised.value.translation_key == "unknown_device"


async def test_the_action_says_when_the_home_has_no_recorded_history(
    recorder_mock: Recorder, hass: HomeAssistant
) -> None:
    entry = home_entry()
    await set_up_home_drawing(hass, entry, 350)

    with pytest.raises(ServiceValidationError) as raised:
        await analyze(hass, home_device(hass, entry), days=7)
    assert raised.value.translation_key == "no_history"


async def test_the_action_refuses_a_home_whose_entry_is_not_loaded(
    recorder_mock: Recorder, hass: HomeAssistant
) -> None:
    entry = home_entry()
    await set_up_home_drawing(hass, entry, 350)
    device_id = home_device(hass, entry)
    assert await hass.config_entries.async_unload(entry.entry_id)

    with pytest.raises(ServiceValidationError) as raised:
        await analyze(hass, device_id, days=7)
    assert raised.value.translation_key == "not_loaded"


async def test_the_action_says_why_the_recorded_history_cannot_be_read(
    recorder_mock: Recorder, hass: HomeAssistant
) -> None:
    await import_power_history(hass, days=21, unit="Wh", unit_class="energy")
    entry = home_entry()
    await set_up_home_drawing(hass, entry, 350)

    with pytest.raises(HomeAssistantError) as raised:
        await analyze(hass, home_device(hass, entry), days=7)
    assert raised.value.translation_key == "history_not_power"
    assert "not a power unit" in str(raised.value)


async def test_a_german_home_is_told_in_german_why_its_history_cannot_be_read(
    recorder_mock: Recorder, hass: HomeAssistant
) -> None:
    """exception-translations (gold): the reason is the integration's own words, so translatable.

    Here the statistics are in Wh: the user chose a power sensor whose recorder statistics are
    energy, a cause the integration names itself, not a library's error text passed through.
    """
    await import_power_history(hass, days=21, unit="Wh", unit_class="energy")
    entry = home_entry()
    await set_up_home_drawing(hass, entry, 350)

    with pytest.raises(HomeAssistantError) as raised:
        await analyze(hass, home_device(hass, entry), days=7)

    # As the frontend shows it to a German user: the German message with the error's placeholders
    key = f"component.{DOMAIN}.exceptions.{raised.value.translation_key}.message"
    german = (await async_get_translations(hass, "de", "exceptions", [DOMAIN]))[key]
    message = german.format(**(raised.value.translation_placeholders or {}))
    assert message.startswith("Der aufgezeichnete Verlauf konnte nicht gelesen werden")
    assert "not a power unit" not in message


async def reinstalled_tibber_home_history(
    hass: HomeAssistant, entry: MockConfigEntry, before_fetch: Callable[[], None] = lambda: None
) -> list[HistoryRow]:
    """The history a reinstalled Tibber home fetches: 3 days its Power sensor's statistics kept.

    `before_fetch` runs once the account is listed, just before the history is fetched.
    """
    # The Power sensor of a removed entry: Home Assistant kept its entity id and statistics.
    entry.add_to_hass(hass)
    own_power = er.async_get(hass).async_get_or_create(
        "sensor", DOMAIN, f"{HOME_A}_power", suggested_object_id="cabin_power"
    )
    await import_power_history(hass, days=3, statistic_id=own_power.entity_id)
    home = (await async_fetch_account(hass, DEFAULT_TOKEN)).connection.get_home(HOME_A)
    before_fetch()
    return await async_fetch_home_history(
        hass,
        entry,
        HOME_A,
        HISTORY_IMPORT_DAYS,
        zone=None,
        tibber_home=home,
        tibber_turn=asyncio.Lock(),
    )


async def test_a_reinstalled_tibber_home_takes_its_own_power_statistics_after_tibbers_hours(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
) -> None:
    local_home = tibber_server.account.home(HOME_A)
    assert local_home is not None
    local_home.history_days = HISTORY_IMPORT_DAYS

    rows = await reinstalled_tibber_home_history(hass, tibber_entry)

    recorded = [row for row in rows if row.minimum is not None]
    from_tibber = rows[: len(rows) - len(recorded)]
    assert len(recorded) == 3 * 24
    assert rows[len(from_tibber) :] == recorded  # Tibber's hours first, then the recorder's
    assert from_tibber[-1].start + timedelta(hours=1) == recorded[0].start
    assert len(rows) == HISTORY_IMPORT_DAYS * 24


async def test_a_tibber_homes_recorded_past_is_learned_on_the_homes_own_clock(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
) -> None:
    """Its live readings carry Tibber's time (Europe/Oslo here, Home Assistant's is US/Pacific):
    a load drawn at this hour of the home's day on every recorded day is expected now."""
    local_home = tibber_server.account.home(HOME_A)
    assert local_home is not None
    local_home.history_days = 0  # only the Power sensor's statistics, kept from an earlier install
    home_zone = ZoneInfo(local_home.time_zone)
    this_hour = dt_util.utcnow().astimezone(home_zone).hour
    tibber_entry.add_to_hass(hass)
    own_power = er.async_get(hass).async_get_or_create(
        "sensor", DOMAIN, f"{HOME_A}_power", suggested_object_id="cabin_power"
    )
    rows = []
    for start in hours_before_now(HISTORY_IMPORT_DAYS):
        mean = 3000.0 if start.astimezone(home_zone).hour == this_hour else 300.0
        rows.append(StatisticData(start=start, mean=mean, min=mean * 0.9, max=mean * 1.1))
    async_import_statistics(hass, metadata(statistic_id=own_power.entity_id), rows)
    await async_wait_recording_done(hass)

    await start_entry(hass, tibber_entry, tibber_server)
    await tibber_server.push(HOME_A, power=3000.0)
    await wait_until(hass, lambda: state_of(hass, "sensor.cabin_power") == "3000.0")

    assert state_of(hass, "sensor.cabin_detector_status") == "active"
    assert float(state_of(hass, "sensor.cabin_expected_power")) > 2000.0


async def import_temperatures(
    hass: HomeAssistant, days: float, unit: str = "°C", unit_class: str = "temperature"
) -> None:
    async_import_statistics(
        hass,
        metadata(unit, unit_class, statistic_id=OUTDOOR),
        [
            StatisticData(start=start, mean=-2.0, min=-3.0, max=-1.0)
            for start in hours_before_now(days)
        ],
    )
    await async_wait_recording_done(hass)


async def test_history_rows_get_the_outdoor_temperature_from_its_statistics(
    recorder_mock: Recorder, hass: HomeAssistant
) -> None:
    await import_power_history(hass, days=3)
    await import_temperatures(hass, days=2)
    entry = home_entry()
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, options={CONF_TEMPERATURE_ENTITY: OUTDOOR})

    rows = await async_fetch_recorded_power(hass, entry, entry.entry_id, 3)

    assert [row.temperature for row in rows] == [None] * 24 + [-2.0] * 48


async def test_unreadable_temperature_statistics_cost_the_temperatures_not_the_history(
    recorder_mock: Recorder, hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    await import_power_history(hass, days=3)
    await import_temperatures(hass, days=3, unit="W", unit_class="power")
    entry = home_entry()
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, options={CONF_TEMPERATURE_ENTITY: OUTDOOR})

    rows = await async_fetch_recorded_power(hass, entry, entry.entry_id, 3)

    assert len(rows) == 3 * 24
    assert {row.temperature for row in rows} == {None}
    assert "Learning from history without outdoor temperatures" in caplog.text


async def test_a_tibber_home_learns_its_recorded_power_when_tibbers_history_fails(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    rows = await reinstalled_tibber_home_history(
        hass,
        tibber_entry,
        before_fetch=tibber_server.valid_tokens.clear,  # Tibber refuses
    )

    assert len(rows) == 3 * 24
    assert "Learning from the recorded power only" in caplog.text


async def test_a_tibber_home_learns_its_recorded_power_when_tibbers_error_has_no_extensions(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(history, "TIBBER_RETRY_FIRST_DELAY_S", 0.01)

    def tibber_answers_oddly() -> None:
        tibber_server.http_fault = HttpFault.ERROR_WITHOUT_EXTENSIONS

    rows = await reinstalled_tibber_home_history(
        hass, tibber_entry, before_fetch=tibber_answers_oddly
    )

    assert len(rows) == 3 * 24
    assert "Learning from the recorded power only" in caplog.text


def history_rate_limited(
    monkeypatch: pytest.MonkeyPatch, tibber_server: LocalTibberServer, asked: list[str]
) -> None:
    """Tibber answers every consumption query with a rate limit (the rest of its API answers);
    `asked` gets the home each query was for."""
    execute = tibber_server._execute_http

    async def answered(body: dict[str, Any]) -> web.Response:
        if "consumption(" in str(body.get("query")):
            asked.append(HOME_A if HOME_A in str(body) else HOME_B)
            return _errors_response(429, "Too many requests", "TOO_MANY_REQUESTS")
        return await execute(body)

    monkeypatch.setattr(tibber_server, "_execute_http", answered)


async def test_a_rate_limited_history_holds_back_no_home_longer_than_its_own_retries(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The homes ask one at a time, but a home waiting to retry lets the other ask: each waits
    out its own retries (up to about 12 minutes), not the other's too."""

    asked: list[str] = []  # the home of each history request, in order

    async def wait_for_the_other_home(_delay: float) -> None:
        """A retry's wait ends once both homes have asked, or after a bounded real wait: a turn
        held through the wait keeps the other home from asking, and the order shows it."""
        for _ in range(OTHER_HOME_POLLS):
            if {HOME_A, HOME_B} <= set(asked):
                return
            await asyncio.sleep(OTHER_HOME_POLL_S)

    monkeypatch.setattr(history, "asyncio", SimpleNamespace(sleep=wait_for_the_other_home))
    history_rate_limited(monkeypatch, tibber_server, asked)
    tibber_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(tibber_entry.entry_id)
    await tibber_server.wait_for_subscriptions(2)
    await tibber_server.push(HOME_A, power=350.0)
    await tibber_server.push(HOME_B, power=450.0)
    await wait_until(hass, lambda: state_of(hass, "sensor.flat_power") == "450.0")
    await wait_until(hass, lambda: state_of(hass, "sensor.cabin_power") == "350.0")

    assert hass.states.get("sensor.flat_detector_status").attributes["history"] == "failed"
    assert sorted(asked[:2]) == sorted([HOME_A, HOME_B])  # both asked before either retried
    assert len(asked) == 2 * history.TIBBER_ATTEMPTS


async def test_while_tibber_rate_limits_the_history_the_detector_status_says_importing(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """README: `history` is `none` / `importing` / `done` / `failed`; a rate-limited import
    lasts up to about 12 minutes, while the Pulse's readings come in."""
    retry_waits = asyncio.Event()  # set at the end: the retries' waits last the whole test

    async def wait_long(_delay: float) -> None:
        await retry_waits.wait()

    monkeypatch.setattr(history, "asyncio", SimpleNamespace(sleep=wait_long))
    history_rate_limited(monkeypatch, tibber_server, [])
    tibber_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(tibber_entry.entry_id)
    await tibber_server.wait_for_subscriptions(2)
    await tibber_server.push(HOME_A, power=350.0)
    await hass.async_block_till_done()

    try:
        status = hass.states.get("sensor.cabin_detector_status")
        assert status is not None
        assert status.state == "learning"
        assert status.attributes.get("history") == "importing"
        assert hass.states.get("sensor.cabin_power").state == STATE_UNAVAILABLE
    finally:
        retry_waits.set()
