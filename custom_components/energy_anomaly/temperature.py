"""The outdoor temperature (°C) the user chose: a temperature sensor or a weather entity."""

from typing import Any

from homeassistant.components.weather import ATTR_WEATHER_TEMPERATURE, ATTR_WEATHER_TEMPERATURE_UNIT
from homeassistant.const import ATTR_UNIT_OF_MEASUREMENT, UnitOfTemperature
from homeassistant.core import HomeAssistant
from homeassistant.util.unit_conversion import TemperatureConverter


def outdoor_temperature(hass: HomeAssistant, entity_id: str) -> float | None:
    """Return the entity's temperature in °C, or None while it has no usable value."""
    state = hass.states.get(entity_id)
    if state is None:
        return None
    value: Any
    if state.domain == "weather":
        value = state.attributes.get(ATTR_WEATHER_TEMPERATURE)
        unit = state.attributes.get(ATTR_WEATHER_TEMPERATURE_UNIT)
    else:
        value = state.state
        unit = state.attributes.get(ATTR_UNIT_OF_MEASUREMENT)
    try:
        temperature = float(value)
    except TypeError, ValueError:
        return None
    if unit in (None, UnitOfTemperature.CELSIUS):
        return temperature
    return TemperatureConverter.convert(temperature, unit, UnitOfTemperature.CELSIUS)
