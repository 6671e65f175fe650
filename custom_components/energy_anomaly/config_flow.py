"""Config flow: a Tibber account (token, then homes), a home's own sensors, or the demo home."""

from collections import Counter
from collections.abc import Mapping
import math
from typing import Any, Final, override

from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
    OptionsFlowWithReload,
)
from homeassistant.const import CONF_ACCESS_TOKEN, CONF_NAME
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    EntityWithDeviceFilterSelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import probatio
import tibber

from .const import (
    CONF_CURRENT_ENTITIES,
    CONF_FUSE_SIZE,
    CONF_FUSE_SIZES,
    CONF_HOMES,
    CONF_KEPT_HOMES,
    CONF_NOMINAL_VOLTAGE,
    CONF_OFFERED_HOMES,
    CONF_POWER_ENTITY,
    CONF_POWER_IS_NET,
    CONF_PRICE_ENTITY,
    CONF_PRODUCTION_ENTITY,
    CONF_SOURCE,
    CONF_TEMPERATURE_ENTITY,
    CONF_VOLTAGE_ENTITIES,
    DEMO_UNIQUE_ID,
    DOMAIN,
    LOGGER,
    SOURCE_DEMO,
    SOURCE_ENTITY,
    SOURCE_TIBBER,
)
from .detector.config import GRIDS_V, FaultConfig
from .entity_source import (
    ENTITY_QUANTITIES,
    POWER,
    VOLTAGE,
    EntityProblem,
    chosen_entities,
    entity_error,
    phase_grid,
    production_of,
    read_entity,
)
from .live_source import CONNECTION_ERRORS, TibberAccount, async_fetch_account
from .naming import spells_nothing
from .price import price_entity_error
from .runner import fuse_of
from .runtime import EnergyAnomalyConfigEntry, homes_watched_elsewhere
from .storage import kept_homes
from .temperature import temperature_entity_error

TOKEN_SCHEMA = probatio.Schema(
    {
        probatio.Required(CONF_ACCESS_TOKEN): TextSelector(
            TextSelectorConfig(type=TextSelectorType.PASSWORD)
        )
    }
)

# What a home fed by Home Assistant sensors is called when Home Assistant's own location has no
# name; otherwise the form suggests that name, which the user gave in their language at onboarding.
DEFAULT_HOME_NAME = "Home"
# The abort reasons of a saved Reconfigure and a new token, named so that the integration's own
# texts show ("Saved; Energy Anomaly reloaded with the new settings."): left out, Home Assistant
# shows its generic "Reconfiguration was successful".
RECONFIGURED = "reconfigure_successful"
REAUTHENTICATED = "reauth_successful"


class EnergyAnomalyConfigFlow(ConfigFlow, domain=DOMAIN):
    """Add a Tibber account, a home fed by Home Assistant sensors, or the demo home.

    One entry per Tibber account (a device per home), per power sensor, and for the demo.
    """

    VERSION = 1

    _access_token: str
    _account: TibberAccount

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: EnergyAnomalyConfigEntry) -> OptionsFlow:
        """Options: an outdoor temperature entity and the main fuse size."""
        return EnergyAnomalyOptionsFlow()

    @override
    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Let the user choose a Tibber account, a home's own sensors or the demo home."""
        return self.async_show_menu(
            step_id="user", menu_options=[SOURCE_TIBBER, SOURCE_ENTITY, SOURCE_DEMO]
        )

    async def async_step_demo(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Add the demo home, which needs no account."""
        await self.async_set_unique_id(DEMO_UNIQUE_ID)
        self._abort_if_unique_id_configured()
        if user_input is None:
            return self.async_show_form(step_id=SOURCE_DEMO)
        return self.async_create_entry(title="Demo home", data={CONF_SOURCE: SOURCE_DEMO})

    async def async_step_entity(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Name a home and choose the sensors that feed it (one entry per power sensor).

        The outdoor temperature chosen here becomes the entry's option, as if set under Configure.
        A power sensor that feeds another home is said on the form, which keeps what was chosen.
        """
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = self._form_errors(user_input)
            temperature = user_input.get(CONF_TEMPERATURE_ENTITY)
            if temperature and (
                error := temperature_entity_error(self.hass.states.get(temperature))
            ):
                errors[CONF_TEMPERATURE_ENTITY] = error
            if not errors:
                await self.async_set_unique_id(user_input[CONF_POWER_ENTITY])
                self._abort_if_unique_id_configured()
                return self.async_create_entry(
                    title=_home_name(user_input),
                    data=_meter_data(self.hass, user_input),
                    options={CONF_TEMPERATURE_ENTITY: temperature} if temperature else {},
                )
        schema = _meter_schema().extend(
            {probatio.Optional(CONF_TEMPERATURE_ENTITY): _temperature_selector()}
        )
        name = self.hass.config.location_name
        if not name or spells_nothing(name):  # a name it would refuse is no suggestion
            name = DEFAULT_HOME_NAME
        return self.async_show_form(
            step_id=SOURCE_ENTITY,
            data_schema=self.add_suggested_values_to_schema(
                schema, user_input or {CONF_NAME: name}
            ),
            errors=errors,
        )

    async def async_step_entity_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Rename the home or choose other sensors for it; what it learned is kept."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = self._form_errors(user_input, entry)
            if not errors:
                return self.async_update_reload_and_abort(
                    entry,
                    unique_id=user_input[CONF_POWER_ENTITY],
                    title=_home_name(user_input),
                    data=_meter_data(self.hass, user_input, entry.data),
                    reason=RECONFIGURED,
                )
        current = user_input or {CONF_NAME: entry.title, **entry.data}
        return self.async_show_form(
            step_id="entity_reconfigure",
            data_schema=self.add_suggested_values_to_schema(_meter_schema(), current),
            errors=errors,
        )

    def _form_errors(
        self, user_input: Mapping[str, Any], this: ConfigEntry | None = None
    ) -> dict[str, str]:
        """`_meter_errors`, and a power sensor that feeds a home other than entry `this`.

        `this` is the entry reconfigured: its stored grid may be what the phases must read.
        """
        errors = _meter_errors(self.hass, user_input, None if this is None else this.data)
        power_entity = user_input[CONF_POWER_ENTITY]
        this_id = None if this is None else this.entry_id
        if not errors and any(
            other.unique_id == power_entity and other.entry_id != this_id
            for other in self._async_current_entries(include_ignore=False)
        ):
            errors[CONF_POWER_ENTITY] = "power_entity_in_use"
        return errors

    async def async_step_tibber(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for a Tibber access token and check it lists a home with a Pulse."""
        return await self._async_token_step(SOURCE_TIBBER, user_input)

    async def _async_token_step(
        self, step_id: str, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        """Check a token reaches an account with a Pulse home, then choose the homes.

        A new account must not be configured yet; a reconfigured one must stay the same account.
        Which account it is comes first: another account's token in Reconfigure is named so, even
        when that account has no Pulse either.
        """
        errors: dict[str, str] = {}
        if user_input is not None:
            token = _pasted(user_input)
            account = await self._async_reach_account(token, errors)
            adding = self.source != SOURCE_RECONFIGURE
            if account is not None:
                # Not claimed yet when adding: an account without a Pulse, whose form stays
                # open on its error, must not turn another window's try away as in progress
                await self.async_set_unique_id(account.user_id, raise_on_progress=not adding)
                if adding:
                    self._abort_if_unique_id_configured()
                else:
                    self._abort_if_unique_id_mismatch(reason="wrong_account")
            if account is not None and not _pulse_homes(account):
                errors["base"] = "no_pulse"
                if adding:
                    await self.async_set_unique_id(None)
            elif account is not None:
                if adding:  # claimed: a second window choosing this account's homes aborts
                    await self.async_set_unique_id(account.user_id)
                self._access_token = token
                self._account = account
                if not self._offerable_homes():
                    return self.async_abort(reason="homes_watched_elsewhere")
                return await self.async_step_homes()
        return self.async_show_form(
            step_id=step_id, data_schema=_token_schema(self, user_input), errors=errors
        )

    async def async_step_homes(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Let the user pick which of the account's Pulse homes to watch (all by default).

        Homes are offerable until the form is sent: another window may add an entry that
        watches one of them meanwhile (a home shared between two accounts).
        """
        homes = self._offerable_homes()
        errors: dict[str, str] = {}
        if user_input is None and len(homes) == 1 and self._ticked_alone(homes):
            return self._async_create_account_entry(homes)
        if user_input is not None:
            chosen = user_input[CONF_HOMES]
            if not homes:
                return self.async_abort(reason="homes_watched_elsewhere")
            if any(key not in homes for key in chosen):
                # another window's entry took it while this form was open: asked again
                errors["base"] = "home_taken_meanwhile"
            elif chosen:
                return self._async_create_account_entry({key: homes[key] for key in chosen})
            else:
                errors["base"] = "no_home_selected"
        watched = list(homes)
        if user_input is not None:  # asked again: what the user ticked, as far as it is left
            watched = [key for key in user_input[CONF_HOMES] if key in homes]
        elif self.source == SOURCE_RECONFIGURE:
            watched = self._watched_after_reconfigure(homes)
        options = [SelectOptionDict(value=key, label=name) for key, name in homes.items()]
        schema = probatio.Schema(
            {
                probatio.Required(CONF_HOMES, default=watched): SelectSelector(
                    SelectSelectorConfig(
                        options=options, multiple=True, mode=SelectSelectorMode.LIST
                    )
                )
            }
        )
        return self.async_show_form(step_id="homes", data_schema=schema, errors=errors)

    def _ticked_alone(self, homes: Mapping[str, str]) -> bool:
        """Whether the account's one Pulse home needs no form: it would be ticked on it.

        Under Reconfigure, a home the user left out stays out (the watched one gone from the
        account): it is asked, not watched without a word.
        """
        return self.source != SOURCE_RECONFIGURE or bool(self._watched_after_reconfigure(homes))

    def _watched_after_reconfigure(self, homes: Mapping[str, str]) -> list[str]:
        """The homes Reconfigure ticks: those watched, and those new on the account since.

        A Pulse home never offered is one the hourly listing would watch by itself: shown
        unticked, a form saved as shown (only the token changed) would leave it out for good.
        """
        entry = self._get_reconfigure_entry()
        offered = entry.data.get(CONF_OFFERED_HOMES, homes)
        return [key for key in homes if key in entry.data[CONF_HOMES] or key not in offered]

    def _offerable_homes(self) -> dict[str, str]:
        """The account's Pulse homes that no other entry watches (see homes_watched_elsewhere)."""
        this = self._get_reconfigure_entry().entry_id if self.source == SOURCE_RECONFIGURE else None
        elsewhere = homes_watched_elsewhere(self.hass, this)
        return {
            key: name for key, name in _pulse_homes(self._account).items() if key not in elsewhere
        }

    def _async_create_account_entry(self, homes: dict[str, str]) -> ConfigFlowResult:
        """Create the entry, or when reconfiguring, update it and reload.

        The Pulse homes offered here and left out are remembered, so that only homes new on the
        account are watched without asking; so are the homes no longer watched after a
        Reconfigure, whose learned state stays stored until the entry is deleted.
        """
        chosen = {
            CONF_ACCESS_TOKEN: self._access_token,
            CONF_HOMES: homes,
            # as offered: one another entry watches is not, and may be watched once it is free
            CONF_OFFERED_HOMES: sorted(self._offerable_homes()),
        }
        if self.source == SOURCE_RECONFIGURE:
            entry = self._get_reconfigure_entry()
            chosen[CONF_KEPT_HOMES] = kept_homes(entry.data, entry.data[CONF_HOMES], homes)
            return self.async_update_reload_and_abort(
                entry, data_updates=chosen, reason=RECONFIGURED
            )
        return self.async_create_entry(
            title=self._account.name or "Tibber", data={CONF_SOURCE: SOURCE_TIBBER, **chosen}
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change a Tibber account's token or homes (same account only), or a home's sensors."""
        source = self._get_reconfigure_entry().data[CONF_SOURCE]
        if source == SOURCE_DEMO:
            return self.async_abort(reason="nothing_to_reconfigure")
        if source == SOURCE_ENTITY:
            return await self.async_step_entity_reconfigure()
        return await self._async_token_step("reconfigure", user_input)

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """Tibber rejected the stored token: ask for a new one."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Check the new token belongs to the same account, then reload with it."""
        errors: dict[str, str] = {}
        if user_input is not None:
            token = _pasted(user_input)
            account = await self._async_reach_account(token, errors)
            entry = self._get_reauth_entry()
            if account is not None and account.user_id != entry.unique_id:
                # Asked again rather than aborted: an aborted reauth takes its card away, and
                # the homes would wait for a token nothing asks for any more
                errors["base"] = "wrong_account"
            elif account is not None:
                return self.async_update_reload_and_abort(
                    entry, data_updates={CONF_ACCESS_TOKEN: token}, reason=REAUTHENTICATED
                )
        return self.async_show_form(
            step_id="reauth_confirm", data_schema=_token_schema(self, user_input), errors=errors
        )

    async def _async_reach_account(
        self, access_token: str, errors: dict[str, str]
    ) -> TibberAccount | None:
        """Return the account, or None with the reason put in `errors`."""
        try:
            return await async_fetch_account(self.hass, access_token)
        except tibber.InvalidLoginError:
            errors[CONF_ACCESS_TOKEN] = "invalid_auth"
        except CONNECTION_ERRORS:
            errors["base"] = "cannot_connect"
        except Exception:  # noqa: BLE001 - a form error beats a broken flow
            LOGGER.exception("Unexpected error reaching Tibber")
            errors["base"] = "unknown"
        return None


def _pasted(user_input: Mapping[str, Any]) -> str:
    """The token as pasted, without the spaces or line break a copy often brings along.

    Tibber's API trims them from the HTTP header, but the live service compares the token in
    the websocket's first message as it is, and would refuse every connection.
    """
    return str(user_input[CONF_ACCESS_TOKEN]).strip()


def _token_schema(flow: ConfigFlow, user_input: Mapping[str, Any] | None) -> probatio.Schema:
    """The token form, holding the token typed when it is shown again with an error."""
    return flow.add_suggested_values_to_schema(TOKEN_SCHEMA, user_input or {})


def _meter_schema() -> probatio.Schema:
    """The home's name and its sensors, each offered from the sensors of its device class."""
    fields: dict[Any, Any] = {probatio.Required(CONF_NAME): TextSelector()}
    for key, quantity in ENTITY_QUANTITIES.items():
        marker = probatio.Required if key == CONF_POWER_ENTITY else probatio.Optional
        fields[marker(key)] = EntitySelector(
            EntitySelectorConfig(domain="sensor", device_class=quantity.device_class)
        )
        if key == CONF_POWER_ENTITY:
            fields[probatio.Optional(CONF_POWER_IS_NET, default=False)] = BooleanSelector()
    return probatio.Schema(fields)


def _meter_data(
    hass: HomeAssistant, user_input: Mapping[str, Any], before: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The entry's data for a home fed by sensors: the chosen ones, power net or not, the grid.

    The grid is the one the voltage sensors read (`_meter_errors` made sure they read one).
    Voltage sensors that read no value now (a Wi-Fi sensor reconnecting) leave the grid as the
    entry had it `before` a reconfigure (a home does not move to another grid), and a new home
    without it: the runner takes it from their first readings of a grid's phases.
    """
    data = {
        CONF_SOURCE: SOURCE_ENTITY,
        **chosen_entities(user_input),
        CONF_POWER_IS_NET: bool(user_input.get(CONF_POWER_IS_NET)),
    }
    if grids := _phase_grids(hass, user_input):
        data[CONF_NOMINAL_VOLTAGE] = next(iter(grids.values()))
    elif before is not None and CONF_NOMINAL_VOLTAGE in before:
        data[CONF_NOMINAL_VOLTAGE] = before[CONF_NOMINAL_VOLTAGE]
    return data


def _phase_grids(hass: HomeAssistant, user_input: Mapping[str, Any]) -> dict[str, float]:
    """The grid (nominal V) each chosen voltage sensor reads a phase of now, by key, L1 first.

    Those that read no value, or a value of no grid, are left out.
    """
    grids: dict[str, float] = {}
    for key in CONF_VOLTAGE_ENTITIES:
        entity_id = user_input.get(key)
        if entity_id and (grid := phase_grid(hass.states.get(entity_id))) is not None:
            grids[key] = grid
    return grids


def _stored_grid(data: Mapping[str, Any]) -> float | None:
    """The grid (nominal V) an entry's form stored; None when it stored none or damage.

    An entry whose voltage sensors gave no value on the form (or saved before the grid was read)
    has none until their first readings of a grid's phases tell the runner one (`GridReader`).
    """
    grid = data.get(CONF_NOMINAL_VOLTAGE)
    return float(grid) if grid in GRIDS_V else None  # a tuple: by equality, no hashing


def _grid_to_keep(
    hass: HomeAssistant, user_input: Mapping[str, Any], before: Mapping[str, Any] | None
) -> float | None:
    """The grid the phases that read must be of: the one stored `before`, while a phase is silent.

    None when every chosen phase reads, or none was stored: the phases that read tell the grid.
    A phase that reads nothing now may be the one that read the home's grid when it was stored:
    the phases that do read are too few to move the home to another grid (a 120 V home with a
    230 V sensor chosen for L2 beside a silent L1 would be judged at 230 V, its phases in
    undervoltage for good). With every phase reading one grid, the home moves to it.
    """
    if before is None:
        return None
    silent = any(
        read_entity(hass.states.get(user_input[key]), VOLTAGE).value is None
        for key in CONF_VOLTAGE_ENTITIES
        if user_input.get(key)
    )
    return _stored_grid(before) if silent else None


def _phases_of_the_odd_grid(grids: Mapping[str, float]) -> list[str]:
    """The phases (keys) whose grid is not the one most phases read; all of them on a tie.

    The odd one out is the wrong sensor (a 240 V sensor between a 120/240 V home's legs, chosen
    for L1 beside two legs to neutral): it, not the first chosen, is the one to change.
    """
    counts = Counter(grids.values()).most_common()
    if len(counts) < 2:
        return []
    if counts[0][1] == counts[1][1]:
        return list(grids)
    return [key for key, grid in grids.items() if grid != counts[0][0]]


def _grid_errors(
    hass: HomeAssistant, user_input: Mapping[str, Any], before: Mapping[str, Any] | None
) -> dict[str, str]:
    """The phases (keys) refused for their grid, and why.

    While a phase is silent, those not of the grid `_grid_to_keep`; else the odd one out among
    those that read (`_phases_of_the_odd_grid`).
    """
    grids = _phase_grids(hass, user_input)
    if (kept := _grid_to_keep(hass, user_input, before)) is not None:
        return {key: "phase_not_of_the_homes_grid" for key, grid in grids.items() if grid != kept}
    return dict.fromkeys(_phases_of_the_odd_grid(grids), "phases_of_two_grids")


def _meter_errors(
    hass: HomeAssistant, user_input: Mapping[str, Any], before: Mapping[str, Any] | None = None
) -> dict[str, str]:
    """The form's errors: a name, each chosen entity a sensor of its quantity, once, one grid.

    The grid is the entry's stored `before` a reconfigure while a phase is silent (`_grid_errors`).
    A blank name would name the device nothing, and its entities `select.mode` and the like; so
    would a name without a letter or digit (emoji alone), which entity ids cannot spell. A
    sensor in two roles (power and production, two phases) would read one quantity as two. A
    sensor of Energy Anomaly itself (a home's Power, listed with the meters' and named like the
    home) shows what a home read: a home fed its own output never has a reading again. A 120 V
    phase beside 230 V ones is another home's sensor: each phase would be judged against one
    grid's nominal and one of them alarm for good (the odd one out is named). Power drawn that
    reads below 0 W is net power (`_reads_below_zero`); a production that reads far below 0 W
    is such a net power too, not a production (`production_of`).
    """
    errors: dict[str, str] = {}
    if not (name := _home_name(user_input)):
        errors[CONF_NAME] = "name_required"
    elif spells_nothing(name):
        errors[CONF_NAME] = "name_needs_letters"
    registry = er.async_get(hass)
    seen: set[str] = set()
    for key, entity_id in chosen_entities(user_input).items():
        if error := entity_error(hass.states.get(entity_id), ENTITY_QUANTITIES[key]):
            errors[key] = error
        elif (registered := registry.async_get(entity_id)) and registered.platform == DOMAIN:
            errors[key] = "own_sensor"
        elif entity_id in seen:
            errors[key] = "entity_chosen_twice"
        seen.add(entity_id)
    for key, error in _grid_errors(hass, user_input, before).items():
        errors.setdefault(key, error)
    if user_input.get(CONF_POWER_IS_NET) and user_input.get(CONF_PRODUCTION_ENTITY):
        errors[CONF_PRODUCTION_ENTITY] = "production_with_net_power"
    elif not user_input.get(CONF_POWER_IS_NET) and _reads_below_zero(
        hass, user_input[CONF_POWER_ENTITY]
    ):
        errors.setdefault(CONF_POWER_ENTITY, "power_below_zero")
    if (production := user_input.get(CONF_PRODUCTION_ENTITY)) and production_of(
        read_entity(hass.states.get(production), POWER)
    ).problem is EntityProblem.BELOW_ZERO:
        errors.setdefault(CONF_PRODUCTION_ENTITY, "production_below_zero")
    return errors


def _reads_below_zero(hass: HomeAssistant, entity_id: str) -> bool:
    """Whether the power sensor reads below 0 W now, beyond a meter's rounding.

    Power drawn cannot (an import meter does not run backwards): it is a net sensor (a P1
    meter's while solar panels export), and taken as power drawn each export would be a meter
    fault. A sensor without a value now tells nothing.
    """
    watts = read_entity(hass.states.get(entity_id), POWER).value
    return watts is not None and watts < -FaultConfig().negative_tolerance_w


def _home_name(user_input: Mapping[str, Any]) -> str:
    """The home's name as typed, without the spaces around it."""
    return str(user_input[CONF_NAME]).strip()


def _temperature_selector() -> EntitySelector:
    """A temperature sensor or a weather entity, for the outdoor temperature."""
    return EntitySelector(
        EntitySelectorConfig(
            filter=[
                EntityWithDeviceFilterSelectorConfig(
                    domain="sensor", device_class=SensorDeviceClass.TEMPERATURE
                ),
                EntityWithDeviceFilterSelectorConfig(domain="weather"),
            ]
        )
    )


FUSE_SELECTOR: Final = NumberSelector(
    NumberSelectorConfig(
        min=6, max=250, step=1, unit_of_measurement="A", mode=NumberSelectorMode.BOX
    )
)


def _fuse_errors(user_input: Mapping[str, Any]) -> dict[str, str]:
    """A fuse size must be a number: NaN passes the selector's range."""
    fuse = user_input.get(CONF_FUSE_SIZE)
    if fuse is not None and not math.isfinite(fuse):
        return {CONF_FUSE_SIZE: "fuse_not_a_number"}
    return {}


def _pulse_homes(account: TibberAccount) -> dict[str, str]:
    """The account's homes that stream live data (have a Pulse), id → name."""
    return {home.home_id: home.name for home in account.homes if home.has_pulse}


class EnergyAnomalyOptionsFlow(OptionsFlowWithReload):
    """Optional inputs that sharpen detection; the entry reloads when they change.

    A Tibber account that watches several homes is asked each home's main fuse in a step of its
    own (`fuse`), one home after the other: a cabin's 25 A is not the house's 40 A.
    """

    def __init__(self) -> None:
        """Start with nothing chosen: the steps collect the options, then save them at once."""
        self._options: dict[str, Any] = {}
        self._fuses: dict[str, float] = {}
        self._homes_left: list[tuple[str, str]] = []  # (id, name) whose fuse is still to ask
        # Whether the first form, as shown, had the one fuse field: the hourly listing may add or
        # drop a home while it is open, which changes the form's shape at once
        self._fuse_shown: bool | None = None

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the outdoor temperature entity, the fuse size and the price entity, all optional.

        The temperature entity must exist and give a temperature, the price entity a price per
        unit of energy, so a typo or a power sensor is refused here rather than silently giving
        the detector (or the always-on cost) nothing. An account of several homes is asked
        their fuses next.
        """
        per_home = self._homes_with_a_fuse_each()
        if user_input is None or self._fuse_shown is None:
            self._fuse_shown = not per_home and self._fuse_judges_a_current()
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = self._entity_errors(user_input) | _fuse_errors(user_input)
            if not errors and not per_home:
                return self.async_create_entry(data=self._options_to_save(user_input))
            if not errors:  # a fuse typed for the one home shown is no account-wide fuse
                self._options = {k: v for k, v in user_input.items() if k != CONF_FUSE_SIZE}
                self._homes_left = list(per_home.items())
                return await self.async_step_fuse()
        fields: dict[Any, Any] = {
            probatio.Optional(CONF_TEMPERATURE_ENTITY): _temperature_selector(),
        }
        if self._fuse_shown:
            fields[probatio.Optional(CONF_FUSE_SIZE)] = FUSE_SELECTOR
        fields[probatio.Optional(CONF_PRICE_ENTITY)] = EntitySelector(
            EntitySelectorConfig(domain="sensor")
        )
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                probatio.Schema(fields), user_input or self._options_shown()
            ),
            errors=errors,
            # An account may watch several homes, and several entries may be set up: the title
            # names the one being configured
            description_placeholders={"entry": self.config_entry.title},
        )

    async def async_step_fuse(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask the main fuse of the next home of the account; save all options after the last."""
        errors = {} if user_input is None else _fuse_errors(user_input)
        if user_input is not None and not errors:
            home_id, _ = self._homes_left.pop(0)
            if (fuse := user_input.get(CONF_FUSE_SIZE)) is not None:
                self._fuses[home_id] = fuse
            if not self._homes_left:
                fuses = self._fuses_of_homes_not_watched() | self._fuses
                return self.async_create_entry(data={**self._options, CONF_FUSE_SIZES: fuses})
            user_input = None
        home_id, name = self._homes_left[0]
        current = fuse_of(self.config_entry.options, home_id)
        shown = user_input or ({} if current is None else {CONF_FUSE_SIZE: current})
        return self.async_show_form(
            step_id="fuse",
            data_schema=self.add_suggested_values_to_schema(
                probatio.Schema({probatio.Optional(CONF_FUSE_SIZE): FUSE_SELECTOR}), shown
            ),
            errors=errors,
            description_placeholders={"home": name},
        )

    def _options_shown(self) -> dict[str, Any]:
        """The options as the first form shows them: a lone home's fuse is the one it has.

        An account down to one home (Reconfigure) may hold it under `fuse_sizes`, which the
        home is judged against, and which the form must show to keep it.
        """
        options = dict(self.config_entry.options)
        homes = self.config_entry.data.get(CONF_HOMES, {})
        if len(homes) == 1 and (fuse := fuse_of(options, next(iter(homes)))) is not None:
            options[CONF_FUSE_SIZE] = fuse
        return options

    def _options_to_save(self, user_input: Mapping[str, Any]) -> dict[str, Any]:
        """The options of the one form as saved: a Tibber home's fuse is saved as that home's.

        Saved as the account's (`fuse_size`), it would judge a home added to the account later,
        whose fuse is another. A fuse the form does not offer (no current sensor to judge by it)
        stays as saved, for sensors chosen later.
        """
        options = dict(user_input)
        saved = self.config_entry.options
        if self.config_entry.data[CONF_SOURCE] == SOURCE_TIBBER:
            fuses = self._fuses_of_homes_not_watched()
            fuse = options.pop(CONF_FUSE_SIZE, None)
            if not self._fuse_shown:  # shown for several homes: no fuse to change on it
                fuses = self._saved_fuses()
            elif fuse is not None:
                fuses |= dict.fromkeys(self.config_entry.data.get(CONF_HOMES, {}), fuse)
            options[CONF_FUSE_SIZES] = fuses
        elif not self._fuse_judges_a_current() and CONF_FUSE_SIZE in saved:
            options[CONF_FUSE_SIZE] = saved[CONF_FUSE_SIZE]
        return options

    def _saved_fuses(self) -> dict[str, Any]:
        """The fuses saved for the account's homes (id -> A)."""
        fuses = self.config_entry.options.get(CONF_FUSE_SIZES)
        return dict(fuses) if isinstance(fuses, Mapping) else {}

    def _fuses_of_homes_not_watched(self) -> dict[str, Any]:
        """The fuses saved for the account's homes not watched now: one ticked again keeps its."""
        watched = self.config_entry.data.get(CONF_HOMES, {})
        return {key: fuse for key, fuse in self._saved_fuses().items() if key not in watched}

    def _fuse_judges_a_current(self) -> bool:
        """Whether the one form's fuse turns a check on: a power sensor home needs a current.

        The over-current check compares phase currents with the fuse; a Pulse or the demo reports
        them, a power sensor home only with current sensors chosen. A Tibber account watching no
        home (all gone, or left out) has no home to give it to.
        """
        data = self.config_entry.data
        if data[CONF_SOURCE] == SOURCE_ENTITY:
            return any(data.get(key) for key in CONF_CURRENT_ENTITIES)
        return data[CONF_SOURCE] != SOURCE_TIBBER or bool(data.get(CONF_HOMES))

    def _homes_with_a_fuse_each(self) -> dict[str, str]:
        """The watched homes (id -> name) of a Tibber account of several, else none."""
        entry = self.config_entry
        homes: dict[str, str] = entry.data.get(CONF_HOMES, {})
        return dict(homes) if entry.data[CONF_SOURCE] == SOURCE_TIBBER and len(homes) > 1 else {}

    def _entity_errors(self, user_input: Mapping[str, Any]) -> dict[str, str]:
        """The form's errors: each chosen entity must exist and give what it is chosen for.

        The temperature entity already in the options is kept while it gives no value (see
        `temperature_entity_error`).
        """
        errors: dict[str, str] = {}
        temperature = user_input.get(CONF_TEMPERATURE_ENTITY)
        if temperature and (
            error := temperature_entity_error(
                self.hass.states.get(temperature),
                kept=temperature == self.config_entry.options.get(CONF_TEMPERATURE_ENTITY),
            )
        ):
            errors[CONF_TEMPERATURE_ENTITY] = error
        price = user_input.get(CONF_PRICE_ENTITY)
        if price and (error := price_entity_error(self.hass.states.get(price))):
            errors[CONF_PRICE_ENTITY] = error
        return errors
