"""Debug logging of the Tibber traffic, as the manifest's loggers turn it on, shows no token."""

from collections.abc import Iterator
import json
import logging
from pathlib import Path

from homeassistant.const import CONF_ACCESS_TOKEN
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_anomaly.redact import REDACTED, TRAFFIC_LOGGERS, SecretRedactor

from .conftest import HOME_A, HOME_B
from .test_live_data import set_up, state_of, wait_until
from .tibber_server import LocalTibberServer

MANIFEST = Path(__file__).parents[1] / "custom_components" / "energy_anomaly" / "manifest.json"
# As long as a real Tibber token, so websockets shortens the connection_init frame it logs.
LONG_TOKEN = "q3Vx8-LmT2pRk9ZsWd4YhN7cB1fJgU6eA0oKiE5tXwQ"


@pytest.fixture
def debug_logging(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Debug level on exactly the loggers the manifest names, as the UI's debug switch does.

    Everything else is raised to warnings, so only what the manifest turns on is captured.
    """
    caplog.set_level(logging.WARNING)
    loggers = json.loads(MANIFEST.read_text())["loggers"]
    for name in loggers:
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


@pytest.fixture
def long_token_entry(
    tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> MockConfigEntry:
    """The Tibber entry, with a token of real length the local server accepts."""
    tibber_server.valid_tokens.add(LONG_TOKEN)
    return MockConfigEntry(
        domain=tibber_entry.domain,
        title=tibber_entry.title,
        unique_id=tibber_entry.unique_id,
        data={**tibber_entry.data, CONF_ACCESS_TOKEN: LONG_TOKEN},
    )


@pytest.fixture
async def a_reading_received(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    long_token_entry: MockConfigEntry,
    debug_logging: pytest.LogCaptureFixture,
) -> list[logging.LogRecord]:
    """Set up the entry and receive one reading with debug logging on; return what was logged."""
    await set_up(hass, long_token_entry, tibber_server)
    await tibber_server.push(HOME_A, power=515.0)
    await wait_until(hass, lambda: state_of(hass, "sensor.cabin_power") == "515.0")
    return debug_logging.get_records("setup")


def messages(records: list[logging.LogRecord], logger_prefix: str) -> list[str]:
    return [
        record.getMessage()
        for record in records
        if record.name == logger_prefix or record.name.startswith(f"{logger_prefix}.")
    ]


async def test_the_manifest_loggers_show_the_websocket_traffic(
    a_reading_received: list[logging.LogRecord],
) -> None:
    gql = messages(a_reading_received, "gql")
    frames = messages(a_reading_received, "websockets.client")
    assert any(m.startswith(">>> ") and "connection_init" in m for m in gql)
    assert any(m.startswith("<<< ") and "515" in m for m in gql)
    assert any(m.startswith("> TEXT ") and "connection_init" in m for m in frames)


async def test_the_access_token_appears_in_no_log_record(
    a_reading_received: list[logging.LogRecord],
) -> None:
    logged = [record.getMessage() for record in a_reading_received]
    assert [m for m in logged if LONG_TOKEN in m or LONG_TOKEN[-12:] in m] == []
    assert any("connection_init" in message and REDACTED in message for message in logged)


async def test_the_token_in_a_message_argument_is_redacted(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    long_token_entry: MockConfigEntry,
    debug_logging: pytest.LogCaptureFixture,
) -> None:
    await set_up(hass, long_token_entry, tibber_server)

    logging.getLogger("tibber").debug("Connecting with %s to %s", LONG_TOKEN, "wss://tibber")

    assert f"Connecting with {REDACTED} to wss://tibber" in debug_logging.messages


async def test_any_token_or_authorization_value_is_redacted(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    debug_logging: pytest.LogCaptureFixture,
) -> None:
    await set_up(hass, tibber_entry, tibber_server)

    logging.getLogger("tibber.data_api").debug(
        "Request with %s", {"Authorization": "Bearer other-secret", "token": "other-secret"}
    )
    logging.getLogger("websockets.client").debug("> Authorization: Bearer other-secret")

    assert f"Request with {{'Authorization': 'Bearer {REDACTED}', 'token': '{REDACTED}'}}" in (
        debug_logging.messages
    )
    assert f"> Authorization: Bearer {REDACTED}" in debug_logging.messages


async def test_unloading_the_entry_removes_its_log_filters(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    filters_before = {name: list(logging.getLogger(name).filters) for name in TRAFFIC_LOGGERS}
    await set_up(hass, tibber_entry, tibber_server)
    assert all(
        len(logging.getLogger(name).filters) > len(filters_before[name]) for name in TRAFFIC_LOGGERS
    )

    assert await hass.config_entries.async_unload(tibber_entry.entry_id)

    assert {name: logging.getLogger(name).filters for name in TRAFFIC_LOGGERS} == filters_before


def test_a_record_with_a_broken_format_string_is_passed_on_unchanged() -> None:
    """The handler reports the broken record; the filter must not raise inside the library."""
    record = logging.LogRecord("tibber", logging.DEBUG, __file__, 1, "%s %s", ("one",), None)

    assert SecretRedactor([LONG_TOKEN]).filter(record) is True
    assert (record.msg, record.args) == ("%s %s", ("one",))


async def test_pytibbers_unexpected_http_status_shows_with_debug_logging_on(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """*Enable debug logging* sets the manifest's loggers, `tibber` among them, to debug."""
    await set_up(hass, tibber_entry, tibber_server)
    tibber_logger = logging.getLogger("tibber")
    level = tibber_logger.level
    tibber_logger.setLevel(logging.DEBUG)
    try:
        logging.getLogger("tibber.response_handler").error("Unexpected HTTP status: %s", 500)
    finally:
        tibber_logger.setLevel(level)

    assert "Unexpected HTTP status: 500" in caplog.text


async def test_a_token_stored_with_spaces_around_it_appears_in_no_log_record(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    long_token_entry: MockConfigEntry,
    debug_logging: pytest.LogCaptureFixture,
) -> None:
    """An entry of the version before kept a token pasted with spaces; setup strips them."""
    stored = MockConfigEntry(
        domain=long_token_entry.domain,
        title=long_token_entry.title,
        unique_id=long_token_entry.unique_id,
        data={**long_token_entry.data, CONF_ACCESS_TOKEN: f" {LONG_TOKEN} "},
    )
    await set_up(hass, stored, tibber_server)
    await tibber_server.push(HOME_A, power=515.0)
    await wait_until(hass, lambda: state_of(hass, "sensor.cabin_power") == "515.0")

    logged = [record.getMessage() for record in debug_logging.records]
    assert [m for m in logged if LONG_TOKEN in m or LONG_TOKEN[-12:] in m] == []


def integration_lines_naming(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    """The integration's log lines that contain `text`."""
    return [
        record.getMessage()
        for record in caplog.records
        if record.name.startswith("custom_components.energy_anomaly")
        and text in record.getMessage()
    ]


async def test_a_home_tibber_refuses_is_logged_without_its_home_id(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The integration names a home in its log by its id's hash, as the diagnostics do: Tibber's
    id is the home's for good. Tibber's refusal names it (and may name the account's user id:
    'Home with id "<id>" does not exist or does not have matching owner ... <user id>')."""
    tibber_server.refused_homes = {HOME_B}
    tibber_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(tibber_entry.entry_id)
    await tibber_server.wait_for_subscriptions(1, HOME_A)
    await wait_until(hass, lambda: "Tibber refused the home's live data" in caplog.text)

    assert integration_lines_naming(caplog, HOME_B) == []


async def test_a_live_message_whose_errors_name_the_home_is_logged_without_its_id(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A message carrying Tibber's errors in its data is skipped and logged with them."""
    tibber_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(tibber_entry.entry_id)
    await tibber_server.wait_for_subscriptions(2)

    errors = [{"message": f"Could not find home with id {HOME_A}"}]
    assert await tibber_server.push_raw(HOME_A, {"errors": errors}) == 1
    await wait_until(hass, lambda: "Skipping malformed live message" in caplog.text)

    assert integration_lines_naming(caplog, HOME_A) == []
