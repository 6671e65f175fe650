"""The sink a config entry's source pushes into: readings to each home's runner, and staleness."""

from collections.abc import Sequence
from datetime import datetime
from functools import partial

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later, async_track_time_interval

from .const import CONNECTION_STABLE_AFTER, HEALTH_CHECK_INTERVAL, LOGGER, STALE_AFTER
from .detector.model import Reading
from .runner import HomeRunner


class HomesSink:
    """Routes readings to the homes' runners and is the one place that knows whether data flows.

    A home goes unavailable when its source says live data stopped, or when no reading came for
    STALE_AFTER (counted in health checks while Home Assistant runs, so it follows Home
    Assistant's timers and a slow start counts for nothing); either is logged once. Its entities
    are available again with the first reading after it, but the outage is over, and logged as
    such, only once readings have come for CONNECTION_STABLE_AFTER and still come: a connection
    that drops again seconds after each reconnect is one outage, not a warning a minute. A home
    that never sent a reading is logged as well.
    """

    def __init__(
        self, hass: HomeAssistant, entry: ConfigEntry, runners: Sequence[HomeRunner]
    ) -> None:
        """Watch `runners`' homes; the staleness check runs until the entry unloads."""
        self._hass = hass
        self.runners = {runner.home.home_id: runner for runner in runners}
        self._checks_without_reading = dict.fromkeys(self.runners, 0)
        self._down: set[str] = set()  # homes whose outage was logged and is not over
        self._recovering: dict[str, CALLBACK_TYPE] = {}  # down homes reading again: the timer
        entry.async_on_unload(
            async_track_time_interval(hass, self._async_check_stale, HEALTH_CHECK_INTERVAL)
        )
        entry.async_on_unload(self._async_cancel_recoveries)

    @callback
    def async_add_runner(self, runner: HomeRunner) -> None:
        """Route readings to a home added while the entry runs."""
        self.runners[runner.home.home_id] = runner
        self._checks_without_reading[runner.home.home_id] = 0

    @callback
    def async_remove_home(self, home_id: str) -> HomeRunner:
        """Stop routing to a home dropped while the entry runs; return its runner."""
        self._checks_without_reading.pop(home_id, None)
        self._down.discard(home_id)
        if (cancel := self._recovering.pop(home_id, None)) is not None:
            cancel()
        return self.runners.pop(home_id)

    @callback
    def async_add_readings(self, home_id: str, readings: Sequence[Reading]) -> None:
        """Queue a home's readings; readings arriving mean its live data flows."""
        runner = self.runners[home_id]
        self._checks_without_reading[home_id] = 0
        if home_id in self._down and home_id not in self._recovering:
            self._recovering[home_id] = async_call_later(
                self._hass, CONNECTION_STABLE_AFTER, partial(self._async_back, home_id)
            )
        runner.async_add_readings(readings)

    @callback
    def async_host_resumed(self, home_id: str, at: datetime) -> None:
        """Tell the home's detector a silence of its readings before `at` is not the meter's."""
        self.runners[home_id].async_host_resumed(at)

    @callback
    def async_source_down(self, home_id: str | None, why: str) -> None:
        """Mark one home (None: all) unavailable, logging once until its readings come back."""
        for down_id in self.runners if home_id is None else (home_id,):
            runner = self.runners[down_id]
            if (cancel := self._recovering.pop(down_id, None)) is not None:
                cancel()  # the same outage goes on
                LOGGER.debug("Live data for %s is unavailable again: %s", runner.home.name, why)
            elif down_id not in self._down:
                self._down.add(down_id)
                LOGGER.info("Live data for %s is unavailable: %s", runner.home.name, why)
            runner.coordinator.async_set_unavailable()

    @callback
    def _async_back(self, home_id: str, _now: datetime) -> None:
        """Readings came for CONNECTION_STABLE_AFTER since the outage: it is over if they still do.

        Readings that paused (none in the last two health checks) end it once they come again,
        unless the home is found stale first: then the outage goes on.
        """
        if self._checks_without_reading[home_id] > 1:
            self._recovering[home_id] = async_call_later(
                self._hass, STALE_AFTER, partial(self._async_back, home_id)
            )
            return
        del self._recovering[home_id]
        self._down.discard(home_id)
        LOGGER.info("Live data for %s is back", self.runners[home_id].home.name)

    @callback
    def _async_cancel_recoveries(self) -> None:
        """At unload: no outage is declared over after the entry stopped."""
        for cancel in self._recovering.values():
            cancel()
        self._recovering.clear()

    @callback
    def _async_check_stale(self, _now: datetime) -> None:
        """Mark homes unavailable that sent no reading for STALE_AFTER."""
        if not self._hass.is_running:  # a source starts once Home Assistant has started
            return
        for home_id, checks in self._checks_without_reading.items():
            self._checks_without_reading[home_id] = checks + 1
            if (checks + 1) * HEALTH_CHECK_INTERVAL > STALE_AFTER:
                self.async_source_down(
                    home_id, f"no reading for {int(STALE_AFTER.total_seconds())} s"
                )
