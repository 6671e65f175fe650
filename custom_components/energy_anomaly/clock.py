"""Whether this host's clock is behind a live home's meter, told to the user as a repair issue.

A reading stamped more than MAX_FUTURE ahead of the host's clock is rejected (`HomeRunner`). When
the host's clock is that far behind the meter's (a Raspberry Pi without NTP, a wrong real-time
clock), every reading is: the home learns nothing and raises no alarm while it looks available,
and the warning in the log every 10 minutes is read by few. So once the readings have been ahead
for CLOCK_BEHIND_ISSUE_AFTER with none taken in between, a repair issue says so; one stray
timestamp in the future raises nothing.
"""

from datetime import datetime, timedelta

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from .const import CLOCK_BEHIND_ISSUE_AFTER, DOMAIN, ISSUE_CLOCK_BEHIND
from .coordinator import HomeInfo
from .detector.model import Reading
from .detector.validation import MAX_FUTURE
from .issues import async_warn

MAX_FUTURE_S = MAX_FUTURE.total_seconds()
SECONDS_PER_MINUTE = 60.0


class ClockBehind:
    """Follows how long a live home's readings have been stamped in the future; owns its issue.

    The runner's worker notes readings in the executor (`note_rejected`, `note_taken`); after
    each batch the loop raises or withdraws the issue (`async_update`), so the issue registry is
    only ever touched on the event loop.
    """

    def __init__(self, hass: HomeAssistant, home: HomeInfo) -> None:
        """Watch `home`, a home on a live clock (a replay's timestamps are its own)."""
        self._hass = hass
        self._home = home
        self._issue_id = f"{ISSUE_CLOCK_BEHIND}_{home.home_id}"
        # Executor: the host's time at the first reading ahead since the last one taken (None:
        # the clocks agree), how long the readings have been ahead since, and how far (s) the
        # latest was ahead of the host's clock.
        self._since: datetime | None = None
        self._lasted = timedelta()
        self._ahead_s = 0.0
        self._raised = False  # loop: whether the issue is shown

    def note_rejected(self, reading: Reading, now: datetime) -> None:
        """Executor: `reading` was rejected at `now` (the host's clock); count it if ahead."""
        ahead_s = reading.epoch - now.timestamp()
        if ahead_s <= MAX_FUTURE_S:  # rejected for another reason: says nothing of the clock
            return
        if self._since is None:
            self._since = now
        self._lasted = now - self._since
        self._ahead_s = ahead_s

    def note_taken(self) -> None:
        """Executor: a reading passed the check, so its time agrees with the host's clock."""
        self._since = None

    @callback
    def async_update(self) -> None:
        """Loop, after a batch: raise the issue once the readings were ahead long enough.

        Withdraw it as soon as a reading was taken again (a new run of readings ahead starts
        from nothing). Raised once per run: its minutes are "about", and rewriting the issue
        at every batch would rewrite the registry with it.
        """
        if self._since is None or self._lasted < CLOCK_BEHIND_ISSUE_AFTER:
            self.async_withdraw()
        elif not self._raised:
            self._raised = True
            minutes = round(self._ahead_s / SECONDS_PER_MINUTE)
            async_warn(
                self._hass,
                self._issue_id,
                ISSUE_CLOCK_BEHIND,
                {"home": self._home.name, "minutes": str(minutes)},
            )

    @callback
    def async_withdraw(self) -> None:
        """Loop: take the issue away (a reading was taken, or the home stops)."""
        if self._raised:
            self._raised = False
            ir.async_delete_issue(self._hass, DOMAIN, self._issue_id)
