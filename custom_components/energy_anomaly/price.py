"""The electricity price the user chose in the options: any sensor priced per unit of energy.

Core Tibber's and Nord Pool's price sensors say e.g. "NOK/kWh" or "EUR/MWh": a currency, a slash
and an energy unit. The price is taken per kWh in that currency. A spot price moves each hour (by
a factor of three within a day is common), so a yearly cost at this hour's price would swing as
much: the cost uses the time-weighted mean of the price the recorder kept over the last
PRICE_MEAN_DAYS, one query of a few hundred states an hour; the current price while the recorder
has none.

A Tibber account's home without a chosen price entity uses Tibber's own price for it: the mean of
today's prices (and tomorrow's, once published), as pyTibber read them with the home's info (at
setup and with the hourly listing of the account's homes).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
import math
from typing import Final

from homeassistant.components.recorder import get_instance, history
from homeassistant.const import ATTR_UNIT_OF_MEASUREMENT, UnitOfEnergy
from homeassistant.core import HomeAssistant, State
from homeassistant.util import dt as dt_util
from homeassistant.util.unit_conversion import EnergyConverter
from sqlalchemy.exc import SQLAlchemyError
import tibber

from .const import LOGGER

# The price's mean is over this many days: a week of weekdays and a weekend.
PRICE_MEAN_DAYS: Final = 7


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


def mean_price(states: Sequence[State], start: datetime, end: datetime) -> Price | None:
    """The time-weighted mean price of `states` (oldest first) between `start` and `end`.

    Each state holds from its `last_changed` (at the earliest `start`) to the next state's. Only
    the time with a price in the latest price's currency counts; None when there is none.
    """
    prices = [read_price(state) for state in states]
    currencies = [price.currency for price in prices if price is not None]
    if not currencies:
        return None
    bounds = [max(state.last_changed, start) for state in states[1:]] + [end]
    weighted = seconds = 0.0
    for state, price, until in zip(states, prices, bounds, strict=True):
        if price is None or price.currency != currencies[-1]:
            continue
        held = (until - max(state.last_changed, start)).total_seconds()
        weighted += price.per_kwh * held
        seconds += held
    if seconds <= 0:
        return None
    return Price(weighted / seconds, currencies[-1])


async def async_recorded_mean_price(hass: HomeAssistant, entity_id: str) -> Price | None:
    """The entity's mean price over the last PRICE_MEAN_DAYS as recorded; None without any."""
    if "recorder" not in hass.config.components:
        return None
    end = dt_util.utcnow()
    start = end - timedelta(days=PRICE_MEAN_DAYS)
    try:
        found = await get_instance(hass).async_add_executor_job(
            history.state_changes_during_period, hass, start, end, entity_id
        )
    except SQLAlchemyError as err:  # e.g. while the database is migrated: retried next hour
        LOGGER.warning("Could not read the recorded prices of %s: %s", entity_id, err)
        return None
    return mean_price(found.get(entity_id, []), start, end)


def tibber_mean_price(home: tibber.TibberHome) -> Price | None:
    """The mean of the home's Tibber prices of today (and tomorrow); None without a price."""
    totals = [total for total in home.price_total.values() if isinstance(total, int | float)]
    if not totals:
        return None
    currency = home.currency
    if not currency:
        return None
    return Price(sum(totals) / len(totals), currency)
