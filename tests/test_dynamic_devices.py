"""Homes added to or removed from the Tibber account while the entry runs: no reload needed."""

import asyncio
from datetime import timedelta
import logging
from typing import Any
from unittest.mock import patch

from homeassistant.const import CONF_ACCESS_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.energy_anomaly.const import (
    CONF_HOMES,
    CONF_KEPT_HOMES,
    CONF_OFFERED_HOMES,
    CONF_SOURCE,
    DOMAIN,
    SOURCE_TIBBER,
)
from custom_components.energy_anomaly.runner import HomeRunner
from custom_components.energy_anomaly.storage import HomeStateStore

from .conftest import HOME_A, HOME_B
from .test_controls import set_up_fetching_history
from .test_live_data import set_up, start, state_of, wait_for_retry, wait_until
from .tibber_server import HttpFault, LocalHome, LocalTibberServer

HOME_NEW = "00000000-0000-4000-8000-00000000000d"
AN_HOUR = timedelta(hours=1, seconds=1)


def device_names(hass: HomeAssistant, entry: MockConfigEntry) -> list[str]:
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    return sorted(device.name or "" for device in devices)


def remove_from_account(server: LocalTibberServer, home_id: str) -> None:
    server.account.homes = [home for home in server.account.homes if home.home_id != home_id]


async def watching_cabin_only(
    hass: HomeAssistant, server: LocalTibberServer, entry: MockConfigEntry
) -> None:
    """The account's entry set up watching Cabin; Flat, a Pulse home too, was left out."""
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        entry, data={**entry.data, CONF_HOMES: {HOME_A: "Cabin"}}
    )
    await start(hass, entry, server)


async def an_hour_later(hass: HomeAssistant) -> None:
    """Let the hourly listing of the account's homes run, and what it starts settle."""
    async_fire_time_changed(hass, dt_util.utcnow() + AN_HOUR)
    await hass.async_block_till_done(wait_background_tasks=True)


async def streams(hass: HomeAssistant, server: LocalTibberServer, home_id: str, name: str) -> None:
    """Wait until a reading pushed for the home shows on its Power sensor."""
    await server.push(home_id, power=777.0)
    await wait_until(hass, lambda: state_of(hass, f"sensor.{name}_power") == "777.0")


async def cottage_added_an_hour_later(
    hass: HomeAssistant, server: LocalTibberServer, entry: MockConfigEntry
) -> None:
    """Set the entry up, add a Pulse home "Cottage" to the account, and let an hour pass."""
    await set_up(hass, entry, server)
    server.account.homes.append(LocalHome(HOME_NEW, nickname="Cottage"))
    await an_hour_later(hass)
    await server.wait_for_subscriptions(1, HOME_NEW)


async def test_a_pulse_home_added_to_the_account_gets_its_device_and_entities_within_an_hour(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    await cottage_added_an_hour_later(hass, tibber_server, tibber_entry)

    assert device_names(hass, tibber_entry) == ["Cabin", "Cottage", "Flat"]
    assert tibber_entry.data[CONF_HOMES] == {HOME_A: "Cabin", HOME_B: "Flat", HOME_NEW: "Cottage"}
    await streams(hass, tibber_server, HOME_NEW, "cottage")


async def test_a_new_home_is_subscribed_on_the_same_websocket_without_disturbing_the_others(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    await cottage_added_an_hour_later(hass, tibber_server, tibber_entry)

    assert tibber_server.connections_total == 1
    assert tibber_server.subscriptions_total == {HOME_A: 1, HOME_B: 1, HOME_NEW: 1}
    await streams(hass, tibber_server, HOME_A, "cabin")


async def test_a_new_home_learns_its_past_from_tibber(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    await set_up(hass, tibber_entry, tibber_server)
    tibber_server.account.homes.append(LocalHome(HOME_NEW, nickname="Cottage", history_days=3))
    await an_hour_later(hass)

    await streams(hass, tibber_server, HOME_NEW, "cottage")

    status = hass.states.get("sensor.cottage_detector_status")
    assert status.attributes["history"] == "done"
    assert status.attributes["history_days"] >= 3


async def test_a_pulse_home_left_out_by_the_user_stays_out(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    await watching_cabin_only(hass, tibber_server, tibber_entry)

    await an_hour_later(hass)

    assert device_names(hass, tibber_entry) == ["Cabin"]
    assert tibber_entry.data[CONF_HOMES] == {HOME_A: "Cabin"}
    assert tibber_entry.data[CONF_OFFERED_HOMES] == sorted([HOME_A, HOME_B])


async def test_a_pulse_home_another_entry_watches_is_not_added(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    MockConfigEntry(  # the account of the home's other member (Tibber shares a home)
        domain=DOMAIN, unique_id="other-member", data={CONF_HOMES: {HOME_NEW: "Cottage"}}
    ).add_to_hass(hass)
    await set_up(hass, tibber_entry, tibber_server)
    tibber_server.account.homes.append(LocalHome(HOME_NEW, nickname="Cottage"))

    await an_hour_later(hass)

    assert device_names(hass, tibber_entry) == ["Cabin", "Flat"]
    assert HOME_NEW not in tibber_entry.data[CONF_HOMES]


def an_old_account_watching_the_cottage(hass: HomeAssistant) -> MockConfigEntry:
    """The entry of the account the Cottage moves from (not set up: only its data counts)."""
    old_account = MockConfigEntry(
        domain=DOMAIN,
        title="Old account",
        unique_id="old-user",
        data={
            CONF_SOURCE: SOURCE_TIBBER,
            CONF_ACCESS_TOKEN: "old-token",
            CONF_HOMES: {HOME_NEW: "Cottage"},
            CONF_OFFERED_HOMES: [HOME_NEW],
        },
    )
    old_account.add_to_hass(hass)
    return old_account


def dropped_by_its_listing(hass: HomeAssistant, old_account: MockConfigEntry) -> None:
    """The old account's own listing drops the Cottage, whose state it keeps."""
    hass.config_entries.async_update_entry(
        old_account,
        data={
            **old_account.data,
            CONF_HOMES: {},
            CONF_OFFERED_HOMES: [],
            CONF_KEPT_HOMES: [HOME_NEW],
        },
    )


async def test_a_home_that_moved_here_is_added_once_the_account_it_left_drops_it(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    """The Cottage moved from the old account to this one; this listing ran before the old's.

    That listing also saw the Flat leave the account: a change of its own, which must not make
    the Cottage one the user was offered and left out.
    """
    old_account = an_old_account_watching_the_cottage(hass)
    await set_up(hass, tibber_entry, tibber_server)
    tibber_server.account.homes.append(LocalHome(HOME_NEW, nickname="Cottage"))
    remove_from_account(tibber_server, HOME_B)
    await an_hour_later(hass)  # still watched by the old account: not yet
    dropped_by_its_listing(hass, old_account)

    await an_hour_later(hass)

    assert device_names(hass, tibber_entry) == ["Cabin", "Cottage"]


async def test_a_home_watched_elsewhere_when_an_older_entry_is_first_set_up_is_added_once_free(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    """CHANGELOG: a home another entry watches "is now added once no other entry watches it".

    So also for an entry set up before homes were followed (no offered homes stored): the
    Cottage, on the account at its first setup, was watched by the old account, never offered.
    """
    old_account = an_old_account_watching_the_cottage(hass)
    tibber_server.account.homes.append(LocalHome(HOME_NEW, nickname="Cottage"))
    assert CONF_OFFERED_HOMES not in tibber_entry.data  # stored before homes were followed
    await set_up(hass, tibber_entry, tibber_server)
    dropped_by_its_listing(hass, old_account)

    await an_hour_later(hass)

    assert device_names(hass, tibber_entry) == ["Cabin", "Cottage", "Flat"]


async def test_a_home_new_on_two_accounts_at_once_is_watched_by_one_entry(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    """Two members' accounts, set up as Home Assistant started: their listings run together.

    The local server has one account, so the other member's entry uses its token too; each
    entry watches one home of it, and the Cottage, new, is listed to both in the same hour,
    while reading what was stored of a home takes a moment.
    """
    tibber_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        tibber_entry, data={**tibber_entry.data, CONF_HOMES: {HOME_A: "Cabin"}}
    )
    other_member = MockConfigEntry(
        domain=DOMAIN,
        title="Other member",
        unique_id="other-member",
        data={**tibber_entry.data, CONF_HOMES: {HOME_B: "Flat"}},
    )
    other_member.add_to_hass(hass)
    assert await hass.config_entries.async_setup(tibber_entry.entry_id)  # sets up both
    await tibber_server.wait_for_subscriptions(2)
    await hass.async_block_till_done(wait_background_tasks=True)
    tibber_server.account.homes.append(LocalHome(HOME_NEW, nickname="Cottage"))
    read = HomeStateStore.async_load

    async def read_slowly(store: HomeStateStore) -> Any:  # an SD card, a busy executor
        await asyncio.sleep(0.2)
        return await read(store)

    with patch.object(HomeStateStore, "async_load", read_slowly):
        await an_hour_later(hass)

    watching = [
        entry.title for entry in (tibber_entry, other_member) if HOME_NEW in entry.data[CONF_HOMES]
    ]
    assert len(watching) == 1, watching


async def test_a_home_removed_from_the_account_loses_its_device_and_entities(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    await set_up(hass, tibber_entry, tibber_server)
    await streams(hass, tibber_server, HOME_B, "flat")
    await tibber_entry.runtime_data.sink.runners[HOME_B].async_save_state()
    remove_from_account(tibber_server, HOME_B)

    await an_hour_later(hass)

    assert device_names(hass, tibber_entry) == ["Cabin"]
    assert hass.states.get("sensor.flat_power") is None
    assert er.async_get(hass).async_get_entity_id("sensor", DOMAIN, f"{HOME_B}_power") is None
    assert tibber_entry.data[CONF_HOMES] == {HOME_A: "Cabin"}


async def test_a_home_back_on_the_account_resumes_what_it_learned(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    await set_up(hass, tibber_entry, tibber_server)
    await streams(hass, tibber_server, HOME_B, "flat")
    flat = next(home for home in tibber_server.account.homes if home.home_id == HOME_B)
    remove_from_account(tibber_server, HOME_B)
    await an_hour_later(hass)
    stored = await HomeStateStore(hass, HOME_B).async_load()
    assert stored is not None

    tibber_server.account.homes.append(flat)
    await an_hour_later(hass)
    assert tibber_entry.data[CONF_KEPT_HOMES] == []

    learned_until = stored["detector"]["last_epoch"]
    assert learned_until is not None
    assert tibber_entry.runtime_data.sink.runners[HOME_B].restored_until == learned_until


async def test_removing_the_entry_deletes_what_a_home_gone_from_the_account_learned(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    await set_up(hass, tibber_entry, tibber_server)
    await streams(hass, tibber_server, HOME_B, "flat")
    remove_from_account(tibber_server, HOME_B)
    await an_hour_later(hass)
    assert tibber_entry.data[CONF_KEPT_HOMES] == [HOME_B]
    assert await HomeStateStore(hass, HOME_B).async_load() is not None

    await hass.config_entries.async_remove(tibber_entry.entry_id)
    await hass.async_block_till_done()

    assert await HomeStateStore(hass, HOME_B).async_load() is None
    assert await HomeStateStore(hass, HOME_A).async_load() is None


async def test_an_unload_during_the_hourly_listing_adds_no_home_after_it(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    await set_up(hass, tibber_entry, tibber_server)
    tibber_server.account.homes.append(LocalHome(HOME_NEW, nickname="Cottage", history_days=3))
    creating, release = asyncio.Event(), asyncio.Event()
    create = HomeRunner.async_create
    created: list[str] = []

    async def held_create(*args: Any) -> HomeRunner:
        creating.set()
        await release.wait()
        created.append(args[2].name)
        return await create(*args)

    with patch.object(HomeRunner, "async_create", held_create):
        async_fire_time_changed(hass, dt_util.utcnow() + AN_HOUR)
        await creating.wait()
        assert await hass.config_entries.async_unload(tibber_entry.entry_id)
        release.set()
        await hass.async_block_till_done(wait_background_tasks=True)

    assert created == []  # the listing was cancelled with the entry
    assert f"{DOMAIN}.{HOME_NEW}" not in hass_storage
    assert device_names(hass, tibber_entry) == ["Cabin", "Flat"]


async def test_the_homes_left_keep_streaming_on_the_same_websocket_after_a_removal(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    await set_up(hass, tibber_entry, tibber_server)
    remove_from_account(tibber_server, HOME_B)

    await an_hour_later(hass)
    await tibber_server.wait_for_subscriptions(0, HOME_B)

    assert tibber_server.connections_total == 1
    assert tibber_server.subscriptions_per_home == {HOME_A: 1}
    await streams(hass, tibber_server, HOME_A, "cabin")


async def test_the_websocket_closes_when_no_home_is_left_and_opens_for_the_next_new_one(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    await set_up(hass, tibber_entry, tibber_server)
    remove_from_account(tibber_server, HOME_A)
    remove_from_account(tibber_server, HOME_B)
    await an_hour_later(hass)
    await tibber_server.wait_for(lambda: tibber_server.open_connections == 0)

    tibber_server.account.homes.append(LocalHome(HOME_NEW, nickname="Cottage"))
    async_fire_time_changed(hass, dt_util.utcnow() + 2 * AN_HOUR)
    await hass.async_block_till_done(wait_background_tasks=True)
    await tibber_server.wait_for_subscriptions(1, HOME_NEW)

    await streams(hass, tibber_server, HOME_NEW, "cottage")
    assert device_names(hass, tibber_entry) == ["Cottage"]
    assert tibber_server.connections_total == 2


async def test_when_tibber_cannot_list_the_homes_nothing_changes_until_the_next_hour(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await set_up(hass, tibber_entry, tibber_server)
    remove_from_account(tibber_server, HOME_B)
    tibber_server.http_fault = HttpFault.BAD_GATEWAY

    with caplog.at_level(logging.DEBUG, "custom_components.energy_anomaly"):
        await an_hour_later(hass)

    assert device_names(hass, tibber_entry) == ["Cabin", "Flat"]
    assert "Could not list the homes of Ada Lovelace (again in an hour)" in caplog.text


async def test_a_history_learned_after_its_home_left_the_account_is_not_stored_after_the_stop(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    held_history: asyncio.Event,
    hass_storage: dict[str, Any],
) -> None:
    """The home's final write is its stop's: a write after it could bring back the file of a
    home whose entry is then deleted."""
    await set_up_fetching_history(hass, tibber_server, tibber_entry)
    remove_from_account(tibber_server, HOME_B)
    async_fire_time_changed(hass, dt_util.utcnow() + AN_HOUR)
    async with asyncio.timeout(5):  # not waiting for background tasks: the imports still wait
        while f"{DOMAIN}.{HOME_B}" not in hass_storage:  # stored by the stop
            await hass.async_block_till_done()
    stored = hass_storage[f"{DOMAIN}.{HOME_B}"]["data"]

    held_history.set()  # the fetch ends after the stop, and the stopped home learns it
    await hass.async_block_till_done(wait_background_tasks=True)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=1))  # a delayed write
    await hass.async_block_till_done(wait_background_tasks=True)

    assert hass_storage[f"{DOMAIN}.{HOME_B}"]["data"] == stored


async def test_a_home_removed_from_the_account_leaves_no_deprecation_warning(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await set_up(hass, tibber_entry, tibber_server)
    remove_from_account(tibber_server, HOME_B)

    await an_hour_later(hass)

    assert device_names(hass, tibber_entry) == ["Cabin"]
    assert "Detected that custom integration 'energy_anomaly'" not in caplog.text


async def test_removing_an_entry_keeps_what_a_home_another_entry_now_watches_learned(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    """The Cabin left the old account for this one: deleting the old account's entry keeps it."""
    await set_up(hass, tibber_entry, tibber_server)
    await streams(hass, tibber_server, HOME_A, "cabin")
    await tibber_entry.runtime_data.sink.runners[HOME_A].async_save_state()
    old_account = MockConfigEntry(  # it kept the Cabin's state when the Cabin left it
        domain=DOMAIN,
        title="Old account",
        unique_id="old-user",
        data={
            CONF_SOURCE: SOURCE_TIBBER,
            CONF_ACCESS_TOKEN: "revoked",
            CONF_HOMES: {},
            CONF_OFFERED_HOMES: [],
            CONF_KEPT_HOMES: [HOME_A],
        },
    )
    old_account.add_to_hass(hass)

    await hass.config_entries.async_remove(old_account.entry_id)
    await hass.async_block_till_done()

    stored = await HomeStateStore(hass, HOME_A).async_load()
    assert stored is not None
    assert stored["detector"]["last_epoch"] is not None


async def test_a_listing_that_fails_for_hours_writes_nothing_above_debug(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await set_up(hass, tibber_entry, tibber_server)
    tibber_server.http_fault = HttpFault.SERVER_ERROR  # Tibber's API has an incident
    caplog.clear()
    requests_before = tibber_server.http_requests

    for _ in range(6):
        await an_hour_later(hass)
        await streams(hass, tibber_server, HOME_A, "cabin")  # live data still flows
        await streams(hass, tibber_server, HOME_B, "flat")

    assert tibber_server.http_requests - requests_before == 6  # one failed listing an hour
    assert device_names(hass, tibber_entry) == ["Cabin", "Flat"]
    shown = [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno > logging.INFO]
    assert shown == []


async def an_hour_with_no_home_listed(hass: HomeAssistant, server: LocalTibberServer) -> None:
    """Tibber answers one hourly listing with `homes: []` (a glitch), the next ones as before."""
    homes = server.account.homes
    server.account.homes = []
    await an_hour_later(hass)
    server.account.homes = homes


async def test_a_listing_with_no_home_keeps_the_devices_of_the_homes_it_left_out(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    await set_up(hass, tibber_entry, tibber_server)

    await an_hour_with_no_home_listed(hass, tibber_server)

    assert device_names(hass, tibber_entry) == ["Cabin", "Flat"]


async def test_a_pulse_home_left_out_by_the_user_stays_out_after_a_listing_with_no_home(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    await watching_cabin_only(hass, tibber_server, tibber_entry)

    await an_hour_with_no_home_listed(hass, tibber_server)
    await an_hour_later(hass)

    assert device_names(hass, tibber_entry) == ["Cabin"]


async def test_a_listing_with_no_home_at_setup_keeps_the_devices(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    await set_up(hass, tibber_entry, tibber_server)
    assert await hass.config_entries.async_unload(tibber_entry.entry_id)
    homes = tibber_server.account.homes
    tibber_server.account.homes = []  # Tibber's glitch at the restart

    await hass.config_entries.async_setup(tibber_entry.entry_id)
    tibber_server.account.homes = homes

    assert device_names(hass, tibber_entry) == ["Cabin", "Flat"]


async def test_a_home_added_while_tibbers_prices_fail_gets_its_device_within_an_hour(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    await set_up(hass, tibber_entry, tibber_server)
    tibber_server.account.homes.append(LocalHome(HOME_NEW, nickname="Cottage"))
    for home in tibber_server.account.homes:
        home.price_error = "Price service unavailable"

    await an_hour_later(hass)

    assert device_names(hass, tibber_entry) == ["Cabin", "Cottage", "Flat"]


async def test_homes_listed_by_none_of_two_listings_running_are_dropped(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    """Every home gone from the account for good: the second listing of none is believed."""
    await set_up(hass, tibber_entry, tibber_server)
    tibber_server.account.homes = []

    await an_hour_later(hass)
    assert device_names(hass, tibber_entry) == ["Cabin", "Flat"]
    await an_hour_later(hass)

    assert device_names(hass, tibber_entry) == []


async def test_a_home_left_out_stays_out_after_a_listing_of_none_once_no_home_is_watched(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    await watching_cabin_only(hass, tibber_server, tibber_entry)
    remove_from_account(tibber_server, HOME_A)  # the one watched home leaves the account
    await an_hour_later(hass)
    assert tibber_entry.data[CONF_HOMES] == {}

    await an_hour_with_no_home_listed(hass, tibber_server)
    await an_hour_later(hass)

    assert tibber_entry.data[CONF_HOMES] == {}  # Flat, left out by the user, stays out
    assert device_names(hass, tibber_entry) == []


async def test_a_connection_dropped_after_a_listing_of_none_is_reopened_after_its_backoff(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await set_up(hass, tibber_entry, tibber_server)
    await an_hour_with_no_home_listed(hass, tibber_server)  # a glitch, not believed
    await tibber_server.drop_connections()
    await wait_for_retry(hass, tibber_entry)
    assert "Live data for Cabin is unavailable" in caplog.text
    assert "retrying in" in caplog.text

    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=10))  # past the backoff
    await hass.async_block_till_done(wait_background_tasks=True)

    await tibber_server.wait_for_subscriptions(2)  # both homes streaming again
    assert tibber_server.connections_total == 2
