"""Diagnostics download: connection and detector state as plain JSON, never a secret.

Redacted: the token, and the homes' names, which pyTibber fills with the street address when a
home has no nickname. Homes are keyed by a short hash of their id, stable across downloads, so
two downloads of one home can be compared without naming it.
"""

from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from datetime import datetime
from enum import Enum
import hashlib
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_ACCESS_TOKEN
from homeassistant.core import HomeAssistant

from .const import CONF_HOMES, CONF_KEPT_HOMES, CONF_OFFERED_HOMES
from .runtime import EnergyAnomalyConfigEntry

HASHED_ID_LENGTH = 8  # hex digits of sha256: enough to tell a user's homes apart


def hashed_id(home_id: str) -> str:
    """A short, stable stand-in for a home id (first hex digits of its sha256)."""
    return hashlib.sha256(home_id.encode()).hexdigest()[:HASHED_ID_LENGTH]


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
    diagnostics: dict[str, Any] = as_json(
        {
            "entry": data,
            "options": dict(entry.options),
            "source": entry.runtime_data.source.diagnostics(),
            "homes": {
                hashed_id(home_id): runner.diagnostics()
                for home_id, runner in entry.runtime_data.sink.runners.items()
            },
        }
    )
    return diagnostics
