"""The notification blueprint, loaded and run by Home Assistant's automation integration."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
import shutil
from typing import Any

from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_mock_service
import yaml

from .test_anomaly_surface import over_the_fuse, still_over_the_fuse_once_back
from .test_controls import ANOMALY, MODE
from .test_live_data import Clock, wait_until
from .test_write_throttles import Cabin, cabin
from .tibber_server import LocalTibberServer

BLUEPRINT = (
    Path(__file__).parents[1]
    / "blueprints"
    / "automation"
    / "energy_anomaly"
    / "notify_anomaly.yaml"
)
EVENT = "event.cabin_anomaly_started"
REASON = "Current on L1 is 32 A, above the 25 A fuse, for 1 minute"


async def use_blueprint(hass: HomeAssistant, tmp_path: Path, **inputs: Any) -> list[ServiceCall]:
    """Install the blueprint as a user would (in the configuration's `blueprints/` folder), make
    an automation of it for the Cabin, and return the calls of the phone's notify action."""
    hass.config.config_dir = str(tmp_path)
    folder = tmp_path / "blueprints" / "automation" / "energy_anomaly"
    folder.mkdir(parents=True)
    shutil.copy(BLUEPRINT, folder)
    notified = async_mock_service(hass, "notify", "mobile_app_phone")
    no_quiet_hours = {"quiet_start": "00:00:00", "quiet_end": "00:00:00"}
    config = {
        "use_blueprint": {
            "path": "energy_anomaly/notify_anomaly.yaml",
            "input": {
                "anomaly_event": EVENT,
                "notify_action": "notify.mobile_app_phone",
                **no_quiet_hours,
                **inputs,
            },
        }
    }
    assert await async_setup_component(hass, "automation", {"automation": config})
    return notified


@pytest.fixture
def alarm(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> Callable[[], Awaitable[Cabin]]:
    """Sets the Cabin up and raises its power quality alarm (32 A on a 25 A fuse for 70 s)."""
    return partial(over_the_fuse, hass, tibber_server, tibber_entry)


async def press(hass: HomeAssistant, button: str) -> None:
    """The companion app reports a press of one of the notification's buttons."""
    hass.bus.async_fire("mobile_app_notification_action", {"action": f"{button}_{EVENT}"})
    await hass.async_block_till_done(wait_background_tasks=True)


def quiet_hours_around_now() -> dict[str, str]:
    now = dt_util.now()
    return {
        "quiet_start": (now - timedelta(hours=1)).strftime("%H:%M:%S"),
        "quiet_end": (now + timedelta(hours=1)).strftime("%H:%M:%S"),
    }


def test_the_blueprint_is_importable_by_url() -> None:
    class Loader(yaml.SafeLoader):
        """Reads `!input name` as the name."""

    Loader.add_constructor("!input", lambda loader, node: loader.construct_scalar(node))
    blueprint = yaml.load(BLUEPRINT.read_text("utf-8"), Loader)["blueprint"]

    assert blueprint["domain"] == "automation"
    assert blueprint["source_url"].endswith(
        "/blob/main/blueprints/automation/energy_anomaly/notify_anomaly.yaml"
    )


async def test_an_anomaly_is_sent_with_its_reason_and_three_buttons(
    hass: HomeAssistant, alarm: Callable[[], Awaitable[Cabin]], tmp_path: Path
) -> None:
    notified = await use_blueprint(hass, tmp_path)

    await alarm()
    await hass.async_block_till_done(wait_background_tasks=True)

    (call,) = notified
    assert (call.data["title"], call.data["message"]) == ("Anomaly at Cabin", REASON)
    buttons = [(action["action"], action["title"]) for action in call.data["data"]["actions"]]
    assert buttons == [
        (f"ENERGY_ANOMALY_NORMAL_{EVENT}", "That was us"),
        (f"ENERGY_ANOMALY_GUESTS_{EVENT}", "We have guests"),
        (f"ENERGY_ANOMALY_SNOOZE_{EVENT}", "Snooze for today"),
    ]


async def test_that_was_us_marks_the_anomaly_normal(
    hass: HomeAssistant, alarm: Callable[[], Awaitable[Cabin]], tmp_path: Path
) -> None:
    await use_blueprint(hass, tmp_path)
    home = await alarm()
    assert hass.states.get(ANOMALY).state == "on"

    await press(hass, "ENERGY_ANOMALY_NORMAL")
    await home.push(80, currentL1=32.0)

    assert hass.states.get(ANOMALY).state == "off"


async def until_after_pressing(
    hass: HomeAssistant,
    alarm: Callable[[], Awaitable[Cabin]],
    tmp_path: Path,
    button: str,
    mode: str,
) -> Any:
    """The blueprint's automation, an anomaly, a press of `button`: the mode's `until` once it is
    `mode`."""
    await use_blueprint(hass, tmp_path)
    await alarm()

    await press(hass, button)
    await wait_until(hass, lambda: hass.states.get(MODE).state == mode)

    return hass.states.get(MODE).attributes["until"]


async def test_we_have_guests_sets_the_guests_mode_for_a_day(
    hass: HomeAssistant, alarm: Callable[[], Awaitable[Cabin]], tmp_path: Path
) -> None:
    until = await until_after_pressing(hass, alarm, tmp_path, "ENERGY_ANOMALY_GUESTS", "guests")

    end = dt_util.parse_datetime(until)
    assert end is not None
    assert abs(end - (dt_util.now() + timedelta(hours=24))) < timedelta(minutes=5)


async def test_snooze_for_today_pauses_the_home_until_midnight(
    hass: HomeAssistant,
    midnight_tonight: datetime,
    alarm: Callable[[], Awaitable[Cabin]],
    tmp_path: Path,
) -> None:
    until = await until_after_pressing(hass, alarm, tmp_path, "ENERGY_ANOMALY_SNOOZE", "paused")

    assert until == midnight_tonight.isoformat()


async def test_nothing_is_sent_in_quiet_hours(
    hass: HomeAssistant, alarm: Callable[[], Awaitable[Cabin]], tmp_path: Path
) -> None:
    notified = await use_blueprint(hass, tmp_path, **quiet_hours_around_now())

    await alarm()
    await hass.async_block_till_done(wait_background_tasks=True)

    assert hass.states.get(ANOMALY).state == "on"
    assert notified == []


@pytest.mark.parametrize(("cooldown", "sent"), [(30, 1), (0, 2)])
async def test_a_second_anomaly_within_the_cooldown_is_not_sent(
    hass: HomeAssistant,
    alarm: Callable[[], Awaitable[Cabin]],
    tmp_path: Path,
    cooldown: int,
    sent: int,
) -> None:
    notified = await use_blueprint(hass, tmp_path, cooldown=cooldown)
    home = await alarm()

    for at in range(80, 401, 10):  # still over the fuse, and now a meter fault: a second event
        await home.push(at, currentL1=32.0, power=-300.0, powerProduction=0.0)
    await hass.async_block_till_done(wait_background_tasks=True)

    assert len(notified) == sent


async def test_an_anomaly_going_on_through_a_reload_is_not_sent_again(
    hass: HomeAssistant,
    alarm: Callable[[], Awaitable[Cabin]],
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    tmp_path: Path,
) -> None:
    """The event entity comes back with the event it showed (restored), an older one."""
    notified = await use_blueprint(hass, tmp_path, cooldown=0)
    home = await alarm()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len(notified) == 1
    await asyncio.sleep(1.5)  # the event is older than the restored state's change

    assert await hass.config_entries.async_reload(tibber_entry.entry_id)
    await still_over_the_fuse_once_back(home)
    await hass.async_block_till_done(wait_background_tasks=True)

    assert hass.states.get(EVENT).attributes["reason"] == REASON
    assert len(notified) == 1


async def test_a_gap_in_live_data_is_sent_when_the_readings_come_back(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    tmp_path: Path,
) -> None:
    notified = await use_blueprint(hass, tmp_path)
    home = await cabin(hass, tibber_server, tibber_entry)
    for at in range(0, 301, 10):  # a reading every 10 s
        await home.push(at, power=400.0)
    clock = Clock(hass)
    for _ in range(7):  # no reading for over a minute: the home is unavailable
        await clock.advance(timedelta(seconds=10))
    assert hass.states.get(EVENT).state == "unavailable"

    await home.push(300 + 30 * 60, power=400.0)  # the next one 30 minutes later
    await hass.async_block_till_done(wait_background_tasks=True)

    gap = "No readings for 30 minutes (usually one every 10 s)"
    assert (hass.states.get(ANOMALY).state, hass.states.get(EVENT).attributes["reason"]) == (
        "on",
        gap,
    )
    assert [call.data["message"] for call in notified] == [gap]


async def test_that_was_us_pressed_again_logs_no_error(
    hass: HomeAssistant,
    alarm: Callable[[], Awaitable[Cabin]],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Twice on one notification, or once after the anomaly was marked from the dashboard: the
    action answers the anomaly marked, and Home Assistant logs no failed step."""
    await use_blueprint(hass, tmp_path)
    home = await alarm()
    await press(hass, "ENERGY_ANOMALY_NORMAL")
    await home.push(80, currentL1=32.0)
    assert hass.states.get(ANOMALY).state == "off"

    await press(hass, "ENERGY_ANOMALY_NORMAL")

    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == []
