"""Tibber Pulse live data: one websocket per Tibber account, owned here, shared by its homes.

Tibber allows two websockets per token (a third is closed with 4429) and mails the account owner
after reconnect storms. pyTibber's own realtime client reconnects inside the library, differently
in each version (0.37: a watchdog; 0.38+: gql's retry loop that never surfaces a 4429), so this
module does not use it: it opens the websocket itself with gql's transport (which both pyTibber
versions depend on; see `tibber_connection`), without any retry of its own, and runs one loop
per account:

    ask Tibber (pyTibber, HTTP) for the websocket address → connect → subscribe every watched home
    → stream until anything ends the connection → close it → wait a backoff → again.

So there is at most one websocket at any moment, every home is subscribed on each new
connection, and nothing is left running between cycles. A 4429 waits 5 minutes doubling to an
hour and raises a repair issue; any other failure waits 10 s doubling to 5 minutes (both with
jitter, reset once data flows). Waits run on Home Assistant's timers.

A token Tibber's API rejects (when asking for the websocket address, or asked at once after the
websocket was closed with 4403 "Invalid token") ends the loop: the homes are reported down, the
reauth flow is started, and nothing reconnects until the flow reloads the entry with a new token.
Reconnecting with a revoked token would only fail again, forever. A 4403 for a token the API still
accepts waits as long as a 4429 and asks nothing of the user: the token is not known to be bad.
"""

import asyncio
from collections import Counter
from collections.abc import Callable, Sequence
import contextlib
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
import logging
from typing import Any

import aiohttp
from gql.transport.exceptions import TransportQueryError
from gql.transport.websockets import WebsocketsTransport
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_ACCESS_TOKEN
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.event import async_call_later, async_track_time_interval
from homeassistant.util import dt as dt_util
from homeassistant.util.ssl import get_default_context
import tibber

from .const import (
    CONNECTION_STABLE_AFTER,
    DOMAIN,
    HEALTH_CHECK_INTERVAL,
    ISSUE_TOO_MANY_CONNECTIONS,
    LIVE_STALL_AFTER,
    LOGGER,
    RECONNECT_BACKOFF_FIRST,
    RECONNECT_BACKOFF_MAX,
    TOO_MANY_CONNECTIONS_BACKOFF_FIRST,
    TOO_MANY_CONNECTIONS_BACKOFF_MAX,
)
from .issues import async_delete_unhashed, async_warn, issue_id
from .naming import spells_nothing
from .redact import hashed_id
from .source import ReadingSink
from .tibber_answer import TibberAnswerError, read_tibber
from .tibber_connection import (
    Backoff,
    describe,
    first_cause,
    is_invalid_token,
    is_too_many_connections,
    live_messages,
    new_websocket,
)
from .tibber_payload import MalformedMeasurementError, reading_from_live_data

WEBSOCKET_URL_QUERY = "{ viewer { websocketSubscriptionUrl } }"


# What a failed request to Tibber's API can raise besides InvalidLoginError (a bad token).
CONNECTION_ERRORS = (
    aiohttp.ClientError,
    TimeoutError,
    tibber.RetryableHttpExceptionError,
    tibber.FatalHttpExceptionError,
    TibberAnswerError,
)


@dataclass(frozen=True, slots=True)
class TibberHomeInfo:
    """A home on a Tibber account, as the config flow lists it."""

    home_id: str
    name: str
    has_pulse: bool
    time_zone: str | None = None  # as Tibber names the home's zone (Europe/Oslo), if it does


@dataclass(frozen=True, slots=True)
class TibberAccount:
    """A Tibber account reached with a token: its pyTibber connection, user and homes."""

    connection: tibber.Tibber
    user_id: str
    name: str
    homes: list[TibberHomeInfo]


# The account's homes as the integration needs them (after pyTibber's own request for the account,
# its ids and its websocket), in one request without prices: pyTibber's per-home `update_info`
# also reads each home's prices, and an error only in those (Tibber's price service down) fails it
# as a whole, which would stop the setup and the hourly listing.
HOMES_QUERY = """
{
  viewer {
    homes {
      id
      appNickname
      timeZone
      address { address1 }
      features { realTimeConsumptionEnabled }
    }
  }
}
"""


def _listed_homes(data: object) -> list[TibberHomeInfo]:
    """The homes of HOMES_QUERY's answer; an entry that is not a home with an id is left out."""
    viewer = data.get("viewer") if isinstance(data, dict) else None
    homes = viewer.get("homes") if isinstance(viewer, dict) else None
    listed = [
        TibberHomeInfo(home["id"], _home_name(home), _has_pulse(home), _zone_name(home))
        for home in (homes if isinstance(homes, list) else [])
        if isinstance(home, dict) and isinstance(home.get("id"), str) and home["id"]
    ]
    return _told_apart(listed)


def _told_apart(homes: list[TibberHomeInfo]) -> list[TibberHomeInfo]:
    """The homes, Pulse homes of one name (two flats at one address) with their id's hash.

    Else the homes form offers two ticks of one label, and their devices one name. Only Pulse
    homes count: no other is offered or watched, and a namesake without one (an old contract
    at the same address) must not rename a home's device.
    """
    names = Counter(home.name for home in homes if home.has_pulse)
    return [
        replace(home, name=f"{home.name} ({hashed_id(home.home_id)})")
        if home.has_pulse and names[home.name] > 1
        else home
        for home in homes
    ]


def _zone_name(home: dict[str, Any]) -> str | None:
    """The name of the home's time zone, None when Tibber names none."""
    zone = home.get("timeZone")
    return zone if isinstance(zone, str) and zone else None


def _home_name(home: dict[str, Any]) -> str:
    """The name the user gave the home in the Tibber app, else its street address.

    Else its id's hash: Tibber's id is a lasting identifier of the home, kept out of device
    names and logs (see `hashed_id`). A nickname of emoji alone is passed over: entity ids
    cannot spell it (`spells_nothing`).
    """
    address = home.get("address")
    for name in (home.get("appNickname"), isinstance(address, dict) and address.get("address1")):
        if isinstance(name, str) and name and not spells_nothing(name):
            return name
    return f"Tibber home {hashed_id(home['id'])}"


def _has_pulse(home: dict[str, Any]) -> bool:
    """Whether Tibber streams the home's live data (a Pulse, or a meter like it)."""
    features = home.get("features")
    return isinstance(features, dict) and features.get("realTimeConsumptionEnabled") is True


async def _async_read_prices(home: tibber.TibberHome) -> None:
    """Let pyTibber read the home's prices, for its always-on cost; without them it has none.

    A read that fails leaves pyTibber's earlier prices, maybe days old: they are forgotten.
    """
    try:
        await read_tibber(home.update_info())
    except CONNECTION_ERRORS as err:
        home.price_total = {}
        LOGGER.debug("Could not read Tibber's prices of home %s: %s", hashed_id(home.home_id), err)


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
    homes = await async_list_homes(connection)
    return TibberAccount(
        connection=connection,
        user_id=connection.user_id or "",
        name=connection.name or "",
        homes=homes,
    )


async def async_list_homes(connection: tibber.Tibber) -> list[TibberHomeInfo]:
    """Ask Tibber which homes the account has now, with their names and whether they stream.

    Raises as `async_fetch_account`. pyTibber's connection then knows the homes by id too, and
    their prices when Tibber gives them (`_async_read_prices`).
    """
    await read_tibber(connection.update_info())
    homes = _listed_homes(await read_tibber(connection.execute(HOMES_QUERY)))
    await asyncio.gather(
        *(_async_read_prices(home) for home in connection.get_homes(only_active=False))
    )
    return homes


def tibber_home_of(connection: tibber.Tibber, home_id: str) -> tibber.TibberHome | None:
    """The home `home_id` as pyTibber knows it, while the account lists it; else None.

    pyTibber's own `get_home` logs an error, naming the home by Tibber's id, for a home not on
    the account (one removed while Home Assistant was stopped, before it is dropped).
    """
    if home_id not in connection.get_home_ids(only_active=False):
        return None
    return connection.get_home(home_id)


class TibberLiveSource:
    """Keeps one Tibber account's live stream running for the homes it watches."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        connection: tibber.Tibber,
        home_ids: Sequence[str],
    ) -> None:
        """Prepare; nothing connects before `async_start`."""
        self._hass = hass
        self._entry = entry
        self._tibber = connection
        self._home_ids = list(home_ids)
        self._sink: ReadingSink | None = None
        self._backoff = Backoff(RECONNECT_BACKOFF_FIRST, RECONNECT_BACKOFF_MAX)
        self._refused_backoff = Backoff(
            TOO_MANY_CONNECTIONS_BACKOFF_FIRST, TOO_MANY_CONNECTIONS_BACKOFF_MAX
        )
        self._runner: asyncio.Task[None] | None = None
        self._transport: WebsocketsTransport | None = None
        # While a connection is open: its task group and each home's subscription in it.
        self._group: asyncio.TaskGroup | None = None
        self._listeners: dict[str, asyncio.Task[None]] = {}
        self._unsub_health: CALLBACK_TYPE | None = None
        self._unsub_stable: CALLBACK_TYPE | None = None
        self._data_flowing = False
        self._checks_without_message = 0
        # The homes waiting out Tibber's refusal before they are subscribed again: nothing is due
        # on the connection for them, so one carrying only such homes is not stalled.
        self._refused_waiting: set[str] = set()
        # The stall check closed the connection; its end is reported as that, not as Tibber's.
        self._closed_silent = False
        # The 4403 advice was logged as a warning: once, until a connection is stable again
        self._told_token_refused = False
        # The homes whose refusal was logged as a warning: once, until the home streams again
        self._told_refused: set[str] = set()
        self._malformed_seen: set[str] = set()
        self._retry_at: datetime | None = None
        self._stopped = False
        self.connection_attempts = 0

    async def async_start(self, sink: ReadingSink) -> None:
        """Start the connection loop in the background and the stall check."""
        self._sink = sink
        async_delete_unhashed(self._hass, ISSUE_TOO_MANY_CONNECTIONS, self._entry.entry_id)
        self._unsub_health = async_track_time_interval(
            self._hass, self._async_check_stall, HEALTH_CHECK_INTERVAL
        )
        self._async_start_runner()

    @callback
    def _async_start_runner(self) -> None:
        """Run the connection loop, unless it runs already or the source was stopped.

        A plain task: it lives as long as the entry, so Home Assistant must not wait for it the
        way it waits for (background) tasks to settle; async_stop cancels it.
        """
        if self._stopped:  # a late caller (the hourly listing) after an unload
            return
        if self._runner is None or self._runner.done():
            self._runner = self._hass.loop.create_task(
                self._async_run(), name=f"{DOMAIN} live data {self._entry.title}"
            )

    @callback
    def async_watch(self, home_ids: Sequence[str]) -> None:
        """Watch these homes from now on (homes added to or removed from the account meanwhile).

        On the same websocket: a new home is subscribed on the open connection, a dropped home's
        subscription ends, the other homes keep streaming. It closes once no home is left.
        """
        old = set(self._home_ids)
        self._home_ids = list(home_ids)
        for home_id in old - set(home_ids):
            self._told_refused.discard(home_id)  # back on the account: a refusal to tell anew
            if (listener := self._listeners.pop(home_id, None)) is not None:
                listener.cancel()
        if self._sink is None:
            return
        if self._group is not None and self._listeners:
            # RuntimeError: the connection is ending; the next one subscribes every home.
            with contextlib.suppress(RuntimeError):
                for home_id in set(self._home_ids) - old:
                    self._async_subscribe(self._group, home_id)
        self._async_start_runner()

    @callback
    def _async_subscribe(self, group: asyncio.TaskGroup, home_id: str) -> None:
        """Subscribe one home on the open connection, as a task of its group."""
        assert self._transport is not None
        self._listeners[home_id] = group.create_task(self._async_listen(self._transport, home_id))

    async def _async_run(self) -> None:
        """Connect, stream, close, back off; until stopped or the token is rejected."""
        assert self._sink is not None
        while self._home_ids:
            self.connection_attempts += 1
            try:
                await self._async_stream(await self._async_websocket_url())
                continue  # every home was dropped meanwhile (or one came back just then)
            except tibber.InvalidLoginError:
                self._async_token_rejected()
                return
            except Exception as err:  # noqa: BLE001 - any failure: back off and reconnect
                ended = first_cause(err)
            if is_invalid_token(ended) and await self._async_api_rejects_token():
                self._async_token_rejected()
                return
            await self._async_wait_to_reconnect(self._async_failed(ended))

    async def _async_api_rejects_token(self) -> bool:
        """Ask Tibber's API now, after the websocket refused the token (4403), if it does too.

        Only the API's word starts the reauth flow, which then stops live data until the user
        acts; an unreachable API counts as not rejecting, so the source backs off and asks again.
        """
        try:
            await self._tibber.execute(WEBSOCKET_URL_QUERY)
        except tibber.InvalidLoginError:
            return True
        except Exception:  # noqa: BLE001 - unreachable or odd now: asked again after the backoff
            return False
        return False

    @callback
    def _async_token_rejected(self) -> None:
        """Report every home down and ask the user for a new token (the loop then ends)."""
        LOGGER.warning(
            "Tibber rejected the access token of %s (revoked or expired): live data stops until "
            "you create a new token at developer.tibber.com and enter it in the entry's red "
            "reauthentication card at the top of Settings > Devices & services",
            self._entry.title,
        )
        self._async_down("Tibber rejected the access token; enter a new one to reauthenticate")
        self._entry.async_start_reauth(self._hass)

    async def _async_websocket_url(self) -> str:
        """Ask Tibber where the live websocket is (it may move between connections)."""
        data = await read_tibber(self._tibber.execute(WEBSOCKET_URL_QUERY))
        viewer = data.get("viewer") if isinstance(data, dict) else None
        url = viewer.get("websocketSubscriptionUrl") if isinstance(viewer, dict) else None
        if not isinstance(url, str):
            raise ConnectionError("Tibber named no live data address")
        return url

    async def _async_stream(self, url: str) -> None:
        """Open one websocket, subscribe every watched home on it, stream until it ends.

        Raises whenever the connection ends: whatever ends one subscription (a drop, a stall,
        Tibber completing or refusing it) ends the connection, so the next one subscribes every
        home again. Returns only when every home was dropped (`async_watch`).
        """
        transport = new_websocket(url, self._entry.data[CONF_ACCESS_TOKEN])
        self._transport = transport
        self._checks_without_message = 0
        try:
            await transport.connect()
            async with asyncio.TaskGroup() as group:
                self._group = group
                for home_id in self._home_ids:
                    self._async_subscribe(group, home_id)
        finally:
            self._group = None
            self._listeners.clear()
            self._transport = None
            await transport.close()

    async def _async_listen(self, transport: WebsocketsTransport, home_id: str) -> None:
        """Feed one home's subscription on the open websocket to the sink.

        When Tibber answers the subscription with an error (e.g. the home's Pulse is gone), only
        this home is down: it is subscribed again on the same websocket after a backoff, while
        the other homes keep streaming.
        """
        assert self._sink is not None
        refused = Backoff(RECONNECT_BACKOFF_FIRST, RECONNECT_BACKOFF_MAX)
        while True:
            try:
                async for data in live_messages(transport, home_id):
                    self._checks_without_message = 0
                    self._told_refused.discard(home_id)
                    self._async_handle(home_id, data)
            except TransportQueryError as err:
                delay = refused.next_delay()
                why = f"Tibber refused the home's live data ({self._without_ids(err, home_id)})"
                if home_id not in self._told_refused:  # the outage line is info: this needs you
                    self._told_refused.add(home_id)
                    LOGGER.warning("Live data of home %s: %s", hashed_id(home_id), why)
                self._sink.async_source_down(
                    home_id, f"{why}; retrying in {int(delay.total_seconds())} s"
                )
                self._refused_waiting.add(home_id)
                try:
                    await self._async_wait(delay)
                finally:
                    self._refused_waiting.discard(home_id)

    def _without_ids(self, err: Exception, home_id: str) -> str:
        """Tibber's answer with the home's id hashed and the account's user id left out.

        It is logged: Tibber names the home, and the account's owner, by their lasting ids
        ("Home with id ... does not have matching owner ...").
        """
        text = str(err).replace(home_id, hashed_id(home_id))
        if user_id := self._tibber.user_id:
            text = text.replace(user_id, "<user id>")
        return text

    @callback
    def _async_handle(self, home_id: str, data: object) -> None:
        """One message: a reading to the sink, or a malformed payload logged and skipped."""
        assert self._sink is not None
        left_out: list[MalformedMeasurementError] = []
        try:
            reading = reading_from_live_data(data, left_out)
        except MalformedMeasurementError as err:
            self._async_log_malformed(home_id, err)
            return
        for fault in left_out:
            self._async_log_malformed(home_id, fault, value_only=True)
        if not self._data_flowing:
            self._async_data_flowing()
        self._sink.async_add_readings(home_id, [reading])

    @callback
    def _async_log_malformed(
        self, home_id: str, err: MalformedMeasurementError, *, value_only: bool = False
    ) -> None:
        """Warn about the first message of each kind of fault, then only at debug level.

        `value_only`: only an optional value was faulty, and the rest of the message counts.
        """
        first = err.kind not in self._malformed_seen
        self._malformed_seen.add(err.kind)
        LOGGER.log(
            logging.WARNING if first else logging.DEBUG,
            "%s live message for home %s (%s)%s",
            "Left out a value of a" if value_only else "Skipping malformed",
            hashed_id(home_id),  # as the diagnostics name it: Tibber's id is the home's for good
            self._without_ids(err, home_id),  # Tibber's errors may name the home or the user
            "; further ones of this kind are logged at debug level" if first else "",
        )

    @callback
    def _async_data_flowing(self) -> None:
        """Data flows: the repair issue goes; the backoffs start over if it keeps flowing."""
        self._data_flowing = True
        ir.async_delete_issue(self._hass, DOMAIN, self._issue_id)
        self._unsub_stable = async_call_later(
            self._hass, CONNECTION_STABLE_AFTER, self._async_stable
        )

    @callback
    def _async_stable(self, _now: datetime) -> None:
        """The connection carried data for CONNECTION_STABLE_AFTER: forget earlier failures."""
        self._unsub_stable = None
        self._backoff.reset()
        self._refused_backoff.reset()
        self._told_token_refused = False

    @callback
    def _async_cancel_stable(self) -> None:
        if self._unsub_stable is not None:
            self._unsub_stable()
            self._unsub_stable = None

    @callback
    def _async_failed(self, err: BaseException) -> timedelta:
        """Report the connection down and return how long to wait before the next one."""
        if is_too_many_connections(err):
            delay = self._refused_backoff.next_delay()
            what = "Tibber refuses another live data connection for this token (4429)"
            self._async_raise_too_many_connections()
        elif is_invalid_token(err):  # and the API did not reject the token
            delay = self._refused_backoff.next_delay()
            what = (
                "Tibber's live data service refused the access token (4403) that its API did not "
                "reject; if this lasts for hours, create a new token at developer.tibber.com and "
                "enter it with Reconfigure"
            )
            if not self._told_token_refused:  # the outage line is info: this needs the user
                self._told_token_refused = True
                LOGGER.warning("Live data of %s: %s", self._entry.title, what)
        else:
            delay = self._backoff.next_delay()
            what = describe(err)
        if self._closed_silent:  # our close ended the subscriptions, not Tibber
            what = f"no live message for {int(LIVE_STALL_AFTER.total_seconds())} s, closed"
            self._closed_silent = False
        why = f"{what}; retrying in {int(delay.total_seconds())} s"
        LOGGER.debug("Tibber live data connection: %s", why)
        self._async_down(why)
        return delay

    @callback
    def _async_down(self, why: str) -> None:
        """Every home is down for `why`, and the connection no longer counts as carrying data.

        The sink logs each home going unavailable with this reason, once per outage.
        """
        assert self._sink is not None
        self._async_cancel_stable()
        self._data_flowing = False
        self._sink.async_source_down(None, why)

    async def _async_wait_to_reconnect(self, delay: timedelta) -> None:
        """Wait `delay` before the next connection, shown in diagnostics until the timer fires."""
        self._retry_at = dt_util.utcnow() + delay

        @callback
        def fired() -> None:
            self._retry_at = None

        try:
            await self._async_wait(delay, fired)
        finally:
            self._retry_at = None

    async def _async_wait(self, delay: timedelta, fired: Callable[[], None] | None = None) -> None:
        """Wait `delay` on Home Assistant's clock (so a test's time travel reaches it)."""
        woken = self._hass.loop.create_future()

        @callback
        def wake(_now: datetime) -> None:
            if fired is not None:
                fired()
            if not woken.done():
                woken.set_result(None)

        unsub = async_call_later(self._hass, delay, wake)
        try:
            await woken
        finally:
            unsub()

    async def _async_check_stall(self, _now: datetime) -> None:
        """Close a connection that is open but has carried no message for LIVE_STALL_AFTER."""
        if (transport := self._transport) is None:
            return
        if self._listeners.keys() <= self._refused_waiting:  # Tibber answered each: none is due
            self._checks_without_message = 0
            return
        self._checks_without_message += 1
        if self._checks_without_message * HEALTH_CHECK_INTERVAL > LIVE_STALL_AFTER:
            LOGGER.debug("No live message for %s: closing the connection", LIVE_STALL_AFTER)
            self._closed_silent = True
            await transport.close()

    @property
    def _issue_id(self) -> str:
        return issue_id(ISSUE_TOO_MANY_CONNECTIONS, self._entry.entry_id)

    @callback
    def _async_raise_too_many_connections(self) -> None:
        """Tell the user another client holds Tibber's connections for this token."""
        async_warn(
            self._hass,
            self._issue_id,
            ISSUE_TOO_MANY_CONNECTIONS,
            {"account": self._entry.title},
        )

    async def async_stop(self) -> None:
        """Stop the loop and close the websocket (unload, Home Assistant stop)."""
        self._stopped = True
        if self._unsub_health is not None:
            self._unsub_health()
            self._unsub_health = None
        self._async_cancel_stable()
        if (runner := self._runner) is not None:
            self._runner = None
            runner.cancel()
            await asyncio.wait([runner])
        ir.async_delete_issue(self._hass, DOMAIN, self._issue_id)

    def diagnostics(self) -> dict[str, Any]:
        """Connection state, without the token."""
        return {
            "source": "tibber",
            "connected": self._transport is not None,
            "data_flowing": self._data_flowing,
            "connection_attempts": self.connection_attempts,
            "retry_at": None if self._retry_at is None else self._retry_at.isoformat(),
            "malformed_kinds_seen": sorted(self._malformed_seen),
        }
