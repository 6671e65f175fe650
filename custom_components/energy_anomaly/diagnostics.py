"""Diagnostics download: connection and detector state as plain JSON, never a secret.

Redacted: the token, and the homes' names, which pyTibber fills with the street address when a
home has no nickname. Homes are keyed by a short hash of their id, stable across downloads, so
two downloads of one home can be compared without naming it. Chosen entities keep their domain
and a hash of the rest: an entity id comes from a name, and core `tibber` names a home's sensors
after its address (sensor.<street>_<number>_power).
"""

from collections.abc import Iterable, Mapping
from dataclasses import fields, is_dataclass
from datetime import datetime
from enum import Enum
import hashlib
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_ACCESS_TOKEN
from homeassistant.core import HomeAssistant

from .const import CONF_HOMES, CONF_KEPT_HOMES, CONF_OFFERED_HOMES
from .entity_source import ENTITY_QUANTITIES, OPTION_ENTITIES
from .runtime import EnergyAnomalyConfigEntry

HASHED_ID_LENGTH = 8  # hex digits of sha256: enough to tell a user's homes apart


def hashed_id(home_id: str) -> str:
    """A short, stable stand-in for a home id (first hex digits of its sha256)."""
    return hashlib.sha256(home_id.encode()).hexdigest()[:HASHED_ID_LENGTH]


def masked_entity_id(entity_id: str) -> str:
    """`entity_id` with its object id (after the domain) replaced by its short hash."""
    domain, _, object_id = entity_id.partition(".")
    return f"{domain}.{hashed_id(object_id)}"


def _masked(settings: Mapping[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    """`settings` with the entity id under each of `keys` masked."""
    return {
        key: masked_entity_id(value) if key in keys and isinstance(value, str) else value
        for key, value in settings.items()
    }


def as_json(value: Any) -> Any:
    """`value` as JSON values: dataclasses as dicts, tuples as lists, datetimes in ISO 8601."""
    if is_dataclass(value) and not isinstance(value, type):
        return {field.name: as_json(getattr(value, field.name)) for field in fields(value)}
    if isinstance(value, Mapping):
        return {str(key): as_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [as_json(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: EnergyAnomalyConfigEntry
) -> dict[str, Any]:
    """Return the entry's settings (redacted), its source's state and each home's detector."""
    data = async_redact_data(dict(entry.data), {CONF_ACCESS_TOKEN})
    for key in (CONF_HOMES, CONF_OFFERED_HOMES, CONF_KEPT_HOMES):
        if key in data:
            data[key] = sorted(hashed_id(home_id) for home_id in data[key])
    source = entry.runtime_data.source.diagnostics()
    if "entities" in source:
        source["entities"] = _masked(source["entities"], ENTITY_QUANTITIES)
    diagnostics: dict[str, Any] = as_json(
        {
            "entry": _masked(data, ENTITY_QUANTITIES),
            "options": _masked(entry.options, OPTION_ENTITIES),
            "source": source,
            "homes": {
                hashed_id(home_id): runner.diagnostics()
                for home_id, runner in entry.runtime_data.sink.runners.items()
            },
        }
    )
    return diagnostics
