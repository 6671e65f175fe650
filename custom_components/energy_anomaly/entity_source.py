"""Home Assistant entities as the source: one home fed by a power sensor the user already has.

Any meter Home Assistant knows (a P1 dongle, a Shelly, a Pulse through core `tibber`, ...) can
feed the detector this way, with no account and no connection of the integration's own. Each
change of the power sensor's state is a reading, stamped with the state's `last_updated`; the
optional production, voltage and current sensors are read as they are at that moment. Units are
converted with Home Assistant's own converters.

A sensor whose value does not change writes no new state, so while the power sensor is valid its
value is repeated with the current time whenever no reading went out for REPEAT_AFTER. A steady
home therefore stays available (the sink calls a home silent for a minute unavailable), and a
sensor whose integration froze without going unavailable looks frozen to the detector, whose
meter-fault check is made for that.

An entity that is missing, unavailable or `unknown`, not a number or in a wrong unit gives no
value: one log line, and a repair issue while it lasts. Without a power value there is no
reading at all, and the home is unavailable until the power sensor is valid again.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
import math
from typing import Any, Final

from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import (
    ATTR_UNIT_OF_MEASUREMENT,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
    UnitOfPower,
)
from homeassistant.core import (
    CALLBACK_TYPE,
    CoreState,
    Event,
    EventStateChangedData,
    HomeAssistant,
    State,
    callback,
)
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.entity_registry import EventEntityRegistryUpdatedData
from homeassistant.helpers.event import (
    async_track_entity_registry_updated_event,
    async_track_state_change_event,
    async_track_time_interval,
)
from homeassistant.helpers.start import async_at_started
from homeassistant.util import dt as dt_util
from homeassistant.util.unit_conversion import (
    BaseUnitConverter,
    ElectricCurrentConverter,
    ElectricPotentialConverter,
    PowerConverter,
)

from .const import (
    CONF_CURRENT_ENTITIES,
    CONF_POWER_ENTITY,
    CONF_PRODUCTION_ENTITY,
    CONF_VOLTAGE_ENTITIES,
    DOMAIN,
    ISSUE_ENTITY,
    LOGGER,
)
from .detector.model import Reading
from .issues import async_warn
from .source import ReadingSink

# A valid power sensor is repeated when no reading went out for this long (checked every
# REPEAT_CHECK), so the longest silence is under 45 s: well inside the sink's 60 s staleness.
REPEAT_AFTER: Final = timedelta(seconds=30)
REPEAT_CHECK: Final = timedelta(seconds=15)


@dataclass(frozen=True, slots=True)
class Quantity:
    """What a chosen entity measures: its device class, its converter and the readings' unit."""

    name: str
    device_class: SensorDeviceClass
    converter: type[BaseUnitConverter]
    unit: str


POWER: Final = Quantity("power", SensorDeviceClass.POWER, PowerConverter, UnitOfPower.WATT)
VOLTAGE: Final = Quantity(
    "voltage",
    SensorDeviceClass.VOLTAGE,
    ElectricPotentialConverter,
    UnitOfElectricPotential.VOLT,
)
CURRENT: Final = Quantity(
    "current", SensorDeviceClass.CURRENT, ElectricCurrentConverter, UnitOfElectricCurrent.AMPERE
)

# Every entity a home can be fed by: its key in the entry's data, and what it measures.
ENTITY_QUANTITIES: Final[Mapping[str, Quantity]] = {
    CONF_POWER_ENTITY: POWER,
    CONF_PRODUCTION_ENTITY: POWER,
    **dict.fromkeys(CONF_VOLTAGE_ENTITIES, VOLTAGE),
    **dict.fromkeys(CONF_CURRENT_ENTITIES, CURRENT),
}


class EntityProblem(StrEnum):
    """Why an entity gives no value (also the repair issue's translation key suffix)."""

    MISSING = "missing"
    UNAVAILABLE = "unavailable"
    NOT_NUMERIC = "not_numeric"
    WRONG_UNIT = "wrong_unit"


PROBLEM_TEXT: Final = {
    EntityProblem.MISSING: "does not exist",
    EntityProblem.UNAVAILABLE: "is unavailable or unknown",
    EntityProblem.NOT_NUMERIC: "is not a number",
    EntityProblem.WRONG_UNIT: "is not in a unit of {quantity}",
}


def issue_translation_key(problem: EntityProblem, quantity: Quantity) -> str:
    """The repair issue's translation key for `problem` with an entity of `quantity`.

    A wrong unit names the quantity in the key, not in a placeholder: a placeholder would put the
    English word ("power") into every language's sentence.
    """
    if problem is EntityProblem.WRONG_UNIT:
        return f"{ISSUE_ENTITY}_{problem}_{quantity.name}"
    return f"{ISSUE_ENTITY}_{problem}"


@dataclass(frozen=True, slots=True)
class EntityValue:
    """An entity's value in the readings' unit, or None and the problem that prevents it."""

    value: float | None
    problem: EntityProblem | None = None


def read_entity(state: State | None, quantity: Quantity) -> EntityValue:
    """Return the state's value converted to `quantity.unit`, or why there is none."""
    if state is None:
        return EntityValue(None, EntityProblem.MISSING)
    if state.state in (STATE_UNAVAILABLE, STATE_UNKNOWN):
        return EntityValue(None, EntityProblem.UNAVAILABLE)
    try:
        number = float(state.state)
    except ValueError:
        return EntityValue(None, EntityProblem.NOT_NUMERIC)
    if not math.isfinite(number):
        return EntityValue(None, EntityProblem.NOT_NUMERIC)
    unit = state.attributes.get(ATTR_UNIT_OF_MEASUREMENT)
    if unit not in quantity.converter.VALID_UNITS:
        return EntityValue(None, EntityProblem.WRONG_UNIT)
    return EntityValue(quantity.converter.convert(number, unit, quantity.unit))


def entity_error(state: State | None, quantity: Quantity) -> str | None:
    """The config form's error for an entity that cannot give `quantity`, else None.

    It must be a sensor in a unit of the quantity; it may be unavailable right now.
    """
    if state is None:
        return "entity_not_found"
    unit = state.attributes.get(ATTR_UNIT_OF_MEASUREMENT)
    if state.domain != "sensor" or unit not in quantity.converter.VALID_UNITS:
        return f"not_{quantity.name}"
    return None


def chosen_entities(data: Mapping[str, Any]) -> dict[str, str]:
    """The entities an entry's data chose, key → entity id (the unchosen left out)."""
    return {key: data[key] for key in ENTITY_QUANTITIES if data.get(key)}


class EntitySource:
    """Turns the chosen entities' states into readings of one home (`home_id`)."""

    def __init__(
        self,
        hass: HomeAssistant,
        home_id: str,
        home_name: str,
        entities: Mapping[str, str],
        *,
        net: bool = False,
    ) -> None:
        """Prepare to watch `entities` (data key → entity id); nothing runs before the start.

        With `net`, the power sensor is signed (negative while exporting): a reading's power is
        its positive part, and its production the export, as a Tibber Pulse reports them.
        """
        self._hass = hass
        self._net = net
        self._home_id = home_id
        self._home_name = home_name
        self._entities = dict(entities)
        self._power_entity = entities[CONF_POWER_ENTITY]
        self._problems: dict[str, EntityProblem] = {}
        self._last_sent: datetime | None = None
        self._sink: ReadingSink | None = None
        self._unsubs: list[CALLBACK_TYPE] = []

    async def async_start(self, sink: ReadingSink) -> None:
        """Send the power sensor's value once Home Assistant has started, then every change.

        While Home Assistant starts, the sensors' own integrations may not be loaded yet: judging
        them then would log and raise a repair issue at every restart for nothing.
        """
        self._sink = sink
        self._unsubs = [
            async_track_state_change_event(
                self._hass, self._power_entity, self._async_power_changed
            ),
            async_track_time_interval(self._hass, self._async_repeat_if_quiet, REPEAT_CHECK),
            async_at_started(self._hass, self._async_started),
        ]

    @callback
    def _async_started(self, _hass: HomeAssistant) -> None:
        self._async_send(dt_util.now())

    @callback
    def _async_power_changed(self, event: Event[EventStateChangedData]) -> None:
        new_state = event.data["new_state"]
        timestamp = dt_util.now() if new_state is None else new_state.last_updated
        self._async_send(dt_util.as_local(timestamp))

    @callback
    def _async_repeat_if_quiet(self, _now: datetime) -> None:
        """Repeat the power sensor's value with the current time when no reading went out."""
        now = dt_util.now()
        if self._last_sent is None or now - self._last_sent >= REPEAT_AFTER:
            self._async_send(now)

    @callback
    def _async_send(self, timestamp: datetime) -> None:
        """Push a reading of the entities as they are now, or say the home has no power value."""
        assert self._sink is not None  # started
        if self._hass.state is not CoreState.running:
            return
        power = self._async_value(CONF_POWER_ENTITY)
        if power is None:
            self._sink.async_source_down(self._home_id, self._problem_text(CONF_POWER_ENTITY))
            return
        production = self._async_value(CONF_PRODUCTION_ENTITY)
        if self._net:
            power, production = max(power, 0.0), max(-power, 0.0)
        reading = Reading(
            timestamp=timestamp,
            power=power,
            power_production=production,
            voltage=self._async_phases(CONF_VOLTAGE_ENTITIES),
            current=self._async_phases(CONF_CURRENT_ENTITIES),
        )
        self._last_sent = dt_util.now()
        self._sink.async_add_readings(self._home_id, [reading])

    @callback
    def _async_phases(
        self, keys: tuple[str, ...]
    ) -> tuple[float | None, float | None, float | None]:
        first, second, third = (self._async_value(key) for key in keys)
        return first, second, third

    @callback
    def _async_value(self, key: str) -> float | None:
        """The chosen entity's value now (None when not chosen), noting a problem with it."""
        entity_id = self._entities.get(key)
        if entity_id is None:
            return None
        read = read_entity(self._hass.states.get(entity_id), ENTITY_QUANTITIES[key])
        self._async_note(key, read.problem)
        return read.value

    def _problem_text(self, key: str) -> str:
        """What is wrong with the entity of `key`, as a log line says it."""
        entity_id = self._entities[key]
        text = PROBLEM_TEXT[self._problems[entity_id]]
        return f"{entity_id} {text.format(quantity=ENTITY_QUANTITIES[key].name)}"

    def _issue_id(self, entity_id: str) -> str:
        return f"{ISSUE_ENTITY}_{self._home_id}_{entity_id}"

    @callback
    def _async_note(self, key: str, problem: EntityProblem | None) -> None:
        """Log and raise a repair issue when an entity's problem starts or changes; clear it after.

        The power sensor's problem is logged by the sink, which marks the home unavailable.
        """
        entity_id = self._entities[key]
        if self._problems.get(entity_id) is problem:
            return
        if problem is None:
            del self._problems[entity_id]
            ir.async_delete_issue(self._hass, DOMAIN, self._issue_id(entity_id))
            if key != CONF_POWER_ENTITY:
                LOGGER.info("%s gives a value for %s again", entity_id, self._home_name)
            return
        self._problems[entity_id] = problem
        if key != CONF_POWER_ENTITY:
            LOGGER.warning(
                "%s: %s; readings go without it", self._home_name, self._problem_text(key)
            )
        async_warn(
            self._hass,
            self._issue_id(entity_id),
            issue_translation_key(problem, ENTITY_QUANTITIES[key]),
            {"entity_id": entity_id, "home": self._home_name},
        )

    async def async_stop(self) -> None:
        """Stop watching the entities and withdraw their repair issues."""
        for unsub in self._unsubs:
            unsub()
        self._unsubs = []
        for entity_id in self._problems:
            ir.async_delete_issue(self._hass, DOMAIN, self._issue_id(entity_id))
        self._problems = {}

    def diagnostics(self) -> dict[str, Any]:
        """The chosen entities, which of them give no value, and when the last reading went out."""
        return {
            "source": "entity",
            "entities": dict(self._entities),
            "problems": {entity_id: str(problem) for entity_id, problem in self._problems.items()},
            "last_sent": self._last_sent,
        }


@callback
def async_follow_renames(hass: HomeAssistant, entry: ConfigEntry) -> CALLBACK_TYPE:
    """Keep the entry's sensors when the user renames one (a new entity id): reload with it.

    Without this a renamed power sensor would look removed, and the home would stop until the
    user chose it again. The entry is unique per power sensor, so its unique id follows too.
    """
    chosen = chosen_entities(entry.data)

    @callback
    def _async_renamed(event: Event[EventEntityRegistryUpdatedData]) -> None:
        data = event.data
        if data["action"] != "update" or "old_entity_id" not in data:
            return
        renamed = {
            key: data["entity_id"] if entity_id == data["old_entity_id"] else entity_id
            for key, entity_id in chosen.items()
        }
        LOGGER.info("%s was renamed to %s", data["old_entity_id"], data["entity_id"])
        hass.config_entries.async_update_entry(
            entry,
            data={**entry.data, **renamed},
            unique_id=renamed[CONF_POWER_ENTITY],
        )
        hass.config_entries.async_schedule_reload(entry.entry_id)

    return async_track_entity_registry_updated_event(hass, chosen.values(), _async_renamed)
