"""Soak: a simulated day of 2-second live readings for two homes through the local Tibber server,
the websocket, Home Assistant and the detectors, with a disconnect every 30 simulated minutes, a
stalled connection, a period in which Tibber refuses the connection (4429), a restart of the entry
(what Home Assistant restarting does to it: save, then restore) and a malformed payload every 300
messages. At the end each home's stored detector equals one that took the same readings without
ever stopping.

Readings carry simulated timestamps; Home Assistant's timers (backoffs, stall and health checks)
are moved with `jump`. The figures are printed (run with -s to see them).
"""

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
import json
import logging
import os
from pathlib import Path
import time
from typing import Any
from zoneinfo import ZoneInfo

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_anomaly.const import DOMAIN
from custom_components.energy_anomaly.detector.engine import Detector
from custom_components.energy_anomaly.detector.model import Reading
from custom_components.energy_anomaly.redact import hashed_id
from custom_components.energy_anomaly.sink import HomesSink

from .conftest import HOME_A, HOME_B
from .test_live_connection import (
    PAST_FIRST_BACKOFF,
    PAST_REFUSED_BACKOFF,
    jump,
    reconnected,
    settled_task_count,
    streamed_for_a_while,
)
from .test_live_data import wait_for_retry, wait_until
from .tibber_server import LocalTibberServer

READING_EVERY = timedelta(seconds=2)
# One day in the suite; `python -m benchmarks.soak` runs a week (ENERGY_ANOMALY_SOAK_DAYS=7).
READINGS = 43_200 * int(os.environ.get("ENERGY_ANOMALY_SOAK_DAYS", "1"))
OUTAGE_EVERY = 900  # readings: 30 simulated minutes
MALFORMED_EVERY = 300  # messages
STALL_AT = 8 * 1800  # reading index (8 h): the connection carries nothing for 100 s
REFUSED_AT = 16 * 1800  # reading index (16 h): Tibber refuses the reconnect with 4429
RESTART_AT = 12 * 1800  # reading index (12 h): the entry is unloaded and set up again
MAX_RSS_GROWTH_KB = 10_000  # second half of the day
HOMES = (HOME_A, HOME_B)


class Soak:
    """Drives the day and keeps the figures."""

    def __init__(
        self, hass: HomeAssistant, server: LocalTibberServer, entry: MockConfigEntry
    ) -> None:
        self.hass = hass
        self.server = server
        self.entry = entry
        self.sent: Counter[str] = Counter()
        self.received: Counter[str] = Counter()
        self.malformed = 0
        self.outages = 0
        # What each home's detector would be had it never stopped: fed every reading at once.
        self.never_stopped = {home_id: Detector() for home_id in HOMES}

    async def restart(self) -> None:
        """Save and stop, then set up again from what was stored, as a restart would."""
        await self.caught_up()
        assert await self.hass.config_entries.async_unload(self.entry.entry_id)
        assert await self.hass.config_entries.async_setup(self.entry.entry_id)
        await self.server.wait_for_subscriptions(len(HOMES))

    async def caught_up(self) -> None:
        """Wait until every reading sent so far reached the sink."""
        await wait_until(self.hass, lambda: self.received == self.sent)

    async def drop(self) -> None:
        await self.caught_up()
        await self.server.drop_connections()
        await reconnected(self.hass, self.server, self.entry)

    async def stall(self) -> None:
        await self.caught_up()
        for _ in range(10):  # ten health checks without a message: closed after 90 s
            await jump(self.hass, timedelta(seconds=10))
        await reconnected(self.hass, self.server, self.entry)

    async def refused(self, issues: ir.IssueRegistry) -> None:
        await self.caught_up()
        self.server.reject_all_connections = True
        await self.server.drop_connections(code=1012, reason="Service restart")
        await wait_for_retry(self.hass, self.entry)
        await jump(self.hass, PAST_FIRST_BACKOFF)
        issue = (DOMAIN, f"too_many_connections_{hashed_id(self.entry.entry_id)}")
        await wait_until(self.hass, lambda: issue in issues.issues)
        self.server.reject_all_connections = False
        await wait_for_retry(self.hass, self.entry)
        await jump(self.hass, PAST_REFUSED_BACKOFF)
        await self.server.wait_for_subscriptions(len(HOMES))

    async def send(self, index: int, timestamp: datetime) -> None:
        if index % MALFORMED_EVERY == MALFORMED_EVERY // 2:
            await self.server.push_raw(HOME_A, {"liveMeasurement": {"power": float("nan")}})
            self.malformed += 1
        for home_id in HOMES:
            power = 300.0 + (index % 600)
            if await self.server.push(home_id, timestamp=timestamp.isoformat(), power=power):
                self.sent[home_id] += 1


def traceback_of_ours(record: logging.LogRecord) -> bool:
    """A traceback logged by the integration, pyTibber or gql."""
    return bool(record.exc_info) and record.name.startswith(("custom_components", "tibber", "gql"))


def rss_kb() -> int:
    """The process's resident memory now (KB)."""
    status = Path("/proc/self/status").read_text(encoding="ascii")
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1])


@pytest.mark.soak
async def test_a_day_of_live_data_survives_drops_a_stall_and_a_refusal(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    live_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.INFO)  # not gql's debug line per message, which caplog would keep
    soak = Soak(hass, tibber_server, live_entry)
    add_readings = HomesSink.async_add_readings

    def counting(sink: HomesSink, home_id: str, readings: Sequence[Reading]) -> None:
        soak.received[home_id] += len(readings)
        for reading in readings:
            soak.never_stopped[home_id].update(reading)
        add_readings(sink, home_id, readings)

    monkeypatch.setattr(HomesSink, "async_add_readings", counting)
    start = datetime(2024, 3, 1, tzinfo=ZoneInfo("Europe/Oslo"))
    wall = time.monotonic()
    await soak.send(0, start)
    await soak.caught_up()
    baseline_tasks = await settled_task_count(hass)
    rss_at: dict[int, int] = {}

    for index in range(1, READINGS):
        if index % OUTAGE_EVERY == 0:
            soak.outages += 1
            if index == STALL_AT:
                await soak.stall()
            elif index == RESTART_AT:
                await soak.restart()
            elif index == REFUSED_AT:
                await soak.refused(issue_registry)
            else:
                await soak.drop()
        if index % (READINGS // 4) == 0:
            rss_at[index] = rss_kb()
        await soak.send(index, start + index * READING_EVERY)
        if index % OUTAGE_EVERY == 1:  # each connection streams 30 simulated minutes: stable
            await soak.caught_up()
            await streamed_for_a_while(hass)
    await soak.caught_up()
    rss_at[READINGS] = rss_kb()
    tasks = await settled_task_count(hass)
    wall = time.monotonic() - wall

    print(
        f"\nsoak: {READINGS} steps of 2 s for {len(HOMES)} homes in {wall:.1f} s wall;"
        f" readings sent {soak.sent.total()}, received {soak.received.total()};"
        f" malformed {soak.malformed}; outages {soak.outages};"
        f" connections {tibber_server.connections_total}"
        f" (4429: {tibber_server.close_codes[4429]}), most open at once"
        f" {tibber_server.most_open_connections}; tasks {baseline_tasks} -> {tasks};"
        f" RSS (KB) at each quarter {list(rss_at.values())}"
    )
    assert soak.received == soak.sent
    assert soak.sent.total() == READINGS * len(HOMES)
    assert tibber_server.most_open_connections == 1
    assert tibber_server.connections_total == soak.outages + 2  # + the first, + the refused one
    assert tasks <= baseline_tasks
    assert rss_at[READINGS] - rss_at[READINGS // 2] < MAX_RSS_GROWTH_KB
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or traceback_of_ours(r)]
    assert await hass.config_entries.async_unload(live_entry.entry_id)
    for home_id, never_stopped in soak.never_stopped.items():
        stored = hass_storage[f"{DOMAIN}.{home_id}"]["data"]["detector"]
        assert stored == json.loads(json.dumps(never_stopped.to_state()))
