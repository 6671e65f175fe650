"""Runs of live readings the detector cannot learn from because of a clock, told as repair issues.

A reading stamped more than MAX_FUTURE ahead of the host's clock is rejected (`HomeRunner`). When
the host's clock is that far behind the meter's (a Raspberry Pi without NTP, a wrong real-time
clock), every reading is: the home learns nothing and raises no alarm while it looks available,
and the warning in the log every 10 minutes is read by few (`ClockBehind`).

A power sensor home's readings are stamped by the host's clock. When that clock went back (it was
ahead, and was corrected), every reading is older than the last one the detector learned from: the
home shows its power but learns nothing and raises no new alarm until the clock passes that
reading again, hours or days later (`ClockWentBack`).

So once the readings have gone unlearned for CLOCK_ISSUE_AFTER, with none learned in between, a
repair issue says so; one stray timestamp, or a clock stepped back by seconds, raises nothing.
"""

from datetime import datetime, timedelta

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util

from .const import CLOCK_ISSUE_AFTER, DOMAIN, ISSUE_CLOCK_BEHIND, ISSUE_CLOCK_WENT_BACK
from .coordinator import HomeInfo
from .detector.model import Reading
from .detector.validation import MAX_FUTURE
from .issues import async_delete_unhashed, async_warn, issue_id

MAX_FUTURE_S = MAX_FUTURE.total_seconds()
SECONDS_PER_MINUTE = 60.0
# How the issue names the time learning resumes: it may be days away, so with its date
UNTIL_FORMAT = "%Y-%m-%d %H:%M"


class _UnlearnedRun:
    """Follows how long a live home's readings have gone unlearned for one reason; owns its issue.

    The runner's worker notes readings in the executor (`_note_unlearned`, `note_taken`); after
    each batch the loop raises or withdraws the issue (`async_update`), so the issue registry is
    only ever touched on the event loop.
    """

    def __init__(self, hass: HomeAssistant, home: HomeInfo, translation_key: str) -> None:
        """Watch `home`, a home on a live clock (a replay's timestamps are its own)."""
        self._hass = hass
        self._home = home
        self._translation_key = translation_key
        self._issue_id = issue_id(translation_key, home.home_id)
        async_delete_unhashed(hass, translation_key, home.home_id)
        # Executor: the host's time at the first reading unlearned since the last one taken
        # (None: readings are learned), and how long they have gone unlearned since.
        self._since: datetime | None = None
        self._lasted = timedelta()
        self._raised = False  # loop: whether the issue is shown

    def _note_unlearned(self, now: datetime) -> None:
        """Executor: a reading was not learned from at `now` (the host's clock)."""
        if self._since is None:
            self._since = now
        self._lasted = now - self._since

    def note_taken(self) -> None:
        """Executor: a reading was learned from, so the clocks agree again."""
        self._since = None

    def _placeholders(self) -> dict[str, str]:
        """Loop: the issue's placeholders, of the latest reading noted."""
        return {"home": self._home.name}

    @callback
    def async_update(self) -> None:
        """Loop, after a batch: raise the issue once the readings went unlearned long enough.

        Withdraw it as soon as a reading was taken again (a new run starts from nothing).
        Raised once per run: its figures are "about", and rewriting the issue at every batch
        would rewrite the registry with it.
        """
        if self._since is None or self._lasted < CLOCK_ISSUE_AFTER:
            self.async_withdraw()
        elif not self._raised:
            self._raised = True
            async_warn(self._hass, self._issue_id, self._translation_key, self._placeholders())

    @callback
    def async_withdraw(self) -> None:
        """Loop: take the issue away (a reading was taken, or the home stops)."""
        if self._raised:
            self._raised = False
            ir.async_delete_issue(self._hass, DOMAIN, self._issue_id)


class ClockBehind(_UnlearnedRun):
    """The host's clock is behind the meter's: every reading is rejected as in the future."""

    def __init__(self, hass: HomeAssistant, home: HomeInfo) -> None:
        """Watch `home`, whose meter stamps its readings (a Tibber home)."""
        super().__init__(hass, home, ISSUE_CLOCK_BEHIND)
        self._ahead_s = 0.0  # executor: how far (s) the latest was ahead of the host's clock

    def note_rejected(self, reading: Reading, now: datetime) -> None:
        """Executor: `reading` was rejected at `now` (the host's clock); count it if ahead."""
        ahead_s = reading.epoch - now.timestamp()
        if ahead_s <= MAX_FUTURE_S:  # rejected for another reason: says nothing of the clock
            return
        self._note_unlearned(now)
        self._ahead_s = ahead_s

    def _placeholders(self) -> dict[str, str]:
        """The home, and how many minutes its meter is ahead."""
        minutes = round(self._ahead_s / SECONDS_PER_MINUTE)
        return {**super()._placeholders(), "minutes": str(minutes)}


class ClockWentBack(_UnlearnedRun):
    """The host's clock went back: a power sensor home's readings are older than the last taken."""

    def __init__(self, hass: HomeAssistant, home: HomeInfo) -> None:
        """Watch `home`, whose readings are stamped by the host's clock (a power sensor home)."""
        super().__init__(hass, home, ISSUE_CLOCK_WENT_BACK)
        # Executor: the last reading learned from (epoch s), from which the home learns again
        self._until = 0.0

    def note_older(self, last_epoch: float, now: datetime) -> None:
        """Executor: a reading at `now` was older than the last one taken, at `last_epoch`."""
        self._note_unlearned(now)
        self._until = last_epoch

    def _placeholders(self) -> dict[str, str]:
        """The home, and the local time from which it learns again."""
        until = dt_util.as_local(dt_util.utc_from_timestamp(self._until))
        return {**super()._placeholders(), "until": until.strftime(UNTIL_FORMAT)}
