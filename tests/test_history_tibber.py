"""Fetching a home's past consumption from Tibber: real pyTibber against the local server.

Tibber serves hourly consumption in kWh, at most 744 hours per request, paged back with cursors.
"""

import asyncio
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
import itertools
import logging

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest
import tibber

from custom_components.energy_anomaly import history
from custom_components.energy_anomaly.history import (
    TIBBER_ATTEMPTS,
    HistoryFetchError,
    HistoryRow,
    async_fetch_tibber_history,
)
from custom_components.energy_anomaly.live_source import async_fetch_account
from custom_components.energy_anomaly.redact import hashed_id

from .conftest import HOME_A, logged_at_least
from .tibber_server import (
    DEFAULT_TOKEN,
    HttpFault,
    LocalTibberServer,
    history_consumption,
    history_starts,
)

FAST_FIRST_RETRY_DELAY_S = 0.01


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retry after hundredths of a second instead of tens of seconds (the doubling is kept)."""
    monkeypatch.setattr(history, "TIBBER_RETRY_FIRST_DELAY_S", FAST_FIRST_RETRY_DELAY_S)


async def tibber_home(
    hass: HomeAssistant, server: LocalTibberServer, history_days: int
) -> tibber.TibberHome:
    """HOME_A as the integration reaches it, with ``history_days`` of history on the server."""
    local_home = server.account.home(HOME_A)
    assert local_home is not None
    local_home.history_days = history_days
    home = (await async_fetch_account(hass, DEFAULT_TOKEN)).connection.get_home(HOME_A)
    assert home is not None
    return home


def expected_rows(server: LocalTibberServer, days: int) -> list[HistoryRow]:
    """The rows the server's history gives for the last ``days`` days."""
    local_home = server.account.home(HOME_A)
    assert local_home is not None
    starts = history_starts(local_home)[-days * 24 :] if days else []
    return [
        HistoryRow(as_written(start), 3600.0, history_consumption(start) * 1000) for start in starts
    ]


def as_written(start: datetime) -> datetime:
    """The time with the UTC offset Tibber writes, as it is parsed from the answer.

    (A zone's time in the hour repeated when summer time ends never equals another zone's.)
    """
    return start.astimezone(timezone(start.utcoffset() or timedelta()))


def requested_pages(server: LocalTibberServer) -> Iterator[tuple[int | None, bool]]:
    """Each consumption request's ``last`` count and whether it named a ``before`` cursor."""
    for args in server.consumption_requests:
        yield args.get("last"), bool(args.get("before"))


async def test_zero_days_ask_tibber_nothing(hass: HomeAssistant, tibber_server: LocalTibberServer):
    home = await tibber_home(hass, tibber_server, history_days=10)
    requests_before = tibber_server.http_requests

    assert await async_fetch_tibber_history(home, 0, turn=asyncio.Lock()) == []
    assert tibber_server.http_requests == requests_before


@pytest.mark.parametrize(
    ("days", "requests"),
    [
        pytest.param(3, [(72, False)], id="3 days: 72 hours"),
        pytest.param(30, [(720, False)], id="30 days: 720 hours, one request"),
        pytest.param(60, [(744, False), (696, True)], id="60 days: two pages"),
    ],
)
async def test_days_of_hourly_kwh_become_watts_oldest_first_without_gaps(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    days: int,
    requests: list[tuple[int, bool]],
):
    home = await tibber_home(hass, tibber_server, history_days=days + 10)

    rows = await async_fetch_tibber_history(home, days, turn=asyncio.Lock())

    assert rows == expected_rows(tibber_server, days)
    assert len(rows) == days * 24
    assert {row.mean for row in rows} >= {300.0, 1800.0}  # night and evening hours
    assert all(
        later.start - earlier.start == timedelta(hours=1)
        for earlier, later in itertools.pairwise(rows)
    )
    assert list(requested_pages(tibber_server)) == requests


async def test_a_home_with_less_history_gives_what_there_is(
    hass: HomeAssistant, tibber_server: LocalTibberServer
):
    home = await tibber_home(hass, tibber_server, history_days=3)

    assert await async_fetch_tibber_history(home, 60, turn=asyncio.Lock()) == expected_rows(
        tibber_server, 3
    )


async def test_hours_not_metered_yet_are_left_out(
    hass: HomeAssistant, tibber_server: LocalTibberServer
):
    home = await tibber_home(hass, tibber_server, history_days=10)
    local_home = tibber_server.account.home(HOME_A)
    assert local_home is not None
    local_home.unmetered_hours = 2

    rows = await async_fetch_tibber_history(home, 3, turn=asyncio.Lock())

    assert rows == expected_rows(tibber_server, 3)[:-2]


async def test_a_negative_number_of_days_is_a_programming_error(
    hass: HomeAssistant, tibber_server: LocalTibberServer
):
    home = await tibber_home(hass, tibber_server, history_days=1)

    with pytest.raises(ValueError, match="days must not be negative"):
        await async_fetch_tibber_history(home, -1, turn=asyncio.Lock())


@pytest.mark.parametrize(
    ("fault", "failing_requests"),
    [
        (HttpFault.BAD_GATEWAY, 2),
        (HttpFault.SERVER_ERROR, 2),
        # pyTibber itself tries a dropped connection 4 times before it gives up.
        (HttpFault.DISCONNECT, 8),
    ],
)
async def test_transient_failures_that_clear_are_retried(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    caplog: pytest.LogCaptureFixture,
    fault: HttpFault,
    failing_requests: int,
):
    home = await tibber_home(hass, tibber_server, history_days=10)
    tibber_server.fail_next_requests(failing_requests, fault)

    with caplog.at_level(logging.WARNING):
        rows = await async_fetch_tibber_history(home, 3, turn=asyncio.Lock())

    assert rows == expected_rows(tibber_server, 3)
    assert len([r for r in caplog.records if "attempt" in r.getMessage()]) == 2


async def test_rate_limit_that_clears_is_waited_out_with_doubling_delays(
    hass: HomeAssistant, tibber_server: LocalTibberServer, caplog: pytest.LogCaptureFixture
):
    home = await tibber_home(hass, tibber_server, history_days=10)
    requests_before = tibber_server.http_requests
    tibber_server.fail_next_requests(2, HttpFault.RATE_LIMITED)

    with caplog.at_level(logging.WARNING):
        rows = await async_fetch_tibber_history(home, 3, turn=asyncio.Lock())

    assert rows == expected_rows(tibber_server, 3)
    assert tibber_server.http_requests - requests_before == 3
    retries = [r.getMessage() for r in caplog.records if "attempt" in r.getMessage()]
    assert len(retries) == 2
    assert "HTTP 429: Too many requests" in retries[0]
    assert retries[0].endswith(f"attempt 2 of {TIBBER_ATTEMPTS} in 0.01 s")
    assert retries[1].endswith(f"attempt 3 of {TIBBER_ATTEMPTS} in 0.02 s")


async def test_a_query_that_keeps_failing_gives_up_after_the_last_attempt(
    hass: HomeAssistant, tibber_server: LocalTibberServer
):
    home = await tibber_home(hass, tibber_server, history_days=10)
    requests_before = tibber_server.http_requests
    tibber_server.http_fault = HttpFault.SERVER_ERROR

    with pytest.raises(
        HistoryFetchError, match=rf"still failing after {TIBBER_ATTEMPTS} attempts \(HTTP 500"
    ):
        await async_fetch_tibber_history(home, 3, turn=asyncio.Lock())
    assert tibber_server.http_requests - requests_before == TIBBER_ATTEMPTS


async def test_a_revoked_token_is_not_retried(
    hass: HomeAssistant, tibber_server: LocalTibberServer
):
    home = await tibber_home(hass, tibber_server, history_days=10)
    requests_before = tibber_server.http_requests
    tibber_server.valid_tokens.clear()

    with pytest.raises(HistoryFetchError, match=r"refused \(HTTP 400: .*invalid token"):
        await async_fetch_tibber_history(home, 3, turn=asyncio.Lock())
    assert tibber_server.http_requests - requests_before == 1


async def test_both_hours_from_02_00_of_the_night_summer_time_ends_are_kept(
    hass: HomeAssistant, tibber_server: LocalTibberServer, freezer: FrozenDateTimeFactory
):
    await hass.config.async_set_time_zone("Europe/Oslo")  # the local server's homes' zone
    freezer.move_to("2024-10-27T12:00:00+00:00")  # 02:00-03:00 was on the clock twice last night
    home = await tibber_home(hass, tibber_server, history_days=2)

    rows = await async_fetch_tibber_history(home, 1, turn=asyncio.Lock())

    local_home = tibber_server.account.home(HOME_A)
    assert local_home is not None
    hours = history_starts(local_home)[-24:]
    assert [f"{start:%H}" for start in hours].count("02") == 2  # what Tibber sends
    assert [row.start.timestamp() for row in rows] == [start.timestamp() for start in hours]


async def test_a_failing_history_names_the_home_by_its_hash_not_tibbers_id(
    hass: HomeAssistant, tibber_server: LocalTibberServer, caplog: pytest.LogCaptureFixture
):
    home = await tibber_home(hass, tibber_server, history_days=10)
    tibber_server.http_fault = HttpFault.RATE_LIMITED

    with caplog.at_level(logging.WARNING), pytest.raises(HistoryFetchError) as failed:
        await async_fetch_tibber_history(home, 3, turn=asyncio.Lock())

    warnings = [r.getMessage() for r in logged_at_least(caplog, logging.WARNING)]
    assert len(warnings) == TIBBER_ATTEMPTS - 1
    assert all(hashed_id(HOME_A) in message for message in warnings)
    assert not [message for message in [*warnings, str(failed.value)] if HOME_A in message]
