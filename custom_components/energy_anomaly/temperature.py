"""The outdoor temperature (°C) the user chose: a temperature sensor or a weather entity.

Reading it never raises: a reading without a temperature is still a reading, so a broken entity
(removed, a unit that is not a temperature, unavailable, an absurd value) only costs the detector
the temperature. `OutdoorTemperature` tells the user through a repair issue when that lasts.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
import math
from typing import Any, Final

from homeassistant.components.weather import ATTR_WEATHER_TEMPERATURE, ATTR_WEATHER_TEMPERATURE_UNIT
from homeassistant.config_entries import (
    SIGNAL_CONFIG_ENTRY_CHANGED,
    ConfigEntry,
    ConfigEntryChange,
)
from homeassistant.const import ATTR_UNIT_OF_MEASUREMENT, UnitOfTemperature
from homeassistant.core import (
    CALLBACK_TYPE,
    Event,
    EventStateChangedData,
    HomeAssistant,
    State,
    callback,
)
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.event import async_call_later, async_track_state_change_event
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey
from homeassistant.util.unit_conversion import TemperatureConverter

from .const import CONF_TEMPERATURE_ENTITY, DOMAIN
from .detector.validation import MAX_TEMPERATURE_C, MIN_TEMPERATURE_C
from .issues import async_delete_unhashed, async_warn, issue_id

# An entity that gives no usable temperature for this long gets a repair issue (a sensor
# briefly unavailable, or not yet loaded at start-up, does not).
ISSUE_AFTER: Final = timedelta(hours=1)
ISSUE_PREFIX: Final = "temperature"


class TemperatureProblem(StrEnum):
    """Why an entity gives no temperature (also the repair issue's translation key suffix)."""

    MISSING = "missing"
    NOT_A_TEMPERATURE = "not_a_temperature"
    NO_VALUE = "no_value"
    IMPLAUSIBLE = "implausible"


@dataclass(frozen=True, slots=True)
class TemperatureReading:
    """An entity's temperature in °C, or None and the problem that prevents it."""

    celsius: float | None
    problem: TemperatureProblem | None = None


def _value_and_unit(state: State) -> tuple[Any, Any]:
    """The raw temperature and its unit: a weather entity keeps both in attributes."""
    if state.domain == "weather":
        return (
            state.attributes.get(ATTR_WEATHER_TEMPERATURE),
            state.attributes.get(ATTR_WEATHER_TEMPERATURE_UNIT),
        )
    return state.state, state.attributes.get(ATTR_UNIT_OF_MEASUREMENT)


def _is_temperature_unit(unit: Any) -> bool:
    return unit in TemperatureConverter.VALID_UNITS


def read_temperature(state: State | None) -> TemperatureReading:
    """Return the state's temperature in °C, or why there is none usable."""
    if state is None:
        return TemperatureReading(None, TemperatureProblem.MISSING)
    value, unit = _value_and_unit(state)
    try:
        number = float(value)
    except TypeError, ValueError:
        return TemperatureReading(None, TemperatureProblem.NO_VALUE)
    except OverflowError:  # an attribute's int beyond any float (a weather entity's bug)
        return TemperatureReading(None, TemperatureProblem.IMPLAUSIBLE)
    if not _is_temperature_unit(unit):
        return TemperatureReading(None, TemperatureProblem.NOT_A_TEMPERATURE)
    celsius = TemperatureConverter.convert(number, unit, UnitOfTemperature.CELSIUS)
    if not (math.isfinite(celsius) and MIN_TEMPERATURE_C <= celsius <= MAX_TEMPERATURE_C):
        return TemperatureReading(None, TemperatureProblem.IMPLAUSIBLE)
    return TemperatureReading(celsius)


def outdoor_temperature(hass: HomeAssistant, entity_id: str) -> float | None:
    """Return the entity's temperature in °C, or None while it has no usable value."""
    return read_temperature(hass.states.get(entity_id)).celsius


def temperature_entity_error(state: State | None, *, kept: bool = False) -> str | None:
    """The options form's error for an entity that cannot give a temperature, else None.

    A sensor needs a temperature unit (it may be unavailable right now); a weather entity a
    temperature attribute, which an unavailable one does not show (nor its unit): a weather
    entity newly chosen must show that it gives a temperature. The entity `kept` from the
    options was judged when chosen: while it gives no value it is judged only by a unit it
    still shows, so a weather service that is down does not block the other options. A unit
    that is no longer a temperature, or an entity gone, is still refused.
    """
    if state is None:
        return "entity_not_found"
    if state.domain not in ("sensor", "weather"):
        return "not_a_temperature"
    value, unit = _value_and_unit(state)
    if kept and read_temperature(state).problem is TemperatureProblem.NO_VALUE:
        return None if unit is None or _is_temperature_unit(unit) else "not_a_temperature"
    if not _is_temperature_unit(unit) or (state.domain == "weather" and value is None):
        return "not_a_temperature"
    return None


# The entries (and their entity) whose issue was up when they unloaded: raised again at once when
# they set up again (a reload) with the same entity still broken
RAISED_BEFORE: HassKey[set[tuple[str, str]]] = HassKey(f"{DOMAIN}_temperature_issue_raised")


class OutdoorTemperature:
    """Watches the chosen entity and owns the repair issue shown while it gives no temperature.

    A unit that is not a temperature is raised at once (it will not fix itself); a missing,
    unavailable or implausible value only ISSUE_AFTER after the entity's state became so (its
    `last_updated`, when its value or attributes last changed: a weather entity's temperature is
    an attribute, which moves no `last_changed`; a missing entity's since it was first seen
    missing). So a reload (the options saved) raises the issue again at once for an entity as
    broken as before, not an hour later; one whose wrong values keep moving (a Kelvin template
    labelled °C) has a recent `last_updated`, so an issue raised before the reload is noted
    (`RAISED_BEFORE`) and raised again at once while the entity is still broken.
    After a restart the states are new and the hour counts from the start, as it should: the
    entity's integration may not have loaded yet. The issue goes away as soon as a usable
    temperature arrives, and when the entry unloads. It names the entry as it is named now: a
    rename (which reloads nothing) raises it again under the new name.
    """

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry, entity_id: str) -> None:
        """Prepare; nothing is watched before `async_start`."""
        self._hass = hass
        self._entity_id = entity_id
        self._entry_id = entry.entry_id
        self._entry_title = entry.title  # names the entry whose options chose the entity
        self._issue_id = issue_id(ISSUE_PREFIX, entry.entry_id)
        self._problem: TemperatureProblem | None = None
        self._raised: TemperatureProblem | None = None
        self._unsub_wait: CALLBACK_TYPE | None = None

    @callback
    def async_start(self, *, raised_before: bool = False) -> CALLBACK_TYPE:
        """Check the entity now and on every change; return the function that stops it.

        `raised_before`: its issue was up when the entry unloaded (a reload): raised again at
        once, unless the entity gives a temperature now.
        """
        unsub_state = async_track_state_change_event(
            self._hass, self._entity_id, self._async_state_changed
        )
        unsub_entry = async_dispatcher_connect(
            self._hass, SIGNAL_CONFIG_ENTRY_CHANGED, self._async_entry_changed
        )
        state = self._hass.states.get(self._entity_id)
        if raised_before:
            self._raised = read_temperature(state).problem
        self._async_check(state)

        @callback
        def stop() -> None:
            unsub_state()
            unsub_entry()
            self._async_cancel_wait()
            if self._raised is not None:
                self._hass.data.setdefault(RAISED_BEFORE, set()).add(
                    (self._entry_id, self._entity_id)
                )
            ir.async_delete_issue(self._hass, DOMAIN, self._issue_id)

        return stop

    @callback
    def _async_state_changed(self, event: Event[EventStateChangedData]) -> None:
        self._async_check(event.data["new_state"])

    @callback
    def _async_entry_changed(self, _change: ConfigEntryChange, entry: ConfigEntry) -> None:
        """An entry changed: this one renamed, the issue raised names it anew."""
        if entry.entry_id != self._entry_id or entry.title == self._entry_title:
            return
        self._entry_title = entry.title
        if self._raised is not None:
            self._async_raise(self._raised)

    @callback
    def _async_check(self, state: State | None) -> None:
        """Raise, update or delete the repair issue for the entity's new state."""
        self._problem = read_temperature(state).problem
        if self._problem is None:
            self._async_cancel_wait()
            self._raised = None
            ir.async_delete_issue(self._hass, DOMAIN, self._issue_id)
        elif self._problem is TemperatureProblem.NOT_A_TEMPERATURE or self._raised is not None:
            self._async_cancel_wait()
            self._async_raise(self._problem)
        elif self._unsub_wait is None:
            since = dt_util.utcnow() if state is None else state.last_updated
            self._async_wait(self._problem, since)

    @callback
    def _async_wait(self, problem: TemperatureProblem, since: datetime) -> None:
        """Raise the issue ISSUE_AFTER after `since`, when `problem` began (at once if past)."""
        left = since + ISSUE_AFTER - dt_util.utcnow()
        if left > timedelta(0):
            self._unsub_wait = async_call_later(self._hass, left, self._async_waited)
        else:
            self._async_raise(problem)

    @callback
    def _async_waited(self, _now: datetime) -> None:
        """The problem lasted ISSUE_AFTER: tell the user."""
        self._unsub_wait = None
        assert self._problem is not None  # a usable temperature cancels the wait
        self._async_raise(self._problem)

    @callback
    def _async_raise(self, problem: TemperatureProblem) -> None:
        """Create the issue, or update it when the problem changed (unchanged: no-op in HA)."""
        self._raised = problem
        placeholders = {"entity_id": self._entity_id, "entry": self._entry_title}
        if problem is TemperatureProblem.IMPLAUSIBLE:
            placeholders |= self._plausible_range()
        async_warn(self._hass, self._issue_id, f"{ISSUE_PREFIX}_{problem}", placeholders)

    def _plausible_range(self) -> dict[str, str]:
        """The plausible temperatures in Home Assistant's unit, as the issue names them.

        A home set to °F reads "outside -112 °F to 158 °F" about its own sensor in °F.
        """
        unit = self._hass.config.units.temperature_unit

        def degrees(celsius: float) -> str:
            converted = TemperatureConverter.convert(celsius, UnitOfTemperature.CELSIUS, unit)
            return f"{round(converted)} {unit}"

        return {"lowest": degrees(MIN_TEMPERATURE_C), "highest": degrees(MAX_TEMPERATURE_C)}

    @callback
    def _async_cancel_wait(self) -> None:
        if self._unsub_wait is not None:
            self._unsub_wait()
            self._unsub_wait = None


@callback
def async_forget_outdoor_temperature(hass: HomeAssistant, entry_id: str) -> None:
    """Forget what was noted of a removed entry's issue (`RAISED_BEFORE`)."""
    raised_before = hass.data.get(RAISED_BEFORE, set())
    raised_before -= {watched for watched in raised_before if watched[0] == entry_id}


@callback
def async_watch_outdoor_temperature(hass: HomeAssistant, entry: ConfigEntry) -> CALLBACK_TYPE:
    """Watch the entry's temperature entity, if it has one; return the function that stops it.

    An issue an earlier release raised under the entry's id in full goes either way, and so does
    what was noted of the entry before a reload (`RAISED_BEFORE`), but of the entity watched now.
    """
    async_delete_unhashed(hass, ISSUE_PREFIX, entry.entry_id)
    entity_id = entry.options.get(CONF_TEMPERATURE_ENTITY)
    raised_before = hass.data.setdefault(RAISED_BEFORE, set())
    noted = {watched for watched in raised_before if watched[0] == entry.entry_id}
    raised_before -= noted
    if entity_id:
        watcher = OutdoorTemperature(hass, entry, entity_id)
        return watcher.async_start(raised_before=(entry.entry_id, entity_id) in noted)
    return lambda: None
