"""The diagnostics download describes the connection and each home, never a secret or a name."""

from dataclasses import replace
import hashlib
from http import HTTPStatus
import json
import re
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.diagnostics import DOMAIN as DIAGNOSTICS
from homeassistant.core import HomeAssistant
from homeassistant.helpers import instance_id
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion

from custom_components.energy_anomaly import runner as runner_module
from custom_components.energy_anomaly.const import (
    CONF_FUSE_SIZE,
    CONF_POWER_ENTITY,
    CONF_TEMPERATURE_ENTITY,
    DOMAIN,
)
from custom_components.energy_anomaly.diagnostics import hashed_id, masked_entity_id
from custom_components.energy_anomaly.issues import async_warn

from .conftest import HOME_A, HOME_B
from .test_clock_issue import HostClock, raise_the_clock_issue
from .test_entity_source import POWER, WATT, home_entry, past_the_drop_grace, set_up_home
from .test_live_data import set_up, state_of, wait_until
from .tibber_server import DEFAULT_TOKEN, LocalTibberServer

TIMESTAMPS = ("2026-11-02T08:00:00+01:00", "2026-11-02T08:00:10+01:00")


@pytest.fixture
async def diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
) -> dict[str, Any]:
    """The Tibber entry's diagnostics after two single-phase readings of the Cabin."""
    await set_up(hass, tibber_entry, tibber_server)
    for timestamp, power in zip(TIMESTAMPS, (640.0, 650.0), strict=True):
        await tibber_server.push(
            HOME_A,
            power=power,
            timestamp=timestamp,
            voltagePhase1=229.0,
            voltagePhase2=None,
            voltagePhase3=None,
            currentL1=None,
            currentL2=None,
            currentL3=None,
        )
    await wait_until(hass, lambda: state_of(hass, "sensor.cabin_power") == "650.0")
    return await get_diagnostics_for_config_entry(hass, hass_client, tibber_entry)


async def test_diagnostics_match_the_snapshot(
    diagnostics: dict[str, Any], snapshot: SnapshotAssertion
) -> None:
    assert diagnostics == snapshot


async def test_diagnostics_name_neither_the_token_nor_the_homes(
    diagnostics: dict[str, Any],
) -> None:
    text = json.dumps(diagnostics)
    for secret in (DEFAULT_TOKEN, "Cabin", "Flat", "Fjellveien", "Bygata", HOME_A, HOME_B):
        assert secret not in text
    assert diagnostics["entry"]["access_token"] == "**REDACTED**"
    assert sorted(diagnostics["homes"]) == sorted([hashed_id(HOME_A), hashed_id(HOME_B)])


async def test_diagnostics_describe_each_home_in_plain_json(
    diagnostics: dict[str, Any],
) -> None:
    assert diagnostics["source"]["connected"] is True
    cabin = diagnostics["homes"][hashed_id(HOME_A)]
    assert cabin["status"] == "learning"
    assert cabin["reported"] == ["power_production", "voltage_l1"]
    assert cabin["last_reading"]["power"] == 650.0
    assert cabin["last_reading"]["voltage"] == [229.0, None, None]
    assert cabin["last_result"]["timestamp"] == TIMESTAMPS[1]
    assert diagnostics["homes"][hashed_id(HOME_B)]["last_reading"] is None


async def test_diagnostics_show_the_options_with_entities_masked(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
) -> None:
    tibber_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        tibber_entry,
        options={CONF_TEMPERATURE_ENTITY: "sensor.outdoor_temperature", CONF_FUSE_SIZE: 25},
    )
    assert await hass.config_entries.async_setup(tibber_entry.entry_id)

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, tibber_entry)

    assert diagnostics["options"] == {
        CONF_TEMPERATURE_ENTITY: masked_entity_id(
            "sensor.outdoor_temperature", await instance_id.async_get(hass)
        ),
        CONF_FUSE_SIZE: 25,
    }


async def downloaded(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, entry: MockConfigEntry
) -> dict[str, Any]:
    """The whole file *Download diagnostics* gives: the integration's data and what core adds.

    Core adds the system's description and the integration's repair issues (their ids).
    """
    assert await async_setup_component(hass, DIAGNOSTICS, {})
    client = await hass_client()
    response = await client.get(f"/api/diagnostics/config_entry/{entry.entry_id}")
    assert response.status == HTTPStatus.OK
    download: dict[str, Any] = await response.json()
    return download


async def test_the_downloaded_file_shows_no_home_id_in_a_repair_issue(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    tibber_server: LocalTibberServer,
    live_entry: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    host_clock = HostClock()
    monkeypatch.setattr(runner_module, "dt_util", host_clock)
    await raise_the_clock_issue(hass, tibber_server, live_entry, host_clock)

    download = await downloaded(hass, hass_client, live_entry)

    assert len(download["issues"]) == 1  # the Cabin's clock issue is in the file
    assert HOME_A not in json.dumps(download)


async def test_the_downloaded_file_shows_no_home_id_in_a_power_sensor_homes_issue(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, freezer: FrozenDateTimeFactory
) -> None:
    """Its home id is its entry's id; the diagnostics name the home by the id's hash."""
    hass.states.async_set(POWER, "400", WATT)
    entry = home_entry()
    await set_up_home(hass, entry)
    hass.states.async_set(POWER, "unavailable", WATT)
    await past_the_drop_grace(hass, freezer)

    download = await downloaded(hass, hass_client, entry)

    assert len(download["issues"]) == 1  # the power sensor's issue is in the file
    assert list(download["data"]["homes"]) == [hashed_id(entry.entry_id)]
    assert entry.entry_id not in json.dumps(download)


async def test_the_issues_of_the_version_before_leave_no_home_id_in_a_power_sensor_homes_file(
    hass: HomeAssistant, hass_client: ClientSessionGenerator
) -> None:
    """A sensor's and the temperature's issue, raised under the entry's id in full (the home's),
    still up when Home Assistant stopped for the upgrade: the registry holds them, inactive."""
    hass.states.async_set(POWER, "400", WATT)
    entry = home_entry()
    entry.add_to_hass(hass)
    registry = ir.async_get(hass)
    for issue_id, key in (
        (f"entity_{entry.entry_id}_power_entity", "entity_unavailable"),
        (f"temperature_{entry.entry_id}", "temperature_missing"),
    ):
        async_warn(hass, issue_id, key, {})
        registry.issues[DOMAIN, issue_id] = replace(registry.issues[DOMAIN, issue_id], active=False)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)

    download = await downloaded(hass, hass_client, entry)

    assert entry.entry_id not in json.dumps(download)


# Street names as any country's public address register lists them, with house numbers.
STREETS = ("Storgata", "Kirkeveien", "Skogveien", "Fjellveien", "Bygata", "Parkveien")
HOUSE_NUMBERS = range(1, 300)


async def test_a_masked_sensor_cannot_be_matched_by_hashing_a_list_of_addresses(
    hass: HomeAssistant, hass_client: ClientSessionGenerator
) -> None:
    """Core tibber names a home's sensors after its street address (sensor.<street>_<n>_power).

    A street register holds a few million addresses: a short unkeyed hash of one is looked up in
    seconds, so the hash must not be computable from the entity id alone.
    """
    power = "sensor.fjellveien_1_power"
    hass.states.async_set(power, "400", WATT)
    entry = home_entry(power)
    await set_up_home(hass, entry)

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)

    assert "fjellveien" not in json.dumps(diagnostics)
    digests = re.findall(r"[0-9a-f]{6,}", diagnostics["entry"][CONF_POWER_ENTITY])
    guesses = [f"{street.lower()}_{number}_power" for street in STREETS for number in HOUSE_NUMBERS]
    found = [
        guess
        for guess in guesses
        for algorithm in ("sha256", "sha1", "md5")
        for digest in digests
        if hashlib.new(algorithm, guess.encode()).hexdigest().startswith(digest)
    ]
    assert found == []


async def test_a_clock_issue_of_the_version_before_leaves_no_home_id_in_the_downloaded_file(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, live_entry: MockConfigEntry
) -> None:
    # The Cabin's clock issue as the version before raised it, still up when Home Assistant
    # stopped for the upgrade; after the restart the registry holds it as loaded: inactive
    registry = ir.async_get(hass)
    key = (DOMAIN, f"clock_behind_{HOME_A}")
    ir.async_create_issue(
        hass,
        DOMAIN,
        key[1],
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key="clock_behind",
        translation_placeholders={"home": "Cabin", "minutes": "20"},
    )
    registry.issues[key] = replace(registry.issues[key], active=False)
    assert await hass.config_entries.async_reload(live_entry.entry_id)  # as at the restart
    await hass.async_block_till_done()

    download = await downloaded(hass, hass_client, live_entry)

    assert HOME_A not in json.dumps(download)
