"""The sink a config entry's source pushes into: readings to each home's runner, and staleness."""

from collections.abc import Sequence
from datetime import datetime

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.event import async_track_time_interval

from .const import HEALTH_CHECK_INTERVAL, LOGGER, STALE_AFTER
from .detector.model import Reading
from .runner import HomeRunner


class HomesSink:
    """Routes readings to the homes' runners and is the one place that knows whether data flows.

    A home goes unavailable when its source says live data stopped, or when no reading came for
    STALE_AFTER (counted in health checks while Home Assistant runs, so it follows Home
    Assistant's timers and a slow start counts for nothing); either is logged once, and so is the
    first reading after it. A home that never sent a reading is logged as well.
    """

    def __init__(
        self, hass: HomeAssistant, entry: ConfigEntry, runners: Sequence[HomeRunner]
    ) -> None:
        """Watch `runners`' homes; the staleness check runs until the entry unloads."""
        self._hass = hass
        self.runners = {runner.home.home_id: runner for runner in runners}
        self._checks_without_reading = dict.fromkeys(self.runners, 0)
        self._down: set[str] = set()
        entry.async_on_unload(
            async_track_time_interval(hass, self._async_check_stale, HEALTH_CHECK_INTERVAL)
        )

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
        return self.runners.pop(home_id)

    @callback
    def async_add_readings(self, home_id: str, readings: Sequence[Reading]) -> None:
        """Queue a home's readings; readings arriving mean its live data flows."""
        runner = self.runners[home_id]
        self._checks_without_reading[home_id] = 0
        if home_id in self._down:
            self._down.discard(home_id)
            LOGGER.info("Live data for %s is back", runner.home.name)
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
            if down_id not in self._down:
                self._down.add(down_id)
                LOGGER.warning("Live data for %s is unavailable: %s", runner.home.name, why)
            runner.coordinator.async_set_unavailable()

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
