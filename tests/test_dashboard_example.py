"""The example dashboard (examples/dashboard.yaml, copied in the README) against the demo home."""

from pathlib import Path
from typing import Any

from homeassistant.components.logbook import DOMAIN as LOGBOOK
from homeassistant.components.recorder import Recorder
from homeassistant.core import HomeAssistant
from homeassistant.helpers.template import Template
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, mock_component
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator
import yaml

from custom_components.energy_anomaly import PLATFORMS

from .test_demo import ANOMALY, replay_seconds, set_up_demo

REPO = Path(__file__).parent.parent
EXAMPLE = REPO / "examples" / "dashboard.yaml"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(recorder_db_url: str, enable_custom_integrations: None) -> None:
    """As the shared fixture, but the recorder's database is prepared before Home Assistant."""


def cards(config: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        card
        for view in config["views"]
        for section in view["sections"]
        for card in section["cards"]
    ]


def named_entities(card: dict[str, Any]) -> set[str]:
    """The entity ids a card shows (its entity, entities and target)."""
    rows = [row if isinstance(row, str) else row["entity"] for row in card.get("entities", [])]
    single = [card["entity"]] if "entity" in card else []
    return {*rows, *single, *card.get("target", {}).get("entity_id", [])}


def anomaly_markdown(config: dict[str, Any]) -> str:
    (content,) = [card["content"] for card in cards(config) if card["type"] == "markdown"]
    return str(content)


def test_readme_shows_the_example_dashboard_as_it_is() -> None:
    assert EXAMPLE.read_text() in (REPO / "README.md").read_text()


async def test_every_entity_of_the_example_that_the_integration_provides_is_the_demo_homes(
    hass: HomeAssistant, demo_entry: MockConfigEntry
) -> None:
    await set_up_demo(hass, demo_entry)
    named = set().union(
        *(named_entities(card) for card in cards(yaml.safe_load(EXAMPLE.read_text())))
    )
    provided = {entity_id for entity_id in named if entity_id.split(".")[0] in PLATFORMS}

    assert {entity_id for entity_id in provided if hass.states.get(entity_id) is None} == set()
    assert {"sensor.demo_home_power", ANOMALY} <= provided


async def test_example_says_the_demo_home_is_normal_while_it_is(
    hass: HomeAssistant, demo_entry: MockConfigEntry
) -> None:
    await set_up_demo(hass, demo_entry)

    text = Template(anomaly_markdown(yaml.safe_load(EXAMPLE.read_text())), hass).async_render()

    assert "No anomaly: electricity use looks normal (active)." in text


async def test_example_says_its_anomaly_entity_does_not_exist_rather_than_no_data(
    hass: HomeAssistant,
) -> None:
    """Without the demo home (ids not replaced, or a home renamed): not "No data from the home"."""
    text = Template(anomaly_markdown(yaml.safe_load(EXAMPLE.read_text())), hass).async_render()

    assert "There is no binary_sensor.demo_home_anomaly: replace demo_home" in text
    assert "No data" not in text
    assert "No anomaly" not in text


async def test_example_shows_the_anomalys_kind_reason_and_since(
    hass: HomeAssistant, demo_entry: MockConfigEntry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENERGY_ANOMALY_DEMO_SPEED", "30")
    await set_up_demo(hass, demo_entry)
    await replay_seconds(hass, 30)  # past 02:10 on the demo clock: the heater is flagged
    reason = hass.states.get(ANOMALY).attributes["reason"]

    text = Template(anomaly_markdown(yaml.safe_load(EXAMPLE.read_text())), hass).async_render()

    assert 'title="Unusual consumption"' in text
    assert reason in text
    assert "Since 02:00" in text
    assert "No anomaly" not in text


async def test_last_anomalies_lists_no_anomaly_starting_when_the_demo_is_reloaded(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    demo_entry: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The logbook card of the example, as the frontend asks for it: no anomaly started then (the
    heater's goes on through it). It lists the Anomaly sensor going unavailable and back, as
    Home Assistant lists every entity over a reload, but no *Anomaly started* of the old kind."""
    mock_component(hass, "frontend")  # its panel files are not installed; Activity's data is
    assert await async_setup_component(hass, LOGBOOK, {})
    monkeypatch.setenv("ENERGY_ANOMALY_DEMO_SPEED", "30")
    await set_up_demo(hass, demo_entry)
    await replay_seconds(hass, 30)  # past 02:10 on the demo clock: the heater is flagged
    assert hass.states.get(ANOMALY).state == "on"
    reloaded = dt_util.utcnow()

    assert await hass.config_entries.async_reload(demo_entry.entry_id)
    await replay_seconds(hass, 2)
    await async_wait_recording_done(hass)

    (card,) = [
        card for card in cards(yaml.safe_load(EXAMPLE.read_text())) if card["type"] == "logbook"
    ]
    client = await hass_ws_client()
    await client.send_json_auto_id(
        {
            "type": "logbook/get_events",
            "start_time": reloaded.isoformat(),
            "entity_ids": card["target"]["entity_id"],
        }
    )
    response = await client.receive_json()
    assert response["success"]
    listed = [(row.get("entity_id"), row.get("state")) for row in response["result"]]
    assert listed == [(ANOMALY, "unavailable"), (ANOMALY, "on")]
