"""Energy Anomaly: learns a home's normal electricity use from live data and flags anomalies."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_ACCESS_TOKEN, EVENT_HOMEASSISTANT_STOP, Platform
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.typing import ConfigType
from homeassistant.util import dt as dt_util
import tibber

from .const import (
    ACCOUNT_HOMES_REFRESH_INTERVAL,
    CONF_HOMES,
    CONF_KEPT_HOMES,
    CONF_OFFERED_HOMES,
    CONF_POWER_IS_NET,
    CONF_SOURCE,
    DEMO_HOME_ID,
    DOMAIN,
    HISTORY_IMPORT_DAYS,
    LOGGER,
    SOURCE_DEMO,
    SOURCE_ENTITY,
)
from .coordinator import HomeInfo
from .demo_source import DemoSource, load_demo_trace
from .detector.model import HistoryRow
from .entity_source import (
    EntitySource,
    async_follow_renames,
    chosen_entities,
    reportable_quantities,
)
from .live_source import (
    CONNECTION_ERRORS,
    TibberAccount,
    TibberHomeInfo,
    TibberLiveSource,
    async_fetch_account,
    async_list_homes,
    tibber_home_of,
)
from .past import async_fetch_home_history, async_fetch_seeded_history
from .redact import async_redact_token_in_logs
from .runner import HomeRunner
from .runtime import (
    EnergyAnomalyConfigEntry,
    EnergyAnomalyRuntimeData,
    homes_turn,
    homes_watched_elsewhere,
    new_home_signal,
)
from .services import async_setup_services
from .sink import HomesSink
from .source import ReadingSource
from .storage import HomeStateStore, kept_homes
from .temperature import async_forget_outdoor_temperature, async_watch_outdoor_temperature

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)
# The model of a Tibber home's device: its live data comes from a Pulse.
TIBBER_MODEL = "Tibber Pulse"
PLATFORMS = [
    Platform.BINARY_SENSOR,
    Platform.EVENT,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.SWITCH,
]


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions, which stay whether or not an entry is loaded."""
    async_setup_services(hass)
    return True


async def _async_tibber_source(
    hass: HomeAssistant, entry: EnergyAnomalyConfigEntry
) -> tuple[TibberLiveSource, list[HomeInfo], TibberAccount]:
    """Reach the Tibber account (test before setup) and name the homes the user chose."""
    token = entry.data[CONF_ACCESS_TOKEN]
    if token != token.strip():  # pasted with spaces before the form trimmed them
        hass.config_entries.async_update_entry(
            entry, data={**entry.data, CONF_ACCESS_TOKEN: token.strip()}
        )
    try:
        account = await async_fetch_account(hass, entry.data[CONF_ACCESS_TOKEN])
    except tibber.InvalidLoginError as err:
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN, translation_key="invalid_auth"
        ) from err
    except CONNECTION_ERRORS as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="cannot_connect",
            translation_placeholders={"error": str(err) or type(err).__name__},
        ) from err
    if not account.homes and entry.data[CONF_HOMES]:
        # A glitch of Tibber's, most likely: believed, it would drop every home's device
        raise ConfigEntryNotReady(translation_domain=DOMAIN, translation_key="no_home_listed")
    if CONF_OFFERED_HOMES not in entry.data:  # set up before homes were followed
        elsewhere = homes_watched_elsewhere(hass, entry.entry_id)  # not offered: added once free
        offered = [
            home.home_id
            for home in account.homes
            if home.has_pulse and home.home_id not in elsewhere
        ]
        # A home unticked then may have left its state stored: deleted with the entry's own
        unticked = [home_id for home_id in offered if home_id not in entry.data[CONF_HOMES]]
        hass.config_entries.async_update_entry(
            entry,
            data={
                **entry.data,
                CONF_OFFERED_HOMES: offered,
                CONF_KEPT_HOMES: kept_homes(entry.data, unticked, entry.data[CONF_HOMES]),
            },
        )
    listed = {home.home_id: home for home in account.homes}
    homes = [
        await _async_tibber_home(listed.get(home_id), home_id, stored_name)
        for home_id, stored_name in entry.data[CONF_HOMES].items()
    ]
    source = TibberLiveSource(hass, entry, account.connection, [home.home_id for home in homes])
    return source, homes, account


async def _async_tibber_home(
    listed: TibberHomeInfo | None, home_id: str, stored_name: str = ""
) -> HomeInfo:
    """A Tibber home as the account lists it (else by the name stored), on its own clock.

    Its zone's file is read off the event loop; a zone Home Assistant does not know leaves the
    home on Home Assistant's clock.
    """
    if listed is None:
        return HomeInfo(home_id, stored_name, TIBBER_MODEL)
    zone = await dt_util.async_get_time_zone(listed.time_zone) if listed.time_zone else None
    return HomeInfo(home_id, listed.name, TIBBER_MODEL, time_zone=zone)


def _entity_source(
    hass: HomeAssistant, entry: EnergyAnomalyConfigEntry
) -> tuple[ReadingSource, list[HomeInfo]]:
    """One home, named as the entry, fed by the Home Assistant sensors the user chose."""
    home = HomeInfo(
        _entity_home_id(entry),
        entry.title,
        "Home Assistant sensors",
        reportable=reportable_quantities(entry.data),
    )
    entities = chosen_entities(entry.data)
    net = bool(entry.data.get(CONF_POWER_IS_NET))
    return EntitySource(hass, home.home_id, home.name, entities, net=net), [home]


def _entity_home_id(entry: EnergyAnomalyConfigEntry) -> str:
    """A home fed by entities has no id of its own: the entry's id is stable and unique."""
    return entry.entry_id


async def async_setup_entry(hass: HomeAssistant, entry: EnergyAnomalyConfigEntry) -> bool:
    """Set up a Tibber account, a home fed by Home Assistant sensors, or the demo home."""
    entry.async_on_unload(async_redact_token_in_logs(entry))
    entry.async_on_unload(async_watch_outdoor_temperature(hass, entry))
    entry.async_on_unload(async_follow_renames(hass, entry))
    source: ReadingSource | None = None
    tibber_connection: tibber.Tibber | None = None
    live: tuple[TibberLiveSource, TibberAccount] | None = None
    if entry.data[CONF_SOURCE] == SOURCE_DEMO:
        homes = [HomeInfo(DEMO_HOME_ID, "Demo home", "Recorded household", live_clock=False)]
    elif entry.data[CONF_SOURCE] == SOURCE_ENTITY:
        source, homes = _entity_source(hass, entry)
    else:
        source, homes, account = await _async_tibber_source(hass, entry)
        tibber_connection = account.connection
        live = (source, account)

    _async_remove_stale_devices(hass, entry, homes)
    runners = [await HomeRunner.async_create(hass, entry, home) for home in homes]
    if source is None:  # the demo resumes where its stored detector stands
        rows = await hass.async_add_executor_job(load_demo_trace)
        source = DemoSource(hass, rows, resume_after=runners[0].restored_until)
    sink = HomesSink(hass, entry, runners)
    entry.runtime_data = EnergyAnomalyRuntimeData(
        source=source, sink=sink, tibber=tibber_connection
    )
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    if live is not None:  # homes added to or removed from the account meanwhile
        await _async_follow_account(hass, entry, *live)
    if hass.is_stopping:  # Home Assistant began to stop during the awaits above: start nothing
        return True
    _async_learn_history(hass, entry, list(sink.runners.values()), source, tibber_connection)
    await source.async_start(sink)

    async def _async_on_stop(_event: Event) -> None:
        await _async_stop_and_save(entry.runtime_data)

    # Not `async_listen_once`: an entry unloaded after the stop fired (a reload as Home
    # Assistant stops) would remove a listener that is gone, which Home Assistant logs as an error
    entry.async_on_unload(hass.bus.async_listen(EVENT_HOMEASSISTANT_STOP, _async_on_stop))
    return True


def _async_learn_history(
    hass: HomeAssistant,
    entry: EnergyAnomalyConfigEntry,
    runners: list[HomeRunner],
    source: ReadingSource,
    tibber_connection: tibber.Tibber | None,
) -> None:
    """Let each new home learn from its past in the background (setup does not wait for it).

    After the platforms, so the entity registry names the home's own power sensor. The demo
    home's past is its trace's, written to the recorder first.
    """
    tibber_turn = asyncio.Lock()
    for runner in runners:
        if not runner.wants_history:
            continue
        home_id = runner.home.home_id
        tibber_home = (
            None if tibber_connection is None else tibber_home_of(tibber_connection, home_id)
        )
        fetch: Callable[[], Awaitable[list[HistoryRow]]] = partial(
            async_fetch_home_history,
            hass,
            entry,
            home_id,
            HISTORY_IMPORT_DAYS,
            zone=runner.home.time_zone,
            tibber_home=tibber_home,
            tibber_turn=tibber_turn,
        )
        if isinstance(source, DemoSource):
            fetch = partial(async_fetch_seeded_history, hass, entry, home_id, source.past)
        entry.async_create_background_task(
            hass, runner.async_learn_history(fetch), f"{DOMAIN} history {runner.home.name}"
        )


async def _async_follow_account(
    hass: HomeAssistant,
    entry: EnergyAnomalyConfigEntry,
    source: TibberLiveSource,
    account: TibberAccount,
) -> None:
    """Follow the homes added to or removed from the account, now and every hour after.

    Now: what changed while Home Assistant was not running (the homes listed at setup). Then
    the homes are listed again every hour while the entry runs, as an entry background task: an
    unload cancels it, so no home is added and no history import starts after the entry stopped.
    A listing with no home at all from an account that had homes (a glitch of Tibber's, most
    likely) is believed only when the next one lists none either: it would drop every home's
    device, and forget which homes the user left out.
    """
    connection = account.connection
    listed_none_before = False

    async def _async_follow(listed: list[TibberHomeInfo]) -> list[HomeRunner]:
        nonlocal listed_none_before
        had_homes = entry.data[CONF_HOMES] or entry.data.get(CONF_OFFERED_HOMES)
        if not listed and had_homes and not listed_none_before:
            listed_none_before = True
            LOGGER.debug("Tibber listed no home of %s; believed if it does again", entry.title)
            return []
        listed_none_before = False
        return await _async_follow_homes(hass, entry, source, listed)

    await _async_follow(account.homes)

    async def _async_refresh() -> None:
        try:
            listed = await async_list_homes(connection)
        except tibber.InvalidLoginError:
            # Asked again each hour: Home Assistant starts no reauth flow while the entry's
            # Reconfigure window is open, and the live source asked only once
            entry.async_start_reauth(hass)
            return
        except CONNECTION_ERRORS as err:
            LOGGER.debug("Could not list the homes of %s (again in an hour): %s", entry.title, err)
            return
        if entry.state is not ConfigEntryState.LOADED:  # unloaded while Tibber answered
            return
        added = await _async_follow(listed)
        _async_learn_history(hass, entry, added, source, connection)

    @callback
    def _async_list_again(_now: datetime) -> None:
        entry.async_create_background_task(
            hass, _async_refresh(), f"{DOMAIN} homes of {entry.title}"
        )

    entry.async_on_unload(
        async_track_time_interval(hass, _async_list_again, ACCOUNT_HOMES_REFRESH_INTERVAL)
    )


async def _async_follow_homes(
    hass: HomeAssistant,
    entry: EnergyAnomalyConfigEntry,
    source: TibberLiveSource,
    listed: list[TibberHomeInfo],
) -> list[HomeRunner]:
    """Watch the Pulse homes new on the account, and drop the watched homes gone from it.

    Without a reload: the other homes keep streaming on the same websocket. A Pulse home the
    user was offered before and left out stays out, as does one another entry watches (until
    none does). Returns the new homes' runners, whose past is still to be learned. One entry at
    a time (`homes_turn`): another account listing a shared home at once would take it too.
    """
    async with homes_turn(hass):
        return await _async_take_listed_homes(hass, entry, source, listed)


async def _async_take_listed_homes(
    hass: HomeAssistant,
    entry: EnergyAnomalyConfigEntry,
    source: TibberLiveSource,
    listed: list[TibberHomeInfo],
) -> list[HomeRunner]:
    """`_async_follow_homes`, in the entry's turn."""
    offered = set(entry.data[CONF_OFFERED_HOMES])
    pulse_homes = {home.home_id: home for home in listed if home.has_pulse}
    on_account = {home.home_id for home in listed}
    elsewhere = homes_watched_elsewhere(hass, entry.entry_id)
    added = {
        home_id: home
        for home_id, home in pulse_homes.items()
        if home_id not in offered and home_id not in elsewhere
    }
    removed = [home_id for home_id in entry.data[CONF_HOMES] if home_id not in on_account]
    if not added and not removed and offered <= on_account:
        return []
    runners = [
        runner
        for home_id, home in added.items()
        if (runner := await _async_new_runner(hass, entry, await _async_tibber_home(home, home_id)))
    ]
    ready = {runner.home.home_id: runner.home.name for runner in runners}
    watched = {
        home_id: name for home_id, name in entry.data[CONF_HOMES].items() if home_id in on_account
    }
    hass.config_entries.async_update_entry(
        entry,
        data={
            **entry.data,
            CONF_HOMES: watched | ready,
            # a home whose state could not be read is offered again at the next listing
            CONF_OFFERED_HOMES: sorted(
                (offered & on_account) | (set(pulse_homes) - elsewhere - (set(added) - set(ready)))
            ),
            CONF_KEPT_HOMES: kept_homes(entry.data, removed, [*watched, *ready]),
        },
    )
    source.async_watch(list(watched))  # no reading of a dropped home comes after this
    for home_id in removed:
        await _async_drop_home(hass, entry, home_id)
    for runner in runners:
        LOGGER.info("Watching %s, a new home on the Tibber account", runner.home.name)
        entry.runtime_data.sink.async_add_runner(runner)
        async_dispatcher_send(hass, new_home_signal(entry), runner)
    source.async_watch(list(watched | ready))
    return runners


async def _async_new_runner(
    hass: HomeAssistant, entry: EnergyAnomalyConfigEntry, home: HomeInfo
) -> HomeRunner | None:
    """The runner of a home new on the account; None while its stored state cannot be read.

    A read the card failed (an I/O error) is tried again at the next listing, an hour later:
    the home is not taken into the entry until then, so it is not taken for one already offered.
    Logged once as a warning, then at debug level until it is read.
    """
    unread = entry.runtime_data.unread_homes
    try:
        runner = await HomeRunner.async_create(hass, entry, home)
    except ConfigEntryNotReady as err:
        log = LOGGER.debug if home.home_id in unread else LOGGER.warning
        unread.add(home.home_id)
        log(
            "Could not read what was learned for %s, new on the Tibber account (%s); trying "
            "again in an hour",
            home.name,
            err.__cause__ or err,
        )
        return None
    unread.discard(home.home_id)
    return runner


async def _async_drop_home(
    hass: HomeAssistant, entry: EnergyAnomalyConfigEntry, home_id: str
) -> None:
    """Remove a home gone from the account: its device, entities and repair issue.

    What it learned stays stored: should the home come back (Tibber left it out of one listing,
    or it returns to the account) it resumes where it stood instead of learning two weeks afresh.
    The entry keeps its id (`CONF_KEPT_HOMES`) to delete that state when it is deleted itself.
    """
    runner = entry.runtime_data.sink.async_remove_home(home_id)
    LOGGER.warning("%s is no longer on the Tibber account: removing its device", runner.home.name)
    registry = dr.async_get(hass)
    if device := registry.async_get_device_by_identifier((DOMAIN, home_id), entry.entry_id):
        registry.async_remove_device(device.id)
    await runner.async_stop()  # waits for its worker, so nothing writes after the removal


def _async_remove_stale_devices(
    hass: HomeAssistant, entry: EnergyAnomalyConfigEntry, homes: list[HomeInfo]
) -> None:
    """Remove the devices of homes the entry no longer watches (reconfigured away)."""
    registry = dr.async_get(hass)
    watched = {(DOMAIN, home.home_id) for home in homes}
    for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
        if not device.identifiers & watched:
            registry.async_remove_device(device.id)


async def _async_stop_and_save(data: EnergyAnomalyRuntimeData) -> None:
    """Close the source, then stop every home: its final state write, its issue withdrawn.

    Given the entry's runtime data, not the entry: the entry may unload (and lose it) while the
    source closes. Over a copy of the homes: the hourly listing may add or drop one meanwhile.
    A home whose state cannot be written is logged, and the others are still written.
    """
    await data.source.async_stop()
    for runner in list(data.sink.runners.values()):
        try:
            await runner.async_stop()
        except Exception:  # noqa: BLE001 - one home's failed write must not cost the others'
            LOGGER.exception("Could not store what the detector learned for %s", runner.home.name)


async def async_unload_entry(hass: HomeAssistant, entry: EnergyAnomalyConfigEntry) -> bool:
    """Unload platforms, close the live connection and save what was learned."""
    if unloaded := await hass.config_entries.async_unload_platforms(entry, PLATFORMS):
        await _async_stop_and_save(entry.runtime_data)
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: EnergyAnomalyConfigEntry) -> None:
    """Delete the stored detector state of the entry's homes, watched or kept (`_home_ids`).

    Except a home another entry watches or keeps: a home that moved to another Tibber account
    resumes there from the same file, which must outlive the entry it left.
    """
    others = {
        home_id
        for other in hass.config_entries.async_entries(DOMAIN)
        if other.entry_id != entry.entry_id
        for home_id in _home_ids(other)
    }
    for home_id in _home_ids(entry):
        if home_id not in others:
            await HomeStateStore(hass, home_id).async_remove()
    async_forget_outdoor_temperature(hass, entry.entry_id)


def _home_ids(entry: EnergyAnomalyConfigEntry) -> list[str]:
    """The ids of the homes whose learned state the entry keeps, known without setting it up.

    The homes it watches, and a Tibber account's homes it watched before (gone from the account
    or unticked in Reconfigure), whose state stays stored in case they come back.
    """
    if entry.data[CONF_SOURCE] == SOURCE_DEMO:
        return [DEMO_HOME_ID]
    if entry.data[CONF_SOURCE] == SOURCE_ENTITY:
        return [_entity_home_id(entry)]
    return [*entry.data[CONF_HOMES], *entry.data.get(CONF_KEPT_HOMES, [])]
