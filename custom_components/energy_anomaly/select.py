"""A home's mode (Normal, Guests, Away, Paused) and sensitivity (low, normal, high) selects."""

from datetime import datetime
from typing import Any

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import CALLBACK_TYPE, callback
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.event import async_track_point_in_time
from homeassistant.util import dt as dt_util

from .const import MODE_END_AHEAD_MAX
from .detector.model import Mode, Sensitivity
from .entity import EnergyAnomalyControl, controls_per_home
from .runner import HomeRunner

PARALLEL_UPDATES = 0

MODE = SelectEntityDescription(key="mode", translation_key="mode", options=list(Mode))
SENSITIVITY = SelectEntityDescription(
    key="sensitivity",
    translation_key="sensitivity",
    entity_category=EntityCategory.CONFIG,
    options=list(Sensitivity),
)


class ModeSelect(EnergyAnomalyControl, SelectEntity):
    """The home's mode; Paused and Guests end by themselves (attribute `until`).

    The detector ends such a mode at its first reading after the end. A live home's meter may
    send none then (offline, or not yet after a restart): the select shows Normal at the end
    itself, by a timer, rather than the mode on past it.
    """

    def __init__(self, runner: HomeRunner, description: EntityDescription) -> None:
        """Attach the select to the home; no mode end is waited for yet."""
        super().__init__(runner, description)
        self._end: datetime | None = None  # the live home's mode end the timer waits for
        self._ended = False  # that end passed, and the detector has not ended the mode yet
        self._unsub_end: CALLBACK_TYPE | None = None

    @property
    def current_option(self) -> str:
        """The mode the detector is in, Normal once a mode's end passed."""
        return Mode.NORMAL.value if self._ended else self.controls.mode.value

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """When the mode ends on its own; None for a mode that lasts until changed."""
        until = None if self._ended else self.controls.mode_until
        return {"until": None if until is None else until.isoformat()}

    async def async_added_to_hass(self) -> None:
        """Wait for the end of a mode restored with the detector."""
        await super().async_added_to_hass()
        self.async_on_remove(self._async_cancel_end)
        self._async_follow_end()

    @callback
    def _handle_coordinator_update(self) -> None:
        self._async_follow_end()
        super()._handle_coordinator_update()

    @callback
    def _async_follow_end(self) -> None:
        """Wait for the mode's end: a new end, or none, replaces the wait.

        Only a live home's: a replay (the demo) runs on its own, faster clock, and its modes
        end on it. An end that passed while Home Assistant was off has ended: the mode is not
        shown before the timer says so. One beyond `MODE_END_AHEAD_MAX` (stored before such ends
        were refused) is never reached by a running Home Assistant: no timer.
        """
        until = self.controls.mode_until if self.runner.home.live_clock else None
        if until == self._end:
            return
        self._async_cancel_end()
        now = dt_util.utcnow()  # in UTC: an end in Home Assistant's zone compares as a moment
        self._end, self._ended = until, until is not None and until <= now
        if until is not None and now < until <= now + MODE_END_AHEAD_MAX:
            self._unsub_end = async_track_point_in_time(self.hass, self._async_end_passed, until)

    @callback
    def _async_end_passed(self, _now: datetime) -> None:
        self._unsub_end = None
        self._ended = True
        super()._handle_coordinator_update()

    @callback
    def _async_cancel_end(self) -> None:
        if self._unsub_end is not None:
            self._unsub_end()
            self._unsub_end = None

    async def async_select_option(self, option: str) -> None:
        """Switch mode: Paused lasts until the end of today, Guests for 24 h (from the UI)."""
        await self.runner.async_set_mode(Mode(option))


class SensitivitySelect(EnergyAnomalyControl, SelectEntity):
    """How readily the learned checks alarm: high sooner, low later."""

    @property
    def current_option(self) -> str:
        """The sensitivity the detector uses."""
        return self.controls.sensitivity.value

    async def async_select_option(self, option: str) -> None:
        """Move the alarm bar of every learned check."""
        await self.runner.async_set_sensitivity(Sensitivity(option))


async_setup_entry = controls_per_home([(ModeSelect, MODE), (SensitivitySelect, SENSITIVITY)])
