"""The demo home: the bundled trace through the same path as live data, no account needed."""

import asyncio
from datetime import timedelta
from itertools import pairwise
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from custom_components import energy_anomaly as integration
from custom_components.energy_anomaly.const import DOMAIN, EVENT_ANOMALY
from custom_components.energy_anomaly.demo_source import DemoSource, load_demo_trace

from .test_live_data import state_of, wait_until

ANOMALY = "binary_sensor.demo_home_anomaly"
MODE = "select.demo_home_mode"
ORDINARY_DAY = "2026-11-26 12:15:00+00:00"  # no change of summer time that day


async def set_up_demo(hass: HomeAssistant, demo_entry: MockConfigEntry) -> None:
    demo_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(demo_entry.entry_id)
    await wait_until(
        hass, lambda: state_of(hass, "sensor.demo_home_power") not in (None, "unavailable")
    )


async def test_demo_home_shows_values_at_once_and_has_learned_from_its_history(
    hass: HomeAssistant, demo_entry: MockConfigEntry
) -> None:
    await set_up_demo(hass, demo_entry)

    assert float(state_of(hass, "sensor.demo_home_power")) > 0
    assert 200 < float(state_of(hass, "sensor.demo_home_voltage_l3")) < 260
    assert float(state_of(hass, "sensor.demo_home_current_l1")) >= 0
    assert float(state_of(hass, "sensor.demo_home_expected_power")) > 0
    assert state_of(hass, "sensor.demo_home_detector_status") == "active"
    assert state_of(hass, ANOMALY) == "off"
    assert hass.states.get("sensor.demo_home_power_production") is None  # no solar in the trace


async def test_demo_home_flags_the_heater_left_on_at_night(
    hass: HomeAssistant, demo_entry: MockConfigEntry, caplog: pytest.LogCaptureFixture
) -> None:
    events = async_capture_events(hass, EVENT_ANOMALY)
    await set_up_demo(hass, demo_entry)

    start = dt_util.utcnow()
    replayed = 0
    while state_of(hass, ANOMALY) != "on" and replayed < 3 * 360:  # 3 demo hours; flagged at 02:08
        replayed += 1
        async_fire_time_changed(hass, start + timedelta(seconds=replayed))
        await hass.async_block_till_done(wait_background_tasks=True)

    anomaly = hass.states.get(ANOMALY)
    assert anomaly.state == "on"
    assert anomaly.attributes["device_class"] == "problem"
    assert anomaly.attributes["kind"] == "unusual_consumption"
    assert "kW" in anomaly.attributes["reason"]
    assert anomaly.attributes["observed"] > anomaly.attributes["expected"]
    assert anomaly.attributes["since"] is not None
    assert [event.data["kind"] for event in events] == ["unusual_consumption"]
    assert events[0].data["home"] == "Demo home"
    assert float(state_of(hass, "sensor.demo_home_anomaly_score")) > 1
    assert "Anomaly at Demo home (unusual_consumption): " in caplog.text


async def test_demo_home_replays_ahead_of_the_wall_clock_without_rejections(
    hass: HomeAssistant,
    demo_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    freezer.move_to(dt_util.start_of_local_day() + timedelta(minutes=1))
    await set_up_demo(hass, demo_entry)

    for _ in range(60):  # ten demo minutes: at 00:10 the demo clock is 8 minutes ahead of ours
        freezer.tick(timedelta(seconds=1))
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)

    assert "Rejected a reading" not in caplog.text


async def test_after_a_reload_the_demo_goes_on_where_its_detector_stands(
    hass: HomeAssistant, demo_entry: MockConfigEntry, hass_storage: dict[str, Any]
) -> None:
    """An options change reloads the entry: the replay must not restart behind the detector."""
    await set_up_demo(hass, demo_entry)
    start = dt_util.utcnow()
    for second in range(1, 31):  # 30 rows: five demo minutes
        async_fire_time_changed(hass, start + timedelta(seconds=second))
        await hass.async_block_till_done(wait_background_tasks=True)
    assert await hass.config_entries.async_reload(demo_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    stood = hass_storage[f"{DOMAIN}.demo"]["data"]["detector"]["last_epoch"]

    powers = set()
    for second in range(31, 61):
        async_fire_time_changed(hass, start + timedelta(seconds=second))
        await hass.async_block_till_done(wait_background_tasks=True)
        powers.add(state_of(hass, "sensor.demo_home_power"))
    assert await hass.config_entries.async_unload(demo_entry.entry_id)

    # The row shown at once after the reload, then one a second: 31 rows of 10 s after it stood.
    assert hass_storage[f"{DOMAIN}.demo"]["data"]["detector"]["last_epoch"] == stood + 31 * 10
    assert len(powers) > 1  # the replay goes on


def replay_position(demo_entry: MockConfigEntry) -> int:
    """How many rows of the trace the demo has fed so far (its diagnostics say)."""
    position: int = demo_entry.runtime_data.source.diagnostics()["position"]
    return position


async def replay_seconds(hass: HomeAssistant, seconds: int) -> None:
    start = dt_util.utcnow()
    for second in range(1, seconds + 1):
        async_fire_time_changed(hass, start + timedelta(seconds=second))
        await hass.async_block_till_done(wait_background_tasks=True)


async def test_demo_speed_variable_replays_that_many_rows_a_second(
    hass: HomeAssistant,
    demo_entry: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to(ORDINARY_DAY)  # the night clocks go forward plays 02:00-04:00 in one hour
    monkeypatch.setenv("ENERGY_ANOMALY_DEMO_SPEED", "30")
    await set_up_demo(hass, demo_entry)
    before = replay_position(demo_entry)

    await replay_seconds(hass, 30)  # 900 rows: 02:30 on the demo clock, the heater flagged

    assert replay_position(demo_entry) - before == 30 * 30
    assert state_of(hass, ANOMALY) == "on"


async def test_demo_speed_that_is_no_whole_number_is_ignored_with_a_warning(
    hass: HomeAssistant,
    demo_entry: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("ENERGY_ANOMALY_DEMO_SPEED", "fast")
    await set_up_demo(hass, demo_entry)
    before = replay_position(demo_entry)

    await replay_seconds(hass, 3)

    assert replay_position(demo_entry) - before == 3
    assert "Ignoring ENERGY_ANOMALY_DEMO_SPEED='fast': not a positive whole number" in caplog.text


@pytest.mark.parametrize(
    "now",
    [
        "2027-03-15 12:15:00+00:00",  # the clocks went forward (US/Pacific) the night before
        "2027-11-08 12:15:00+00:00",  # they went back the night before
    ],
)
async def test_the_demo_past_has_every_hour_once_across_a_change_of_summer_time(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, now: str
) -> None:
    """An autumn night's repeated hour had no readings (a gap the detector calls a meter fault),
    a spring night's missing hour was stamped like the next; each trace day is still a local day."""
    freezer.move_to(now)
    source = DemoSource(hass, await hass.async_add_executor_job(load_demo_trace))

    starts = [row.start.timestamp() for row in source.past()]

    assert {b - a for a, b in pairwise(starts)} == {3600.0}
    midnight = dt_util.start_of_local_day()
    assert starts[0] == (midnight - timedelta(days=28)).timestamp()
    assert starts[-1] == (midnight - timedelta(hours=1)).timestamp()


async def demo_a_day_ahead(
    hass: HomeAssistant,
    demo_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The demo set up just after midnight and replayed fast until its clock is about 30:00."""
    monkeypatch.setenv("ENERGY_ANOMALY_DEMO_SPEED", "720")  # two demo hours a second
    freezer.move_to(dt_util.start_of_local_day() + timedelta(minutes=1))
    await set_up_demo(hass, demo_entry)
    for _ in range(15):  # the demo clock at about 30:00, a day and 6 hours ahead of ours
        freezer.tick(timedelta(seconds=1))
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)


async def test_guests_on_the_demo_last_a_day_of_its_own_clock(
    hass: HomeAssistant,
    demo_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The replay runs ahead of the wall clock: a day of guests is a day on the demo's clock."""
    await demo_a_day_ahead(hass, demo_entry, freezer, monkeypatch)

    await hass.services.async_call(
        "select", "select_option", {"entity_id": MODE, "option": "guests"}, blocking=True
    )
    freezer.tick(timedelta(seconds=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)

    assert state_of(hass, MODE) == "guests"
    until = dt_util.parse_datetime(hass.states.get(MODE).attributes["until"])
    assert until is not None
    assert until > dt_util.now() + timedelta(days=1)


async def guests_chosen_while_the_demo_reads_its_past(
    hass: HomeAssistant, demo_entry: MockConfigEntry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Set up the demo, choose Guests while its past is read (held until then), let it end."""
    released = asyncio.Event()
    fetch = integration.async_fetch_seeded_history

    async def held_fetch(*args: Any, **kwargs: Any) -> Any:
        await released.wait()
        return await fetch(*args, **kwargs)

    monkeypatch.setattr(integration, "async_fetch_seeded_history", held_fetch)
    demo_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(demo_entry.entry_id)
    await hass.async_block_till_done()  # not the background tasks: the past is still read
    (device,) = dr.async_entries_for_config_entry(dr.async_get(hass), demo_entry.entry_id)

    chosen = hass.async_create_task(
        hass.services.async_call(
            DOMAIN, "set_mode", {"device_id": device.id, "mode": "guests"}, blocking=True
        )
    )
    await hass.async_block_till_done()
    released.set()
    await hass.async_block_till_done(wait_background_tasks=True)
    await chosen


async def test_a_mode_chosen_while_the_demo_reads_its_past_keeps_the_past_learned(
    hass: HomeAssistant, demo_entry: MockConfigEntry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo's first replayed reading waits in the queue while its past is read; a mode
    chosen then must not let that reading reach the detector first (its past is then skipped)."""
    await guests_chosen_while_the_demo_reads_its_past(hass, demo_entry, monkeypatch)

    status = hass.states.get("sensor.demo_home_detector_status")
    assert status is not None
    assert (status.state, status.attributes["history_days"]) == ("active", 28)


async def test_guests_chosen_while_the_demo_reads_its_past_last_a_day_of_its_own_clock(
    hass: HomeAssistant,
    demo_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The demo replays from midnight: at noon, a day of guests is a day from its 00:00, not
    from the wall clock's 12:00, also when chosen before its past is learned."""
    freezer.move_to(dt_util.start_of_local_day() + timedelta(hours=12))

    await guests_chosen_while_the_demo_reads_its_past(hass, demo_entry, monkeypatch)

    until = dt_util.parse_datetime(hass.states.get(MODE).attributes["until"])
    assert until is not None
    assert until < dt_util.start_of_local_day() + timedelta(days=1, hours=6)


async def test_set_mode_on_the_demo_with_an_end_its_clock_has_passed_is_refused_not_ignored(
    hass: HomeAssistant,
    demo_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Paused for two hours of the wall clock, on a demo already a day ahead of it: README, the
    action "refuses one that has passed. The end is judged by the time of the home's readings"."""
    await demo_a_day_ahead(hass, demo_entry, freezer, monkeypatch)
    (device,) = dr.async_entries_for_config_entry(dr.async_get(hass), demo_entry.entry_id)
    until = (dt_util.now() + timedelta(hours=2)).isoformat()

    with pytest.raises(ServiceValidationError) as refused:
        await hass.services.async_call(
            DOMAIN,
            "set_mode",
            {"mode": "paused", "until": until},
            target={"device_id": device.id},
            blocking=True,
        )

    assert refused.value.translation_key == "until_in_the_past"
    assert state_of(hass, MODE) == "normal"


async def test_hours_after_the_heaters_alarm_ended_the_score_is_below_the_bar_again(
    hass: HomeAssistant,
    demo_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """README: "A score above 1 without an alarm is a check past its bar for less time than it
    must stay there (...), or one the household answered" (neither, five hours after 05:00)."""
    freezer.move_to(ORDINARY_DAY)
    monkeypatch.setenv("ENERGY_ANOMALY_DEMO_SPEED", "30")
    await set_up_demo(hass, demo_entry)

    await replay_seconds(hass, 120)  # 10:00 on the demo clock: the heater was off at 05:00

    assert (state_of(hass, ANOMALY), state_of(hass, MODE)) == ("off", "normal")
    assert float(state_of(hass, "sensor.demo_home_anomaly_score")) < 1


async def test_the_demos_expected_power_at_noon_is_what_the_home_draws_at_least(
    hass: HomeAssistant,
    demo_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Noon in the trace: about 180 W on weekdays, 1.1 kW on the weekends' lunch; never below
    its standby (test_history_demo: every hour's minimum is above 100 W)."""
    freezer.move_to(ORDINARY_DAY)
    monkeypatch.setenv("ENERGY_ANOMALY_DEMO_SPEED", "30")
    await set_up_demo(hass, demo_entry)

    await replay_seconds(hass, 150)  # 12:30 on the demo clock

    assert state_of(hass, "sensor.demo_home_baseload") is not None
    assert float(state_of(hass, "sensor.demo_home_expected_power")) >= float(
        state_of(hass, "sensor.demo_home_baseload")
    )


async def test_after_home_assistants_time_zone_changed_the_demo_plays_a_row_each_10_s_of_its_clock(
    hass: HomeAssistant, demo_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """The time zone set in Settings applies at once, while the demo replays: its rows, 10 s
    apart in the trace, must stay 10 s apart (not an hour ahead, then 5 s apart with half an
    hour skipped every hour)."""
    freezer.move_to(ORDINARY_DAY)
    await set_up_demo(hass, demo_entry)
    coordinator = demo_entry.runtime_data.coordinators[0]
    await hass.config.async_set_time_zone("Europe/Oslo")

    epochs = [coordinator.data.reading.epoch]
    for _ in range(4):
        freezer.tick(timedelta(seconds=1))
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)
        epochs.append(coordinator.data.reading.epoch)

    assert [b - a for a, b in pairwise(epochs)] == [10.0] * 4
