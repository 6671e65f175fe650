"""The electricity price the user chose in the options: any sensor priced per unit of energy.

Core Tibber's and Nord Pool's price sensors say e.g. "NOK/kWh" or "EUR/MWh": a currency, a slash
and an energy unit. The price is taken per kWh in that currency; the sensor's current state is
used (a spot price moves each hour, and so does a cost worked out from it).
"""

from dataclasses import dataclass
import math

from homeassistant.const import ATTR_UNIT_OF_MEASUREMENT, UnitOfEnergy
from homeassistant.core import State
from homeassistant.util.unit_conversion import EnergyConverter


@dataclass(frozen=True, slots=True)
class Price:
    """An electricity price: `per_kwh` in `currency` ("NOK", "EUR", ...)."""

    per_kwh: float
    currency: str


def _currency_and_energy_unit(unit: object) -> tuple[str, str] | None:
    """The currency and energy unit of a price unit like "NOK/kWh"; None for any other unit."""
    if not isinstance(unit, str):
        return None
    currency, slash, energy_unit = unit.partition("/")
    currency, energy_unit = currency.strip(), energy_unit.strip()
    if not (slash and currency and energy_unit in EnergyConverter.VALID_UNITS):
        return None
    return currency, energy_unit


def read_price(state: State | None) -> Price | None:
    """The entity's price per kWh now; None while it has none (missing, unavailable, no price)."""
    if state is None:
        return None
    units = _currency_and_energy_unit(state.attributes.get(ATTR_UNIT_OF_MEASUREMENT))
    try:
        value = float(state.state)
    except ValueError:
        return None
    if units is None or not math.isfinite(value):
        return None
    currency, energy_unit = units
    kwh_in_unit = EnergyConverter.convert(1.0, UnitOfEnergy.KILO_WATT_HOUR, energy_unit)
    return Price(value * kwh_in_unit, currency)


def price_entity_error(state: State | None) -> str | None:
    """The options form's error for an entity that gives no price per energy, else None.

    The entity may be unavailable right now; its unit must be a currency per energy unit.
    """
    if state is None:
        return "entity_not_found"
    if _currency_and_energy_unit(state.attributes.get(ATTR_UNIT_OF_MEASUREMENT)) is None:
        return "not_a_price"
    return None
