"""The Tibber live connection's lifecycle: one websocket, backoff, 4429, 4403, resubscription,
cleanup.

Real Home Assistant, real pyTibber (scripts/test runs these with pyTibber 0.37.6 and 0.39.1) and
the local Tibber server. `jump` fires Home Assistant's timers as if `delta` had passed since now,
while the sockets keep running on real time.
"""

import asyncio
from collections import Counter
from datetime import datetime, timedelta
import logging
from types import SimpleNamespace
from typing import Any
from unittest.mock import patch

from aiohttp import ClientSession, ClientWebSocketResponse, WSMsgType
from homeassistant.config_entries import SOURCE_REAUTH, SOURCE_USER
from homeassistant.const import CONF_ACCESS_TOKEN, EVENT_HOMEASSISTANT_STOP, STATE_UNAVAILABLE
from homeassistant.core import CoreState, HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
from homeassistant.util.ssl import get_default_context
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.energy_anomaly import live_source, tibber_connection
from custom_components.energy_anomaly.const import CONF_HOMES, CONNECTION_STABLE_AFTER, DOMAIN
from custom_components.energy_anomaly.redact import hashed_id
from custom_components.energy_anomaly.runner import HomeRunner

from .conftest import HOME_A, HOME_B, logged_at_least
from .test_dynamic_devices import an_hour_later, remove_from_account
from .test_live_data import Clock, state_of, wait_for_retry, wait_until
from .tibber_server import DEFAULT_TOKEN, HttpFault, LocalTibberServer

# The first reconnect waits 10 s ± 20 %; after a 4429, 5 min ± 20 %, then 10 min ± 20 %.
PAST_FIRST_BACKOFF = timedelta(seconds=13)
BEFORE_REFUSED_BACKOFF = timedelta(minutes=3, seconds=50)
PAST_REFUSED_BACKOFF = timedelta(minutes=6, seconds=30)
BEFORE_SECOND_REFUSED_BACKOFF = timedelta(minutes=7, seconds=50)
PAST_SECOND_REFUSED_BACKOFF = timedelta(minutes=12, seconds=30)


async def jump(hass: HomeAssistant, delta: timedelta) -> None:
    """Fire every Home Assistant timer due within `delta` from now, then let I/O happen."""
    async_fire_time_changed(hass, dt_util.utcnow() + delta)
    await hass.async_block_till_done(wait_background_tasks=True)
    await asyncio.sleep(0.05)


async def streamed_for_a_while(hass: HomeAssistant) -> None:
    """The connection carries data long enough to count as stable: the backoffs start over."""
    await jump(hass, CONNECTION_STABLE_AFTER)


async def reconnected(
    hass: HomeAssistant, server: LocalTibberServer, entry: MockConfigEntry
) -> None:
    """Once the connection ended: the first backoff passes and both homes are subscribed again."""
    await wait_for_retry(hass, entry)
    await jump(hass, PAST_FIRST_BACKOFF)
    await server.wait_for_subscriptions(2)


async def push_and_see(
    hass: HomeAssistant, server: LocalTibberServer, home_id: str, entity_id: str, power: float
) -> None:
    """Push a reading for a home and wait until its power entity shows it."""
    await server.push(home_id, power=power)
    await wait_until(hass, lambda: state_of(hass, entity_id) == str(power))


async def settled_task_count(hass: HomeAssistant) -> int:
    """The number of asyncio tasks once Home Assistant and the sockets are idle."""
    await hass.async_block_till_done(wait_background_tasks=True)
    await asyncio.sleep(0.2)
    await hass.async_block_till_done(wait_background_tasks=True)
    return len(asyncio.all_tasks())


async def occupy_connection(
    session: ClientSession, server: LocalTibberServer
) -> ClientWebSocketResponse:
    """Another client (a second Home Assistant, Node-RED...) holding one of the token's two."""
    ws = await session.ws_connect(
        server.websocket_url, protocols=("graphql-transport-ws",), ssl=get_default_context()
    )
    await ws.send_json({"type": "connection_init", "payload": {"token": DEFAULT_TOKEN}})
    assert (await ws.receive()).type is WSMsgType.TEXT  # connection_ack
    return ws


async def test_each_drop_costs_one_reconnect_and_every_home_is_subscribed_again(
    hass: HomeAssistant, tibber_server: LocalTibberServer, live_entry: MockConfigEntry
) -> None:
    cycles = 12
    await push_and_see(hass, tibber_server, HOME_A, "sensor.cabin_power", 100.0)
    await streamed_for_a_while(hass)
    baseline_tasks = await settled_task_count(hass)

    for cycle in range(1, cycles + 1):
        await tibber_server.drop_connections()  # a network failure: no close frame
        await reconnected(hass, tibber_server, live_entry)
        await push_and_see(hass, tibber_server, HOME_A, "sensor.cabin_power", 100.0 + cycle)
        await push_and_see(hass, tibber_server, HOME_B, "sensor.flat_power", 200.0 + cycle)
        await streamed_for_a_while(hass)

    assert tibber_server.connections_total == cycles + 1
    assert tibber_server.most_open_connections == 1
    assert tibber_server.subscriptions_total == Counter({HOME_A: cycles + 1, HOME_B: cycles + 1})
    assert await settled_task_count(hass) == baseline_tasks


async def test_a_drop_waits_the_backoff_before_reconnecting(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    live_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await push_and_see(hass, tibber_server, HOME_A, "sensor.cabin_power", 300.0)

    await tibber_server.drop_connections(code=1011, reason="Internal error")
    await wait_for_retry(hass, live_entry)
    assert state_of(hass, "sensor.cabin_power") == STATE_UNAVAILABLE
    await jump(hass, timedelta(seconds=7))
    assert tibber_server.connections_total == 1

    await jump(hass, PAST_FIRST_BACKOFF)
    await tibber_server.wait_for_subscriptions(2)
    assert tibber_server.connections_total == 2
    assert "websocket closed with code 1011; retrying in" in caplog.text


async def test_a_connection_that_ends_soon_after_its_first_reading_backs_off_longer_each_time(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    live_entry: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The source's clock stands still: `retry_at` is then `now` + the delay it chose, exactly.
    # Read against the wall clock, the wait lost the time the loop took to reach the test (about
    # 20 ms): a stall of 0.5 s or more failed a first delay drawn near 8 s.
    now = dt_util.utcnow()
    clock = SimpleNamespace(utcnow=lambda: now, get_default_time_zone=dt_util.get_default_time_zone)
    monkeypatch.setattr(live_source, "dt_util", clock)
    waits = []
    for connection in range(1, 4):  # each connection ends just after its first reading
        await push_and_see(hass, tibber_server, HOME_A, "sensor.cabin_power", 300.0 + connection)
        await tibber_server.drop_connections(code=1011, reason="Internal error")
        await wait_for_retry(hass, live_entry)
        retry_at = datetime.fromisoformat(live_entry.runtime_data.source.diagnostics()["retry_at"])
        waits.append((retry_at - now).total_seconds())
        await jump(hass, timedelta(seconds=49))
        await tibber_server.wait_for_subscriptions(2)

    # 10, 20 and 40 s, each ± 20 % (the scheduled time, read before the timer fires)
    ratios = [wait / nominal for wait, nominal in zip(waits, (10, 20, 40), strict=True)]
    assert all(0.75 <= ratio <= 1.25 for ratio in ratios), waits


async def test_a_refused_reconnect_raises_the_repair_issue_and_waits_minutes_doubling(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    live_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    issue = (DOMAIN, f"too_many_connections_{hashed_id(live_entry.entry_id)}")
    await push_and_see(hass, tibber_server, HOME_A, "sensor.cabin_power", 400.0)

    await tibber_server.drop_connections(code=1012, reason="Service restart")
    await wait_for_retry(hass, live_entry)
    async with ClientSession() as session:
        others = [await occupy_connection(session, tibber_server) for _ in range(2)]
        await jump(hass, PAST_FIRST_BACKOFF)  # reconnect: the two others hold the token's slots
        await wait_until(hass, lambda: issue in issue_registry.issues)
        assert tibber_server.close_codes[4429] == 1

        await jump(hass, BEFORE_REFUSED_BACKOFF)
        assert tibber_server.connections_total == 4  # 1 + the 2 others + the refused one
        await jump(hass, PAST_REFUSED_BACKOFF)
        await tibber_server.wait_for(lambda: tibber_server.close_codes[4429] == 2)
        await jump(hass, BEFORE_SECOND_REFUSED_BACKOFF)
        assert tibber_server.connections_total == 5

        await others[0].close()
        await jump(hass, PAST_SECOND_REFUSED_BACKOFF)
        await tibber_server.wait_for_subscriptions(2)
        await push_and_see(hass, tibber_server, HOME_A, "sensor.cabin_power", 410.0)
        assert issue not in issue_registry.issues
        await others[1].close()

    assert tibber_server.connections_total == 6


async def test_a_subscription_tibber_ends_is_restored_with_every_home(
    hass: HomeAssistant, tibber_server: LocalTibberServer, live_entry: MockConfigEntry
) -> None:

    assert await tibber_server.complete_subscriptions(HOME_B) == 1
    await reconnected(hass, tibber_server, live_entry)
    assert tibber_server.subscriptions_per_home == Counter({HOME_A: 1, HOME_B: 1})

    await push_and_see(hass, tibber_server, HOME_B, "sensor.flat_power", 250.0)
    assert tibber_server.most_open_connections == 1


async def test_a_connection_silent_for_90_seconds_is_reopened_and_the_log_says_why(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    live_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    for _ in range(9):  # nine health checks: 90 s
        await jump(hass, timedelta(seconds=10))
    assert tibber_server.open_connections == 1

    await jump(hass, timedelta(seconds=10))
    await reconnected(hass, tibber_server, live_entry)
    assert tibber_server.connections_total == 2
    assert "no live message for 90 s, closed; retrying in" in caplog.text
    assert "Tibber ended the live data subscription" not in caplog.text


async def test_malformed_payloads_are_skipped_and_warned_about_once_per_kind_without_traceback(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    live_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    aware = "2024-03-01T18:00:00+01:00"
    for data in (
        {"liveMeasurement": None},
        "not an object",
        {"liveMeasurement": {"timestamp": "2024-03-01T18:00:00", "power": 500.0}},
        {"liveMeasurement": {"timestamp": aware, "power": 10**400}},
        {"liveMeasurement": {"timestamp": aware, "power": float("nan")}},
        {"liveMeasurement": {"timestamp": aware, "power": "Infinity"}},
    ):
        assert await tibber_server.push_raw(HOME_A, data) == 1
    await push_and_see(hass, tibber_server, HOME_A, "sensor.cabin_power", 510.0)

    skipped = [r for r in caplog.records if r.getMessage().startswith("Skipping malformed live")]
    assert len(skipped) == 6
    assert [r.levelno for r in skipped].count(logging.WARNING) == 3  # message, timestamp, power
    assert not [r for r in caplog.records if r.exc_info]
    assert tibber_server.connections_total == 1


async def test_a_malformed_message_names_the_home_by_its_hash_not_tibbers_id(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    live_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Tibber's home id identifies the home for good, and a log is shared in issues."""
    assert await tibber_server.push_raw(HOME_A, {"liveMeasurement": None}) == 1
    await push_and_see(hass, tibber_server, HOME_A, "sensor.cabin_power", 510.0)

    [skipped] = [r for r in caplog.records if r.getMessage().startswith("Skipping malformed")]
    assert hashed_id(HOME_A) in skipped.getMessage()
    assert HOME_A not in caplog.text


async def test_a_meter_that_always_sends_an_odd_voltage_still_feeds_its_home(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    live_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    for watts in (900.0, 1000.0, 1100.0):  # L2 reads 0xFFFF tenths of a volt in every message
        await tibber_server.push(HOME_A, power=watts, voltagePhase1=231.0, voltagePhase2=6553.5)
    await wait_until(hass, lambda: state_of(hass, "sensor.cabin_power") == "1100.0")

    assert state_of(hass, "sensor.cabin_voltage_l1") == "231.0"
    assert state_of(hass, "sensor.cabin_voltage_l2") is None  # never reported a plausible value
    left_out = [r for r in caplog.records if r.getMessage().startswith("Left out a value")]
    assert [r.levelno for r in left_out].count(logging.WARNING) == 1  # then at debug level


async def test_a_tibber_meters_odd_voltage_is_logged_as_the_readme_troubleshooting_quotes_it(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    live_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """README: '"Left out a value of a live message" (a Tibber home) in the log: ... e.g. a
    meter's 6553.5 V ... once per kind of fault as a warning'."""
    await tibber_server.push(HOME_A, power=900.0, voltagePhase1=231.0, voltagePhase2=6553.5)
    await wait_until(hass, lambda: state_of(hass, "sensor.cabin_power") == "900.0")

    left_out = [r for r in caplog.records if r.getMessage().startswith("Left out")]
    assert [(r.levelno, r.getMessage()[:34]) for r in left_out] == [
        (logging.WARNING, "Left out a value of a live message")
    ]


async def test_a_message_with_tibbers_errors_is_logged_with_their_text(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    live_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert await tibber_server.push_errors(HOME_A, "Pulse is offline") == 1
    await push_and_see(hass, tibber_server, HOME_A, "sensor.cabin_power", 520.0)

    ours = [r for r in caplog.records if r.name.startswith("custom_components.energy_anomaly")]
    assert any("Pulse is offline" in r.getMessage() and r.levelno == logging.WARNING for r in ours)


async def test_unload_while_waiting_to_reconnect_leaves_no_connection_and_no_retry(
    hass: HomeAssistant, tibber_server: LocalTibberServer, live_entry: MockConfigEntry
) -> None:
    await tibber_server.drop_connections()
    await wait_for_retry(hass, live_entry)

    assert await hass.config_entries.async_unload(live_entry.entry_id)
    await jump(hass, timedelta(minutes=10))

    assert tibber_server.connections_total == 1
    assert tibber_server.open_connections == 0


async def test_a_stopped_source_told_to_watch_homes_late_opens_no_websocket(
    hass: HomeAssistant, tibber_server: LocalTibberServer, live_entry: MockConfigEntry
) -> None:
    source = live_entry.runtime_data.source
    assert await hass.config_entries.async_unload(live_entry.entry_id)

    source.async_watch([HOME_A, HOME_B])  # the hourly listing, finishing after the unload
    await jump(hass, timedelta(minutes=10))

    assert tibber_server.connections_total == 1
    assert tibber_server.open_connections == 0


async def test_home_assistant_stopping_while_an_entry_sets_up_opens_no_websocket(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    create = HomeRunner.async_create

    async def create_while_stopping(*args: Any, **kwargs: Any) -> HomeRunner:
        hass.set_state(CoreState.stopping)  # as `hass.async_stop` does, before its stop event
        hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
        return await create(*args, **kwargs)

    tibber_entry.add_to_hass(hass)
    with patch.object(HomeRunner, "async_create", create_while_stopping):
        assert await hass.config_entries.async_setup(tibber_entry.entry_id)
    await jump(hass, timedelta(minutes=1))

    assert tibber_server.connections_total == 0
    hass.set_state(CoreState.running)  # for the harness's teardown


async def test_a_token_revoked_while_running_asks_for_reauthentication_and_stops_reconnecting(
    hass: HomeAssistant, tibber_server: LocalTibberServer, live_entry: MockConfigEntry
) -> None:
    tibber_server.valid_tokens = {"another-token"}
    await tibber_server.drop_connections(code=4401, reason="Invalid token")
    await wait_for_retry(hass, live_entry)
    await jump(hass, PAST_FIRST_BACKOFF)
    await wait_until(
        hass, lambda: len(hass.config_entries.flow.async_progress_by_handler(DOMAIN)) == 1
    )
    await jump(hass, timedelta(hours=1))
    assert tibber_server.connections_total == 1
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]


async def test_a_token_revoked_while_streaming_asks_the_user_to_sign_in_again(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    live_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert await tibber_server.revoke_token(DEFAULT_TOKEN) == 1  # closed with 4403

    await wait_until(hass, lambda: len(hass.config_entries.flow.async_progress()) == 1)
    assert state_of(hass, "sensor.cabin_power") == STATE_UNAVAILABLE
    assert "Live data for Cabin is unavailable: Tibber rejected the access token" in caplog.text
    assert "reauthentication card" in caplog.text
    assert "retrying in" not in caplog.text
    for _ in range(6):
        await jump(hass, timedelta(minutes=10))
    assert tibber_server.connections_total == 1
    [flow] = hass.config_entries.flow.async_progress()
    assert flow["context"]["source"] == SOURCE_REAUTH

    tibber_server.valid_tokens.add("new-token")
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_ACCESS_TOKEN: "new-token"}
    )
    assert result["reason"] == "reauth_successful"
    assert result.get("translation_domain") is None  # the integration's own text, not core's
    await tibber_server.wait_for_subscriptions(2)
    assert tibber_server.connections_total == 2


async def test_a_token_only_the_live_service_refuses_is_retried_minutes_apart(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    live_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    tibber_server.refuse_tokens_on_websocket = True  # Tibber's API still accepts the token
    await tibber_server.drop_connections(code=4403, reason="Invalid token")
    await wait_for_retry(hass, live_entry)
    assert "refused the access token (4403)" in caplog.text
    assert "developer.tibber.com" in caplog.text

    await jump(hass, BEFORE_REFUSED_BACKOFF)
    assert tibber_server.connections_total == 1
    await jump(hass, PAST_REFUSED_BACKOFF)
    await tibber_server.wait_for(lambda: tibber_server.close_codes[4403] == 2)
    await jump(hass, BEFORE_SECOND_REFUSED_BACKOFF)
    assert tibber_server.connections_total == 2
    assert hass.config_entries.flow.async_progress() == []

    tibber_server.refuse_tokens_on_websocket = False
    await jump(hass, PAST_SECOND_REFUSED_BACKOFF)
    await tibber_server.wait_for_subscriptions(2)
    await push_and_see(hass, tibber_server, HOME_A, "sensor.cabin_power", 430.0)


async def test_no_watched_home_left_on_the_account_opens_no_websocket(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    tibber_server.account.homes = [
        home for home in tibber_server.account.homes if home.home_id not in (HOME_A, HOME_B)
    ]
    tibber_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(tibber_entry.entry_id)
    await jump(hass, timedelta(minutes=1))

    assert tibber_server.connections_total == 0
    for home in ("Cabin", "Flat"):
        assert f"{home} is no longer on the Tibber account: removing its device" in caplog.text


async def test_a_handshake_tibber_never_acknowledges_times_out_and_is_retried(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tibber_connection, "ACK_TIMEOUT_S", 0.2)
    tibber_server.ack_connections = False
    tibber_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(tibber_entry.entry_id)
    await wait_for_retry(hass, tibber_entry)
    await tibber_server.wait_for(lambda: tibber_server.open_connections == 0)

    tibber_server.ack_connections = True
    await reconnected(hass, tibber_server, tibber_entry)
    assert tibber_server.connections_total == 2


REFUSED = "Tibber refused the home's live data"


async def set_up_with_flat_refused(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Set the entry up while Tibber refuses Flat's live data, until the refusal is logged."""
    tibber_server.refused_homes = {HOME_B}
    tibber_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(tibber_entry.entry_id)
    await wait_until(hass, lambda: REFUSED in caplog.text)


def refusal_warnings(caplog: pytest.LogCaptureFixture) -> int:
    """How many times the refusal was logged at warning level or above."""
    return sum(
        REFUSED in record.getMessage() for record in logged_at_least(caplog, logging.WARNING)
    )


async def test_a_home_tibber_refuses_is_retried_while_the_other_keeps_streaming(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await set_up_with_flat_refused(hass, tibber_server, tibber_entry, caplog)
    await tibber_server.wait_for_subscriptions(1, HOME_A)
    await push_and_see(hass, tibber_server, HOME_A, "sensor.cabin_power", 120.0)
    assert f"Live data for Flat is unavailable: {REFUSED}" in caplog.text

    tibber_server.refused_homes = set()
    await jump(hass, PAST_FIRST_BACKOFF)
    await tibber_server.wait_for_subscriptions(2)
    await push_and_see(hass, tibber_server, HOME_B, "sensor.flat_power", 220.0)
    await push_and_see(hass, tibber_server, HOME_A, "sensor.cabin_power", 320.0)
    assert tibber_server.connections_total == 1


async def test_a_home_tibber_keeps_refusing_is_warned_about_once(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The outage line is info; a refusal that lasts (a Pulse moved to another account) needs
    the user, at Home Assistant's default log level, but not at every retry."""
    await set_up_with_flat_refused(hass, tibber_server, tibber_entry, caplog)
    await tibber_server.wait_for_subscriptions(1, HOME_A)
    for _ in range(3):
        await jump(hass, PAST_FIRST_BACKOFF)

    assert refusal_warnings(caplog) == 1


async def test_a_home_tibber_keeps_refusing_is_warned_about_once_across_reconnects(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """README: such a refusal "is also logged once as a warning"; a connection that drops now
    and then (the outage of the other home is one line too) must not repeat it at each reconnect."""
    await set_up_with_flat_refused(hass, tibber_server, tibber_entry, caplog)
    await tibber_server.wait_for_subscriptions(1, HOME_A)
    sink = tibber_entry.runtime_data.sink
    refusals: list[str] = []
    report_down = sink.async_source_down

    def noted(home_id: str | None, why: str) -> None:
        if home_id == HOME_B:
            refusals.append(why)
        report_down(home_id, why)

    monkeypatch.setattr(sink, "async_source_down", noted)

    for reconnects in range(1, 4):  # each new websocket: the home is refused again
        await tibber_server.drop_connections()
        await wait_for_retry(hass, tibber_entry)
        await jump(hass, timedelta(minutes=6, seconds=10))  # past any backoff
        await tibber_server.wait_for_subscriptions(1, HOME_A)
        await wait_until(hass, lambda n=reconnects: len(refusals) >= n)

    assert refusal_warnings(caplog) == 1


async def test_a_home_tibber_refuses_alone_is_retried_on_the_same_connection(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """README: a refused home "is subscribed again on the same connection after the same kind of
    backoff"; Tibber answered each subscription, so the connection is not stalled."""
    caplog.set_level(logging.DEBUG, logger=live_source.LOGGER.name)
    tibber_server.refused_homes = {HOME_B}  # e.g. a Pulse moved to another account
    tibber_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        tibber_entry, data={**tibber_entry.data, CONF_HOMES: {HOME_B: "Flat"}}
    )
    assert await hass.config_entries.async_setup(tibber_entry.entry_id)
    await wait_until(hass, lambda: REFUSED in caplog.text)

    for _ in range(12):  # two minutes, health check by health check
        await jump(hass, timedelta(seconds=10))
    for _ in range(3):  # past the home's own retry and any reconnect backoff
        await jump(hass, timedelta(minutes=6))

    assert (tibber_server.connections_total, tibber_server.open_connections) == (1, 1)
    assert "No live message for" not in caplog.text


async def test_a_refused_home_back_on_the_account_is_warned_about_again(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A home that left the account and came back (its Pulse still not streaming) is a new
    refusal the user has not been told about since."""
    await set_up_with_flat_refused(hass, tibber_server, tibber_entry, caplog)
    flat = next(home for home in tibber_server.account.homes if home.home_id == HOME_B)
    remove_from_account(tibber_server, HOME_B)
    await an_hour_later(hass)

    tibber_server.account.homes.append(flat)
    await an_hour_later(hass)

    await wait_until(hass, lambda: refusal_warnings(caplog) == 2)


async def test_a_token_pasted_with_spaces_around_it_streams(
    hass: HomeAssistant, tibber_server: LocalTibberServer
) -> None:
    flow = hass.config_entries.flow
    result = await flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await flow.async_configure(result["flow_id"], {"next_step_id": "tibber"})
    result = await flow.async_configure(
        result["flow_id"], {CONF_ACCESS_TOKEN: f" {DEFAULT_TOKEN} "}
    )
    result = await flow.async_configure(result["flow_id"], {CONF_HOMES: [HOME_A, HOME_B]})
    assert result["type"] is FlowResultType.CREATE_ENTRY

    await tibber_server.wait_for_subscriptions(2)
    assert tibber_server.close_codes[4403] == 0


async def test_a_wrong_account_token_in_reauth_leaves_the_reauthenticate_card(
    hass: HomeAssistant, tibber_server: LocalTibberServer, live_entry: MockConfigEntry
) -> None:
    await tibber_server.revoke_token(DEFAULT_TOKEN)
    await wait_until(hass, lambda: len(hass.config_entries.flow.async_progress()) == 1)
    [flow] = hass.config_entries.flow.async_progress()
    tibber_server.valid_tokens.add("a-token-of-another-account")
    tibber_server.account.user_id = "another-user"

    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_ACCESS_TOKEN: "a-token-of-another-account"}
    )
    await hass.async_block_till_done()

    assert state_of(hass, "sensor.cabin_power") == STATE_UNAVAILABLE
    assert result["type"] is FlowResultType.FORM or [
        flow["context"]["source"] for flow in hass.config_entries.flow.async_progress()
    ] == [SOURCE_REAUTH]


async def test_a_token_stored_with_spaces_around_it_before_the_upgrade_streams(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    # The entry as the version before stored a token pasted with spaces around it
    stored = MockConfigEntry(
        domain=DOMAIN,
        title=tibber_entry.title,
        unique_id=tibber_entry.unique_id,
        data={**tibber_entry.data, CONF_ACCESS_TOKEN: f" {DEFAULT_TOKEN} "},
    )
    stored.add_to_hass(hass)
    assert await hass.config_entries.async_setup(stored.entry_id)

    await tibber_server.wait_for_subscriptions(2)
    assert tibber_server.close_codes[4403] == 0


def outage_lines(caplog: pytest.LogCaptureFixture) -> Counter[str]:
    """The integration's log lines at INFO and above, by their text before the reason."""
    return Counter(
        record.getMessage().split(":")[0]
        for record in logged_at_least(caplog, logging.INFO)
        if record.name == "custom_components.energy_anomaly"
    )


async def dropped_and_subscribed_again(
    hass: HomeAssistant, server: LocalTibberServer, entry: MockConfigEntry
) -> None:
    """The connection drops without a close frame; past its backoff both homes subscribe again."""
    await server.drop_connections()
    await wait_for_retry(hass, entry)
    await jump(hass, timedelta(minutes=6, seconds=10))  # past any backoff (10 s to 5 min)
    await server.wait_for_subscriptions(2)


async def test_an_hour_of_api_errors_logs_one_line_per_home_not_one_per_retry(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    live_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await push_and_see(hass, tibber_server, HOME_A, "sensor.cabin_power", 300.0)
    caplog.clear()

    tibber_server.http_fault = HttpFault.SERVER_ERROR  # Tibber's API has an incident
    await tibber_server.drop_connections(code=1011, reason="Internal error")
    await wait_for_retry(hass, live_entry)
    for _ in range(10):  # each jump fires the one pending retry (the longest waits 6 min)
        await jump(hass, timedelta(minutes=6, seconds=10))
        await wait_for_retry(hass, live_entry)

    assert live_entry.runtime_data.source.connection_attempts >= 11  # it kept retrying
    shown = logged_at_least(caplog, logging.INFO)
    assert sorted(r.getMessage().split(":")[0] for r in shown) == [
        "Live data for Cabin is unavailable",
        "Live data for Flat is unavailable",
    ], [f"{r.name}: {r.getMessage()}" for r in shown]


async def test_connections_that_drop_before_any_reading_log_one_line_per_home(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    live_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await push_and_see(hass, tibber_server, HOME_A, "sensor.cabin_power", 100.0)
    caplog.clear()

    for _ in range(4):  # each connection is accepted and subscribed, then drops with no data
        await dropped_and_subscribed_again(hass, tibber_server, live_entry)
    await push_and_see(hass, tibber_server, HOME_A, "sensor.cabin_power", 110.0)
    await streamed_for_a_while(hass)

    logged = outage_lines(caplog)
    assert logged == {
        "Live data for Cabin is unavailable": 1,
        "Live data for Flat is unavailable": 1,
        "Live data for Cabin is back": 1,
    }


async def test_a_flapping_connection_logs_one_outage_and_one_recovery_per_home(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    live_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await push_and_see(hass, tibber_server, HOME_A, "sensor.cabin_power", 100.0)
    await push_and_see(hass, tibber_server, HOME_B, "sensor.flat_power", 200.0)
    caplog.clear()

    for cycle in range(1, 5):  # each connection carries a reading, then drops within seconds
        await dropped_and_subscribed_again(hass, tibber_server, live_entry)
        await push_and_see(hass, tibber_server, HOME_A, "sensor.cabin_power", 100.0 + cycle)
        await push_and_see(hass, tibber_server, HOME_B, "sensor.flat_power", 200.0 + cycle)
    await streamed_for_a_while(hass)  # the last connection holds: the outage is over

    logged = outage_lines(caplog)
    assert logged == {
        "Live data for Cabin is unavailable": 1,
        "Live data for Flat is unavailable": 1,
        "Live data for Cabin is back": 1,
        "Live data for Flat is back": 1,
    }


async def test_readings_that_stop_before_five_minutes_do_not_end_the_outage(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    live_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await push_and_see(hass, tibber_server, HOME_A, "sensor.cabin_power", 100.0)
    caplog.clear()
    await tibber_server.drop_connections()
    await reconnected(hass, tibber_server, live_entry)
    clock = Clock(hass)  # from the first reading after the outage

    sink = live_entry.runtime_data.sink
    for _ in range(27):  # readings flow for 4.5 minutes, then the meter falls silent
        assert await tibber_server.push(HOME_A, power=420.0) == 1
        await wait_until(hass, lambda: sink._checks_without_reading[HOME_A] == 0)
        await clock.advance(timedelta(seconds=10))
    for _ in range(8):  # 80 s of silence (the connection is closed as stalled only after 90 s)
        await clock.advance(timedelta(seconds=10))

    assert state_of(hass, "sensor.cabin_power") == STATE_UNAVAILABLE
    logged = Counter(
        record.getMessage().split(":")[0]
        for record in logged_at_least(caplog, logging.INFO)
        if record.getMessage().startswith("Live data for Cabin")
    )
    assert logged == {"Live data for Cabin is unavailable": 1}  # one outage, not yet over


async def test_a_token_only_the_live_service_refuses_is_told_at_the_default_log_level(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    live_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """README troubleshooting: '"refused the access token (4403) that its API did not reject" in
    the log': if it lasts for hours, create a new token. No repair issue says it."""
    tibber_server.refuse_tokens_on_websocket = True  # Tibber's API still accepts the token
    await tibber_server.drop_connections(code=4403, reason="Invalid token")
    await wait_for_retry(hass, live_entry)

    told = [
        record
        for record in logged_at_least(caplog, logging.WARNING)
        if "refused the access token (4403) that its API did not reject" in record.getMessage()
    ]
    assert told, [r.levelname for r in caplog.records if "(4403)" in r.getMessage()]
