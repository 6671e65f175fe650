"""Fixtures shared by the integration tests: the real HA harness and a local Tibber API server."""

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
import logging
from pathlib import Path
import time
from typing import Any

from freezegun import freeze_time
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_ACCESS_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from homeassistant.util.ssl import get_default_context
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion
import tibber

from custom_components import energy_anomaly as integration
from custom_components.energy_anomaly.const import (
    CONF_HOMES,
    CONF_SOURCE,
    DEMO_UNIQUE_ID,
    DOMAIN,
    SOURCE_DEMO,
    SOURCE_TIBBER,
)
from custom_components.energy_anomaly.detector.model import HistoryRow

from .tibber_server import (
    DEFAULT_TOKEN,
    LocalAccount,
    LocalHome,
    LocalTibberServer,
    point_pytibber_at,
)

pytest_plugins = ["pytest_homeassistant_custom_component"]


def logged_at_least(caplog: pytest.LogCaptureFixture, level: int) -> list[logging.LogRecord]:
    """The records at `level` or above, but asyncio's "Executing <Task ...> took 0.8 seconds".

    The test harness runs the loop in debug mode, which warns of any step over 0.1 s: on a
    loaded 2-core machine (CI) a step of ours or the harness's can take that long, and that
    warning is no line the integration logs.
    """
    return [
        record
        for record in caplog.records
        if record.levelno >= level
        and not (record.name == "asyncio" and record.getMessage().startswith("Executing "))
    ]


def pytest_report_header() -> str:
    """Say which pyTibber runs (scripts/test runs the pyTibber tests with two versions)."""
    return f"pyTibber {tibber.__version__} ({Path(tibber.__file__).parent})"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that runs pyTibber against the local server as `pytibber`."""
    for item in items:
        if "tibber_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.pytibber)


USER_ID = "user-1"
HOME_A = "00000000-0000-4000-8000-00000000000a"
HOME_B = "00000000-0000-4000-8000-00000000000b"
HOME_NO_PULSE = "00000000-0000-4000-8000-00000000000c"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load custom_components/energy_anomaly in every test."""


@pytest.fixture
def midnight_tonight(hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch) -> Iterator[datetime]:
    """The end of today in Home Assistant's time zone, its clock stopped a second before it.

    Stopped, today cannot end between what the test does and what it expects (a run crossing
    midnight), and a second before it an end counted from another day or zone shows. The event
    loop keeps real time (the harness has it read the clock freezegun stops): the local Tibber
    server's websocket and `wait_until`'s sleeps and timeouts run on it. Ask for this fixture
    before those that set a home up, so the home starts on the stopped clock.
    """
    midnight = dt_util.start_of_local_day() + timedelta(days=1)
    monkeypatch.setattr(hass.loop, "time", time.monotonic)  # bound before the freeze: real
    with freeze_time(midnight - timedelta(seconds=1)):
        yield midnight


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots as Home Assistant core writes them (`snapshots/*.ambr`, ids and times as ANY)."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


@pytest.fixture
def tibber_account() -> LocalAccount:
    """A Tibber user with two Pulse homes and one without a Pulse."""
    return LocalAccount(
        user_id=USER_ID,
        name="Ada Lovelace",
        homes=[
            LocalHome(HOME_A, nickname="Cabin", address1="Fjellveien 1"),
            LocalHome(HOME_B, nickname="Flat", address1="Bygata 2"),
            LocalHome(HOME_NO_PULSE, nickname=None, has_pulse=False, subscription_status=None),
        ],
    )


@pytest.fixture
async def tibber_server(
    hass: HomeAssistant,
    socket_enabled: None,
    monkeypatch: pytest.MonkeyPatch,
    tibber_account: LocalAccount,
) -> AsyncIterator[LocalTibberServer]:
    """The local Tibber API (HTTP + wss on 127.0.0.1), with pyTibber pointed at it.

    At the end, loaded entries are unloaded before the server stops, as a user would see it.
    """
    async with LocalTibberServer(account=tibber_account, tls=True) as server:
        server.trust(get_default_context())
        point_pytibber_at(server, monkeypatch)
        yield server
        for entry in hass.config_entries.async_entries(DOMAIN):
            if entry.state is ConfigEntryState.LOADED:
                await hass.config_entries.async_unload(entry.entry_id)


@pytest.fixture
def tibber_entry() -> MockConfigEntry:
    """A config entry for the Tibber account watching both Pulse homes."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Ada Lovelace",
        unique_id=USER_ID,
        data={
            CONF_SOURCE: SOURCE_TIBBER,
            CONF_ACCESS_TOKEN: DEFAULT_TOKEN,
            CONF_HOMES: {HOME_A: "Cabin", HOME_B: "Flat"},
        },
    )


@pytest.fixture
def demo_entry() -> MockConfigEntry:
    """A config entry for the demo home."""
    return MockConfigEntry(
        domain=DOMAIN, title="Demo home", unique_id=DEMO_UNIQUE_ID, data={CONF_SOURCE: SOURCE_DEMO}
    )


@pytest.fixture
async def live_entry(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> MockConfigEntry:
    """The Tibber entry loaded, with both homes subscribed on its one websocket."""
    tibber_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(tibber_entry.entry_id)
    await tibber_server.wait_for_subscriptions(len(tibber_entry.data[CONF_HOMES]))
    return tibber_entry


HISTORY_DAYS = 3


@pytest.fixture
def held_history(monkeypatch: pytest.MonkeyPatch) -> asyncio.Event:
    """Each home's history fetch: three days of 500 W hours, given once the test sets the event.

    Until then the fetch is under way, as while Tibber rate-limits it (up to about 12 minutes).
    The days are those before the day the fetch began, on the clock the integration reads then
    (not when the test began: a run crossing midnight would leave a day between them and now).
    """
    released = asyncio.Event()

    async def fetch(*_: Any, **__: Any) -> list[HistoryRow]:
        today = dt_util.start_of_local_day()
        await released.wait()
        return [
            HistoryRow(today - timedelta(hours=hours), 3600.0, 500.0)
            for hours in range(HISTORY_DAYS * 24, 0, -1)
        ]

    monkeypatch.setattr(integration, "async_fetch_home_history", fetch)
    return released
