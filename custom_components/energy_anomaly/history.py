"""A home's past consumption, fetched once so the detector need not start learning from nothing.

Two sources give the same `HistoryRow`s (an aggregate's start on the home's wall clock, its length
and its mean power in W):

* Tibber's hourly consumption (kWh per hour, as billed) through pyTibber, for as many days as the
  home has been a Tibber customer. pyTibber asks for at most 744 hours (31 days) per request and
  pages back with cursors. A rate limit or a transient failure is retried with a doubling delay a
  bounded number of times; then `HistoryFetchError` says why, and the caller goes on learning
  from live readings alone.
* Home Assistant's long-term statistics of a power sensor: hourly mean/min/max, and the
  recorder's 5-minute statistics (kept about 10 days) for the part of the window they cover,
  read in the recorder's own executor like core integrations do.

`async_write_recorder_history` writes hourly rows as a power sensor's statistics, for a home whose
past is known but was never recorded (the demo home's four weeks).

`async_add_recorder_temperatures` then gives rows of either source the outdoor temperature (°C)
from the statistics of the temperature sensor the user chose, for the detector's heating model.

Times are on the home's clock: the recorder's in its time zone (`wall_clock`), so an alarm's
`since` is told on the clock of that moment across a change to or from summer time; Tibber's at
the UTC offset Tibber gives. Their hour and weekday are the home's. Arithmetic on them goes
through epoch seconds or UTC: two times of one zone are compared and subtracted on the wall
clock, an hour off around the repeated hour.

Nothing here blocks the event loop, and nothing raises but `HistoryFetchError` (and `ValueError`
for a negative number of days, a programming error).
"""

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from datetime import datetime, timedelta, tzinfo
from functools import partial
import math
from typing import Any, Final, Literal

import aiohttp
from homeassistant.components.recorder import DOMAIN as RECORDER_DOMAIN
from homeassistant.components.recorder import get_instance
from homeassistant.components.recorder.models import (
    StatisticData,
    StatisticMeanType,
    StatisticMetaData,
)
from homeassistant.components.recorder.statistics import (
    StatisticsRow,
    async_import_statistics,
    get_metadata,
    statistics_during_period,
)
from homeassistant.components.recorder.tasks import SynchronizeTask
from homeassistant.const import UnitOfPower, UnitOfTemperature
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.util import dt as dt_util
from homeassistant.util.unit_conversion import (
    BaseUnitConverter,
    PowerConverter,
    TemperatureConverter,
)
from sqlalchemy.exc import SQLAlchemyError
import tibber
from tibber.const import RESOLUTION_HOURLY
from tibber.exceptions import HttpExceptionError

from .const import DOMAIN, LOGGER
from .detector.model import HistoryRow
from .redact import hashed_id
from .tibber_answer import TibberAnswerError, read_tibber

HOUR_S: Final = 3600.0
FIVE_MINUTES_S: Final = 300.0
W_PER_KW: Final = 1000.0
_HOUR: Final = timedelta(hours=1)

# The recorder's statistics periods this module reads, and their length.
type Period = Literal["5minute", "hour"]
_PERIOD_S: Final[dict[Period, float]] = {"5minute": FIVE_MINUTES_S, "hour": HOUR_S}
_FIVE_MINUTES_PER_HOUR: Final = round(HOUR_S / FIVE_MINUTES_S)
# Units the recorder converts statistics to: the detector's.
_WATTS: Final[dict[str, str]] = {PowerConverter.UNIT_CLASS: UnitOfPower.WATT}
_CELSIUS: Final[dict[str, str]] = {TemperatureConverter.UNIT_CLASS: UnitOfTemperature.CELSIUS}

# Tibber requests: this many in all for one history fetch, the delays between them doubling from
# the first up to the last. Tibber blocks an address that sent over 100 requests in 5 minutes for
# 10 minutes (and again if requests keep coming): 30+60+120+240+300 s outlasts one such block
# with five requests.
TIBBER_ATTEMPTS: Final = 6
TIBBER_RETRY_FIRST_DELAY_S: Final = 30.0
TIBBER_RETRY_MAX_DELAY_S: Final = 300.0
# HTTP statuses from this one up are the server's trouble, worth another try.
_FIRST_SERVER_ERROR_STATUS: Final = 500

# What a Tibber request fails with; `_is_transient` tells a rate limit (429), a 5xx, a timeout or
# a dropped connection, worth another try, from a refused token or request, which is not.
_TIBBER_REQUEST_ERRORS: Final = (
    tibber.RetryableHttpExceptionError,
    tibber.FatalHttpExceptionError,
    aiohttp.ClientError,
    TimeoutError,
    TibberAnswerError,
)


class HistoryFetchError(HomeAssistantError):
    """Past consumption could not be fetched; live learning goes on without it."""


# Tibber


async def async_fetch_tibber_history(
    home: tibber.TibberHome, days: int, *, turn: asyncio.Lock
) -> list[HistoryRow]:
    """The home's hourly consumption over the last ``days`` days, oldest first, in W.

    Each request takes ``turn``, the account's, so its homes ask Tibber one at a time; the waits
    between retries do not hold it (another home's request goes meanwhile).

    Hours Tibber has no reading for yet (consumption null) are left out.

    :raises HistoryFetchError: Tibber refused the request (e.g. a revoked token), or kept
        failing, or kept answering what cannot be read, after `TIBBER_ATTEMPTS` requests.
    :raises ValueError: for a negative ``days``.
    """
    if days < 0:
        raise ValueError(f"days must not be negative, got {days}")
    if days == 0:
        return []
    nodes = await _with_retries(
        lambda: read_tibber(home.get_historic_data(days * 24, resolution=RESOLUTION_HOURLY)),
        f"Tibber consumption history of home {hashed_id(home.home_id)}",
        turn,
    )
    return _tibber_rows(nodes)


async def _with_retries[T](request: Callable[[], Awaitable[T]], what: str, turn: asyncio.Lock) -> T:
    """``request()`` in ``turn``, tried again after a doubling delay while it fails transiently.

    The whole request is repeated, all its pages: pyTibber offers no way to resume at a cursor,
    and a history fetch is two pages for two months.
    """
    delay = TIBBER_RETRY_FIRST_DELAY_S
    attempt = 1
    while True:
        try:
            async with turn:
                return await request()
        except _TIBBER_REQUEST_ERRORS as err:
            reason = _describe(err)
            if not _is_transient(err):
                raise HistoryFetchError(f"{what}: refused ({reason})") from err
            if attempt == TIBBER_ATTEMPTS:
                raise HistoryFetchError(
                    f"{what}: still failing after {attempt} attempts ({reason})"
                ) from err
            LOGGER.warning(
                "%s failed (%s); attempt %d of %d in %g s",
                what,
                reason,
                attempt + 1,
                TIBBER_ATTEMPTS,
                delay,
            )
        await asyncio.sleep(delay)
        delay = min(delay * 2, TIBBER_RETRY_MAX_DELAY_S)
        attempt += 1


def _is_transient(err: Exception) -> bool:
    """Whether trying again later may help: not for a refused token or a bad request."""
    if isinstance(err, tibber.FatalHttpExceptionError):
        return err.status >= _FIRST_SERVER_ERROR_STATUS
    return True


def _describe(err: Exception) -> str:
    """A short reason for the log: the HTTP status and message, else the exception."""
    if isinstance(err, HttpExceptionError):
        return f"HTTP {err.status}: {err.message}"
    return str(err) or type(err).__name__


def _tibber_rows(nodes: Iterable[Any]) -> list[HistoryRow]:
    """Hourly rows from Tibber's nodes: sorted, one per hour, unreadable nodes left out.

    pyTibber returns the newest page first; a failed page it skips may repeat another.
    """
    rows: dict[datetime, HistoryRow] = {}
    for node in nodes:
        if (row := _tibber_row(node)) is not None:
            rows[row.start] = row
    return [rows[start] for start in sorted(rows)]


def _tibber_row(node: Any) -> HistoryRow | None:
    """One node (``from`` in the home's time, ``consumption`` in kWh) as a row, or None."""
    try:
        start = datetime.fromisoformat(node["from"])
        kwh = float(node["consumption"])
    except KeyError, TypeError, ValueError:
        return None
    if start.tzinfo is None or not math.isfinite(kwh):
        return None
    return HistoryRow(start=start, duration_s=HOUR_S, mean=kwh * W_PER_KW)


# Recorder


async def async_fetch_recorder_history(
    hass: HomeAssistant, entity_id: str, days: int
) -> list[HistoryRow]:
    """The power sensor's long-term statistics over the last ``days`` days, oldest first, in W.

    Hour by hour: its 5-minute rows where they cover it whole (the recorder keeps them about 10
    days), else its hourly row, else (the hour going on) the 5-minute rows it has, so rows
    neither overlap nor leave a gap (`_read_power`). An entity without statistics gives no rows.

    :raises HistoryFetchError: the recorder is not running or its database failed, or the
        statistics are not in a power unit.
    :raises ValueError: for a negative ``days``.
    """
    if days < 0:
        raise ValueError(f"days must not be negative, got {days}")
    if days == 0:
        return []
    start = dt_util.utcnow().replace(minute=0, second=0, microsecond=0) - timedelta(days=days)
    return await _async_in_recorder(hass, entity_id, partial(_read_power, hass, entity_id, start))


async def async_write_recorder_history(
    hass: HomeAssistant, entity_id: str, rows: Iterable[HistoryRow]
) -> None:
    """Write hourly ``rows`` (W) as the recorder's statistics of ``entity_id``, then wait for them.

    Once this returns, `async_fetch_recorder_history` reads them. An hour the recorder has
    already is overwritten. The rows must start on whole hours of UTC (as the recorder's do).

    :raises HistoryFetchError: the recorder is not running.
    """
    _require_recorder(hass, "no statistics to write")
    metadata = StatisticMetaData(
        mean_type=StatisticMeanType.ARITHMETIC,
        has_sum=False,
        name=None,
        source=RECORDER_DOMAIN,
        statistic_id=entity_id,
        unit_class=PowerConverter.UNIT_CLASS,
        unit_of_measurement=UnitOfPower.WATT,
    )
    async_import_statistics(hass, metadata, [_statistic(row) for row in rows])
    # The recorder runs its queue in order: once a task queued after the import ran, the import
    # is committed. (Its `async_block_till_done` returns at once while the import is running.)
    done = hass.loop.create_future()
    get_instance(hass).queue_task(SynchronizeTask(done))
    await done


def _statistic(row: HistoryRow) -> StatisticData:
    """An hourly row as the recorder's statistic (its minimum and maximum where known)."""
    statistic = StatisticData(start=dt_util.as_utc(row.start), mean=row.mean)
    if row.minimum is not None:
        statistic["min"] = row.minimum
    if row.maximum is not None:
        statistic["max"] = row.maximum
    return statistic


async def async_add_recorder_temperatures(
    hass: HomeAssistant, rows: list[HistoryRow], entity_id: str
) -> list[HistoryRow]:
    """``rows`` (from either source) with ``entity_id``'s mean temperature (°C) over each.

    The temperature comes from the sensor's statistics: a 5-minute row gets the 5-minute mean
    where the recorder still has it, else its hour's; an hourly row gets its hour's. A row the
    statistics do not cover, and every row for an entity without statistics (a weather entity
    has none), keeps ``temperature`` None.

    :raises HistoryFetchError: the recorder is not running or its database failed, or the
        statistics are not in a temperature unit.
    """
    if not rows:
        return []
    start = _floor_hour(min(row.start for row in rows))
    means = await _async_in_recorder(
        hass, entity_id, partial(_read_temperatures, hass, entity_id, start)
    )
    return [replace(row, temperature=_temperature_of(row, means)) for row in rows]


async def _async_in_recorder[T](hass: HomeAssistant, entity_id: str, job: Callable[[], T]) -> T:
    """Run ``job`` in the recorder's executor, its failures as `HistoryFetchError`."""
    _require_recorder(hass, "no statistics to learn from")
    try:
        return await get_instance(hass).async_add_executor_job(job)
    except SQLAlchemyError as err:
        raise HistoryFetchError(f"Reading the statistics of {entity_id} failed: {err}") from err


def _require_recorder(hass: HomeAssistant, consequence: str) -> None:
    """Raise `HistoryFetchError` (saying ``consequence``) when the recorder is not running."""
    if RECORDER_DOMAIN not in hass.config.components:
        raise HistoryFetchError(f"The recorder is not running: {consequence}")


def _read_power(hass: HomeAssistant, entity_id: str, start: datetime) -> list[HistoryRow]:
    """Read the power statistics since ``start``: per hour its 5-minute rows, else its hourly one.

    An hour's hourly row stands unless 5-minute rows cover the whole hour (an hour they begin in
    midway keeps its whole); an hour without one (the current hour) takes the 5-minute rows it
    has. Hour by hour, not from the first 5-minute row on: one left from long ago (a demo tried
    and deleted days before, the recorder keeping 5-minute rows for ten) must not cost the hourly
    rows written since, where no 5-minute row is.
    """
    if not _has_statistics(hass, entity_id, PowerConverter):
        return []
    short = _power_rows(hass, entity_id, "5minute", start, None)
    hourly = {hour_of(row): row for row in _power_rows(hass, entity_id, "hour", start, None)}
    parts: dict[float, list[HistoryRow]] = {}
    for row in short:
        parts.setdefault(hour_of(row), []).append(row)
    return [
        row
        for hour in sorted(hourly.keys() | parts.keys())
        for row in (
            parts[hour]
            if hour not in hourly or len(parts.get(hour, ())) == _FIVE_MINUTES_PER_HOUR
            else [hourly[hour]]
        )
    ]


def hour_of(row: HistoryRow) -> float:
    """The start (epoch s) of the UTC hour ``row`` starts in: statistics are UTC-aligned."""
    start = row.start.timestamp()
    return start - start % HOUR_S


def _read_temperatures(
    hass: HomeAssistant, entity_id: str, start: datetime
) -> dict[tuple[float, float], float]:
    """Mean temperatures (°C) since ``start`` by (start timestamp, period length in s)."""
    if not _has_statistics(hass, entity_id, TemperatureConverter):
        return {}
    return {
        (stat["start"], _PERIOD_S[period]): mean
        for period in _PERIOD_S
        for stat in _statistics(hass, entity_id, period, start, None, units=_CELSIUS)
        if (mean := stat.get("mean")) is not None
    }


def _temperature_of(row: HistoryRow, means: dict[tuple[float, float], float]) -> float | None:
    """The mean temperature over ``row``'s own period, else over the hour it starts in."""
    start = row.start.timestamp()
    if (own := means.get((start, row.duration_s))) is not None:
        return own
    return means.get((start - start % HOUR_S, HOUR_S))


def _has_statistics(
    hass: HomeAssistant, entity_id: str, converter: type[BaseUnitConverter]
) -> bool:
    """Whether the entity has statistics, in one of ``converter``'s units.

    :raises HistoryFetchError: it has statistics, in another unit.
    """
    metadata = get_metadata(hass, statistic_ids={entity_id})
    if entity_id not in metadata:
        return False
    unit = metadata[entity_id][1]["unit_of_measurement"]
    if unit not in converter.VALID_UNITS:
        raise _wrong_unit(entity_id, str(unit), converter)
    return True


def _wrong_unit(entity_id: str, unit: str, converter: type[BaseUnitConverter]) -> HistoryFetchError:
    """The error of statistics in a unit ``converter`` cannot read.

    The power's is also said to the user in their language (`analyze_history` fails on it); a
    temperature's is only logged (it costs only the temperatures).
    """
    english = f"The statistics of {entity_id} are in {unit}, not a {converter.UNIT_CLASS} unit"
    if converter is PowerConverter:
        return HistoryFetchError(
            english,
            translation_domain=DOMAIN,
            translation_key="history_not_power",
            translation_placeholders={"entity_id": entity_id, "unit": unit},
        )
    return HistoryFetchError(english)


def _power_rows(
    hass: HomeAssistant,
    entity_id: str,
    period: Period,
    start: datetime,
    end: datetime | None,
) -> list[HistoryRow]:
    """Power rows of one statistics period in [start, end), in W."""
    return [
        HistoryRow(
            start=wall_clock(stat["start"]),
            duration_s=_PERIOD_S[period],
            mean=mean,
            minimum=stat.get("min"),
            maximum=stat.get("max"),
        )
        for stat in _statistics(hass, entity_id, period, start, end, units=_WATTS)
        if (mean := stat.get("mean")) is not None
    ]


def _statistics(
    hass: HomeAssistant,
    entity_id: str,
    period: Period,
    start: datetime,
    end: datetime | None,
    *,
    units: dict[str, str],
) -> list[StatisticsRow]:
    """One entity's statistics of one period in [start, end), converted by the recorder."""
    found = statistics_during_period(
        hass, start, end, {entity_id}, period, units, {"mean", "min", "max"}
    )
    return found.get(entity_id, [])


def wall_clock(timestamp: float, zone: tzinfo | None = None) -> datetime:
    """A recorder timestamp as the time in `zone` (else Home Assistant's).

    In the zone, not at that moment's bare offset: an alarm's `since` is told in the zone of the
    row that raised it, and a load on since 01:42 on the night the clocks go forward, alarmed
    after 03:00, was told "since 02:42", a time that night never had.
    """
    return dt_util.utc_from_timestamp(timestamp).astimezone(zone or dt_util.get_default_time_zone())


def _floor_hour(time: datetime) -> datetime:
    """The whole hour (of UTC, as the recorder's hourly statistics) ``time`` is in."""
    return dt_util.as_utc(time).replace(minute=0, second=0, microsecond=0)
