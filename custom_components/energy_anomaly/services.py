"""The integration's actions.

`analyze_history`: what the detector would have flagged over a home's past. `mark_normal` and
`set_mode`: the household answers back (that was us; we have guests, are away, pause alarms).
"""

import asyncio
import contextlib
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.const import ATTR_DEVICE_ID, ENTITY_MATCH_ALL
from homeassistant.core import HomeAssistant, ServiceCall, SupportsResponse, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.target import TargetSelection, async_extract_referenced_entity_ids
from homeassistant.util import dt as dt_util
import probatio

from .analysis import LEARNING_DAYS, Episode, find_anomalies
from .const import CONF_POWER_IS_NET, DOMAIN, MODE_END_AHEAD_MAX
from .detector.model import HistoryRow, Mode
from .events import anomaly_details
from .history import HistoryFetchError
from .past import async_fetch_recorded_power
from .reasons import async_reason
from .runner import HomeRunner
from .runtime import EnergyAnomalyConfigEntry

SERVICE_ANALYZE_HISTORY: Final = "analyze_history"
ATTR_DAYS: Final = "days"
DEFAULT_DAYS: Final = 7
# The recorder keeps hourly statistics for good; this bounds one action's work (days analysed).
MAX_DAYS: Final = 90

ANALYZE_HISTORY_SCHEMA: Final = probatio.Schema(
    {
        probatio.Required(ATTR_DEVICE_ID): cv.string,
        probatio.Optional(ATTR_DAYS, default=DEFAULT_DAYS): probatio.All(
            probatio.Coerce(int), probatio.Range(min=1, max=MAX_DAYS)
        ),
    }
)

# How long an action waits for a home's entry that is setting up (a reload) before it fails the
# home as not loaded (s): a reload takes seconds; one that waits on an unreachable Tibber must
# not hold an automation for the minutes of its connection timeouts.
RELOAD_WAIT_S: Final = 30.0

SERVICE_MARK_NORMAL: Final = "mark_normal"
SERVICE_SET_MODE: Final = "set_mode"
ATTR_MODE: Final = "mode"
ATTR_UNTIL: Final = "until"

# Actions on homes are targeted at their devices, or at areas, floors, labels or entities that
# lead to them, as the action dialog's target picker offers. No target at all is refused by the
# action, in the user's language, as a target that leads to no home is ("no_home_targeted"),
# rather than by core's "at least one of ['entity_id', 'device_id', ...] is required".
# Else as core's entity action schema: the frontend's "metadata" is dropped.
_TARGET_FIELDS: Final = {**cv.ENTITY_SERVICE_FIELDS, probatio.Remove("metadata"): dict}
MARK_NORMAL_SCHEMA: Final = probatio.Schema(_TARGET_FIELDS)
SET_MODE_SCHEMA: Final = probatio.Schema(
    {
        **_TARGET_FIELDS,
        probatio.Required(ATTR_MODE): probatio.Coerce(Mode),
        probatio.Optional(ATTR_UNTIL): cv.datetime,
    }
)


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's actions (once, in `async_setup`)."""
    hass.services.async_register(
        DOMAIN,
        SERVICE_ANALYZE_HISTORY,
        _async_analyze_history,
        schema=ANALYZE_HISTORY_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_MARK_NORMAL,
        _async_mark_normal,
        schema=MARK_NORMAL_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(DOMAIN, SERVICE_SET_MODE, _async_set_mode, schema=SET_MODE_SCHEMA)


async def _async_analyze_history(call: ServiceCall) -> dict[str, Any]:
    """Run a fresh detector over the home's recorded power and list the anomalies it finds."""
    hass = call.hass
    entry, home_id = await _async_loaded_home(hass, call.data[ATTR_DEVICE_ID])
    days: int = call.data[ATTR_DAYS]
    # Read before the fetch: the entry may be unloaded while it waits for the recorder.
    runner = entry.runtime_data.sink.runners[home_id]
    config = runner.detector_config
    controls = runner.coordinator.controls
    net = bool(entry.data.get(CONF_POWER_IS_NET))
    try:
        rows = await async_fetch_recorded_power(
            hass, entry, home_id, days + LEARNING_DAYS, runner.home.time_zone
        )
    except HistoryFetchError as err:
        if err.translation_key is not None:  # a cause in the integration's own words
            raise
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="history_unavailable",
            translation_placeholders={"error": str(err)},
        ) from err
    # In UTC: compared with rows in the home's zone, a time in the same zone would be compared
    # on the wall clock, an hour off in the hour the clocks repeat
    window_start = dt_util.utcnow() - timedelta(days=days)
    if not any(row.start >= window_start for row in rows):
        # The caller's choice of home and days, like a home without an anomaly to mark: said
        # to them, not logged as a failure with a traceback
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="no_history")
    episodes = await hass.async_add_executor_job(
        partial(
            find_anomalies,
            rows,
            window_start,
            config,
            net=net,
            sensitivity=controls.sensitivity,
            silenced=controls.silenced,
        )
    )
    return {
        "start": max(window_start, rows[0].start).astimezone(rows[0].start.tzinfo).isoformat(),
        "end": _end_of(rows[-1]).isoformat(),
        "anomalies": [_describe(hass, episode) for episode in episodes],
    }


def _end_of(row: HistoryRow) -> datetime:
    """When `row` ends, on its clock: counted in UTC, as a wall clock skips or repeats an hour."""
    end = dt_util.as_utc(row.start) + timedelta(seconds=row.duration_s)
    return end.astimezone(row.start.tzinfo)


async def _async_mark_normal(call: ServiceCall) -> dict[str, Any]:
    """Teach each home's detector that its current (or last) anomaly was normal.

    The response lists what was marked, per home; a home without any episode is left out,
    and if no home had one the action fails with a message saying so. A home whose latest
    episode was marked already lists it again, unchanged: an automation answering a second
    time (a notification's button pressed twice) is not a failure Home Assistant logs.
    """
    marked = []
    for device_id in await _async_targeted_homes(call):
        runner = await _async_runner_at_turn(call.hass, device_id)
        if (finding := await runner.async_mark_normal()) is not None:
            marked.append({"home": runner.home.name, **anomaly_details(call.hass, finding)})
    if not marked:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="no_episode")
    return {"marked": marked}


async def _async_set_mode(call: ServiceCall) -> None:
    """Put each home in a mode; Paused and Guests without `until` end by themselves.

    A naive `until` (as the UI's date and time picker gives) is in Home Assistant's time zone.
    It is checked against every home's clock before any home changes: the demo's runs ahead of
    the wall clock, and its detector would take an end it has passed for Normal at once.
    Normal has no end: an `until` with it is left aside, not refused for being past.
    """
    mode: Mode = call.data[ATTR_MODE]
    until = None if mode is Mode.NORMAL else _aware(call.data.get(ATTR_UNTIL))
    homes = await _async_targeted_homes(call)
    if until is not None:
        for device_id in homes:
            _check_end(until, (await _async_runner_at_turn(call.hass, device_id)).now())
    for device_id in homes:
        runner = await _async_runner_at_turn(call.hass, device_id)
        await runner.async_set_mode(mode, until)


def _check_end(until: datetime, now: datetime) -> None:
    """Refuse an end that passed on the home's clock (`now`), or one too far ahead to mean one.

    :raises ServiceValidationError: `until_in_the_past` or `until_too_far`.
    """
    placeholders = {"until": until.isoformat()}
    # As moments (timestamps): two times of one zone compare on the clock, which repeats an hour
    if until.timestamp() <= now.timestamp():
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="until_in_the_past",
            translation_placeholders=placeholders,
        )
    if until.timestamp() > now.timestamp() + MODE_END_AHEAD_MAX.total_seconds():
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="until_too_far",
            translation_placeholders=placeholders,
        )


def _aware(until: datetime | None) -> datetime | None:
    """`until` with a time zone: Home Assistant's when it has none.

    In the hour the clocks repeat, a time without one is its next pass: at 01:15 after the
    clocks went back, "01:45" is in half an hour, not the 01:45 an hour before.
    """
    if until is None or until.tzinfo is not None:
        return until
    zone = dt_util.get_default_time_zone()
    first, second = until.replace(tzinfo=zone, fold=0), until.replace(tzinfo=zone, fold=1)
    if first.timestamp() <= dt_util.utcnow().timestamp() < second.timestamp():
        return second
    return first


async def _async_targeted_homes(call: ServiceCall) -> list[str]:
    """The devices of the homes an action targets, in the order it takes them.

    All are checked loaded before any is changed; each home's runner is looked up at its turn
    (`_async_runner_at_turn`).

    A device named directly must be a home; an area, floor or label may hold other devices,
    which are passed over, as are entities of other integrations and the homes of an entry the
    user disabled. `entity_id: all`, as in core's entity actions, is every home of the loaded
    entries.

    :raises ServiceValidationError: the target leads to no home, or see `_async_loaded_home`.
    """
    target = TargetSelection(call.data)
    homes = set(target.device_ids)
    selected = async_extract_referenced_entity_ids(call.hass, target)
    devices = dr.async_get(call.hass)
    homes.update(
        device_id
        for device_id in selected.referenced_devices - target.device_ids
        if (device := devices.async_get(device_id)) is not None
        and device.disabled_by is None
        and any(domain == DOMAIN for domain, _ in device.identifiers)
    )
    if ENTITY_MATCH_ALL in target.entity_ids:
        homes.update(await _async_every_home(call.hass))
    entities = er.async_get(call.hass)
    homes.update(
        entity.device_id
        for entity_id in selected.referenced | selected.indirectly_referenced
        if (entity := entities.async_get(entity_id)) is not None
        and entity.platform == DOMAIN
        and entity.device_id is not None
        # one reached through a label or an area, not named: a disabled entry's is passed over
        # (its device is disabled with it), not one the user disabled in a running home
        and (_device_enabled(devices, entity.device_id) or entity_id in target.entity_ids)
    )
    if not homes:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="no_home_targeted")
    targeted = sorted(homes)
    for device_id in targeted:
        await _async_loaded_home(call.hass, device_id)
    return targeted


def _device_enabled(devices: dr.DeviceRegistry, device_id: str) -> bool:
    """Whether the device is there and enabled: one of a disabled entry is disabled with it."""
    return (device := devices.async_get(device_id)) is not None and device.disabled_by is None


async def _async_runner_at_turn(hass: HomeAssistant, device_id: str) -> HomeRunner:
    """The home's runner when an action's turn comes to it, after the homes before it changed.

    Not the one it had when the action began: an entry reloaded meanwhile (its options saved, a
    sensor renamed) stopped that runner and runs the home with a new one, which the household
    means as much. A home not loaded by then (its entry unloaded, the home gone from the
    account) fails.

    :raises ServiceValidationError: see `_async_loaded_home`.
    """
    entry, home_id = await _async_loaded_home(hass, device_id)
    return entry.runtime_data.sink.runners[home_id]


async def _async_every_home(hass: HomeAssistant) -> list[str]:
    """The devices of every home `entity_id: all` means: those of the entries running.

    An entry reloading (its options just saved) is waited for, as a home named directly is, all
    at once (not up to RELOAD_WAIT_S each in turn); one not running (setup retried, failed) is
    passed over, as core's `all` passes over entities that are unavailable.
    """
    entries = hass.config_entries.async_entries(
        DOMAIN, include_ignore=False, include_disabled=False
    )
    await asyncio.gather(*(_async_setup_done(entry) for entry in entries))
    devices = dr.async_get(hass)
    return [
        device.id
        for entry in entries
        if entry.state is ConfigEntryState.LOADED
        for device in dr.async_entries_for_config_entry(devices, entry.entry_id)
    ]


async def _async_loaded_home(
    hass: HomeAssistant, device_id: str
) -> tuple[EnergyAnomalyConfigEntry, str]:
    """The loaded entry and home id of one of the integration's devices.

    An entry setting up (a reload: its options saved, a sensor renamed, a Reconfigure) is waited
    for, up to RELOAD_WAIT_S: the household means the home it runs again, and failing it as not
    loaded would leave an action over several homes done for some of them only.

    :raises ServiceValidationError: not a device of this integration, or its entry not loaded.
    """
    device = dr.async_get(hass).async_get(device_id)
    # A device belongs to one entry (`config_entry_id`; `config_entries` is deprecated)
    entry = hass.config_entries.async_get_entry(device.config_entry_id) if device else None
    if entry is not None and entry.domain == DOMAIN:
        await _async_setup_done(entry)
    home_id = next(
        (ident for domain, ident in (device.identifiers if device else ()) if domain == DOMAIN),
        None,
    )
    if device is None or home_id is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="unknown_device",
            translation_placeholders={"device_id": device_id},
        )
    if (
        entry is not None
        and entry.domain == DOMAIN
        and entry.state is ConfigEntryState.LOADED
        and home_id in entry.runtime_data.sink.runners
    ):
        return entry, home_id
    raise ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="not_loaded",
        translation_placeholders={"device": device.name_by_user or device.name or device_id},
    )


async def _async_setup_done(entry: ConfigEntry) -> None:
    """Wait, up to RELOAD_WAIT_S, until `entry` is not setting up; then it is loaded or not."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(RELOAD_WAIT_S):
            async with entry.setup_lock:  # held from a reload's unload to the end of its setup
                pass


def _describe(hass: HomeAssistant, episode: Episode) -> dict[str, Any]:
    """An anomaly as the response lists it: when, what kind, and why in a sentence.

    The sentence is in Home Assistant's language, as the anomaly sensor's reason.
    """
    return {
        "start": episode.start.isoformat(),
        "end": None if episode.end is None else episode.end.isoformat(),
        "kind": episode.finding.kind.value,
        "reason": async_reason(hass, episode.finding),
    }
