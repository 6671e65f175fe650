"""Where a home's past consumption is found, for learning at setup and for analysing it.

* The recorder's statistics of the sensor that carries the home's power: the chosen power sensor
  of a home fed by Home Assistant sensors, else the integration's own *Power* sensor, whose
  statistics outlive a reinstall (its entity id comes back from the entity registry).
* For a Tibber home, Tibber's hourly consumption for every hour those statistics do not cover.

Rows then get the outdoor temperature from the statistics of the temperature entity chosen in
the options, where it has any.

A net power sensor (`Power is net`: below 0 while solar exports) is learned from as the power it
drew: its statistics clipped at 0 W, as a live reading's power is its positive part.

The demo home's past is known but was never recorded: it is written as the statistics of its
power sensor first, then read back and learned like any home's.
"""

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import tzinfo

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import tibber

from .const import (
    CONF_POWER_ENTITY,
    CONF_POWER_IS_NET,
    CONF_SOURCE,
    CONF_TEMPERATURE_ENTITY,
    DOMAIN,
    LOGGER,
    SOURCE_ENTITY,
)
from .detector.model import HistoryRow
from .history import (
    HistoryFetchError,
    async_add_recorder_temperatures,
    async_fetch_recorder_history,
    async_fetch_tibber_history,
    async_write_recorder_history,
    hour_of,
    wall_clock,
)
from .runtime import EnergyAnomalyConfigEntry


def power_statistics_entity(
    hass: HomeAssistant, entry: EnergyAnomalyConfigEntry, home_id: str
) -> str | None:
    """The entity whose recorder statistics are the home's power, None if there is none yet."""
    if entry.data[CONF_SOURCE] == SOURCE_ENTITY:
        return str(entry.data[CONF_POWER_ENTITY])
    return er.async_get(hass).async_get_entity_id(Platform.SENSOR, DOMAIN, f"{home_id}_power")


async def async_fetch_recorded_power(
    hass: HomeAssistant,
    entry: EnergyAnomalyConfigEntry,
    home_id: str,
    days: int,
    zone: tzinfo | None = None,
) -> list[HistoryRow]:
    """The home's power statistics over the last ``days`` days, with outdoor temperatures.

    Stamped in ``zone`` (else Home Assistant's), the clock of the home's live readings: a Tibber
    home's are on its own, which a host left on UTC does not share. Without a recorder there are
    none.

    :raises HistoryFetchError: the recorder's database failed, or the statistics are not power.
    """
    entity_id = power_statistics_entity(hass, entry, home_id)
    if entity_id is None or "recorder" not in hass.config.components:
        return []
    rows = await async_fetch_recorder_history(hass, entity_id, days)
    if zone is not None:
        rows = [replace(row, start=wall_clock(row.start.timestamp(), zone)) for row in rows]
    return await _async_with_temperatures(hass, entry, rows)


def drawn_part(row: HistoryRow) -> HistoryRow:
    """A net power sensor's row as the power drawn: its mean, minimum and maximum at least 0 W.

    The mean of an hour that both drew and exported is more than its clipped mean; the minutes
    are gone, so this is the closest the row tells (a 5-minute row tells it closely).
    """
    return replace(
        row,
        mean=max(row.mean, 0.0),
        minimum=None if row.minimum is None else max(row.minimum, 0.0),
        maximum=None if row.maximum is None else max(row.maximum, 0.0),
    )


async def async_fetch_home_history(
    hass: HomeAssistant,
    entry: EnergyAnomalyConfigEntry,
    home_id: str,
    days: int,
    *,
    zone: tzinfo | None,
    tibber_home: tibber.TibberHome | None,
    tibber_turn: asyncio.Lock,
) -> list[HistoryRow]:
    """The home's past over the last ``days`` days: recorded power, Tibber's hours where none is.

    Not only before the first recorded row: a home reinstalled weeks after its removal has a
    day of statistics from its first install, then none until now, which Tibber's hours fill.

    The homes of one account ask Tibber in turn (``tibber_turn``), never at once: one request
    at a time keeps well inside Tibber's rate limit (a home waiting to retry lets another ask).

    :raises HistoryFetchError: the recorder failed, or Tibber failed (after its retries) and the
        recorder had no rows: recorded rows are learned without Tibber's when only it fails.
    """
    recorded = await async_fetch_recorded_power(hass, entry, home_id, days, zone)
    if entry.data.get(CONF_POWER_IS_NET):
        recorded = [drawn_part(row) for row in recorded]
    if tibber_home is None:
        return recorded
    try:
        tibber_rows = await async_fetch_tibber_history(tibber_home, days, turn=tibber_turn)
    except HistoryFetchError as err:
        if not recorded:
            raise
        LOGGER.warning("Learning from the recorded power only, without Tibber's: %s", err)
        return recorded
    covered = {hour_of(row) for row in recorded}
    missing = [row for row in tibber_rows if hour_of(row) not in covered]
    rows = await _async_with_temperatures(hass, entry, missing) + recorded
    return sorted(rows, key=lambda row: row.start.timestamp())


async def async_fetch_seeded_history(
    hass: HomeAssistant,
    entry: EnergyAnomalyConfigEntry,
    home_id: str,
    past: Callable[[], list[HistoryRow]],
) -> list[HistoryRow]:
    """A past never recorded (``past()``, hourly, run in the executor), learned as if it had been.

    It is written as the recorder's statistics of the home's power sensor, then fetched back as
    any home's are (with outdoor temperatures), so the home learns through the same path, and
    its power sensor's history shows those weeks. Without a recorder, the rows as they are.

    :raises HistoryFetchError: the recorder's database failed.
    """
    rows = await hass.async_add_executor_job(past)
    entity_id = power_statistics_entity(hass, entry, home_id)
    if not rows or entity_id is None or "recorder" not in hass.config.components:
        return rows
    await async_write_recorder_history(hass, entity_id, rows)
    days = (dt_util.utcnow() - rows[0].start).days + 1
    return await async_fetch_recorded_power(hass, entry, home_id, days)


async def _async_with_temperatures(
    hass: HomeAssistant, entry: EnergyAnomalyConfigEntry, rows: list[HistoryRow]
) -> list[HistoryRow]:
    """``rows`` with the chosen outdoor temperature where its statistics have it.

    A temperature entity whose statistics cannot be read costs the temperatures, not the rows.
    """
    entity_id = entry.options.get(CONF_TEMPERATURE_ENTITY)
    if not entity_id or not rows or "recorder" not in hass.config.components:
        return rows
    try:
        return await async_add_recorder_temperatures(hass, rows, entity_id)
    except HistoryFetchError as err:
        LOGGER.warning("Learning from history without outdoor temperatures: %s", err)
        return rows
