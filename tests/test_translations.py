"""Translations for the Tibber markets: each language says everything English says, nothing else."""

import ast
import json
from pathlib import Path
import string
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.translation import async_get_translations
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import yaml

from custom_components.energy_anomaly.binary_sensor import ANOMALY
from custom_components.energy_anomaly.const import CONF_POWER_ENTITY, CONF_PRODUCTION_ENTITY, DOMAIN
from custom_components.energy_anomaly.coordinator import HistoryImport
from custom_components.energy_anomaly.detector.model import Kind, Mode
from custom_components.energy_anomaly.entity_source import (
    ENTITY_QUANTITIES,
    EntityProblem,
    issue_translation_key,
)
from custom_components.energy_anomaly.event import ANOMALY_STARTED
from custom_components.energy_anomaly.select import MODE, SENSITIVITY
from custom_components.energy_anomaly.sensor import ALWAYS_ON_COST, OPTIONAL_SENSORS, SENSORS
from custom_components.energy_anomaly.switch import ALARMS

from .test_live_data import state_of, wait_until

TRANSLATIONS = Path(__file__).parents[1] / "custom_components" / DOMAIN / "translations"
LANGUAGES = ("nb", "sv", "de", "nl")


def load(language: str) -> dict[str, Any]:
    """The parsed translation file; json.loads raises on a file that is not valid JSON."""
    data: dict[str, Any] = json.loads((TRANSLATIONS / f"{language}.json").read_text("utf-8"))
    return data


def flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Every leaf of a translation tree by its dotted key path, as Home Assistant addresses it."""
    leaves: dict[str, Any] = {}
    for key, value in tree.items():
        path = f"{prefix}.{key}" if prefix else key
        leaves |= flatten(value, path) if isinstance(value, dict) else {path: value}
    return leaves


def placeholders(text: str) -> set[str]:
    """The {names} Home Assistant fills in at run time."""
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


ENGLISH = flatten(load("en"))


def test_the_languages_of_the_tibber_markets_are_shipped() -> None:
    assert {path.stem for path in TRANSLATIONS.glob("*.json")} == {"en", *LANGUAGES}


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_translation_has_exactly_the_english_keys(language: str) -> None:
    assert set(flatten(load(language))) == set(ENGLISH)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_translated_value_is_a_non_empty_string(language: str) -> None:
    empty = {
        path: value
        for path, value in flatten(load(language)).items()
        if not isinstance(value, str) or not value.strip()
    }
    assert empty == {}


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_translation_keeps_the_english_placeholders(language: str) -> None:
    translated = flatten(load(language))
    differing = {
        path: (placeholders(english), placeholders(translated[path]))
        for path, english in ENGLISH.items()
        if path in translated and placeholders(english) != placeholders(translated[path])
    }
    assert differing == {}


def test_every_sensor_issue_a_home_can_raise_has_its_english_text_and_no_other() -> None:
    """Each chosen sensor's role and problem has a text (only the power sensor stalls, only the
    power and production sensors read below 0)."""
    judged_of = {
        EntityProblem.STALLED: {CONF_POWER_ENTITY},
        EntityProblem.BELOW_ZERO: {CONF_POWER_ENTITY, CONF_PRODUCTION_ENTITY},
    }
    raised = {
        issue_translation_key(problem, key)
        for key in ENTITY_QUANTITIES
        for problem in EntityProblem
        if key in judged_of.get(problem, {key})
    }
    written = {
        path.split(".")[1]
        for path in ENGLISH
        if path.startswith(("issues.entity_", f"issues.{CONF_POWER_ENTITY}_"))
    }
    assert written == raised


async def test_home_assistant_serves_the_german_entity_names(hass: HomeAssistant) -> None:
    hass.config.language = "de"

    names = await async_get_translations(hass, "de", "entity", {DOMAIN})

    assert names[f"component.{DOMAIN}.entity.binary_sensor.anomaly.name"] == "Anomalie"
    assert names[f"component.{DOMAIN}.entity.sensor.voltage_phase.name"] == "Spannung L{phase}"


async def test_a_german_home_shows_german_entity_names(
    hass: HomeAssistant, demo_entry: MockConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    hass.config.language = "de"
    demo_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(demo_entry.entry_id)
    anomaly = next(
        entry.entity_id
        for entry in er.async_entries_for_config_entry(entity_registry, demo_entry.entry_id)
        if entry.translation_key == "anomaly"
    )
    await wait_until(hass, lambda: state_of(hass, anomaly) not in (None, "unavailable"))

    state = hass.states.get(anomaly)
    assert state is not None
    assert state.attributes["friendly_name"] == "Demo home Anomalie"


# Attributes Home Assistant itself sets and names: not the integration's to translate.
HOME_ASSISTANT_ATTRIBUTES = {
    "friendly_name",
    "unit_of_measurement",
    "device_class",
    "state_class",
    "icon",
    "options",
    "event_types",
    "event_type",
}


async def test_every_attribute_an_entity_shows_has_an_english_name(
    hass: HomeAssistant, demo_entry: MockConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    demo_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(demo_entry.entry_id)
    entries = er.async_entries_for_config_entry(entity_registry, demo_entry.entry_id)
    anomaly = next(entry.entity_id for entry in entries if entry.translation_key == "anomaly")
    await wait_until(hass, lambda: state_of(hass, anomaly) not in (None, "unavailable"))

    unnamed = {
        f"{entry.domain}.{entry.translation_key}.{attribute}"
        for entry in entries
        if (state := hass.states.get(entry.entity_id)) is not None
        for attribute in set(state.attributes) - HOME_ASSISTANT_ATTRIBUTES
        if f"entity.{entry.domain}.{entry.translation_key}.state_attributes.{attribute}.name"
        not in ENGLISH
    }
    assert unnamed == set()


def _selectors(tree: Any) -> list[dict[str, Any]]:
    """Every selector's settings in a services.yaml tree (number, select, ...)."""
    if not isinstance(tree, dict):
        return []
    found = [
        settings for settings in tree.get("selector", {}).values() if isinstance(settings, dict)
    ]
    return found + [item for value in tree.values() for item in _selectors(value)]


def test_every_selector_of_the_actions_has_its_words_in_english() -> None:
    services = yaml.safe_load((TRANSLATIONS.parent / "services.yaml").read_text("utf-8"))

    missing = {
        f"selector.{settings['translation_key']}.unit_of_measurement.{unit}"
        for settings in _selectors(services)
        if "translation_key" in settings and (unit := settings.get("unit_of_measurement"))
    } - set(ENGLISH)
    units = [settings for settings in _selectors(services) if "unit_of_measurement" in settings]

    assert units
    assert all("translation_key" in settings for settings in units)
    assert missing == set()


# Every entity the integration can create, by platform and translation key (a phase sensor and
# the production sensor only once the meter reports them, the cost only with a price).
DESCRIPTIONS: dict[tuple[str, str], EntityDescription] = {
    (platform, description.translation_key): description
    for platform, descriptions in (
        ("sensor", (*SENSORS, *OPTIONAL_SENSORS.values(), ALWAYS_ON_COST)),
        ("select", (MODE, SENSITIVITY)),
        ("switch", ALARMS),
        ("binary_sensor", (ANOMALY,)),
        ("event", (ANOMALY_STARTED,)),
    )
    for description in descriptions
    if description.translation_key is not None
}


def _below(prefix: str) -> set[str]:
    """The keys one level below `prefix` in the English tree."""
    return {path.removeprefix(prefix).split(".")[0] for path in ENGLISH if path.startswith(prefix)}


def test_every_entity_has_an_english_name_and_every_name_an_entity() -> None:
    """A missing name shows the entity as its bare device name; a stray one is dead text."""
    named = {
        (path.split(".")[1], path.split(".")[2])
        for path in ENGLISH
        if path.startswith("entity.") and path.endswith(".name") and path.count(".") == 3
    }
    assert named == set(DESCRIPTIONS)


def test_every_state_an_entity_or_attribute_takes_has_english_words_and_no_other() -> None:
    """An enum sensor's, a select's, an event's and an attribute's values, each one worded."""
    kinds = {kind.value for kind in Kind}
    values = {
        f"entity.{platform}.{key}.state.": set(options)
        for (platform, key), description in DESCRIPTIONS.items()
        if (options := getattr(description, "options", None))
    } | {
        "entity.event.anomaly_started.state_attributes.event_type.state.": set(
            ANOMALY_STARTED.event_types or ()
        ),
        "entity.binary_sensor.anomaly.state_attributes.kind.state.": kinds,
        "entity.sensor.detector_status.state_attributes.history.state.": {
            history.value for history in HistoryImport
        },
        "selector.mode.options.": {mode.value for mode in Mode},
    }
    worded = {
        path.rsplit(".", 1)[0] + "."
        for path in ENGLISH
        if path.split(".")[-2] in ("state", "options")
    }

    assert {prefix: _below(prefix) for prefix in values} == values
    assert worded == set(values)


def _raised_exception_keys() -> set[str]:
    """The translation keys of every error raised with the integration's translation domain."""
    keys: set[str] = set()
    for source in TRANSLATIONS.parent.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text("utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            given = {keyword.arg: keyword.value for keyword in node.keywords}
            key = given.get("translation_key")
            if "translation_domain" in given and isinstance(key, ast.Constant):
                keys.add(str(key.value))
    return keys


def test_every_error_the_integration_raises_has_its_english_message_and_no_other() -> None:
    written = {path.split(".")[1] for path in ENGLISH if path.startswith("exceptions.")}

    assert _raised_exception_keys() == written


def test_the_mode_action_offers_the_modes_the_mode_select_has() -> None:
    """The action's select and the entity's select word the same modes (`selector.mode`)."""
    services = yaml.safe_load((TRANSLATIONS.parent / "services.yaml").read_text("utf-8"))

    offered = services["set_mode"]["fields"]["mode"]["selector"]["select"]["options"]

    assert set(offered) == set(MODE.options or ()) == _below("selector.mode.options.")
