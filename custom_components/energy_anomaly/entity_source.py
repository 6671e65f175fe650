"""Home Assistant entities as the source: one home fed by a power sensor the user already has.

Any meter Home Assistant knows (a P1 dongle, a Shelly, a Pulse through core `tibber`, ...) can
feed the detector this way, with no account and no connection of the integration's own. Units are
converted with Home Assistant's own converters.

Readings go out on a fixed clock (every SAMPLE_INTERVAL), each with the power sensor's mean over
the interval weighted by how long each value held. A sensor that reports on change (a Shelly,
ESPHome, Zigbee) sends a burst of states while a load switches and none while the power holds,
and the detector weighs every reading alike: a reading per state would make the burst count
many times over and a steady hour count once. The optional production, voltage and current
sensors are read as they are at each sample. A steady home therefore stays available (the sink
calls a home silent for a minute unavailable).

A sensor whose integration froze without going unavailable still reports its value now and then
(Home Assistant's `last_reported`); one that reported nothing for STALLED_AFTER gives no value, so
the detector learns no hours of a value that is no longer measured, and the home is unavailable
with a repair issue until it reports again (one holding 0 W while the production sensor reports a
production counts that report as its own). A value outside what a home can draw (a sensor in W
that calls itself kW) gives none either. A power far below 0 W with Power is net off is a net
meter's: until the entry reloads it is split as one (with a repair issue), its production sensor,
if one was chosen, giving the production.

An entity that is missing, unavailable or `unknown`, not a number, in a wrong unit, stalled or
implausible gives no value: one log line, and a repair issue while it lasts. Without a power
value there is no reading at all, and the home is unavailable until the power sensor is valid
again. A sensor without a value (missing, unavailable or `unknown`) is judged only once it has
had none for DROP_GRACE: a Wi-Fi sensor drops for seconds while it reconnects, and just after
Home Assistant started its integration may not have reached it yet. A production sensor
unavailable or `unknown` gets SLEEPING_INVERTER_GRACE: its inverter may sleep every night.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
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
    CONF_POWER_IS_NET,
    CONF_PRICE_ENTITY,
    CONF_PRODUCTION_ENTITY,
    CONF_TEMPERATURE_ENTITY,
    CONF_VOLTAGE_ENTITIES,
    DOMAIN,
    ISSUE_ENTITY,
    LOGGER,
)
from .detector.config import GRID_120_V
from .detector.grid import PHASE_VOLTAGE_V, grid_of_phase
from .detector.model import Reading
from .detector.validation import (
    MAX_CURRENT_A,
    MAX_POWER_W,
    MAX_VOLTAGE_V,
    PRODUCTION_STANDBY_W,
    as_production,
)
from .issues import async_delete_unhashed, async_warn, issue_id
from .source import ReadingSink

# Readings go out this often: as often as the benchmarks' homes are sampled (the detector is
# measured at 10 s) or more, and well inside the sink's 60 s staleness.
SAMPLE_INTERVAL: Final = timedelta(seconds=5)
# Samples are timed by the event loop's monotonic clock, readings stamped by the host's: when
# that moved on this much more than SAMPLE_INTERVAL between two samples, the host's clock was
# stepped forward (NTP setting a Pi's clock after it booted), or the host was suspended or too
# busy to run its timers. Far below the detector's shortest gap (10 minutes).
PAUSED_BY: Final = timedelta(minutes=1)
# A sensor missing, unavailable or `unknown` is judged only once it has been so for this long (no
# log line, no repair issue, no unavailable home before; no reading from it either): an ESPHome or
# Shelly sensor drops for seconds while its Wi-Fi reconnects, and just after Home Assistant
# started the sensors of integrations that reach their devices once loaded (an ESPHome device
# connecting, an MQTT sensor before its first message) have no value yet. Inside the sink's
# STALE_AFTER, so a sensor that does not come back is still named when the home is logged.
DROP_GRACE: Final = timedelta(seconds=30)
# A production sensor without a value is told only after this: many inverters' integrations
# (Fronius, SolarEdge and SMA over Modbus) go unavailable every night while the inverter sleeps.
SLEEPING_INVERTER_GRACE: Final = timedelta(hours=24)
# A sensor that has given no value since the start is told only after this: a meter may report
# every 5 minutes, and an MQTT sensor without a retained message has none until it does.
FIRST_VALUE_GRACE: Final = timedelta(minutes=6)
# A value from this low limit up to the 120 V band's (V) is refused with its own message: it is
# what a 120 V phase reads while it sags (a heavy load on a long line: ANSI C84.1 keeps a service
# at 110 V or more, an outlet lower) and what Japan's 100 V grid reads (101 ± 6 V, 95-107 V), and
# one reading cannot tell them apart. Taken for a 120 V phase, a 100 V grid would be in
# undervoltage for good; named a sensor of no grid, a US phase that is merely low now would
# confuse: the message says both, and to save again once a 120 V phase reads 108 V or more.
BELOW_A_120_V_PHASE_V: Final = (95.0, PHASE_VOLTAGE_V[GRID_120_V][0])
# A power sensor that reported nothing, not even its unchanged value, for this long has stalled.
# Long, because some integrations write a state only when it changes (MQTT without force_update:
# its `last_reported` stands still while the value holds), and a coarse sensor (0.1 kW steps)
# can hold one value through a quiet night; a whole home's power does not hold for six hours.
STALLED_AFTER: Final = timedelta(hours=6)


@dataclass(frozen=True, slots=True)
class Quantity:
    """What a chosen entity measures: its device class, converter, unit and plausible range.

    `limit` is the largest magnitude in `unit` a home's meter can report (the detector's bound).
    """

    name: str
    device_class: SensorDeviceClass
    converter: type[BaseUnitConverter]
    unit: str
    limit: float


POWER: Final = Quantity(
    "power", SensorDeviceClass.POWER, PowerConverter, UnitOfPower.WATT, MAX_POWER_W
)
VOLTAGE: Final = Quantity(
    "voltage",
    SensorDeviceClass.VOLTAGE,
    ElectricPotentialConverter,
    UnitOfElectricPotential.VOLT,
    MAX_VOLTAGE_V,
)
CURRENT: Final = Quantity(
    "current",
    SensorDeviceClass.CURRENT,
    ElectricCurrentConverter,
    UnitOfElectricCurrent.AMPERE,
    MAX_CURRENT_A,
)

# Every entity a home can be fed by: its key in the entry's data, and what it measures.
ENTITY_QUANTITIES: Final[Mapping[str, Quantity]] = {
    CONF_POWER_ENTITY: POWER,
    CONF_PRODUCTION_ENTITY: POWER,
    **dict.fromkeys(CONF_VOLTAGE_ENTITIES, VOLTAGE),
    **dict.fromkeys(CONF_CURRENT_ENTITIES, CURRENT),
}


class EntityProblem(StrEnum):
    """Why an entity gives no value (also the repair issue's translation key suffix).

    STALLED is judged of the power sensor only, BELOW_ZERO of the power sensor (not net) and the
    production sensor.
    """

    MISSING = "missing"
    UNAVAILABLE = "unavailable"
    NOT_NUMERIC = "not_numeric"
    WRONG_UNIT = "wrong_unit"
    IMPLAUSIBLE = "implausible"
    STALLED = "stalled"
    BELOW_ZERO = "below_zero"


# What a sensor that dropped, or whose integration has not given it a value yet, reads as.
NO_VALUE_YET: Final = frozenset({EntityProblem.MISSING, EntityProblem.UNAVAILABLE})


def _drop_grace(key: str, state: State | None) -> timedelta:
    """How long the entity of `key` may have no value before it is told.

    A production sensor unavailable (not removed) may be a sleeping inverter's.
    """
    if key == CONF_PRODUCTION_ENTITY and state is not None:
        return SLEEPING_INVERTER_GRACE
    return DROP_GRACE


PROBLEM_TEXT: Final = {
    EntityProblem.MISSING: "does not exist",
    EntityProblem.UNAVAILABLE: "is unavailable or unknown",
    EntityProblem.NOT_NUMERIC: "is not a number",
    EntityProblem.WRONG_UNIT: "is not in a unit of {quantity}",
    EntityProblem.IMPLAUSIBLE: "reports a value no home draws (is its unit right?)",
    EntityProblem.STALLED: "has reported nothing for six hours",
    EntityProblem.BELOW_ZERO: "reads far below 0 W (is it a net meter's power?)",
}


def issue_translation_key(problem: EntityProblem, key: str) -> str:
    """The repair issue's translation key for `problem` with the entity chosen as `key`.

    The power sensor's keys say the home has no readings meanwhile; any other sensor's, that only
    its value is left out. A wrong unit of another sensor names its quantity in the key. Keys, not
    placeholders: a placeholder would put English words into every language's sentence.
    """
    if key == CONF_POWER_ENTITY:
        return f"{CONF_POWER_ENTITY}_{problem}"
    if problem is EntityProblem.WRONG_UNIT:
        return f"{ISSUE_ENTITY}_{problem}_{ENTITY_QUANTITIES[key].name}"
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
        number = math.nan
    if not math.isfinite(number):
        return EntityValue(None, EntityProblem.NOT_NUMERIC)
    unit = state.attributes.get(ATTR_UNIT_OF_MEASUREMENT)
    if unit not in quantity.converter.VALID_UNITS:
        return EntityValue(None, EntityProblem.WRONG_UNIT)
    value = quantity.converter.convert(number, unit, quantity.unit)
    if abs(value) > quantity.limit:
        return EntityValue(None, EntityProblem.IMPLAUSIBLE)
    return EntityValue(value)


def production_of(read: EntityValue, signed: bool = False) -> EntityValue:
    """A production sensor's value, with what below 0 W means (`PRODUCTION_STANDBY_W`).

    Its inverter's standby (a few W below 0) is no production (`as_production`); further below,
    the sensor is signed like a grid meter's net power (negative while the home exports). Once
    it was seen so (`signed`), its values above 0 are no production either (the home's import):
    a problem until the entry reloads, not one that comes and goes with every passing cloud.
    """
    if read.value is None:
        return read
    if signed or read.value < -PRODUCTION_STANDBY_W:
        return EntityValue(None, EntityProblem.BELOW_ZERO)
    return EntityValue(as_production(read.value))


@dataclass(slots=True)
class TimeWeightedMean:
    """The mean of a value between two samples, each value weighted by how long it held.

    `change` is called when the value changes (None: the sensor gave none, which counts for no
    time), `take` at each sample. A value that held through a whole interval comes back exactly
    as it was, not as a sum divided by a duration, so the meter-fault checks still see an exact
    0 W or a frozen value. Times are epoch seconds.
    """

    value: float | None = None
    since: float = 0.0
    area: float = 0.0  # value x seconds
    span: float = 0.0  # seconds with a value
    held: list[float] = field(default_factory=list)  # the values that held, up to two

    def change(self, value: float | None, at: float) -> None:
        """The value is `value` from `at` on."""
        self._close(at)
        self.value = value

    def take(self, at: float) -> float | None:
        """The mean since the last sample (or the value now, if no time passed), and start anew."""
        self._close(at)
        if not self.span:
            mean = self.value
        elif len(self.held) == 1:
            mean = self.held[0]
        else:
            mean = self.area / self.span
        self.area = self.span = 0.0
        self.held = []
        return mean

    def _close(self, at: float) -> None:
        """Count the current value for the time since it was set or last counted."""
        if self.value is not None and at > self.since:
            seconds = at - self.since
            self.area += self.value * seconds
            self.span += seconds
            if self.value not in self.held and len(self.held) < 2:
                self.held.append(self.value)
        self.since = at  # also when the host's clock went back: the value counts from then on


def entity_error(state: State | None, quantity: Quantity) -> str | None:
    """The config form's error for an entity that cannot give `quantity`, else None.

    It must be a sensor in a unit of the quantity; it may be unavailable right now. A voltage
    it reads must be a 230 V or a 120 V phase's (`PHASE_VOLTAGE_V`); one just below a 120 V
    phase's (BELOW_A_120_V_PHASE_V) has a message of its own.
    """
    if state is None:
        return "entity_not_found"
    unit = state.attributes.get(ATTR_UNIT_OF_MEASUREMENT)
    if state.domain != "sensor" or unit not in quantity.converter.VALID_UNITS:
        return f"not_{quantity.name}"
    volts = read_entity(state, VOLTAGE).value if quantity is VOLTAGE else None
    if volts is None or phase_grid(state) is not None:
        return None
    low, high = BELOW_A_120_V_PHASE_V
    return "below_a_120_v_phase" if low <= volts < high else "not_a_phase_voltage"


def phase_grid(state: State | None) -> float | None:
    """The grid (its nominal, V) whose phase a voltage sensor reads now.

    None when it reads no value (unavailable, ...: nothing to tell), or a value of no grid.
    """
    volts = read_entity(state, VOLTAGE).value
    return None if volts is None else grid_of_phase(volts)


# Entities chosen in the options (for any source): followed when renamed, like the sensors.
OPTION_ENTITIES: Final = (CONF_TEMPERATURE_ENTITY, CONF_PRICE_ENTITY)


def chosen_entities(data: Mapping[str, Any]) -> dict[str, str]:
    """The entities an entry's data chose, key → entity id (the unchosen left out)."""
    return {key: data[key] for key in ENTITY_QUANTITIES if data.get(key)}


# The optional quantity (see runner.reported_quantities) each optional sensor's key gives.
QUANTITY_OF: Final[Mapping[str, str]] = {
    CONF_PRODUCTION_ENTITY: "power_production",
    **{key: f"voltage_l{phase}" for phase, key in enumerate(CONF_VOLTAGE_ENTITIES, 1)},
    **{key: f"current_l{phase}" for phase, key in enumerate(CONF_CURRENT_ENTITIES, 1)},
}


def reportable_quantities(data: Mapping[str, Any]) -> frozenset[str]:
    """The optional quantities an entry's chosen sensors can give (a net power sensor: production).

    A quantity a sensor left out under Reconfigure reported before is not one of them: stored
    with what the home learned, its entity would come back and show unknown for good.
    """
    quantities = {QUANTITY_OF[key] for key in chosen_entities(data) if key in QUANTITY_OF}
    if data.get(CONF_POWER_IS_NET):
        quantities.add(QUANTITY_OF[CONF_PRODUCTION_ENTITY])
    return frozenset(quantities)


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
        self._problems: dict[str, EntityProblem] = {}  # by the entity's key (its role)
        self._power = TimeWeightedMean()
        self._last_sent: datetime | None = None
        self._last_sample: datetime | None = None  # by the host's clock
        self._resumed: datetime | None = None  # when the host last ran its timers again
        self._clock_back: datetime | None = None  # when the host's clock last went back
        # Whether the production sensor was seen far below 0 W since the entry loaded: a net
        # meter's, whose import is no production either (`production_of`)
        self._signed_production = False
        # Whether the power sensor was seen far below 0 W with Power is net off since the entry
        # loaded: a net meter's, split as one meanwhile (`_async_send`)
        self._signed_power = False
        self._missing: dict[str, datetime] = {}  # by key: since when its entity is missing
        self._gave_state: set[str] = set()  # keys whose entity has given a state since the start
        self._started: datetime | None = None  # when Home Assistant had started
        self._sink: ReadingSink | None = None
        self._unsubs: list[CALLBACK_TYPE] = []

    async def async_start(self, sink: ReadingSink) -> None:
        """Send a reading once Home Assistant has started, then every SAMPLE_INTERVAL.

        While Home Assistant starts, the sensors' own integrations may not be loaded yet: judging
        them then would log and raise a repair issue at every restart for nothing. Nor, for
        DROP_GRACE, one still without a value once it has started.
        """
        self._sink = sink
        for key in self._entities:
            async_delete_unhashed(self._hass, ISSUE_ENTITY, self._home_id, key)
        self._unsubs = [
            async_track_state_change_event(
                self._hass, self._power_entity, self._async_power_changed
            ),
            async_track_time_interval(self._hass, self._async_sample, SAMPLE_INTERVAL),
            async_at_started(self._hass, self._async_started),
        ]

    @callback
    def _async_started(self, _hass: HomeAssistant) -> None:
        """Send the power as it is now, and weigh it from now on (not the states of the start)."""
        now = self._started = dt_util.utcnow()
        self._power = TimeWeightedMean(self._async_power_now(), now.timestamp())
        self._async_send(self._power.take(now.timestamp()), now)

    @callback
    def _async_power_changed(self, event: Event[EventStateChangedData]) -> None:
        """Weigh the power sensor's new value from now on (None while it gives none)."""
        value = read_entity(event.data["new_state"], POWER).value
        self._power.change(value, dt_util.utcnow().timestamp())

    @callback
    def _async_sample(self, _now: datetime) -> None:
        """Send the power's weighted mean since the last sample, if the sensor gives a value now."""
        now = dt_util.utcnow()
        assert self._sink is not None  # started
        if self._last_sample is not None:
            if now - self._last_sample > SAMPLE_INTERVAL + PAUSED_BY:
                self._resumed = now
                self._sink.async_host_resumed(self._home_id, now)
            elif now < self._last_sample:  # the clock went back: what it showed before is ahead
                self._clock_back = now
        self._last_sample = now
        self._async_send(self._power.take(now.timestamp()), now)

    @callback
    def _async_power_now(self) -> float | None:
        """The power sensor's value now, or None (noting why: missing, broken or stalled).

        Its silence counts while this host ran its timers: after a pause (its clock stepped
        forward, as NTP sets a Pi's clock after a boot without one), from the end of the pause.
        """
        state = self._hass.states.get(self._power_entity)
        read = read_entity(state, POWER)
        if not self._net and read.value is not None and read.value < -PRODUCTION_STANDBY_W:
            self._signed_power = True
        if state is not None and read.problem is None:
            last = state.last_reported
            if read.value == 0.0 and (producing := self._producing_state()) is not None:
                last = max(last, producing.last_reported)
            if dt_util.utcnow() - max(last, self._resumed or last) > STALLED_AFTER:
                read = EntityValue(None, EntityProblem.STALLED)
        if read.value is not None and self._signed_power:
            # A net meter's power with Power is net off: split as one (`_async_send`)
            self._async_note(CONF_POWER_ENTITY, EntityProblem.BELOW_ZERO, state)
        else:
            self._async_note(CONF_POWER_ENTITY, read.problem, state)
        return read.value

    def _producing_state(self) -> State | None:
        """The production sensor's state while it reads a production above 0, else None.

        An import sensor written only on change (MQTT) holds 0 W through a day the panels cover
        the home: while they report a production, that 0 is measured, not a stalled meter's.
        """
        entity_id = self._entities.get(CONF_PRODUCTION_ENTITY)
        state = None if entity_id is None else self._hass.states.get(entity_id)
        read = production_of(
            read_entity(state, ENTITY_QUANTITIES[CONF_PRODUCTION_ENTITY]), self._signed_production
        )
        return state if read.value is not None and read.value > 0 else None

    @callback
    def _async_send(self, mean: float | None, now: datetime) -> None:
        """Push a reading with power `mean` (the value now if None), or say the home has none."""
        assert self._sink is not None  # started
        if self._hass.state is not CoreState.running:
            return
        current = self._async_power_now()
        if current is None:
            # Judged (not a sensor that may come back); a net meter's kept problem had a value
            problem = self._problems.get(CONF_POWER_ENTITY)
            if problem is not None and problem is not EntityProblem.BELOW_ZERO:
                self._sink.async_source_down(self._home_id, self._problem_text(CONF_POWER_ENTITY))
            return
        # + 0.0: a sensor's "-0.0" (a template rounding a drift below 0) shows "0.0"
        power = (current if mean is None else mean) + 0.0
        production = self._async_value(CONF_PRODUCTION_ENTITY)
        if production is not None:
            production += 0.0
        if self._net or self._signed_power:
            # 0.0 first: max keeps the first of equals, and -0.0 == 0.0 shows "-0 W". A net
            # meter taken without Power is net keeps its production sensor's value, if it gives
            # one: else the export the meter reads is what is known of the production.
            exported = max(0.0, -power)
            power = max(0.0, power)
            if self._net or production is None:
                production = exported
        reading = Reading(
            timestamp=dt_util.as_local(now),
            power=power,
            power_production=production,
            voltage=self._async_phases(CONF_VOLTAGE_ENTITIES),
            current=self._async_phases(CONF_CURRENT_ENTITIES),
        )
        self._last_sent = now
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
        state = self._hass.states.get(entity_id)
        read = read_entity(state, ENTITY_QUANTITIES[key])
        if key == CONF_PRODUCTION_ENTITY:
            read = production_of(read, self._signed_production)
            self._signed_production |= read.problem is EntityProblem.BELOW_ZERO
        self._async_note(key, read.problem, state)
        return read.value

    def _may_come_back(self, key: str, problem: EntityProblem | None, state: State | None) -> bool:
        """Whether the entity of `key` has had no value for less than its grace (`_drop_grace`).

        Since its state became unavailable or `unknown` (Home Assistant's `last_changed`: right
        even when it was not looked at meanwhile, as the other sensors are not while the power
        sensor gives nothing), or since it was first seen missing; and at the earliest since
        Home Assistant started (a slow start on a Pi may take longer than the grace), or since
        the host's clock stepped (NTP setting a Pi's clock hours on while its sensors still
        connect). A time the clock shows as ahead, as it went back since, does not count. One
        that has given no state since the start waits at least FIRST_VALUE_GRACE.
        """
        if problem not in NO_VALUE_YET:
            self._missing.pop(key, None)
            self._gave_state.add(key)
            return False
        now = dt_util.utcnow()
        if state is not None:
            self._missing.pop(key, None)
            since = state.last_changed
        else:
            since = self._missing.setdefault(key, now)
        begun = [
            t
            for t in (since, self._started, self._resumed, self._clock_back)
            if t is not None and t <= now
        ]
        grace = _drop_grace(key, state)
        if key not in self._gave_state:
            grace = max(grace, FIRST_VALUE_GRACE)
        return now - max(begun, default=now) < grace

    def _problem_text(self, key: str) -> str:
        """What is wrong with the entity of `key`, as a log line says it."""
        text = PROBLEM_TEXT[self._problems[key]]
        return f"{self._entities[key]} {text.format(quantity=ENTITY_QUANTITIES[key].name)}"

    def _issue_id(self, key: str) -> str:
        """The repair issue's id: named by the entity's role, as the id may name an address."""
        return issue_id(ISSUE_ENTITY, self._home_id, key)

    @callback
    def _async_note(self, key: str, problem: EntityProblem | None, state: State | None) -> None:
        """Log and raise a repair issue when an entity's problem starts or changes; clear it after.

        The power sensor's problem is logged by the sink, which marks the home unavailable (but
        a net meter's, whose readings go on). A sensor without a value is judged only after its
        grace (`_may_come_back`): it may come back.
        """
        entity_id = self._entities[key]
        if self._may_come_back(key, problem, state) or self._problems.get(key) is problem:
            return
        if problem is None:
            del self._problems[key]
            ir.async_delete_issue(self._hass, DOMAIN, self._issue_id(key))
            if key != CONF_POWER_ENTITY:
                LOGGER.info("%s gives a value for %s again", entity_id, self._home_name)
            return
        self._problems[key] = problem
        if key != CONF_POWER_ENTITY:
            LOGGER.warning(
                "%s: %s; readings go without it", self._home_name, self._problem_text(key)
            )
        elif problem is EntityProblem.BELOW_ZERO:  # the home goes on: the sink says nothing
            LOGGER.warning(
                "%s: %s; its values below 0 W are read as 0 W drawn until Power is net is on",
                self._home_name,
                self._problem_text(key),
            )
        async_warn(
            self._hass,
            self._issue_id(key),
            issue_translation_key(problem, key),
            {"entity_id": entity_id, "home": self._home_name},
        )

    async def async_stop(self) -> None:
        """Stop watching the entities and withdraw their repair issues."""
        for unsub in self._unsubs:
            unsub()
        self._unsubs = []
        for key in self._problems:
            ir.async_delete_issue(self._hass, DOMAIN, self._issue_id(key))
        self._problems = {}

    def diagnostics(self) -> dict[str, Any]:
        """The chosen entities by key, the keys of those giving no value, and the last reading."""
        return {
            "source": "entity",
            "entities": dict(self._entities),
            "problems": {key: str(problem) for key, problem in self._problems.items()},
            "last_sent": self._last_sent,
        }


@callback
def async_follow_renames(hass: HomeAssistant, entry: ConfigEntry) -> CALLBACK_TYPE:
    """Keep the entry's sensors when the user renames one (a new entity id): reload with it.

    Without this a renamed power sensor would look removed, and the home would stop until the
    user chose it again; a renamed outdoor temperature or price (chosen in the options, for any
    entry) would be left out, and the always-on cost go unknown. The entry is unique per power
    sensor, so its unique id follows too.

    Each rename starts from the entry as it is then, not as it was set up: renaming a device
    renames its entities one after another before the first reload has run, and a later rename
    must not put back the id an earlier one replaced.
    """

    def options_chosen() -> dict[str, str]:
        return {key: entry.options[key] for key in OPTION_ENTITIES if entry.options.get(key)}

    @callback
    def _async_renamed(event: Event[EventEntityRegistryUpdatedData]) -> None:
        event_data = event.data
        if event_data["action"] != "update" or "old_entity_id" not in event_data:
            return
        old, new = event_data["old_entity_id"], event_data["entity_id"]

        def renamed(chosen: Mapping[str, str]) -> dict[str, str]:
            return {key: new if was == old else was for key, was in chosen.items()}

        data, options = renamed(chosen_entities(entry.data)), renamed(options_chosen())
        LOGGER.info("%s was renamed to %s", old, new)
        hass.config_entries.async_update_entry(
            entry,
            data={**entry.data, **data},
            options={**entry.options, **options},
            unique_id=data.get(CONF_POWER_ENTITY, entry.unique_id),
        )
        hass.config_entries.async_schedule_reload(entry.entry_id)

    watched = {*chosen_entities(entry.data).values(), *options_chosen().values()}
    return async_track_entity_registry_updated_event(hass, watched, _async_renamed)
