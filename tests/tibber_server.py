"""A local stand-in for Tibber's GraphQL API, for tests that run the real pyTibber client.

`LocalTibberServer` serves, on 127.0.0.1 and a free port:

* ``POST /v1-beta/gql``: GraphQL over HTTP like ``https://api.tibber.com/v1-beta/gql``. Queries are
  parsed, validated and executed with graphql-core against a subset of Tibber's schema (everything
  pyTibber's ``Tibber.update_info()`` and ``TibberHome.update_info()`` ask for, in pyTibber 0.37 to
  0.39), so an unknown field fails validation as it would against the real API.
* ``GET /v1-beta/gql/subscriptions``: the websocket ``viewer.websocketSubscriptionUrl`` points at,
  speaking ``graphql-transport-ws`` like ``wss://websocket-api.tibber.com/v1-beta/gql/subscriptions``,
  including Tibber's limit of two concurrent connections per token (close code 4429).
* A home's hourly ``consumption`` connection (`LocalHome.history_days` of synthetic history, see
  `history_consumption`), paged with cursors the way ``TibberHome.get_historic_data`` (``last``,
  ``before``) and ``get_historic_data_date`` (``first``, ``after``) ask for it.
* ``GET /v1/homes`` of the Data API (``https://data-api.tibber.com``): no homes with devices, all
  Home Assistant's core ``tibber`` integration needs of it to set up.

Tests drive it with `LocalTibberServer.push` (`LocalTibberServer.push_raw` for payloads the schema
would refuse), `LocalTibberServer.drop_connections`, the fault switches
(`LocalTibberServer.http_fault`, `LocalTibberServer.refuse_websockets`,
`LocalTibberServer.reject_all_connections`, `LocalTibberServer.refuse_tokens_on_websocket`,
`LocalTibberServer.ack_connections`; per home `LocalHome.has_prices` and
`LocalHome.price_error`), `LocalTibberServer.revoke_token` and the ``wait_for_*`` helpers;
`LocalTibberServer.fail_next_requests` makes only the next few requests fail (a rate limit that
clears), `LocalTibberServer.query_faults` only the requests for some queries.
`point_pytibber_at` makes pyTibber send its HTTP requests here; the websocket address
then comes from the server's own answer to the viewer query, as from Tibber.

pyTibber hands its ``ssl`` argument to the websocket library, which refuses any ``ssl`` value
other than None for a ``ws://`` address. With the default ``tls=False`` the client must therefore
be built with ``ssl=False`` (`LocalTibberServer.client_ssl`); gql then picks "no TLS" for ``ws://``
and "verify with the default context" for ``wss://``, so ``ssl=False`` is not insecure against the
real API. With ``tls=True`` the websocket is served as ``wss://`` with a throwaway certificate
authority; pass `LocalTibberServer.client_ssl` (an `ssl.SSLContext` that trusts it) or add the
authority to an existing context with `LocalTibberServer.trust`.
"""

from __future__ import annotations

import asyncio
import base64
from collections import Counter
import contextlib
from dataclasses import dataclass, field
import datetime as dt
from enum import StrEnum
import json
import logging
from pathlib import Path
import socket
import ssl
import tempfile
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo

from aiohttp import WSMsgType, web
import graphql

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    import pytest

_LOGGER = logging.getLogger(__name__)

API_PATH: Final = "/v1-beta/gql"
WEBSOCKET_PATH: Final = "/v1-beta/gql/subscriptions"
DATA_API_HOMES_PATH: Final = "/v1/homes"  # the Data API (REST) lists the homes with devices
GRAPHQL_TRANSPORT_WS: Final = "graphql-transport-ws"
DEFAULT_TOKEN: Final = "local-test-token"

# Close codes: graphql-transport-ws's own, and the ones Tibber is seen to send.
CLOSE_BAD_REQUEST: Final = 4400
CLOSE_UNAUTHORIZED: Final = 4401
CLOSE_INVALID_TOKEN: Final = 4403  # Tibber: "Invalid token"
CLOSE_SUBPROTOCOL_NOT_ACCEPTABLE: Final = 4406
CLOSE_INIT_TIMEOUT: Final = 4408
CLOSE_SUBSCRIBER_EXISTS: Final = 4409
CLOSE_TOO_MANY: Final = 4429  # Tibber: "Too many open connections on this server: 2"

_SHUTDOWN_TIMEOUT: Final = 1.0
# How long a test waits for something to happen before it fails: a guard against a hang, not a
# deadline. On a loaded 2-core box (CI, or -n 8) setting the demo home up took over 5 s.
SETTLE_TIMEOUT_S: Final = 60.0
_WEBSOCKET_CLOSE_TIMEOUT: Final = 2.0

TIBBER_SDL: Final = """
schema {
  query: Query
  subscription: RootSubscription
}

type Query {
  viewer: Viewer!
}

type Viewer {
  login: String
  userId: String
  name: String
  accountType: [String!]!
  homes: [Home]!
  home(id: ID!): Home!
  websocketSubscriptionUrl: String
}

type Home {
  id: ID!
  timeZone: String!
  appNickname: String
  address: Address
  owner: LegalEntity
  meteringPointData: MeteringPointData
  currentSubscription: Subscription
  subscriptions: [Subscription]!
  features: HomeFeatures
}

type HomeFeatures {
  realTimeConsumptionEnabled: Boolean
}

type Address {
  address1: String
  address2: String
  address3: String
  city: String
  postalCode: String
  country: String
  latitude: String
  longitude: String
}

type LegalEntity {
  id: ID!
  name: String!
  firstName: String
  lastName: String
  isCompany: Boolean!
  language: String
  contactInfo: ContactInfo
}

type ContactInfo {
  email: String
  mobile: String
}

type MeteringPointData {
  consumptionEan: String
  gridCompany: String
  gridAreaCode: String
  priceAreaCode: String
  productionEan: String
  energyTaxType: String
  vatType: String
  estimatedAnnualConsumption: Int
}

type Subscription {
  id: ID!
  validFrom: String
  validTo: String
  status: String
  statusReason: String
  priceInfo(resolution: PriceInfoResolution = HOURLY): PriceInfo
}

enum PriceInfoResolution {
  HOURLY
  QUARTER_HOURLY
}

enum PriceLevel {
  NORMAL
  CHEAP
  VERY_CHEAP
  EXPENSIVE
  VERY_EXPENSIVE
}

type PriceInfo {
  current: Price
  today: [Price]!
  tomorrow: [Price]!
}

type Price {
  total: Float
  energy: Float
  tax: Float
  startsAt: String
  currency: String!
  level: PriceLevel
}

type RootSubscription {
  liveMeasurement(homeId: ID!): LiveMeasurement
}

# Tibber declares some of these non-null; here only the timestamp is, so fault tests can push nulls.
type LiveMeasurement {
  timestamp: String!
  power: Float
  lastMeterConsumption: Float
  accumulatedConsumption: Float
  accumulatedProduction: Float
  accumulatedConsumptionLastHour: Float
  accumulatedProductionLastHour: Float
  accumulatedCost: Float
  accumulatedReward: Float
  currency: String
  minPower: Float
  averagePower: Float
  maxPower: Float
  powerProduction: Float
  powerReactive: Float
  powerProductionReactive: Float
  minPowerProduction: Float
  maxPowerProduction: Float
  lastMeterProduction: Float
  powerFactor: Float
  voltagePhase1: Float
  voltagePhase2: Float
  voltagePhase3: Float
  currentL1: Float
  currentL2: Float
  currentL3: Float
  signalStrength: Int
}
"""

# Tibber's consumption connection, as far as pyTibber's history queries go. Only HOURLY is served.
CONSUMPTION_SDL: Final = """
extend type Home {
  consumption(
    resolution: EnergyResolution!
    first: Int
    last: Int
    before: String
    after: String
    filterEmptyNodes: Boolean = false
  ): HomeConsumptionConnection
}

enum EnergyResolution {
  HOURLY
  DAILY
  WEEKLY
  MONTHLY
  ANNUAL
}

type HomeConsumptionConnection {
  pageInfo: HomeConsumptionPageInfo!
  nodes: [Consumption]
}

type HomeConsumptionPageInfo {
  endCursor: String
  hasNextPage: Boolean
  hasPreviousPage: Boolean
  startCursor: String
  count: Int
}

type Consumption {
  from: String!
  to: String!
  unitPrice: Float
  unitPriceVAT: Float
  consumption: Float
  consumptionUnit: String
  totalCost: Float
  cost: Float
  currency: String
}
"""

_NEVER: Final = dt.datetime.max.replace(tzinfo=dt.UTC)

#: The most nodes one ``consumption`` page holds: Tibber caps a longer request to this many
#: (since October 2024: 31 days of hours), it does not refuse it.
MAX_HOURLY_NODES: Final = 744

SCHEMA: Final = graphql.build_schema(TIBBER_SDL + CONSUMPTION_SDL)

_LIVE_MEASUREMENT_TYPE = SCHEMA.get_type("LiveMeasurement")
assert isinstance(_LIVE_MEASUREMENT_TYPE, graphql.GraphQLObjectType)
#: Every field a ``liveMeasurement`` can carry; `LocalTibberServer.push` accepts exactly these.
LIVE_MEASUREMENT_FIELDS: Final = frozenset(_LIVE_MEASUREMENT_TYPE.fields)


class HttpFault(StrEnum):
    """How the GraphQL HTTP endpoint misbehaves while `LocalTibberServer.http_fault` is set.

    What pyTibber's ``Tibber.execute`` makes of each (after its 3 retries on transport errors):
    """

    SERVER_ERROR = "server_error"
    """HTTP 500 with a JSON GraphQL error: ``FatalHttpExceptionError`` (logged as unexpected)."""
    BAD_GATEWAY = "bad_gateway"
    """HTTP 502 with an HTML body, as from a proxy: ``RetryableHttpExceptionError``."""
    RATE_LIMITED = "rate_limited"
    """HTTP 429 with a JSON GraphQL error: ``RetryableHttpExceptionError``."""
    DISCONNECT = "disconnect"
    """The TCP connection is closed without an answer: ``aiohttp.ServerDisconnectedError``."""
    STALL = "stall"
    """No answer until the fault is cleared or the server stops: the client's own timeout."""
    ERROR_WITHOUT_EXTENSIONS = "error_without_extensions"
    """HTTP 200 with ``data`` null and a GraphQL error that has a message but no
    ``extensions``: pyTibber's response handler raises ``AttributeError``."""
    EMPTY_JSON = "empty_json"
    """HTTP 503 labelled ``application/json`` with an empty body, as from a gateway: pyTibber
    reads it as JSON ``None`` and raises ``AttributeError``."""
    HTML_AS_JSON = "html_as_json"
    """HTTP 502 with a proxy's HTML page labelled ``application/json``: pyTibber raises
    ``json.JSONDecodeError`` (a ``ValueError``)."""


@dataclass
class LocalHome:
    """One home on the local account, with what the GraphQL API reports about it."""

    home_id: str
    nickname: str | None = "Home"
    address1: str | None = "Testveien 1"
    postal_code: str = "0150"
    city: str = "Oslo"
    country: str = "NO"
    latitude: str = "59.9139"
    longitude: str = "10.7522"
    time_zone: str = "Europe/Oslo"
    has_pulse: bool | None = True
    """``features.realTimeConsumptionEnabled``: whether a Pulse delivers live data."""
    subscription_status: str | None = "running"
    """The power deal's status; None for a home without one (``currentSubscription`` null)."""
    currency: str = "NOK"
    price: float = 1.25
    """The total price for every quarter hour of today (tomorrow has no prices yet)."""
    has_prices: bool = True
    """Whether ``priceInfo`` has prices; False answers it as null, without an error."""
    price_error: str | None = None
    """A GraphQL error ``priceInfo`` is answered with (its data then null, the rest of the
    answer as usual, HTTP 200), as when only Tibber's price service fails."""
    consumption_ean: str | None = "707057500000000001"
    production_ean: str | None = None
    history_days: int = 0
    """Days of hourly consumption history up to the last full hour (`history_consumption`)."""
    unmetered_hours: int = 0
    """The newest hours of the history whose consumption is still null, as Tibber sends them."""


@dataclass
class LocalAccount:
    """The Tibber user behind the valid tokens, and their homes."""

    user_id: str = "00000000-0000-4000-8000-000000000001"
    name: str = "Test User"
    login: str = "test@example.com"
    homes: list[LocalHome] = field(
        default_factory=lambda: [LocalHome("00000000-0000-4000-8000-0000000000aa")],
    )

    def home(self, home_id: str) -> LocalHome | None:
        """Return the home with this id, or None."""
        return next((home for home in self.homes if home.home_id == home_id), None)


@dataclass(eq=False)
class _Connection:
    """One accepted websocket and its graphql-transport-ws state."""

    ws: web.WebSocketResponse
    request: web.Request
    token: str | None = None
    init_received: bool = False
    acked: bool = False
    # Subscription id -> (home id, the subscription document).
    subscriptions: dict[str, tuple[str, graphql.DocumentNode]] = field(default_factory=dict)


class LocalTibberServer:
    """Tibber's GraphQL HTTP API and live-measurement websocket, served locally.

    Use as ``async with LocalTibberServer() as server:`` or call `start` and `stop`.
    """

    def __init__(
        self,
        *,
        tokens: tuple[str, ...] = (DEFAULT_TOKEN,),
        account: LocalAccount | None = None,
        max_connections_per_token: int = 2,
        tls: bool = False,
        connection_init_timeout: float = 10.0,
    ) -> None:
        """Configure the server; nothing listens before `start`.

        :param tokens: The access tokens accepted over HTTP and in ``connection_init``.
        :param account: The user and homes every valid token belongs to.
        :param max_connections_per_token: Acknowledged websockets allowed at once per token; one
            more ``connection_init`` is closed with 4429 like Tibber does.
        :param tls: Serve the websocket as ``wss://`` with a throwaway certificate authority.
        :param connection_init_timeout: Seconds a websocket may stay open without
            ``connection_init``.
        """
        self.valid_tokens: set[str] = set(tokens)
        self.account: LocalAccount = account or LocalAccount()
        self.max_connections_per_token = max_connections_per_token
        self.connection_init_timeout = connection_init_timeout
        self._tls = tls

        self.refuse_websockets = False
        """Answer websocket upgrades with HTTP 503 (like an overloaded load balancer)."""
        self.reject_all_connections = False
        """Close every ``connection_init`` with 4429, whatever the connection count."""
        self.refuse_tokens_on_websocket = False
        """Close every ``connection_init`` with 4403 "Invalid token", although HTTP accepts the
        token (Tibber's live service disagreeing with its API)."""
        self.ack_connections = True
        """Answer ``connection_init``; when False the server stays silent (a stalled handshake)."""
        self.refused_homes: set[str] = set()
        """Home ids whose ``liveMeasurement`` subscription is answered with an error."""

        self.connections_total = 0
        """Websocket upgrades accepted so far, rejected ones included."""
        self.most_open_connections = 0
        """The most websockets that were open at the same moment since the start."""
        self.close_codes: Counter[int] = Counter()
        """Close codes the server has sent, by code (rejections, drops and shutdown)."""
        self.subscriptions_total: Counter[str] = Counter()
        """``liveMeasurement`` subscriptions started so far, by home id."""
        self.http_requests = 0
        """GraphQL HTTP requests received, faulty answers included."""
        self.queries: list[str] = []
        """The query text of every GraphQL HTTP request answered with a result."""
        self.consumption_requests: list[dict[str, Any]] = []
        """The arguments of every ``consumption`` connection resolved, in order."""
        self._transient_faults = 0
        self._transient_fault = HttpFault.RATE_LIMITED
        self.query_faults: dict[str, HttpFault] = {}
        """Faults for some requests only: a request whose query contains a key (e.g.
        ``"priceInfo"``) is answered with its fault, the others as usual."""

        self._http_fault: HttpFault | None = None
        self._stopping = False
        self._fault_changed = asyncio.Event()
        self._changed = asyncio.Event()
        self._connections: list[_Connection] = []
        self._runner: web.AppRunner | None = None
        self._http_port: int | None = None
        self._ws_port: int | None = None
        self._tempdir: tempfile.TemporaryDirectory[str] | None = None
        self._ca_pem: str | None = None

    # Lifecycle

    async def start(self) -> None:
        """Listen on 127.0.0.1, on free ports."""
        if self._runner is not None:
            raise RuntimeError("Server already started")
        self._stopping = False
        app = web.Application()
        app.router.add_post(API_PATH, self._handle_graphql)
        app.router.add_get(WEBSOCKET_PATH, self._handle_websocket)
        app.router.add_get(DATA_API_HOMES_PATH, self._handle_data_api_homes)
        runner = web.AppRunner(app, shutdown_timeout=_SHUTDOWN_TIMEOUT, access_log=None)
        await runner.setup()
        self._runner = runner
        http_socket = _bind_free_socket()
        self._http_port = http_socket.getsockname()[1]
        await web.SockSite(runner, http_socket).start()
        if self._tls:
            ws_socket = _bind_free_socket()
            self._ws_port = ws_socket.getsockname()[1]
            await web.SockSite(runner, ws_socket, ssl_context=self._server_ssl_context()).start()
        else:
            self._ws_port = self._http_port

    async def stop(self) -> None:
        """Close the open websockets (1001, "going away") and stop listening."""
        if self._runner is None:
            return
        self._stopping = True
        self._fault_changed.set()
        await self.drop_connections(code=1001, reason="Server shutting down")
        await self._runner.cleanup()
        self._runner = None
        if self._tempdir is not None:
            self._tempdir.cleanup()
            self._tempdir = None

    async def __aenter__(self) -> LocalTibberServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # Addresses and TLS

    @property
    def api_url(self) -> str:
        """The GraphQL HTTP endpoint, the local ``https://api.tibber.com/v1-beta/gql``."""
        return f"http://127.0.0.1:{self._port(self._http_port)}{API_PATH}"

    @property
    def data_api_url(self) -> str:
        """The base address of the local Data API, the local ``https://data-api.tibber.com``."""
        return f"http://127.0.0.1:{self._port(self._http_port)}"

    @property
    def websocket_url(self) -> str:
        """The websocket address the viewer query reports as ``websocketSubscriptionUrl``."""
        scheme = "wss" if self._tls else "ws"
        return f"{scheme}://127.0.0.1:{self._port(self._ws_port)}{WEBSOCKET_PATH}"

    @property
    def client_ssl(self) -> ssl.SSLContext | bool:
        """What to pass as pyTibber's ``ssl``: False without TLS, else a context trusting us."""
        if not self._tls:
            return False
        context = ssl.create_default_context()
        self.trust(context)
        return context

    def trust(self, context: ssl.SSLContext) -> None:
        """Make an existing client context (e.g. Home Assistant's) trust this server."""
        if self._ca_pem is None:
            raise RuntimeError(
                "The server has no certificate: construct it with tls=True and start it"
            )
        context.load_verify_locations(cadata=self._ca_pem)

    # Fault switches

    @property
    def http_fault(self) -> HttpFault | None:
        """The fault the GraphQL HTTP endpoint answers with, or None for normal answers."""
        return self._http_fault

    @http_fault.setter
    def http_fault(self, fault: HttpFault | None) -> None:
        self._http_fault = fault
        self._fault_changed.set()
        self._fault_changed = asyncio.Event()

    def fail_next_requests(self, count: int, fault: HttpFault = HttpFault.RATE_LIMITED) -> None:
        """Answer the next ``count`` GraphQL HTTP requests with ``fault``, then normally again."""
        self._transient_faults = count
        self._transient_fault = fault

    # State

    @property
    def open_connections(self) -> int:
        """Websockets currently open, acknowledged or not."""
        return len(self._connections)

    @property
    def acked_connections(self) -> int:
        """Websockets currently open that have been acknowledged (``connection_ack`` sent)."""
        return sum(1 for conn in self._connections if conn.acked)

    @property
    def subscriptions_per_home(self) -> Counter[str]:
        """Active ``liveMeasurement`` subscriptions, by home id."""
        active: Counter[str] = Counter()
        for conn in self._connections:
            active.update(home_id for home_id, _ in conn.subscriptions.values())
        return active

    async def wait_for(
        self,
        predicate: Callable[[], bool],
        timeout: float = SETTLE_TIMEOUT_S,  # noqa: ASYNC109
    ) -> None:
        """Wait until ``predicate()`` is true, re-checking at every state change.

        :raises TimeoutError: if it is still false after ``timeout`` seconds.
        """
        async with asyncio.timeout(timeout):
            while not predicate():
                await self._changed.wait()

    async def wait_for_connections(self, count: int, timeout: float = SETTLE_TIMEOUT_S) -> None:  # noqa: ASYNC109
        """Wait until exactly ``count`` websockets are open and acknowledged."""
        await self._wait_described(
            lambda: self.acked_connections == count,
            timeout,
            lambda: f"{self.acked_connections} acknowledged connections, wanted {count}",
        )

    async def wait_for_connection_attempts(
        self,
        count: int,
        timeout: float = SETTLE_TIMEOUT_S,  # noqa: ASYNC109
    ) -> None:
        """Wait until at least ``count`` websocket upgrades have been accepted since the start."""
        await self._wait_described(
            lambda: self.connections_total >= count,
            timeout,
            lambda: f"{self.connections_total} connection attempts, wanted {count}",
        )

    async def wait_for_subscriptions(
        self,
        count: int,
        home_id: str | None = None,
        timeout: float = SETTLE_TIMEOUT_S,  # noqa: ASYNC109
    ) -> None:
        """Wait until exactly ``count`` subscriptions are active (for ``home_id``, or in all)."""

        def active() -> int:
            per_home = self.subscriptions_per_home
            return per_home[home_id] if home_id is not None else per_home.total()

        await self._wait_described(
            lambda: active() == count,
            timeout,
            lambda: f"{active()} active subscriptions (home {home_id}), wanted {count}",
        )

    # Websocket controls

    async def push(self, home_id: str, **fields: Any) -> int:
        """Send one ``liveMeasurement`` to every subscriber of ``home_id``.

        Fields use Tibber's names (``power=1234.0``, ``accumulatedConsumption=...``); missing ones
        get plausible values, ``timestamp`` is now in the home's time zone. Return the number of
        subscriptions the measurement was sent to.
        """
        if unknown := set(fields) - LIVE_MEASUREMENT_FIELDS:
            raise ValueError(f"Not liveMeasurement fields: {sorted(unknown)}")
        measurement = self._default_measurement(home_id) | fields
        sent = 0
        for conn in list(self._connections):
            for sub_id, (sub_home_id, document) in list(conn.subscriptions.items()):
                if sub_home_id != home_id:
                    continue
                result = graphql.execute(
                    SCHEMA,
                    document,
                    root_value={"liveMeasurement": measurement},
                )
                assert isinstance(result, graphql.ExecutionResult)
                if await self._send(
                    conn, {"id": sub_id, "type": "next", "payload": result.formatted}
                ):
                    sent += 1
        return sent

    async def push_raw(self, home_id: str, data: object) -> int:
        """Send ``data`` as a ``next`` message's data to every subscriber of ``home_id``, unchecked.

        Unlike `push`, nothing goes through the schema: any JSON value (NaN and Infinity too, as
        Python's json writes them) reaches the client, as a misbehaving server could send it.
        Return the number of subscriptions it was sent to.
        """
        sent = 0
        for conn in list(self._connections):
            for sub_id, (sub_home_id, _) in list(conn.subscriptions.items()):
                if sub_home_id == home_id and await self._send(
                    conn, {"id": sub_id, "type": "next", "payload": {"data": data}}
                ):
                    sent += 1
        return sent

    async def push_errors(self, home_id: str, *messages: str) -> int:
        """Send a ``next`` message with GraphQL errors and no data, as Tibber does for a home
        whose Pulse is offline. Return the number of subscriptions it was sent to."""
        payload = {"data": None, "errors": [{"message": message} for message in messages]}
        sent = 0
        for conn in list(self._connections):
            for sub_id, (sub_home_id, _) in list(conn.subscriptions.items()):
                if sub_home_id == home_id and await self._send(
                    conn, {"id": sub_id, "type": "next", "payload": payload}
                ):
                    sent += 1
        return sent

    async def complete_subscriptions(self, home_id: str | None = None) -> int:
        """End subscriptions from the server side (``complete``); return how many were ended."""
        ended = 0
        for conn in list(self._connections):
            for sub_id, (sub_home_id, _) in list(conn.subscriptions.items()):
                if home_id is not None and sub_home_id != home_id:
                    continue
                del conn.subscriptions[sub_id]
                await self._send(conn, {"id": sub_id, "type": "complete"})
                ended += 1
        self._notify()
        return ended

    async def drop_connections(self, *, code: int | None = None, reason: str = "") -> int:
        """End every open websocket; return how many were open.

        :param code: Close with this code and ``reason`` (e.g. 1000, 1001, 1011, 4500); None aborts
            the TCP connection without a close frame, as a network failure would (the client sees
            1006).
        """
        connections = list(self._connections)
        for conn in connections:
            conn.subscriptions.clear()
            if code is None:
                if (transport := conn.request.transport) is not None:
                    transport.abort()
            else:
                await self._close(conn, code, reason)
        self._notify()
        return len(connections)

    async def revoke_token(self, token: str) -> int:
        """Revoke a token as its owner can at developer.tibber.com; return its open websockets.

        From then on HTTP and ``connection_init`` refuse it, and each websocket it opened is
        closed with 4403 "Invalid token" mid-stream.
        """
        self.valid_tokens.discard(token)
        revoked = [conn for conn in self._connections if conn.token == token]
        for conn in revoked:
            await self._close(conn, CLOSE_INVALID_TOKEN, "Invalid token")
        return len(revoked)

    # HTTP

    async def _handle_graphql(self, request: web.Request) -> web.StreamResponse:
        """Answer a GraphQL HTTP request like api.tibber.com."""
        self.http_requests += 1
        while self._http_fault is HttpFault.STALL and not self._stopping:
            await self._fault_changed.wait()
        if self._stopping:
            return self._fault_response(request, HttpFault.DISCONNECT)
        if (fault := self._http_fault) is not None:
            return self._fault_response(request, fault)
        if self._transient_faults > 0:
            self._transient_faults -= 1
            return self._fault_response(request, self._transient_fault)

        token = _bearer_token(request.headers.get("Authorization", ""))
        if token not in self.valid_tokens:
            return _errors_response(
                400, "Context creation failed: invalid token", "UNAUTHENTICATED"
            )
        body = await _read_graphql_body(request)
        query = str(body.get("query"))
        for part, fault in self.query_faults.items():
            if part in query:
                return self._fault_response(request, fault)
        return await self._execute_http(body)

    async def _execute_http(self, body: dict[str, Any]) -> web.Response:
        """Parse, validate and execute an authenticated GraphQL HTTP request."""
        query = body.get("query")
        if not isinstance(query, str) or not query.strip():
            return _errors_response(
                400, "GraphQL operations must contain a query", "BAD_USER_INPUT"
            )
        variables = body.get("variables")
        try:
            document = graphql.parse(query)
        except graphql.GraphQLError as err:
            return _errors_response(400, err.message, "GRAPHQL_PARSE_FAILED")
        if errors := graphql.validate(SCHEMA, document):
            return _errors_response(400, errors[0].message, "GRAPHQL_VALIDATION_FAILED")

        self.queries.append(query)
        result = graphql.execute(
            SCHEMA,
            document,
            root_value={"viewer": self._viewer()},
            context_value=self,
            variable_values=variables if isinstance(variables, dict) else None,
        )
        assert isinstance(result, graphql.ExecutionResult)  # every resolver is synchronous
        payload: dict[str, Any] = {"data": result.data}
        if result.errors:
            payload["errors"] = [
                error.formatted | {"extensions": {"code": "INTERNAL_SERVER_ERROR"}}
                for error in result.errors
            ]
        return web.json_response(payload)

    def _fault_response(self, request: web.Request, fault: HttpFault) -> web.StreamResponse:
        """Misbehave as ``fault`` says."""
        match fault:
            case HttpFault.SERVER_ERROR:
                return _errors_response(500, "Internal server error", "INTERNAL_SERVER_ERROR")
            case HttpFault.BAD_GATEWAY:
                return web.Response(
                    status=502,
                    text="<html><body><h1>502 Bad Gateway</h1></body></html>",
                    content_type="text/html",
                )
            case HttpFault.RATE_LIMITED:
                return _errors_response(429, "Too many requests", "TOO_MANY_REQUESTS")
            case HttpFault.ERROR_WITHOUT_EXTENSIONS:
                return web.json_response(
                    {"data": None, "errors": [{"message": "Internal server error"}]}
                )
            case HttpFault.EMPTY_JSON:
                return web.Response(status=503, body=b"", content_type="application/json")
            case HttpFault.HTML_AS_JSON:
                return web.Response(
                    status=502,
                    text="<html><body><h1>502 Bad Gateway</h1></body></html>",
                    content_type="application/json",
                )
            case _:
                if (transport := request.transport) is not None:
                    transport.abort()
                raise asyncio.CancelledError

    def _viewer(self) -> dict[str, Any]:
        """The ``viewer`` object queries resolve against."""
        account = self.account

        def home(_info: object, id: str) -> dict[str, Any]:
            if (found := account.home(id)) is None:
                raise graphql.GraphQLError(f"Could not find home with id {id}")
            return _home_object(found, account)

        return {
            "login": account.login,
            "userId": account.user_id,
            "name": account.name,
            "accountType": ["tibber", "customer"],
            "homes": [_home_object(found, account) for found in account.homes],
            "home": home,
            "websocketSubscriptionUrl": self.websocket_url,
        }

    # Websocket

    async def _handle_data_api_homes(self, _request: web.Request) -> web.Response:
        """The Data API's homes with devices (chargers, thermostats, ...): none on this account.

        Core `tibber` asks it at setup; nothing of this integration does.
        """
        return web.json_response({"homes": []})

    async def _handle_websocket(self, request: web.Request) -> web.StreamResponse:
        """Run one graphql-transport-ws connection."""
        if self.refuse_websockets:
            return web.Response(status=503, text="Service Unavailable")
        ws = web.WebSocketResponse(
            protocols=(GRAPHQL_TRANSPORT_WS,), timeout=_WEBSOCKET_CLOSE_TIMEOUT
        )
        await ws.prepare(request)
        conn = _Connection(ws, request)
        self._connections.append(conn)
        self.connections_total += 1
        self.most_open_connections = max(self.most_open_connections, len(self._connections))
        self._notify()
        try:
            if ws.ws_protocol != GRAPHQL_TRANSPORT_WS:
                await self._close(
                    conn, CLOSE_SUBPROTOCOL_NOT_ACCEPTABLE, "Subprotocol not acceptable"
                )
                return ws
            try:
                first = await ws.receive(timeout=self.connection_init_timeout)
            except TimeoutError:
                await self._close(conn, CLOSE_INIT_TIMEOUT, "Connection initialisation timeout")
                return ws
            message = first
            while message.type is WSMsgType.TEXT:
                await self._handle_message(conn, message.data)
                if conn.ws.closed:  # closed by the server while handling the message
                    break
                message = await ws.receive()
            if message.type is WSMsgType.BINARY:
                await self._close(conn, CLOSE_BAD_REQUEST, "Binary messages are not supported")
        finally:
            self._connections.remove(conn)
            self._notify()
        return ws

    async def _handle_message(self, conn: _Connection, data: str) -> None:
        """Act on one graphql-transport-ws message from the client."""
        try:
            message = json.loads(data)
            message_type = message["type"]
        except ValueError, TypeError, KeyError:
            await self._close(conn, CLOSE_BAD_REQUEST, "Invalid message received")
            return
        match message_type:
            case "connection_init":
                await self._on_connection_init(conn, message.get("payload"))
            case "ping":
                await self._send(conn, {"type": "pong"})
            case "pong":
                pass
            case "subscribe":
                await self._on_subscribe(conn, message)
            case "complete":
                conn.subscriptions.pop(str(message.get("id")), None)
                self._notify()
            case _:
                await self._close(
                    conn, CLOSE_BAD_REQUEST, f"Unexpected message type {message_type}"
                )

    async def _on_connection_init(self, conn: _Connection, payload: object) -> None:
        """Authenticate a connection and enforce the per-token connection limit."""
        if conn.init_received:
            await self._close(conn, CLOSE_TOO_MANY, "Too many initialisation requests")
            return
        conn.init_received = True
        token = payload.get("token") if isinstance(payload, dict) else None
        if token not in self.valid_tokens or self.refuse_tokens_on_websocket:
            await self._close(conn, CLOSE_INVALID_TOKEN, "Invalid token")
            return
        conn.token = token
        open_for_token = sum(
            1 for other in self._connections if other.acked and other.token == token
        )
        if self.reject_all_connections or open_for_token >= self.max_connections_per_token:
            await self._close(
                conn,
                CLOSE_TOO_MANY,
                f"Too many open connections on this server: {self.max_connections_per_token}",
            )
            return
        if not self.ack_connections:
            return
        conn.acked = True
        await self._send(conn, {"type": "connection_ack"})
        self._notify()

    async def _on_subscribe(self, conn: _Connection, message: dict[str, Any]) -> None:
        """Start a ``liveMeasurement`` subscription."""
        if not conn.acked:
            await self._close(conn, CLOSE_UNAUTHORIZED, "Unauthorized")
            return
        sub_id = str(message.get("id"))
        if sub_id in conn.subscriptions:
            await self._close(
                conn, CLOSE_SUBSCRIBER_EXISTS, f"Subscriber for {sub_id} already exists"
            )
            return
        payload = message.get("payload")
        query = payload.get("query") if isinstance(payload, dict) else None
        variables = payload.get("variables") if isinstance(payload, dict) else None
        try:
            document = graphql.parse(query if isinstance(query, str) else "")
            errors = graphql.validate(SCHEMA, document)
        except graphql.GraphQLError as err:
            errors = [err]
        if errors:
            await self._send(
                conn, {"id": sub_id, "type": "error", "payload": [e.formatted for e in errors]}
            )
            return
        home_id = _subscribed_home_id(document, variables if isinstance(variables, dict) else None)
        if home_id is None or self.account.home(home_id) is None or home_id in self.refused_homes:
            error = {"message": f"Could not find home with id {home_id}"}
            await self._send(conn, {"id": sub_id, "type": "error", "payload": [error]})
            return
        conn.subscriptions[sub_id] = (home_id, document)
        self.subscriptions_total[home_id] += 1
        self._notify()

    async def _send(self, conn: _Connection, message: dict[str, Any]) -> bool:
        """Send a message; return False if the connection is already gone."""
        if conn.ws.closed:
            return False
        try:
            await conn.ws.send_json(message)
        except ConnectionError:
            return False
        return True

    async def _close(self, conn: _Connection, code: int, reason: str) -> None:
        """Close a websocket from the server side with ``code`` and ``reason``."""
        self.close_codes[code] += 1
        conn.subscriptions.clear()
        with contextlib.suppress(ConnectionError):
            await conn.ws.close(code=code, message=reason.encode())
        self._notify()

    # Helpers

    def _default_measurement(self, home_id: str) -> dict[str, Any]:
        """Plausible values for every ``liveMeasurement`` field."""
        home = self.account.home(home_id)
        zone = ZoneInfo(home.time_zone if home else "Europe/Oslo")
        return {
            "timestamp": dt.datetime.now(tz=zone).isoformat(timespec="milliseconds"),
            "power": 1000.0,
            "lastMeterConsumption": 12345.678,
            "accumulatedConsumption": 5.0,
            "accumulatedProduction": 0.0,
            "accumulatedConsumptionLastHour": 0.5,
            "accumulatedProductionLastHour": 0.0,
            "accumulatedCost": 6.25,
            "accumulatedReward": None,
            "currency": home.currency if home else "NOK",
            "minPower": 200.0,
            "averagePower": 800.0,
            "maxPower": 4000.0,
            "powerProduction": 0.0,
            "powerReactive": 0.0,
            "powerProductionReactive": 0.0,
            "minPowerProduction": 0.0,
            "maxPowerProduction": 0.0,
            "lastMeterProduction": 0.0,
            "powerFactor": 0.95,
            "voltagePhase1": 230.0,
            "voltagePhase2": None,
            "voltagePhase3": None,
            "currentL1": 4.3,
            "currentL2": None,
            "currentL3": None,
            "signalStrength": -70,
        }

    def _notify(self) -> None:
        """Wake every ``wait_for*`` waiter to re-check its condition."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_described(
        self,
        predicate: Callable[[], bool],
        timeout: float,  # noqa: ASYNC109
        describe: Callable[[], str],
    ) -> None:
        """`wait_for`, with the state in the TimeoutError's message."""
        try:
            await self.wait_for(predicate, timeout)
        except TimeoutError as err:
            raise TimeoutError(f"After {timeout} s: {describe()}") from err

    def _port(self, port: int | None) -> int:
        if port is None:
            raise RuntimeError("Server not started")
        return port

    def _server_ssl_context(self) -> ssl.SSLContext:
        """Create a throwaway authority and a certificate for 127.0.0.1 signed by it."""
        self._tempdir = tempfile.TemporaryDirectory(prefix="local-tibber-")
        ca_pem, cert_pem, key_pem = CERTIFICATES
        self._ca_pem = ca_pem
        directory = Path(self._tempdir.name)
        (directory / "cert.pem").write_text(cert_pem + ca_pem)
        (directory / "key.pem").write_text(key_pem)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(directory / "cert.pem", directory / "key.pem")
        return context


# pyTibber integration


def point_pytibber_at(server: LocalTibberServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make pyTibber's HTTP requests go to ``server`` for the rest of the test.

    ``Tibber.execute`` posts to the name ``API_ENDPOINT`` it imported into the ``tibber`` package
    (pyTibber 0.37 to 0.39), so that name is replaced; ``tibber.const`` is patched as well for any
    code that reads it from there. The websocket address needs nothing: it is taken from the
    server's answer to ``Tibber.update_info()``.

    pyTibber < 0.38 also has a module-level ``tibber.realtime.LOCK_CONNECT = asyncio.Lock()``; once
    two homes contend for it, it is bound to that test's event loop and any later contention in
    another test's loop raises ``RuntimeError: ... is bound to a different event loop``. It is
    replaced by a fresh lock for each test (one loop per process makes this a non-issue in
    production).
    """
    import tibber  # noqa: PLC0415
    import tibber.const  # noqa: PLC0415
    import tibber.data_api  # noqa: PLC0415
    import tibber.realtime  # noqa: PLC0415

    monkeypatch.setattr(tibber, "API_ENDPOINT", server.api_url)
    monkeypatch.setattr(tibber.const, "API_ENDPOINT", server.api_url)
    monkeypatch.setattr(tibber.data_api, "DATA_API_ENDPOINT", server.data_api_url)
    if hasattr(tibber.realtime, "LOCK_CONNECT"):
        monkeypatch.setattr(tibber.realtime, "LOCK_CONNECT", asyncio.Lock())


@contextlib.contextmanager
def pytibber_pointed_at(server: LocalTibberServer) -> Iterator[None]:
    """Context-manager form of `point_pytibber_at`, for code without the monkeypatch fixture."""
    import pytest  # noqa: PLC0415

    with pytest.MonkeyPatch.context() as monkeypatch:
        point_pytibber_at(server, monkeypatch)
        yield


# Module helpers


def _bind_free_socket() -> socket.socket:
    """A listening-ready TCP socket on 127.0.0.1 and a port the OS picked."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def _bearer_token(header: str) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header."""
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def _read_graphql_body(request: web.Request) -> dict[str, Any]:
    """The GraphQL request as JSON or, as pyTibber sends it, a url-encoded form."""
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}
    form = await request.post()
    body = {key: value for key, value in form.items() if isinstance(value, str)}
    if isinstance(variables := body.get("variables"), str):
        with contextlib.suppress(ValueError):
            body["variables"] = json.loads(variables)
    return body


def _errors_response(status: int, message: str, code: str) -> web.Response:
    """A GraphQL error answer, shaped like Apollo Server's (which Tibber runs)."""
    return web.json_response(
        {"errors": [{"message": message, "extensions": {"code": code}}]},
        status=status,
    )


def _home_object(home: LocalHome, account: LocalAccount) -> dict[str, Any]:
    """The GraphQL ``Home`` object for ``home``."""
    subscription: dict[str, Any] | None = None
    if home.subscription_status is not None:
        subscription = {
            "id": f"subscription-{home.home_id}",
            "validFrom": "2024-01-01T00:00:00+01:00",
            "validTo": None,
            "status": home.subscription_status,
            "statusReason": None,
            "priceInfo": lambda _info, resolution="HOURLY": _price_info(home, resolution),
        }
    return {
        "id": home.home_id,
        "timeZone": home.time_zone,
        "appNickname": home.nickname,
        "address": {
            "address1": home.address1,
            "address2": None,
            "address3": None,
            "city": home.city,
            "postalCode": home.postal_code,
            "country": home.country,
            "latitude": home.latitude,
            "longitude": home.longitude,
        },
        "owner": {
            "id": account.user_id,
            "name": account.name,
            "firstName": account.name.split(" ")[0],
            "lastName": account.name.split(" ")[-1],
            "isCompany": False,
            "language": "nb-NO",
            "contactInfo": {"email": account.login, "mobile": None},
        },
        "meteringPointData": {
            "consumptionEan": home.consumption_ean,
            "gridCompany": "Local Grid AS",
            "gridAreaCode": None,
            "priceAreaCode": "NO1",
            "productionEan": home.production_ean,
            "energyTaxType": "normal",
            "vatType": "normal",
            "estimatedAnnualConsumption": 16000,
        },
        "currentSubscription": subscription,
        "subscriptions": [subscription] if subscription else [],
        "features": {"realTimeConsumptionEnabled": home.has_pulse},
        "consumption": lambda info, **args: _consumption_connection(home, info.context, args),
    }


def _price_info(home: LocalHome, resolution: str) -> dict[str, Any] | None:
    """Today's prices (tomorrow's are not published yet) at a constant ``home.price``.

    :raises graphql.GraphQLError: ``home.price_error``, if set.
    """
    if home.price_error is not None:
        raise graphql.GraphQLError(home.price_error)
    if not home.has_prices:
        return None
    zone = ZoneInfo(home.time_zone)
    now = dt.datetime.now(tz=zone)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    step = dt.timedelta(minutes=15 if resolution == "QUARTER_HOURLY" else 60)
    energy = round(home.price * 0.8, 4)
    today: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    start = midnight
    while start.date() == midnight.date():
        price = {
            "total": home.price,
            "energy": energy,
            "tax": round(home.price - energy, 4),
            "startsAt": start.isoformat(timespec="milliseconds"),
            "currency": home.currency,
            "level": "NORMAL",
        }
        today.append(price)
        if start <= now < start + step:
            current = price
        start = (start.astimezone(dt.UTC) + step).astimezone(zone)
    return {"current": current, "today": today, "tomorrow": []}


def history_consumption(start: dt.datetime) -> float:
    """The synthetic consumption (kWh) of the hour starting at ``start`` (aware, home time).

    A baseload of 0.3 kWh, 1.5 kWh more in the evening (17:00-20:59) and a little more on
    weekends, so a test can tell hours and days apart.
    """
    evening = 1.5 if 17 <= start.hour <= 20 else 0.0
    weekend = 0.2 if start.weekday() >= 5 else 0.0
    return round(0.3 + evening + weekend, 3)


def history_starts(home: LocalHome) -> list[dt.datetime]:
    """The start (home time) of every hour of ``home``'s history, oldest first.

    The history ends with the last full hour before now and is ``history_days * 24`` hours
    long, counted in real hours (a daylight-saving day has 23 or 25 of them on the wall clock).
    """
    zone = ZoneInfo(home.time_zone)
    end = dt.datetime.now(tz=dt.UTC).replace(minute=0, second=0, microsecond=0)
    hours = home.history_days * 24
    return [(end - dt.timedelta(hours=hours - i)).astimezone(zone) for i in range(hours)]


def _cursor(start: dt.datetime) -> str:
    """Tibber's cursor for a node: its ``from`` time, base64-encoded."""
    return base64.b64encode(_iso(start).encode()).decode()


def _cursor_time(cursor: str, zone: ZoneInfo) -> tuple[dt.datetime, bool] | None:
    """The time a cursor stands for and whether it is a bare date, or None for an empty one.

    pyTibber's ``get_historic_data_date`` sends a bare date (``YYYY-MM-DD``) as ``after``: nodes
    from that day's midnight on are returned. A node's own cursor means "after this node".

    :raises graphql.GraphQLError: for a cursor that is not base64 of an ISO date or time.
    """
    if not cursor:
        return None
    try:
        text = base64.b64decode(cursor, validate=True).decode()
        if len(text) == len("YYYY-MM-DD"):
            return dt.datetime.combine(dt.date.fromisoformat(text), dt.time(), zone), True
        return dt.datetime.fromisoformat(text), False
    except ValueError as err:
        raise graphql.GraphQLError(f"Invalid cursor: {cursor}") from err


def _consumption_connection(
    home: LocalHome, server: LocalTibberServer, args: dict[str, Any]
) -> dict[str, Any]:
    """One page of ``home``'s hourly consumption, selected like Tibber's cursor paging."""
    server.consumption_requests.append(args)
    if args["resolution"] != "HOURLY":
        raise graphql.GraphQLError("Only HOURLY consumption is served locally")
    first, last = args.get("first"), args.get("last")
    if first is None and last is None:
        raise graphql.GraphQLError("Ask for the first or the last nodes")
    zone = ZoneInfo(home.time_zone)
    everything = history_starts(home)
    starts = everything
    unmetered_from = everything[-home.unmetered_hours] if home.unmetered_hours else _NEVER
    if first is not None:
        if (after := _cursor_time(args.get("after") or "", zone)) is not None:
            time, inclusive = after
            starts = [s for s in starts if s > time or (inclusive and s == time)]
        page = starts[: min(max(first, 0), MAX_HOURLY_NODES)]
    else:
        if (before := _cursor_time(args.get("before") or "", zone)) is not None:
            starts = [s for s in starts if s < before[0]]
        page = starts[len(starts) - min(max(last or 0, 0), MAX_HOURLY_NODES) :]
    return {
        "pageInfo": {
            "startCursor": _cursor(page[0]) if page else None,
            "endCursor": _cursor(page[-1]) if page else None,
            "hasPreviousPage": bool(page) and page[0] > everything[0],
            "hasNextPage": bool(page) and page[-1] < everything[-1],
            "count": len(page),
        },
        "nodes": [_consumption_node(home, start, metered=start < unmetered_from) for start in page],
    }


def _consumption_node(home: LocalHome, start: dt.datetime, *, metered: bool) -> dict[str, Any]:
    """One hour of consumption and its cost at the home's constant price (null if not metered)."""
    kwh = history_consumption(start) if metered else None
    end = (start.astimezone(dt.UTC) + dt.timedelta(hours=1)).astimezone(start.tzinfo)
    cost = None if kwh is None else round(kwh * home.price, 4)
    return {
        "from": _iso(start),
        "to": _iso(end),
        "unitPrice": home.price,
        "unitPriceVAT": round(home.price * 0.2, 4),
        "consumption": kwh,
        "consumptionUnit": "kWh",
        "totalCost": cost,
        "cost": cost,
        "currency": home.currency,
    }


def _iso(time: dt.datetime) -> str:
    """A time as Tibber writes it: ``2024-01-01T00:00:00.000+01:00``."""
    return time.isoformat(timespec="milliseconds")


def _subscribed_home_id(
    document: graphql.DocumentNode, variables: dict[str, Any] | None
) -> str | None:
    """The ``homeId`` argument of the subscription's ``liveMeasurement`` field."""
    operation = graphql.get_operation_ast(document)
    if operation is None:
        return None
    for selection in operation.selection_set.selections:
        if (
            not isinstance(selection, graphql.FieldNode)
            or selection.name.value != "liveMeasurement"
        ):
            continue
        for argument in selection.arguments or ():
            if argument.name.value == "homeId":
                value = graphql.value_from_ast(argument.value, graphql.GraphQLID, variables)
                return value if isinstance(value, str) else None
    return None


def _make_certificates() -> tuple[str, str, str]:
    """PEM texts of a throwaway CA, a server certificate for 127.0.0.1 it signed, and its key."""
    import ipaddress  # noqa: PLC0415

    from cryptography import x509  # noqa: PLC0415
    from cryptography.hazmat.primitives import hashes, serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID  # noqa: PLC0415

    now = dt.datetime.now(tz=dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Local Tibber test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.IPv4Address("127.0.0.1")), x509.DNSName("localhost")],
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return (
        ca_cert.public_bytes(serialization.Encoding.PEM).decode(),
        cert.public_bytes(serialization.Encoding.PEM).decode(),
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
    )


# Made once, as the module is imported: the first certificate cryptography signs fixes the
# datetime class it accepts, and under a test's frozen clock that is freezegun's fake one, which
# every later test's real datetimes fail ("not an instance of 'HAFakeDatetime'").
CERTIFICATES: Final = _make_certificates()
