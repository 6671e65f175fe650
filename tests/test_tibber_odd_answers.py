"""Answers of Tibber's API (or a gateway in front of it) that pyTibber cannot read, and live
frames that gql cannot read.

pyTibber's response handler raises errors of its own for them, none of its HTTP error classes
nor an aiohttp error: ``AttributeError`` for a GraphQL error without ``extensions`` and for an
empty body labelled JSON, ``json.JSONDecodeError`` (a ``ValueError``) for an HTML page labelled
JSON. Each is a fault of Tibber's or of the network, over as soon as Tibber answers as usual:
retried with a backoff, never an error the user must act on.

gql's websocket transport reads every live frame in one task; a frame that is JSON but no
message object (``null``, a list) or an ``error`` message without any error ends that task with
``AttributeError`` or ``IndexError`` (only ``ValueError`` becomes its ``TransportProtocolError``).

Real Home Assistant, real pyTibber and the local Tibber server (`HttpFault`,
`LocalTibberServer.query_faults`).
"""

import asyncio
import contextlib
import gc
import logging

from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_ACCESS_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_anomaly import history
from custom_components.energy_anomaly.const import DOMAIN, SOURCE_TIBBER
from custom_components.energy_anomaly.history import async_fetch_tibber_history

from .conftest import HOME_A, logged_at_least
from .test_dynamic_devices import HOME_NEW, an_hour_later, device_names
from .test_history_tibber import FAST_FIRST_RETRY_DELAY_S, expected_rows, tibber_home
from .test_live_connection import PAST_FIRST_BACKOFF, jump, push_and_see
from .test_live_data import set_up, wait_for_retry
from .tibber_server import DEFAULT_TOKEN, HttpFault, LocalHome, LocalTibberServer

ODD_ANSWERS = [
    pytest.param(HttpFault.ERROR_WITHOUT_EXTENSIONS, id="GraphQL error without extensions"),
    pytest.param(HttpFault.EMPTY_JSON, id="503 with an empty JSON body"),
    pytest.param(HttpFault.HTML_AS_JSON, id="502 with HTML labelled JSON"),
]
# pyTibber's price query (`TibberHome.update_info`); no other request names the field.
PRICE_QUERY = "priceInfo"


def shown_in_the_log(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The records a user sees in Home Assistant's log (warning and above), with tracebacks.

    Home Assistant's warning that a custom integration is loaded, logged in whichever test of
    the process loads it first, is left out.
    """
    return [
        f"{record.name}: {record.getMessage()}{' (traceback)' if record.exc_info else ''}"
        for record in logged_at_least(caplog, logging.WARNING)
        if record.name != "homeassistant.loader"
    ]


@pytest.mark.parametrize("fault", ODD_ANSWERS)
async def test_an_answer_pytibber_cannot_read_at_start_retries_setup_later(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    fault: HttpFault,
) -> None:
    tibber_server.http_fault = fault
    tibber_entry.add_to_hass(hass)

    assert not await hass.config_entries.async_setup(tibber_entry.entry_id)

    assert tibber_entry.state is ConfigEntryState.SETUP_RETRY


@pytest.mark.parametrize("fault", ODD_ANSWERS)
async def test_an_answer_pytibber_cannot_read_shows_cannot_connect_on_the_token_form(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    caplog: pytest.LogCaptureFixture,
    fault: HttpFault,
) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": SOURCE_TIBBER}
    )
    tibber_server.http_fault = fault

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ACCESS_TOKEN: DEFAULT_TOKEN}
    )

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cannot_connect"}
    assert shown_in_the_log(caplog) == []


async def test_a_price_query_answered_with_an_error_without_extensions_does_not_hold_up_setup(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    tibber_server.query_faults[PRICE_QUERY] = HttpFault.ERROR_WITHOUT_EXTENSIONS
    tibber_entry.add_to_hass(hass)

    await hass.config_entries.async_setup(tibber_entry.entry_id)

    assert tibber_entry.state is ConfigEntryState.LOADED


async def test_a_new_home_is_watched_within_the_hour_while_the_price_query_answers_oddly(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    await set_up(hass, tibber_entry, tibber_server)
    tibber_server.query_faults[PRICE_QUERY] = HttpFault.ERROR_WITHOUT_EXTENSIONS
    tibber_server.account.homes.append(LocalHome(HOME_NEW, nickname="Cottage"))

    await an_hour_later(hass)

    assert device_names(hass, tibber_entry) == ["Cabin", "Cottage", "Flat"]


@pytest.mark.parametrize("fault", ODD_ANSWERS)
async def test_an_hourly_listing_answered_oddly_writes_nothing_above_debug(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
    fault: HttpFault,
) -> None:
    await set_up(hass, tibber_entry, tibber_server)
    tibber_server.http_fault = fault
    caplog.clear()

    await an_hour_later(hass)
    gc.collect()  # asyncio reports an exception no one retrieved when its task is collected

    assert shown_in_the_log(caplog) == []
    assert device_names(hass, tibber_entry) == ["Cabin", "Flat"]


@pytest.mark.parametrize("fault", ODD_ANSWERS)
async def test_history_requests_answered_oddly_for_a_while_are_retried(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    monkeypatch: pytest.MonkeyPatch,
    fault: HttpFault,
) -> None:
    monkeypatch.setattr(history, "TIBBER_RETRY_FIRST_DELAY_S", FAST_FIRST_RETRY_DELAY_S)
    home = await tibber_home(hass, tibber_server, history_days=10)
    tibber_server.fail_next_requests(2, fault)

    rows = await async_fetch_tibber_history(home, 3, turn=asyncio.Lock())

    assert rows == expected_rows(tibber_server, 3)


@pytest.mark.parametrize(
    "frame",
    [
        pytest.param("null", id="JSON null"),
        pytest.param('{"id": "1", "type": "error", "payload": []}', id="error without errors"),
    ],
)
async def test_a_live_frame_that_is_no_message_ends_the_connection_which_is_reopened(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    live_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
    frame: str,
) -> None:
    await push_and_see(hass, tibber_server, HOME_A, "sensor.cabin_power", 100.0)
    [connection] = tibber_server._connections

    await connection.ws.send_str(frame)

    with contextlib.suppress(TimeoutError):  # as any other frame gql cannot read: reconnect
        await wait_for_retry(hass, live_entry)
    assert live_entry.runtime_data.source.diagnostics()["retry_at"] is not None
    await jump(hass, PAST_FIRST_BACKOFF)
    await tibber_server.wait_for_subscriptions(2)
    gc.collect()  # asyncio reports an exception no one retrieved when its task is collected
    assert [r.getMessage() for r in logged_at_least(caplog, logging.ERROR)] == []
