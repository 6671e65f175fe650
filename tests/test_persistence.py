"""What a home's detector learned survives unload, restart and bad stored data."""

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
import errno
import logging
import os
from pathlib import Path
import threading
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.json import json_bytes, json_fragment
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
from homeassistant.util.json import json_loads
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.energy_anomaly import runner as runner_module
from custom_components.energy_anomaly.const import DOMAIN
from custom_components.energy_anomaly.detector.engine import Detector
from custom_components.energy_anomaly.detector.model import Reading
from custom_components.energy_anomaly.runner import HomeRunner

from .conftest import HOME_A
from .test_live_data import RunnerClock, set_up, state_of, wait_until
from .tibber_server import LocalTibberServer

STORE_KEY = f"{DOMAIN}.{HOME_A}"
UNREADABLE_KEY = f"{STORE_KEY}.unreadable"
START = datetime.fromisoformat("2026-11-02T00:00:00+01:00")


async def push_hours(hass: HomeAssistant, server: LocalTibberServer, first: int, last: int) -> None:
    """Cabin readings every 10 minutes from hour `first` to `last` after START, all processed.

    The last one (999 W) marks the end: once the power sensor shows it, all were processed.
    """
    for minutes in range(first * 60, last * 60 + 1, 10):
        timestamp = (START + timedelta(minutes=minutes)).isoformat()
        power = 999.0 if minutes == last * 60 else 300.0 + minutes % 7
        await server.push(HOME_A, power=power, timestamp=timestamp)
    await wait_until(hass, lambda: state_of(hass, "sensor.cabin_power") == "999.0")


def learned_seconds_of(hass_storage: dict[str, Any], key: str) -> float:
    """Seconds from START to the last reading the stored detector took."""
    return float(hass_storage[key]["data"]["detector"]["last_epoch"]) - START.timestamp()


def learned_seconds(hass_storage: dict[str, Any]) -> float:
    return learned_seconds_of(hass_storage, STORE_KEY)


async def test_unload_stores_the_learned_state_and_setup_continues_from_it(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    await set_up(hass, tibber_entry, tibber_server)
    await push_hours(hass, tibber_server, 0, 36)  # a day and a half
    assert await hass.config_entries.async_unload(tibber_entry.entry_id)
    assert learned_seconds(hass_storage) == 36 * 3600
    assert hass_storage[STORE_KEY]["version"] == 1

    assert await hass.config_entries.async_setup(tibber_entry.entry_id)
    await tibber_server.wait_for_subscriptions(2)
    await push_hours(hass, tibber_server, 37, 48)
    # Two days of the 14 learning days, one and a half of them before the restart (the hour
    # missed while it restarted is a slot without readings): 14 %, not the 4 % of half a day.
    status = hass.states.get("sensor.cabin_detector_status")
    assert status.attributes["learning_progress"] == 14
    assert await hass.config_entries.async_unload(tibber_entry.entry_id)
    assert learned_seconds(hass_storage) == 48 * 3600


async def test_the_store_gets_the_detector_state_already_serialised(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The Store serialises on the event loop: it gets the 60 KB state as JSON bytes to copy."""
    handed: list[Any] = []
    save = Store.async_save

    async def spy(store: Store[Any], data: Any) -> None:
        handed.append(data)
        await save(store, data)

    monkeypatch.setattr(Store, "async_save", spy)
    await set_up(hass, tibber_entry, tibber_server)
    await push_hours(hass, tibber_server, 0, 1)
    assert await hass.config_entries.async_unload(tibber_entry.entry_id)

    assert handed
    assert all(type(data["detector"]) is json_fragment for data in handed)
    assert hass_storage[STORE_KEY]["data"] in [json_loads(json_bytes(data)) for data in handed]
    assert learned_seconds(hass_storage) == 3600


async def test_home_assistant_stop_writes_the_state(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    await set_up(hass, tibber_entry, tibber_server)
    await push_hours(hass, tibber_server, 0, 1)
    assert STORE_KEY not in hass_storage

    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await hass.async_block_till_done(wait_background_tasks=True)

    assert learned_seconds(hass_storage) == 3600
    await tibber_server.wait_for(lambda: tibber_server.open_connections == 0)


@contextmanager
def held_batches(runner: HomeRunner) -> Iterator[tuple[threading.Event, threading.Event]]:
    """Hold each batch the home's worker takes to the detector until `release` is set.

    Yields (entered, release): `entered` is set once a batch waits in the executor.
    """
    entered, release = threading.Event(), threading.Event()
    update = runner._detector_update

    def held_update(batch: Any) -> Any:
        entered.set()
        release.wait(10)
        return update(batch)

    with patch.object(runner, "_detector_update", held_update):
        yield entered, release


async def test_home_assistant_stop_writes_the_state_after_the_batch_the_detector_is_taking(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    # Home Assistant cancels its background tasks, the home's worker among them, before it
    # fires the stop event: the batch already in the executor still ends, and is written.
    await set_up(hass, tibber_entry, tibber_server)
    await push_hours(hass, tibber_server, 0, 1)
    runner = tibber_entry.runtime_data.sink.runners[HOME_A]
    with held_batches(runner) as (entered, release):
        timestamp = (START + timedelta(hours=1, minutes=10)).isoformat()
        await tibber_server.push(HOME_A, power=500.0, timestamp=timestamp)
        assert await hass.async_add_executor_job(entered.wait, 10)
        assert runner._worker is not None
        runner._worker.cancel("Home Assistant is stopping")
        hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
        await asyncio.sleep(0.1)  # the final write waits for the batch
        release.set()
        await hass.async_block_till_done(wait_background_tasks=True)

    assert learned_seconds(hass_storage) == 3600 + 600


def store_cabin_state(hass_storage: dict[str, Any], data: Any) -> None:
    """Put `data` where the Cabin's stored state is read from at setup."""
    hass_storage[STORE_KEY] = {"version": 1, "minor_version": 1, "key": STORE_KEY, "data": data}


async def unload_and_remove(
    hass: HomeAssistant, entry: MockConfigEntry, hass_storage: dict[str, Any]
) -> None:
    """Unload the entry (which writes the state) and remove it for good."""
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert STORE_KEY in hass_storage
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()


def valid_detector_state() -> dict[str, Any]:
    """What a fresh detector stores, as a base to damage."""
    return Detector().to_state()


CORRUPT_STATES: dict[str, Any] = {
    "unknown detector version": {"detector": {"version": 999}, "reported": []},
    "detector is a list": {"detector": [], "reported": []},
    "detector fields missing": {"detector": {"version": 2}, "reported": []},
    "detector field of the wrong type": {
        "detector": valid_detector_state() | {"faults": "zero"},
        "reported": [],
    },
    "reported missing": {"detector": valid_detector_state()},
    "reported not a list": {"detector": valid_detector_state(), "reported": 5},
    "reported not names": {"detector": valid_detector_state(), "reported": [5]},
    "data is a list": [1, 2, 3],
    "data is a string": "energy",
}


@pytest.mark.parametrize("data", CORRUPT_STATES.values(), ids=CORRUPT_STATES.keys())
async def test_damaged_stored_state_never_stops_the_home(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    issue_registry: ir.IssueRegistry,
    caplog: pytest.LogCaptureFixture,
    data: Any,
) -> None:
    store_cabin_state(hass_storage, data)
    caplog.set_level(logging.WARNING)
    await set_up(hass, tibber_entry, tibber_server)
    await tibber_server.push(HOME_A, power=250.0, voltagePhase1=230.0)
    await wait_until(hass, lambda: state_of(hass, "sensor.cabin_power") == "250.0")

    assert tibber_entry.state is ConfigEntryState.LOADED
    assert state_of(hass, "sensor.cabin_detector_status") == "learning"
    assert state_of(hass, "sensor.cabin_voltage_l1") == "230.0"
    assert "Could not restore what the detector learned for Cabin" in caplog.text
    assert issue_registry.issues == {}  # nothing for the user to fix: the status says learning
    assert await hass.config_entries.async_unload(tibber_entry.entry_id)
    assert hass_storage[UNREADABLE_KEY]["data"] == data  # kept aside, not lost
    assert hass_storage[STORE_KEY]["data"]["detector"]["last_epoch"] is not None  # learned afresh


def learned_state(hours: int = 6) -> dict[str, Any]:
    """A detector state that learned `hours` of minute readings, a week before the tests' now."""
    detector = Detector()
    start = dt_util.now() - timedelta(days=7)
    for minute in range(hours * 60):
        detector.update(Reading(start + timedelta(minutes=minute), power=300.0 + minute % 7))
    return detector.to_state()


def store_cabin_state_ahead(hass_storage: dict[str, Any], ahead: timedelta) -> dict[str, Any]:
    """Store a learned Cabin state whose last reading is `ahead` of the clock; return it."""
    state = learned_state()
    state["last_epoch"] = state["faults"]["last_epoch"] = (dt_util.utcnow() + ahead).timestamp()
    store_cabin_state(hass_storage, {"detector": state, "reported": []})
    return state


async def test_a_state_stored_by_a_newer_storage_version_is_left_as_it_is(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    newer = {"version": 2, "minor_version": 1, "key": STORE_KEY, "data": {"detector": {}}}
    hass_storage[STORE_KEY] = newer
    await set_up(hass, tibber_entry, tibber_server)
    await tibber_server.push(HOME_A, power=250.0)
    await wait_until(hass, lambda: state_of(hass, "sensor.cabin_power") == "250.0")
    assert await hass.config_entries.async_unload(tibber_entry.entry_id)

    assert hass_storage[STORE_KEY] == newer
    assert "stored by a newer version of Energy Anomaly" in caplog.text


async def test_a_reported_quantity_this_release_does_not_know_keeps_what_was_learned(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    learned = learned_state()
    store_cabin_state(hass_storage, {"detector": learned, "reported": ["voltage_l1", "frequency"]})
    await set_up(hass, tibber_entry, tibber_server)
    assert await hass.config_entries.async_unload(tibber_entry.entry_id)

    assert hass_storage[STORE_KEY]["data"]["detector"]["last_epoch"] == learned["last_epoch"]
    assert hass_storage[STORE_KEY]["data"]["reported"] == ["voltage_l1"]


async def test_a_state_that_took_a_reading_later_than_the_clock_is_kept_aside(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    # every reading until then would be skipped as older than the last
    ahead = store_cabin_state_ahead(hass_storage, timedelta(days=365))
    await set_up(hass, tibber_entry, tibber_server)
    await tibber_server.push(HOME_A, power=250.0)
    await wait_until(hass, lambda: state_of(hass, "sensor.cabin_power") == "250.0")
    assert await hass.config_entries.async_unload(tibber_entry.entry_id)

    assert hass_storage[UNREADABLE_KEY]["data"]["detector"]["last_epoch"] == ahead["last_epoch"]
    assert hass_storage[STORE_KEY]["data"]["detector"]["last_epoch"] < ahead["last_epoch"]


async def test_a_state_a_little_later_than_the_clock_keeps_what_was_learned(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A Pi without a real-time clock boots after a power cut 40 minutes early, until NTP."""
    ahead = store_cabin_state_ahead(hass_storage, timedelta(minutes=40))
    await set_up(hass, tibber_entry, tibber_server)
    assert await hass.config_entries.async_unload(tibber_entry.entry_id)

    assert UNREADABLE_KEY not in hass_storage
    assert hass_storage[STORE_KEY]["data"]["detector"]["last_epoch"] == ahead["last_epoch"]
    assert "Could not restore" not in caplog.text


async def test_removing_the_entry_deletes_what_was_learned(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    await set_up(hass, tibber_entry, tibber_server)
    await push_hours(hass, tibber_server, 0, 1)

    await unload_and_remove(hass, tibber_entry, hass_storage)

    assert STORE_KEY not in hass_storage


async def test_removing_the_entry_deletes_a_state_kept_aside(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    store_cabin_state(hass_storage, [1, 2, 3])
    await set_up(hass, tibber_entry, tibber_server)
    assert UNREADABLE_KEY in hass_storage

    await unload_and_remove(hass, tibber_entry, hass_storage)

    assert UNREADABLE_KEY not in hass_storage


async def test_steady_state_writes_the_state_once_per_fifteen_minutes(
    hass: HomeAssistant,
    demo_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    demo_key = f"{DOMAIN}.demo"
    demo_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(demo_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    writes: list[float] = []

    for _ in range(31 * 6):  # 31 minutes of replay, one reading every 10 seconds
        freezer.tick(timedelta(seconds=10))
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)
        # The write right after the history import is before any reading: not a steady one.
        if demo_key in hass_storage and hass_storage[demo_key]["data"]["detector"]["last_epoch"]:
            learned = learned_seconds_of(hass_storage, demo_key)
            if not writes or writes[-1] != learned:
                writes.append(learned)

    assert len(writes) == 2  # after 15 and after 30 minutes, not once per reading


async def test_after_a_restart_the_sensors_of_reported_phases_are_set_up_at_once(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
) -> None:
    """Not left as restored registry entries until the first reading after the restart."""
    await set_up(hass, tibber_entry, tibber_server)
    await push_hours(hass, tibber_server, 0, 0)  # the default measurement reports voltage L1
    assert state_of(hass, "sensor.cabin_voltage_l1") is not None
    assert await hass.config_entries.async_unload(tibber_entry.entry_id)

    assert await hass.config_entries.async_setup(tibber_entry.entry_id)
    await hass.async_block_till_done()

    voltage = hass.states.get("sensor.cabin_voltage_l1")
    assert voltage.state == "unavailable"  # no reading since the restart yet
    assert "restored" not in voltage.attributes  # set up by the integration, not a leftover
    assert voltage.attributes["unit_of_measurement"] == "V"


async def test_a_host_clock_set_back_does_not_stop_the_writes_every_fifteen_minutes(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A Pi that booted a day ahead until NTP set its clock right keeps storing what it learns.

    A Tibber home's readings carry the meter's time, so it learns on as before the clock moved;
    a crash must cost at most the last 15 minutes of it, not the day the clock went back.
    """
    clock = RunnerClock()
    monkeypatch.setattr(runner_module, "dt_util", clock)
    right = clock.now
    clock.now = right + timedelta(days=1)  # booted a day ahead
    await set_up(hass, tibber_entry, tibber_server)

    for minutes in range(0, 31, 5):  # NTP set the clock right; half an hour of readings
        clock.now = right + timedelta(minutes=minutes)
        power = 300.0 + minutes
        await tibber_server.push(
            HOME_A, power=power, timestamp=dt_util.as_local(clock.now).isoformat()
        )
        await wait_until(
            hass, lambda power=power: state_of(hass, "sensor.cabin_power") == str(power)
        )

    assert STORE_KEY in hass_storage
    assert hass_storage[STORE_KEY]["data"]["detector"]["last_epoch"] >= right.timestamp()


@contextmanager
def cabin_file_on_disk(hass: HomeAssistant, tmp_path: Path, content: bytes) -> Iterator[Path]:
    """The Cabin's state file holds `content` on disk, and its Store reads it from there.

    The harness's storage holds only valid JSON, which a damaged SD card does not; the other
    stores read from the harness as before. Yields the `.storage` directory.
    """
    hass.config.config_dir = str(tmp_path)
    storage = tmp_path / ".storage"
    storage.mkdir()
    (storage / STORE_KEY).write_bytes(content)
    load_mocked = Store._async_load

    async def load_cabin_from_disk(store: Store[Any]) -> Any:
        if store.key == STORE_KEY:
            return await store._async_load_data()
        return await load_mocked(store)

    with patch.object(Store, "_async_load", load_cabin_from_disk):
        yield storage


@pytest.mark.parametrize(
    ("version", "error"),
    [(0, "NotImplementedError"), ("1", "TypeError"), (None, "TypeError")],
    ids=["zero", "text", "null"],
)
async def test_a_state_file_whose_version_is_damaged_is_kept_aside_and_the_home_learns_afresh(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
    version: Any,
    error: str,
) -> None:
    """Home Assistant's Store cannot read such a file (a hand edit): it must not fail setup."""
    content = json_bytes(
        {"version": version, "key": STORE_KEY, "data": {"detector": learned_state()}}
    )
    with cabin_file_on_disk(hass, tmp_path, content) as storage:
        await set_up(hass, tibber_entry, tibber_server)

    assert tibber_entry.state is ConfigEntryState.LOADED
    assert f"Could not restore what the detector learned for Cabin ({error}: " in caplog.text
    assert (storage / f"{STORE_KEY}.unreadable").read_bytes() == content
    await tibber_server.push(HOME_A, power=250.0)
    await wait_until(hass, lambda: state_of(hass, "sensor.cabin_power") == "250.0")
    assert state_of(hass, "sensor.cabin_detector_status") == "learning"


@pytest.mark.parametrize(
    "content",
    [b'{"version": 1, "minor_version": 1, "key": "k", "data": {"detector": {"vers', b"\0" * 4096],
    ids=["cut_short", "zeroed"],
)
async def test_a_state_file_that_is_not_json_is_kept_by_home_assistant_until_the_entry_goes(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    tmp_path: Path,
    content: bytes,
) -> None:
    """As README's troubleshooting says: a copy `.corrupt.<time>`, deleted with the entry."""
    with cabin_file_on_disk(hass, tmp_path, content) as storage:
        await set_up(hass, tibber_entry, tibber_server)
        await tibber_server.push(HOME_A, power=250.0)
        await wait_until(hass, lambda: state_of(hass, "sensor.cabin_power") == "250.0")
        assert state_of(hass, "sensor.cabin_detector_status") == "learning"
        [copy] = storage.glob(f"{STORE_KEY}.corrupt.*")
        assert copy.read_bytes() == content

        assert [issue_id for _, issue_id in ir.async_get(hass).issues] == [
            f"storage_corruption_{STORE_KEY}_{copy.name.rsplit('.corrupt.')[1]}"
        ]

        await hass.config_entries.async_remove(tibber_entry.entry_id)
        await hass.async_block_till_done()

    assert list(storage.iterdir()) == []
    assert ir.async_get(hass).issues == {}


async def test_a_state_file_that_cannot_be_read_for_an_io_error_is_left_where_it_is(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    tmp_path: Path,
) -> None:
    """Home Assistant's `load_json` turns an `OSError` into a `HomeAssistantError`."""
    content = json_bytes(
        {"version": 1, "minor_version": 1, "key": STORE_KEY, "data": {"detector": learned_state()}}
    )

    def open_failing(file: Any, *args: Any, **kwargs: Any) -> Any:
        if str(file).endswith(STORE_KEY):
            raise OSError(errno.EIO, os.strerror(errno.EIO), str(file))
        return Path(file).open(*args, **kwargs)

    with (
        cabin_file_on_disk(hass, tmp_path, content) as storage,
        patch("homeassistant.util.json.open", open_failing, create=True),
    ):
        tibber_entry.add_to_hass(hass)
        await hass.config_entries.async_setup(tibber_entry.entry_id)
        await hass.async_block_till_done()

    files = sorted(path.name for path in storage.iterdir())
    assert tibber_entry.state is ConfigEntryState.SETUP_RETRY
    await hass.config_entries.async_unload(tibber_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert files == [STORE_KEY]
