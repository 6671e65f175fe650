"""The pieces of one Tibber live websocket: opening it, reading it, and judging its end.

gql's websockets transport is used directly (both pyTibber 0.37 and 0.39 depend on gql 4), with
no retry of its own: the caller (`live_source.TibberLiveSource`) decides when to reconnect.
"""

from collections.abc import AsyncIterator
from datetime import timedelta
import random

from gql import gql
from gql.transport.exceptions import TransportProtocolError
from gql.transport.websockets import WebsocketsTransport
from graphql import ExecutionResult
from homeassistant.const import __version__ as HA_VERSION
from homeassistant.util.ssl import get_default_context
from tibber.gql_queries import LIVE_SUBSCRIBE

from .const import DOMAIN, INVALID_TOKEN_CODE, TOO_MANY_CONNECTIONS_CODE
from .redact import hashed_id

# Seconds to open the websocket and to get Tibber's connection_ack (gql's timeouts).
CONNECT_TIMEOUT_S = 10
ACK_TIMEOUT_S = 10
# graphql-transport-ws ping every 30 s; no pong within 20 s closes the connection (as pyTibber).
PING_INTERVAL_S = 30
PONG_TIMEOUT_S = 20
# Seconds a close waits for Tibber's answers (gql's: the subscriptions' ends, the whole close) and
# for its side of the closing handshake (the websockets library's, within gql's): a silent peer
# (a half-open connection) held Home Assistant's stop 10 s.
CLOSE_TIMEOUT_S = 2
HANDSHAKE_CLOSE_TIMEOUT_S = 1


class SubscriptionEndedError(ConnectionError):
    """Tibber ended a home's subscription while the connection stayed open."""


class _TibberWebsocket(WebsocketsTransport):
    """gql's transport, which also takes a frame that is JSON but no message for a bad frame.

    gql reads every frame in one task and turns only a `ValueError` into its
    `TransportProtocolError`, which closes the connection (the source then reconnects after its
    backoff). A frame such as `null`, a list, or an `error` message without any error raised
    `AttributeError` or `IndexError` instead: the task died, the connection still looked open,
    and no reading came until the stall check closed it.
    """

    def _parse_answer(self, answer: str) -> tuple[str, int | None, ExecutionResult | None]:
        """The frame's type, id and result; a frame that is no message closes the connection."""
        try:
            return super()._parse_answer(answer)
        except (AttributeError, IndexError, KeyError, TypeError) as err:
            message = f"Tibber sent a frame that is no message: {err!r}"
            raise TransportProtocolError(message) from err


def new_websocket(url: str, access_token: str) -> WebsocketsTransport:
    """A websocket transport to `url` (not yet connected) that never reconnects by itself.

    Uses Home Assistant's preloaded SSL context (a fresh default context would load
    certificates in the event loop).
    """
    return _TibberWebsocket(
        url=url,
        init_payload={"token": access_token},
        headers={"User-Agent": f"HomeAssistant/{HA_VERSION} {DOMAIN}"},
        ssl=get_default_context(),
        connect_timeout=CONNECT_TIMEOUT_S,
        close_timeout=CLOSE_TIMEOUT_S,
        connect_args={"close_timeout": HANDSHAKE_CLOSE_TIMEOUT_S},
        ack_timeout=ACK_TIMEOUT_S,
        ping_interval=PING_INTERVAL_S,
        pong_timeout=PONG_TIMEOUT_S,
    )


async def live_messages(transport: WebsocketsTransport, home_id: str) -> AsyncIterator[object]:
    """Subscribe one home on the connected transport and yield each message's data.

    A message that carries Tibber's errors instead of data (e.g. the Pulse is offline) is
    yielded as ``{"errors": [their messages]}``, so the log can say what Tibber said. Raises
    SubscriptionEndedError when Tibber completes the subscription, or gql's error when the
    connection ends.
    """
    async for result in transport.subscribe(gql(LIVE_SUBSCRIBE % home_id)):
        if result.errors and not result.data:
            yield {"errors": [_error_text(error) for error in result.errors]}
        else:
            yield result.data
    raise SubscriptionEndedError(
        f"Tibber ended the live data subscription of home {hashed_id(home_id)}"
    )


def _error_text(error: object) -> str:
    """A GraphQL error's message: gql hands over the JSON's dicts, typed as GraphQLError."""
    if isinstance(error, dict) and isinstance(message := error.get("message"), str):
        return message
    return str(getattr(error, "message", error))


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


def close_code(err: BaseException) -> int | None:
    """The websocket close code Tibber sent, if `err` comes from a closed websocket.

    gql wraps the websockets ConnectionClosed error, whose received close frame (`rcvd`) holds
    the code, somewhere in the exception's cause chain.
    """
    seen: BaseException | None = err
    while seen is not None:
        if isinstance(code := getattr(getattr(seen, "rcvd", None), "code", None), int):
            return code
        seen = seen.__cause__ or seen.__context__
    return None


def is_too_many_connections(err: BaseException) -> bool:
    """Tell whether Tibber closed the websocket with 4429 (another client uses the token)."""
    return close_code(err) == TOO_MANY_CONNECTIONS_CODE


def is_invalid_token(err: BaseException) -> bool:
    """Tell whether Tibber closed the websocket with 4403 (it refuses the access token)."""
    return close_code(err) == INVALID_TOKEN_CODE


def first_cause(err: BaseException) -> BaseException:
    """The first failure inside an exception group (one home's listener), else `err`."""
    while isinstance(err, BaseExceptionGroup):
        err = err.exceptions[0]
    return err


def describe(err: BaseException) -> str:
    """A short reason for the log and the entities: the error and any websocket close code."""
    if (code := close_code(err)) is not None:
        return f"{type(err).__name__}: websocket closed with code {code}"
    return f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
