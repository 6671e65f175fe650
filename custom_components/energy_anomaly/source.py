"""Where readings come from: a Tibber account's live stream, or the bundled demo home."""

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .coordinator import EnergyAnomalyCoordinator


class ReadingSource(Protocol):
    """Delivers each watched home's readings to its coordinator, in time order."""

    async def async_start(self, homes: dict[str, EnergyAnomalyCoordinator]) -> None:
        """Start delivering readings; return without waiting for the first one."""

    async def async_stop(self) -> None:
        """Stop delivering readings and release every connection."""

    def diagnostics(self) -> dict[str, Any]:
        """Describe the source's state for the diagnostics download (no secrets)."""
