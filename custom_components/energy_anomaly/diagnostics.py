"""Diagnostics download: connection and detector state as plain JSON, never a secret.

Redacted: the token, and the homes' names, which pyTibber fills with the street address when a
home has no nickname. Homes are keyed by a short hash of their id, stable across downloads, so
two downloads of one home can be compared without naming it. Chosen entities keep their domain
and a hash of the rest keyed with this Home Assistant's instance id, which the download does not
hold: an entity id comes from a name, and core `tibber` names a home's sensors after its address
(sensor.<street>_<number>_power), so an unkeyed hash would be found again by hashing a list of
addresses.
"""

from collections.abc import Iterable, Mapping
from dataclasses import fields, is_dataclass
from datetime import datetime
from enum import Enum
import hashlib
import hmac
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_ACCESS_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import instance_id

from .const import CONF_FUSE_SIZES, CONF_HOMES, CONF_KEPT_HOMES, CONF_OFFERED_HOMES
from .entity_source import ENTITY_QUANTITIES, OPTION_ENTITIES
from .redact import HASHED_ID_LENGTH, hashed_id
from .runtime import EnergyAnomalyConfigEntry


def masked_entity_id(entity_id: str, key: str) -> str:
    """`entity_id` with its object id (after the domain) replaced by its short hash keyed `key`."""
    domain, _, object_id = entity_id.partition(".")
    digest = hmac.new(key.encode(), object_id.encode(), hashlib.sha256).hexdigest()
    return f"{domain}.{digest[:HASHED_ID_LENGTH]}"


def _masked(settings: Mapping[str, Any], keys: Iterable[str], key: str) -> dict[str, Any]:
    """`settings` with the entity id under each of `keys` masked with `key`."""
    return {
        name: masked_entity_id(value, key) if name in keys and isinstance(value, str) else value
        for name, value in settings.items()
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


def _hashed_fuses(options: Mapping[str, Any]) -> dict[str, Any]:
    """The options, with each home's fuse under its home's hash, as the homes are named."""
    shown = dict(options)
    if isinstance(fuses := shown.get(CONF_FUSE_SIZES), Mapping):
        shown[CONF_FUSE_SIZES] = {hashed_id(str(home)): amps for home, amps in fuses.items()}
    return shown


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: EnergyAnomalyConfigEntry
) -> dict[str, Any]:
    """Return the entry's settings (redacted), its source's state and each home's detector."""
    installation = await instance_id.async_get(hass)  # its id keys the masks; not in the file
    data = async_redact_data(dict(entry.data), {CONF_ACCESS_TOKEN})
    for key in (CONF_HOMES, CONF_OFFERED_HOMES, CONF_KEPT_HOMES):
        if key in data:
            data[key] = sorted(hashed_id(home_id) for home_id in data[key])
    source = entry.runtime_data.source.diagnostics()
    if "entities" in source:
        source["entities"] = _masked(source["entities"], ENTITY_QUANTITIES, installation)
    diagnostics: dict[str, Any] = as_json(
        {
            "entry": _masked(data, ENTITY_QUANTITIES, installation),
            "options": _masked(_hashed_fuses(entry.options), OPTION_ENTITIES, installation),
            "source": source,
            "homes": {
                hashed_id(home_id): runner.diagnostics()
                for home_id, runner in entry.runtime_data.sink.runners.items()
            },
        }
    )
    return diagnostics
