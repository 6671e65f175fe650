"""Tibber Pulse live data: one websocket per Tibber account, shared by all its homes.

Tibber refuses a third concurrent websocket per token (close code 4429) and mails the account
owner after reconnect storms. So one pyTibber `Tibber` object per config entry subscribes all
watched homes over its single connection; pyTibber reconnects a dropped stream itself, and this
module only steps in when the stream stays down: it closes everything, waits a backoff that
doubles up to minutes (up to an hour after a 4429, with a repair issue naming the likely other
client), and subscribes again. There is never a second connection while one is open: pyTibber
keeps a single subscription client per `Tibber` object.
"""

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
import random
from typing import Any

import aiohttp
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.event import async_call_later, async_track_time_interval
from homeassistant.util import dt as dt_util
from homeassistant.util.ssl import get_default_context
import tibber

from .const import (
    DOMAIN,
    HEALTH_CHECK_INTERVAL,
    ISSUE_TOO_MANY_CONNECTIONS,
    LOGGER,
    RECONNECT_BACKOFF_FIRST,
    RECONNECT_BACKOFF_MAX,
    TOO_MANY_CONNECTIONS_BACKOFF_FIRST,
    TOO_MANY_CONNECTIONS_BACKOFF_MAX,
    TOO_MANY_CONNECTIONS_CODE,
)
from .detector.model import Reading
from .source import ReadingSink

# What a failed request to Tibber's API can raise besides InvalidLoginError (a bad token).
CONNECTION_ERRORS = (
    aiohttp.ClientError,
    TimeoutError,
    tibber.RetryableHttpExceptionError,
    tibber.FatalHttpExceptionError,
)


@dataclass(frozen=True, slots=True)
class TibberHomeInfo:
    """A home on a Tibber account, as the config flow lists it."""

    home_id: str
    name: str
    has_pulse: bool


@dataclass(frozen=True, slots=True)
class TibberAccount:
    """A Tibber account reached with a token: its pyTibber connection, user and homes."""

    connection: tibber.Tibber
    user_id: str
    name: str
    homes: list[TibberHomeInfo]


def _home_name(home: tibber.TibberHome) -> str:
    """The name the user gave the home in the Tibber app, else its street address, else its id."""
    try:
        name: str = home.name
    except KeyError, TypeError:
        return home.home_id
    return name or home.home_id


async def async_fetch_account(hass: HomeAssistant, access_token: str) -> TibberAccount:
    """Reach Tibber with the token and list the account's homes (no websocket is opened).

    Raises tibber.InvalidLoginError for a bad token and one of CONNECTION_ERRORS when Tibber
    cannot be reached. Uses Home Assistant's shared aiohttp session, and its preloaded SSL
    context for the websocket (a fresh default context would load certificates in the loop).
    """
    connection = tibber.Tibber(
        access_token,
        websession=async_get_clientsession(hass),
        time_zone=dt_util.get_default_time_zone(),
        ssl=get_default_context(),
    )
    await connection.update_info()
    homes = connection.get_homes(only_active=False)
    await asyncio.gather(*(home.update_info() for home in homes))
    return TibberAccount(
        connection=connection,
        user_id=connection.user_id or "",
        name=connection.name or "",
        homes=[
            TibberHomeInfo(home.home_id, _home_name(home), bool(home.has_real_time_consumption))
            for home in homes
        ],
    )


class Backoff:
    """Delays that double from `first` up to `largest`, with ±20 % jitter, until reset."""

    def __init__(self, first: timedelta, largest: timedelta) -> None:
        """Start at `first`."""
        self._first = first
        self._largest = largest
        self._next = first

    def next_delay(self) -> timedelta:
        """Return the delay to wait now, and double the one after."""
        delay = self._next
        self._next = min(self._next * 2, self._largest)
        return delay * random.uniform(0.8, 1.2)

    def reset(self) -> None:
        """Data flows again: the next failure starts from `first`."""
        self._next = self._first


def _phases(data: dict[str, Any], names: tuple[str, str, str]) -> tuple[float | None, ...]:
    return tuple(None if data.get(name) is None else float(data[name]) for name in names)


def reading_from_live_measurement(data: dict[str, Any]) -> Reading:
    """Turn pyTibber's liveMeasurement payload into a reading; KeyError/ValueError if malformed."""
    production = data.get("powerProduction")
    voltage = _phases(data, ("voltagePhase1", "voltagePhase2", "voltagePhase3"))
    current = _phases(data, ("currentL1", "currentL2", "currentL3"))
    return Reading(
        timestamp=datetime.fromisoformat(data["timestamp"]),
        power=float(data["power"]),
        power_production=None if production is None else float(production),
        voltage=(voltage[0], voltage[1], voltage[2]),
        current=(current[0], current[1], current[2]),
    )


def is_too_many_connections(err: BaseException) -> bool:
    """Tell whether Tibber closed the websocket with 4429 (another client uses the token).

    gql wraps the websockets ConnectionClosed error, whose received close frame (`rcvd`) holds
    the code, somewhere in the exception's cause chain.
    """
    seen: BaseException | None = err
    while seen is not None:
        close_frame = getattr(seen, "rcvd", None)
        if getattr(close_frame, "code", None) == TOO_MANY_CONNECTIONS_CODE:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class TibberLiveSource:
    """Keeps one Tibber account's live stream running for the homes it watches."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        connection: tibber.Tibber,
        home_ids: Sequence[str],
    ) -> None:
        """Prepare to watch `home_ids`; nothing connects before `async_start`."""
        self._hass = hass
        self._entry = entry
        self._tibber = connection
        self._home_ids = list(home_ids)
        self._sink: ReadingSink | None = None
        self._backoff = Backoff(RECONNECT_BACKOFF_FIRST, RECONNECT_BACKOFF_MAX)
        self._refused_backoff = Backoff(
            TOO_MANY_CONNECTIONS_BACKOFF_FIRST, TOO_MANY_CONNECTIONS_BACKOFF_MAX
        )
        self._subscribed = False
        self._data_flowing = False
        self._down_checks = 0
        self._unsub_retry: CALLBACK_TYPE | None = None
        self._unsub_health: CALLBACK_TYPE | None = None
        self._stopping = False
        self.connection_attempts = 0

    async def async_start(self, sink: ReadingSink) -> None:
        """Subscribe every home in the background and start watching the stream's health."""
        self._sink = sink
        self._unsub_health = async_track_time_interval(
            self._hass, self._async_check_health, HEALTH_CHECK_INTERVAL
        )
        self._entry.async_create_background_task(
            self._hass, self._async_subscribe(), f"{DOMAIN} subscribe {self._entry.title}"
        )

    async def _async_subscribe(self) -> None:
        """Subscribe all homes over the account's one connection; on failure, back off."""
        self._unsub_retry = None
        self.connection_attempts += 1
        try:
            for home_id in self._home_ids:
                home = self._tibber.get_home(home_id)
                if home is None:
                    self._sink_down(home_id, "the home is no longer on the account")
                    continue
                await home.rt_subscribe(self._message_handler(home_id))
        except tibber.InvalidLoginError:
            LOGGER.warning("Tibber rejected the access token; reauthentication needed")
            await self._async_close()
            self._entry.async_start_reauth(self._hass)
            return
        except Exception as err:  # noqa: BLE001 - any failure: close, back off, retry
            await self._async_handle_failure(err)
            return
        self._subscribed = True
        self._down_checks = 0

    def _message_handler(self, home_id: str) -> Callable[[dict[str, Any]], None]:
        """Return pyTibber's callback for one home: each message becomes a reading."""

        @callback
        def handle(message: dict[str, Any]) -> None:
            try:
                reading = reading_from_live_measurement(message["data"]["liveMeasurement"])
            except (KeyError, TypeError, ValueError) as err:
                LOGGER.debug("Skipping malformed live message %s: %s", message, err)
                return
            if not self._data_flowing:
                self._async_stream_ok()
            if self._sink is not None:
                self._sink.async_add_readings(home_id, [reading])

        return handle

    @callback
    def _async_stream_ok(self) -> None:
        """Data flows: forget earlier failures and the repair issue."""
        self._data_flowing = True
        self._backoff.reset()
        self._refused_backoff.reset()
        self._down_checks = 0
        ir.async_delete_issue(self._hass, DOMAIN, self._issue_id)

    @property
    def _issue_id(self) -> str:
        return f"{ISSUE_TOO_MANY_CONNECTIONS}_{self._entry.entry_id}"

    async def _async_handle_failure(self, err: BaseException) -> None:
        """Close the stream, make entities unavailable, and retry after a backoff."""
        await self._async_close()
        if self._stopping:
            return
        if is_too_many_connections(err):
            delay = self._refused_backoff.next_delay()
            self._async_raise_too_many_connections()
        else:
            delay = self._backoff.next_delay()
        why = f"{err or type(err).__name__}; retrying in {int(delay.total_seconds())} s"
        self._sink_down(None, why)
        self._unsub_retry = async_call_later(self._hass, delay, self._async_retry)

    @callback
    def _async_retry(self, _now: datetime) -> None:
        self._entry.async_create_background_task(
            self._hass, self._async_subscribe(), f"{DOMAIN} resubscribe {self._entry.title}"
        )

    @callback
    def _async_raise_too_many_connections(self) -> None:
        """Tell the user another client holds Tibber's connections for this token."""
        ir.async_create_issue(
            self._hass,
            DOMAIN,
            self._issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=ISSUE_TOO_MANY_CONNECTIONS,
            translation_placeholders={"account": self._entry.title},
        )

    async def _async_check_health(self, _now: datetime) -> None:
        """Step in when the stream stays down for two checks in a row despite pyTibber."""
        if not self._subscribed or self._tibber.realtime.subscription_running:
            self._down_checks = 0
            return
        self._down_checks += 1
        self._sink_down(None, "the live data connection is down")
        if self._down_checks >= 2:
            await self._async_handle_failure(ConnectionError("the live data connection is down"))

    @callback
    def _sink_down(self, home_id: str | None, why: str) -> None:
        """Tell the sink live data stopped for a home (None: all of them)."""
        if self._sink is not None:
            self._sink.async_source_down(home_id, why)

    async def _async_close(self) -> None:
        """Unsubscribe every home and close the websocket (stops pyTibber's watchdog too)."""
        self._subscribed = False
        self._data_flowing = False
        self._down_checks = 0
        await self._tibber.rt_disconnect()

    async def async_stop(self) -> None:
        """Stop retrying and close the connection (unload, Home Assistant stop)."""
        self._stopping = True
        for unsub in (self._unsub_retry, self._unsub_health):
            if unsub is not None:
                unsub()
        self._unsub_retry = self._unsub_health = None
        await self._async_close()
        ir.async_delete_issue(self._hass, DOMAIN, self._issue_id)

    def diagnostics(self) -> dict[str, Any]:
        """Connection state, without the token."""
        return {
            "source": "tibber",
            "subscribed": self._subscribed,
            "subscription_running": self._tibber.realtime.subscription_running,
            "connection_attempts": self.connection_attempts,
            "retry_scheduled": self._unsub_retry is not None,
        }
