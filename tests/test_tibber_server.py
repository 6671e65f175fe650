"""The local Tibber server, driven by the real pyTibber client (no Home Assistant).

The tests pass with pyTibber 0.37.6 (installed) and 0.39.x, whose realtime code differs: 0.37 raises
from ``rt_subscribe`` when the websocket handshake fails and resubscribes a dropped home after 1 s;
0.39 lets gql reconnect in the background and resubscribes after a random 0-60 s sleep.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, time, timedelta
import json
import logging
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from gql.transport.exceptions import TransportConnectionFailed
import pytest
import tibber
import tibber.home
import websockets
from websockets.exceptions import ConnectionClosed
from websockets.frames import Close

from tests.tibber_server import (
    DEFAULT_TOKEN,
    HttpFault,
    LocalAccount,
    LocalHome,
    LocalTibberServer,
    history_consumption,
    history_starts,
    point_pytibber_at,
)

# Home Assistant's test plugin blocks sockets; the local server needs them (127.0.0.1 only).
pytestmark = [pytest.mark.usefixtures("socket_enabled"), pytest.mark.pytibber]

HOME_A = "00000000-0000-4000-8000-00000000000a"
HOME_B = "00000000-0000-4000-8000-00000000000b"
HOME_OFF = "00000000-0000-4000-8000-00000000000c"

# pyTibber >= 0.38 hands reconnecting to gql: connect failures are retried in the background.
RECONNECTS_IN_BACKGROUND = hasattr(tibber.TibberRT, "set_subscription_endpoint")

INIT = json.dumps({"type": "connection_init", "payload": {"token": DEFAULT_TOKEN}})

type Received = dict[str, asyncio.Queue[dict[str, Any]]]
type MakeClient = Callable[..., Awaitable[tibber.Tibber]]


def _account() -> LocalAccount:
    return LocalAccount(
        user_id="user-1",
        name="Ada Lovelace",
        homes=[
            LocalHome(HOME_A, nickname="Cabin", address1="Fjellveien 1"),
            LocalHome(HOME_B, nickname="Flat", address1="Bygata 2"),
            LocalHome(HOME_OFF, nickname=None, has_pulse=False, subscription_status=None),
        ],
    )


@pytest.fixture
async def server(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[LocalTibberServer]:
    async with LocalTibberServer(account=_account()) as server:
        point_pytibber_at(server, monkeypatch)
        yield server


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def make_client(
    server: LocalTibberServer, session: aiohttp.ClientSession
) -> AsyncIterator[MakeClient]:
    """Build pyTibber clients on the shared session; disconnect them all at teardown."""
    clients: list[tibber.Tibber] = []

    async def make(token: str = DEFAULT_TOKEN, http_timeout: int = 2) -> tibber.Tibber:
        client = tibber.Tibber(
            token,
            websession=session,
            user_agent="test",
            ssl=server.client_ssl,
            timeout=http_timeout,
        )
        clients.append(client)
        await client.update_info()
        return client

    yield make
    for client in clients:
        await client.rt_disconnect()


def _collector(received: Received, home_id: str) -> Callable[[dict[str, Any]], None]:
    received[home_id] = asyncio.Queue()
    return received[home_id].put_nowait


async def _next_power(received: Received, home_id: str) -> float:
    data = await asyncio.wait_for(received[home_id].get(), timeout=5)
    return data["data"]["liveMeasurement"]["power"]


async def test_update_info_lists_homes_and_user(make_client: MakeClient, server: LocalTibberServer):
    client = await make_client()

    assert client.user_id == "user-1"
    assert client.name == "Ada Lovelace"
    assert client.get_home_ids(only_active=False) == [HOME_A, HOME_B, HOME_OFF]
    assert client.get_home_ids(only_active=True) == [HOME_A, HOME_B]

    home = client.get_home(HOME_A)
    assert home is not None
    await home.update_info()
    assert home.name == "Cabin"
    assert home.address1 == "Fjellveien 1"
    assert home.has_real_time_consumption is True
    assert home.has_active_subscription is True
    assert home.currency == "NOK"
    price, _, _ = home.current_price_data()
    assert price == 1.25

    off = client.get_home(HOME_OFF)
    assert off is not None
    await off.update_info()
    assert off.has_real_time_consumption is False
    assert off.has_active_subscription is False
    assert "websocketSubscriptionUrl" in server.queries[0]


async def test_a_price_error_nulls_only_the_prices_beside_tibbers_error(
    server: LocalTibberServer, session: aiohttp.ClientSession
):
    server.account.homes[0].price_error = "Price service unavailable"
    query = (
        f'{{ viewer {{ home(id: "{HOME_A}") {{ appNickname '
        "currentSubscription { priceInfo { current { total } } } } } }"
    )
    async with session.post(
        server.api_url, json={"query": query}, headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"}
    ) as response:
        body = await response.json()

    assert response.status == 200
    assert body["data"]["viewer"]["home"] == {
        "appNickname": "Cabin",
        "currentSubscription": {"priceInfo": None},
    }
    assert [error["message"] for error in body["errors"]] == ["Price service unavailable"]


async def test_invalid_token_raises_invalid_login(make_client: MakeClient):
    with pytest.raises(tibber.InvalidLoginError) as err:
        await make_client(token="wrong")
    assert err.value.status == 400
    assert err.value.extension_code == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (HttpFault.SERVER_ERROR, tibber.FatalHttpExceptionError),
        (HttpFault.BAD_GATEWAY, tibber.RetryableHttpExceptionError),
        (HttpFault.RATE_LIMITED, tibber.RetryableHttpExceptionError),
        (HttpFault.DISCONNECT, aiohttp.ClientError),
        # pyTibber's response handler fails on these with errors of its own, not Tibber's
        (HttpFault.ERROR_WITHOUT_EXTENSIONS, AttributeError),
        (HttpFault.EMPTY_JSON, AttributeError),
        (HttpFault.HTML_AS_JSON, ValueError),
    ],
)
async def test_http_faults(
    make_client: MakeClient,
    server: LocalTibberServer,
    fault: HttpFault,
    error: type[Exception],
):
    server.http_fault = fault
    with pytest.raises(error):
        await make_client()
    server.http_fault = None
    assert (await make_client()).user_id == "user-1"


async def test_http_stall_until_cleared(server: LocalTibberServer, session: aiohttp.ClientSession):
    server.http_fault = HttpFault.STALL
    headers = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}
    body = {"query": "{ viewer { userId } }"}
    with pytest.raises(TimeoutError):
        await session.post(
            server.api_url, json=body, headers=headers, timeout=aiohttp.ClientTimeout(total=0.2)
        )
    pending = asyncio.ensure_future(session.post(server.api_url, json=body, headers=headers))
    await asyncio.sleep(0.05)
    assert not pending.done()
    server.http_fault = None
    response = await asyncio.wait_for(pending, timeout=2)
    assert (await response.json())["data"]["viewer"]["userId"] == "user-1"


async def test_two_homes_share_one_websocket(make_client: MakeClient, server: LocalTibberServer):
    client = await make_client()
    received: Received = {}
    for home in client.get_homes():
        await home.rt_subscribe(_collector(received, home.home_id))

    await server.wait_for_subscriptions(2)
    assert server.connections_total == 1
    assert server.acked_connections == 1
    assert server.subscriptions_per_home == {HOME_A: 1, HOME_B: 1}

    assert await server.push(HOME_A, power=1500.0) == 1
    assert await server.push(HOME_B, power=250.0, voltagePhase2=231.0) == 1
    assert await _next_power(received, HOME_A) == 1500.0
    assert await _next_power(received, HOME_B) == 250.0
    assert received[HOME_A].empty()

    await client.rt_disconnect()
    await server.wait_for_connections(0)
    assert server.subscriptions_per_home.total() == 0


async def test_push_fills_every_field_pytibber_asks_for(
    make_client: MakeClient, server: LocalTibberServer
):
    client = await make_client()
    home = client.get_home(HOME_A)
    assert home is not None
    received: Received = {}
    await home.rt_subscribe(_collector(received, HOME_A))
    await server.wait_for_subscriptions(1)

    await server.push(HOME_A, currentL2=None)
    data = (await asyncio.wait_for(received[HOME_A].get(), 5))["data"]["liveMeasurement"]

    asked = tibber.home.LIVE_SUBSCRIBE.split("{", 2)[2].split()[:-2]
    assert set(asked) <= set(data)
    assert data["currentL2"] is None
    assert data["timestamp"][-6] in "+-"  # ISO 8601 with an offset
    assert "estimatedHourConsumption" in data  # pyTibber's own enrichment ran without errors


async def test_third_connection_is_closed_with_4429(server: LocalTibberServer):
    """Tibber's limit, seen by a bare graphql-transport-ws client."""

    async def connect() -> websockets.ClientConnection:
        ws = await websockets.connect(server.websocket_url, subprotocols=["graphql-transport-ws"])
        await ws.send(INIT)
        return ws

    first, second, third = await connect(), await connect(), await connect()
    assert '"connection_ack"' in await first.recv()
    assert '"connection_ack"' in await second.recv()
    with pytest.raises(ConnectionClosed) as closed:
        await third.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4429
    assert closed.value.rcvd.reason == "Too many open connections on this server: 2"
    assert server.acked_connections == 2

    await first.close()
    await server.wait_for_connections(1)
    fourth = await connect()
    assert '"connection_ack"' in await fourth.recv()
    await second.close()
    await fourth.close()


async def test_pytibber_third_connection_gets_4429(
    make_client: MakeClient, server: LocalTibberServer
):
    for _ in range(2):
        home = (await make_client()).get_home(HOME_A)
        assert home is not None
        await home.rt_subscribe(lambda _data: None)
    await server.wait_for_connections(2)

    third = (await make_client(http_timeout=1)).get_home(HOME_A)
    assert third is not None
    if RECONNECTS_IN_BACKGROUND:
        # 0.39: no exception; rt_subscribe returns after `timeout` s, gql keeps retrying.
        await third.rt_subscribe(lambda _data: None)
        assert server.close_codes[4429] == 1
    else:
        with pytest.raises(TransportConnectionFailed) as err:
            await third.rt_subscribe(lambda _data: None)
        closed = err.value.__cause__
        assert isinstance(closed, ConnectionClosed)
        assert closed.rcvd is not None
        assert closed.rcvd.code == 4429
    assert server.acked_connections == 2


async def _closed_at_init(server: LocalTibberServer, init: str = INIT) -> Close:
    """Open a websocket, send ``connection_init`` and return the close frame the server sent."""
    async with websockets.connect(
        server.websocket_url, subprotocols=["graphql-transport-ws"]
    ) as ws:
        await ws.send(init)
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None
    return closed.value.rcvd


async def test_reject_all_and_refuse_switches(make_client: MakeClient, server: LocalTibberServer):
    server.reject_all_connections = True
    assert (await _closed_at_init(server)).code == 4429

    server.reject_all_connections = False
    server.refuse_websockets = True
    with pytest.raises(websockets.InvalidStatus) as refused:
        await websockets.connect(server.websocket_url, subprotocols=["graphql-transport-ws"])
    assert refused.value.response.status_code == 503

    server.refuse_websockets = False
    bad = json.dumps({"type": "connection_init", "payload": {"token": "bad"}})
    closed = await _closed_at_init(server, bad)
    assert (closed.code, closed.reason) == (4403, "Invalid token")

    server.refuse_tokens_on_websocket = True
    assert (await _closed_at_init(server)).code == 4403
    await make_client()  # the HTTP API still accepts the token


async def test_a_revoked_token_is_closed_mid_stream_with_4403_and_refused_over_http(
    make_client: MakeClient, server: LocalTibberServer
):
    client = await make_client()
    async with websockets.connect(
        server.websocket_url, subprotocols=["graphql-transport-ws"]
    ) as ws:
        await ws.send(INIT)
        assert json.loads(await ws.recv()) == {"type": "connection_ack"}
        assert await server.revoke_token(DEFAULT_TOKEN) == 1
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4403, "Invalid token")
    with pytest.raises(tibber.InvalidLoginError):
        await client.update_info()


@pytest.mark.parametrize("code", [None, 1011])
async def test_drop_then_pytibber_resubscribes(
    make_client: MakeClient,
    server: LocalTibberServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    code: int | None,
):
    # 0.39 sleeps random() * RESUBSCRIBE_WAIT_TIME (60 s) before resubscribing; 0.37 lacks it.
    monkeypatch.setattr(tibber.home, "RESUBSCRIBE_WAIT_TIME", 0, raising=False)
    client = await make_client()
    received: Received = {}
    for home in client.get_homes():
        await home.rt_subscribe(_collector(received, home.home_id))
    await server.wait_for_subscriptions(2)

    with caplog.at_level(logging.DEBUG, logger="tibber"):
        assert await server.drop_connections(code=code) == 1
        await server.wait_for_subscriptions(2, timeout=4)

    assert server.connections_total == 2
    assert server.acked_connections == 1
    await server.push(HOME_A, power=42.0)
    await server.push(HOME_B, power=43.0)
    assert await _next_power(received, HOME_A) == 42.0
    assert await _next_power(received, HOME_B) == 43.0
    errors = [
        r for r in caplog.records if r.name.startswith("tibber") and r.levelno >= logging.ERROR
    ]
    assert errors, "pyTibber logs the lost connection at ERROR"


async def test_websocket_over_tls(monkeypatch: pytest.MonkeyPatch, session: aiohttp.ClientSession):
    async with LocalTibberServer(account=_account(), tls=True) as server:
        point_pytibber_at(server, monkeypatch)
        assert server.websocket_url.startswith("wss://")
        client = tibber.Tibber(
            DEFAULT_TOKEN, websession=session, user_agent="test", ssl=server.client_ssl
        )
        await client.update_info()
        home = client.get_home(HOME_A)
        assert home is not None
        received: Received = {}
        await home.rt_subscribe(_collector(received, HOME_A))
        await server.wait_for_subscriptions(1)
        await server.push(HOME_A, power=7.0)
        assert await _next_power(received, HOME_A) == 7.0
        await client.rt_disconnect()
        await server.wait_for_connections(0)


async def _home_with_history(
    make_client: MakeClient, server: LocalTibberServer, days: int
) -> tuple[LocalHome, tibber.TibberHome]:
    """HOME_A on the server with ``days`` of history, and as pyTibber reaches it."""
    local_home = server.account.home(HOME_A)
    assert local_home is not None
    local_home.history_days = days
    home = (await make_client()).get_home(HOME_A)
    assert home is not None
    return local_home, home


async def test_history_pages_back_from_now_with_last_and_before(
    make_client: MakeClient, server: LocalTibberServer
):
    local_home, home = await _home_with_history(make_client, server, days=40)

    nodes = await home.get_historic_data(800)

    starts = history_starts(local_home)[-800:]
    newest_page, older_page = nodes[:744], nodes[744:]
    assert len(older_page) == 56
    assert [node["from"] for node in older_page + newest_page] == [
        start.isoformat(timespec="milliseconds") for start in starts
    ]
    assert [node["consumption"] for node in older_page + newest_page] == [
        history_consumption(start) for start in starts
    ]
    assert [(args["last"], bool(args["before"])) for args in server.consumption_requests] == [
        (744, False),
        (56, True),
    ]


async def test_history_from_a_date_starts_at_its_midnight(
    make_client: MakeClient, server: LocalTibberServer
):
    local_home, home = await _home_with_history(make_client, server, days=5)
    midnight = datetime.combine(
        history_starts(local_home)[0].date() + timedelta(days=1),
        time(),
        ZoneInfo(local_home.time_zone),
    )

    nodes = await home.get_historic_data_date(midnight, 30)

    assert len(nodes) == 30
    assert datetime.fromisoformat(nodes[0]["from"]) == midnight
    assert nodes[0]["to"] == nodes[1]["from"]
    assert nodes[0]["consumptionUnit"] == "kWh"


async def test_history_requests_over_744_hours_get_744(
    make_client: MakeClient, server: LocalTibberServer
):
    local_home, home = await _home_with_history(make_client, server, days=40)

    nodes = await home.get_historic_data_date(history_starts(local_home)[0], 800)

    assert len(nodes) == 744
