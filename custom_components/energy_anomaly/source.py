"""Where readings come from, and the narrow sink they are pushed into."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from .detector.model import Reading


class ReadingSink(Protocol):
    """What a source pushes into: readings per home, and whether live data flows."""

    def async_add_readings(self, home_id: str, readings: Sequence[Reading]) -> None:
        """Queue a home's readings, in time order (call from the event loop)."""

    def async_source_down(self, home_id: str | None, why: str) -> None:
        """Live data stopped for one home (None: every home of the source), and why."""

    def async_host_resumed(self, home_id: str, at: datetime) -> None:
        """The host ran no timer for a while before `at`: a home's silence then is not its meter's.

        For a source that stamps readings with the host's clock.
        """


class ReadingSource(Protocol):
    """Delivers each watched home's readings to a sink, in time order."""

    async def async_start(self, sink: ReadingSink) -> None:
        """Start delivering readings; return without waiting for the first one."""

    async def async_stop(self) -> None:
        """Stop delivering readings and release every connection."""

    def diagnostics(self) -> dict[str, Any]:
        """Describe the source's state for the diagnostics download (no secrets)."""
