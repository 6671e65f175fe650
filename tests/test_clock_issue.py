"""A host clock behind the meter's: every live reading is "in the future"; a repair issue says so.

`HostClock` stands for the host's clock as the runner reads it; the local Tibber server sends
readings stamped as a meter whose clock is ahead of it would.
"""

import asyncio
import contextlib
from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.energy_anomaly import runner as runner_module
from custom_components.energy_anomaly.const import DOMAIN
from custom_components.energy_anomaly.detector.model import Sensitivity
from custom_components.energy_anomaly.redact import hashed_id

from .conftest import HOME_A, HOME_B
from .test_demo import replay_position, set_up_demo
from .test_dynamic_devices import an_hour_later, remove_from_account
from .test_live_data import RunnerClock, state_of, wait_until
from .tibber_server import LocalTibberServer

METER_AHEAD = timedelta(minutes=20)  # how far the meter's clock is ahead of the host's


class HostClock(RunnerClock):
    """The host's clock as the runner reads it, set to minutes after the test began."""

    def __init__(self) -> None:
        super().__init__()
        self.start = self.now

    def at(self, minutes: float) -> None:
        self.now = self.start + timedelta(minutes=minutes)


@pytest.fixture
def host_clock(monkeypatch: pytest.MonkeyPatch) -> HostClock:
    clock = HostClock()
    monkeypatch.setattr(runner_module, "dt_util", clock)
    return clock


def clock_issue(hass: HomeAssistant, home_id: str = HOME_A) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, f"clock_behind_{hashed_id(home_id)}")


def rejected(entry: MockConfigEntry, home_id: str) -> int:
    """How many readings the home rejected so far (its diagnostics say)."""
    count: int = entry.runtime_data.sink.runners[home_id].diagnostics()["rejected_readings"]
    return count


async def push_ahead(
    hass: HomeAssistant,
    server: LocalTibberServer,
    entry: MockConfigEntry,
    clock: HostClock,
    *minutes: float,
    home_id: str = HOME_A,
) -> None:
    """At each of `minutes` on the host's clock, a reading stamped METER_AHEAD later, rejected."""
    for at in minutes:
        clock.at(at)
        before = rejected(entry, home_id)
        timestamp = dt_util.as_local(clock.now + METER_AHEAD).isoformat()
        await server.push(home_id, power=300.0, timestamp=timestamp)
        await wait_until(hass, lambda before=before: rejected(entry, home_id) == before + 1)


async def push_on_time(
    hass: HomeAssistant, server: LocalTibberServer, clock: HostClock, minutes: float, power: float
) -> None:
    """At `minutes` on the host's clock, a reading stamped then; wait until the Cabin shows it."""
    clock.at(minutes)
    await server.push(HOME_A, power=power, timestamp=dt_util.as_local(clock.now).isoformat())
    await wait_until(hass, lambda: state_of(hass, "sensor.cabin_power") == str(power))


async def raise_the_clock_issue(
    hass: HomeAssistant,
    server: LocalTibberServer,
    entry: MockConfigEntry,
    clock: HostClock,
    home_id: str = HOME_A,
) -> None:
    """Let the home's readings be METER_AHEAD for 10 minutes: its issue is raised."""
    await push_ahead(hass, server, entry, clock, 0, 10, home_id=home_id)
    assert clock_issue(hass, home_id) is not None


async def test_readings_20_minutes_ahead_for_10_minutes_raise_a_clock_issue_for_their_home(
    hass: HomeAssistant,
    host_clock: HostClock,
    tibber_server: LocalTibberServer,
    live_entry: MockConfigEntry,
) -> None:
    await push_ahead(hass, tibber_server, live_entry, host_clock, 0, 4, 8, 10)

    issue = clock_issue(hass)
    assert issue is not None
    assert issue.translation_key == "clock_behind"
    assert issue.translation_placeholders == {"home": "Cabin", "minutes": "20"}
    assert issue.severity is ir.IssueSeverity.WARNING
    assert not issue.is_fixable
    assert clock_issue(hass, HOME_B) is None


async def test_readings_ahead_for_less_than_10_minutes_raise_no_clock_issue(
    hass: HomeAssistant,
    host_clock: HostClock,
    tibber_server: LocalTibberServer,
    live_entry: MockConfigEntry,
) -> None:
    await push_ahead(hass, tibber_server, live_entry, host_clock, 0, 4, 8, 9.5)

    assert clock_issue(hass) is None


async def test_the_clock_issue_goes_once_a_reading_is_taken_again(
    hass: HomeAssistant,
    host_clock: HostClock,
    tibber_server: LocalTibberServer,
    live_entry: MockConfigEntry,
) -> None:
    await raise_the_clock_issue(hass, tibber_server, live_entry, host_clock)

    await push_on_time(hass, tibber_server, host_clock, 11, power=450.0)  # the clock was set

    assert clock_issue(hass) is None


async def test_a_single_future_reading_among_good_ones_raises_no_clock_issue(
    hass: HomeAssistant,
    host_clock: HostClock,
    tibber_server: LocalTibberServer,
    live_entry: MockConfigEntry,
) -> None:
    await push_on_time(hass, tibber_server, host_clock, 0, power=400.0)
    await push_ahead(hass, tibber_server, live_entry, host_clock, 1)
    await push_on_time(hass, tibber_server, host_clock, 2, power=410.0)
    await push_ahead(hass, tibber_server, live_entry, host_clock, 11)  # 10 min after the first

    assert clock_issue(hass) is None


async def test_the_clock_issue_goes_when_the_entry_unloads(
    hass: HomeAssistant,
    host_clock: HostClock,
    tibber_server: LocalTibberServer,
    live_entry: MockConfigEntry,
) -> None:
    await raise_the_clock_issue(hass, tibber_server, live_entry, host_clock)

    assert await hass.config_entries.async_unload(live_entry.entry_id)

    assert clock_issue(hass) is None


async def test_a_command_that_reaches_a_home_after_it_unloaded_brings_no_clock_issue_back(
    hass: HomeAssistant,
    host_clock: HostClock,
    tibber_server: LocalTibberServer,
    live_entry: MockConfigEntry,
) -> None:
    """An action over several homes holds their runners: its turn may come after an unload."""
    await raise_the_clock_issue(hass, tibber_server, live_entry, host_clock)
    runner = live_entry.runtime_data.sink.runners[HOME_A]
    assert await hass.config_entries.async_unload(live_entry.entry_id)

    with contextlib.suppress(HomeAssistantError):  # how it fails: test_controls
        await asyncio.wait_for(runner.async_set_sensitivity(Sensitivity.HIGH), timeout=5)
    await hass.async_block_till_done(wait_background_tasks=True)

    assert clock_issue(hass) is None


async def test_the_clock_issue_of_a_home_gone_from_the_account_goes_with_it(
    hass: HomeAssistant,
    host_clock: HostClock,
    tibber_server: LocalTibberServer,
    live_entry: MockConfigEntry,
) -> None:
    await raise_the_clock_issue(hass, tibber_server, live_entry, host_clock, HOME_B)

    remove_from_account(tibber_server, HOME_B)
    await an_hour_later(hass)

    assert clock_issue(hass, HOME_B) is None


async def test_the_demo_home_replaying_ahead_of_the_wall_clock_raises_no_clock_issue(
    hass: HomeAssistant,
    demo_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    freezer.move_to(dt_util.start_of_local_day() + timedelta(minutes=1))
    monkeypatch.setenv("ENERGY_ANOMALY_DEMO_SPEED", "12")  # 12 rows of 10 s: 2 demo minutes a tick
    await set_up_demo(hass, demo_entry)
    before = replay_position(demo_entry)

    for _ in range(20):  # a tick a minute: the demo clock gains a minute on ours each time
        freezer.tick(timedelta(minutes=1))
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)

    assert replay_position(demo_entry) - before == 20 * 12  # 19 minutes ahead of our clock
    assert [issue_id for domain, issue_id in ir.async_get(hass).issues if domain == DOMAIN] == []
