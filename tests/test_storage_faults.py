"""Storage faults of an SD card or disk: a card turned read-only, a write that fails.

What the detector learned must never be lost without a clear message, and detection must never
stop for it.
"""

from collections.abc import Iterator
from contextlib import contextmanager
import errno
import gc
import logging
import os
from pathlib import Path
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.json import json_bytes
from homeassistant.helpers.storage import Store
from homeassistant.util.file import WriteError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_anomaly.const import DOMAIN

from .conftest import HOME_A, HOME_B, logged_at_least
from .test_dynamic_devices import an_hour_later, device_names, remove_from_account, streams
from .test_live_data import set_up, state_of, wait_until
from .test_persistence import (
    STORE_KEY,
    UNREADABLE_KEY,
    cabin_file_on_disk,
    learned_state,
    store_cabin_state,
)
from .tibber_server import LocalTibberServer


@contextmanager
def read_only(storage: Path) -> Iterator[None]:
    """The card holding `storage` was remounted read-only (ext4's `errors=remount-ro`).

    Renames of its files fail as the kernel fails them; elsewhere they work as before.
    """
    rename, replace = os.rename, os.replace

    def refused(real: Any) -> Any:
        def move(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
            if Path(src).parent == storage or Path(dst).parent == storage:
                raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(src))
            real(src, dst, *args, **kwargs)

        return move

    with patch.object(os, "rename", refused(rename)), patch.object(os, "replace", refused(replace)):
        yield


DAMAGED_FILES = {
    # JSON, but not as the Store writes it (its version damaged): the integration moves it aside
    "version damaged": json_bytes(
        {"version": None, "key": STORE_KEY, "data": {"detector": learned_state()}}
    ),
    # not JSON at all (cut short by a power cut): Home Assistant's Store renames it
    "cut short": b'{"version": 1, "minor_version": 1, "key": "k", "data": {"detector": {"ve',
}


@pytest.mark.parametrize("content", DAMAGED_FILES.values(), ids=DAMAGED_FILES.keys())
async def test_a_damaged_state_file_on_a_read_only_card_never_stops_the_homes(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    tmp_path: Path,
    content: bytes,
) -> None:
    """A card with errors is remounted read-only, and a power cut is what damages files on it."""
    with cabin_file_on_disk(hass, tmp_path, content) as storage, read_only(storage):
        tibber_entry.add_to_hass(hass)
        await hass.config_entries.async_setup(tibber_entry.entry_id)
        await hass.async_block_till_done()

        assert tibber_entry.state is ConfigEntryState.LOADED
        await tibber_server.wait_for_subscriptions(2)
        await tibber_server.push(HOME_A, power=250.0)
        await tibber_server.push(HOME_B, power=400.0)
        await wait_until(hass, lambda: state_of(hass, "sensor.flat_power") == "400.0")
        assert state_of(hass, "sensor.cabin_detector_status") == "learning"
        assert (storage / STORE_KEY).read_bytes() == content  # left as it was, not lost


@contextmanager
def failing_writes(keys: set[str], times: int | None = None) -> Iterator[list[str]]:
    """The Store's writes of `keys` fail as a full card fails them (`times` first ones; all).

    As Home Assistant's `write_utf8_file` fails them: a `WriteError` from the `OSError`, which
    the Store logs and swallows. Yields the keys whose write failed, in order.
    """
    failed: list[str] = []
    write = Store._async_write_data  # the harness's (hass_storage), patched in by its fixture

    async def write_or_fail(store: Store[Any], data: dict[str, Any]) -> None:
        if store.key in keys and (times is None or len(failed) < times):
            failed.append(store.key)
            raise WriteError(OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)))
        await write(store, data)

    with patch.object(Store, "_async_write_data", write_or_fail):
        yield failed


@contextmanager
def failing_reads(keys: set[str], times: int) -> Iterator[list[str]]:
    """The Store's first `times` reads of `keys` fail with an I/O error of the card.

    As Home Assistant's `load_json` fails them: a `HomeAssistantError` from the `OSError`.
    Yields the keys whose read failed, in order.
    """
    failed: list[str] = []
    load = Store._async_load  # the harness's (hass_storage), patched in by its fixture

    async def load_or_fail(store: Store[Any]) -> Any:
        if store.key in keys and len(failed) < times:
            failed.append(store.key)
            error = OSError(errno.EIO, os.strerror(errno.EIO))
            raise HomeAssistantError(f"Error while loading {store.path}: {error}") from error
        return await load(store)

    with patch.object(Store, "_async_load", load_or_fail):
        yield failed


async def test_a_state_that_could_not_be_kept_aside_is_not_overwritten(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A downgrade (a newer detector format) while the card is full, freed an hour later."""
    newer = {"detector": learned_state() | {"version": 99}, "reported": []}
    store_cabin_state(hass_storage, newer)
    with failing_writes({UNREADABLE_KEY}, times=1) as failed:
        await set_up(hass, tibber_entry, tibber_server)
    await tibber_server.push(HOME_A, power=250.0)
    await wait_until(hass, lambda: state_of(hass, "sensor.cabin_power") == "250.0")
    assert failed == [UNREADABLE_KEY]
    assert "Could not restore what the detector learned for Cabin" in caplog.text

    assert await hass.config_entries.async_unload(tibber_entry.entry_id)  # space freed since

    # Kept somewhere: aside, or where it was
    assert newer in [hass_storage.get(key, {}).get("data") for key in (STORE_KEY, UNREADABLE_KEY)]


@contextmanager
def escaped_errors(hass: HomeAssistant) -> Iterator[list[str]]:
    """Collect the errors of tasks nobody awaited (the test harness would fail on them later)."""
    escaped: list[str] = []
    loop = hass.loop
    handler = loop.get_exception_handler()

    def collect(_loop: Any, context: dict[str, Any]) -> None:
        escaped.append(repr(context.get("exception", context["message"])))

    loop.set_exception_handler(collect)
    try:
        yield escaped
    finally:
        gc.collect()  # a task's error not retrieved is told when the task is collected
        loop.set_exception_handler(handler)


async def flat_back_on_the_account(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """Flat, watched and stored, leaves the account for an hour and is listed again."""
    await set_up(hass, tibber_entry, tibber_server)
    await streams(hass, tibber_server, HOME_B, "flat")
    flat = next(home for home in tibber_server.account.homes if home.home_id == HOME_B)
    remove_from_account(tibber_server, HOME_B)
    await an_hour_later(hass)
    assert f"{DOMAIN}.{HOME_B}" in hass_storage
    tibber_server.account.homes.append(flat)


async def test_a_home_back_on_the_account_whose_state_could_not_be_read_once_is_watched_later(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """A read of the card fails once (an I/O error) as Flat comes back on the account."""
    await flat_back_on_the_account(hass, tibber_server, tibber_entry, hass_storage)
    with failing_reads({f"{DOMAIN}.{HOME_B}"}, times=1) as failed, escaped_errors(hass) as escaped:
        await an_hour_later(hass)
        assert failed
        await an_hour_later(hass)  # the next listing: the card reads again

    assert device_names(hass, tibber_entry) == ["Cabin", "Flat"]
    await streams(hass, tibber_server, HOME_B, "flat")
    assert escaped == []  # nothing escaped the hourly listing as a task's error


async def test_a_home_whose_state_cannot_be_read_for_hours_is_warned_about_once(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    await flat_back_on_the_account(hass, tibber_server, tibber_entry, hass_storage)
    with failing_reads({f"{DOMAIN}.{HOME_B}"}, times=3) as failed:
        for _ in range(3):
            await an_hour_later(hass)
    assert len(failed) == 3

    warned = [
        record
        for record in logged_at_least(caplog, logging.WARNING)
        if "Could not read what was learned for Flat" in record.getMessage()
    ]
    assert len(warned) == 1
