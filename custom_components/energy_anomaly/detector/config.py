"""The detector's settings: the user's options, and tuning defaults that are never stored.

Only `fuse_amps` is a user option (the HA options flow offers it). The tuning fields exist for
the benchmark and tests; a stored detector keeps only what it learned and the user's options,
so a restored detector always runs with the current defaults after an upgrade.
"""

from dataclasses import dataclass, field
from typing import Any

from .consumption import ConsumptionConfig


@dataclass(frozen=True, slots=True)
class DetectorConfig:
    """fuse_amps: the main fuse per phase (A); None turns the over-current check off.

    consumption: the unusual-consumption model's tuning (see `consumption.py`).
    parx_threshold: the new-pattern model's tail probability below which an hour is unusual.
    """

    fuse_amps: float | None = None
    consumption: ConsumptionConfig = field(default_factory=ConsumptionConfig)
    parx_threshold: float = 1e-3

    def options(self) -> dict[str, Any]:
        """The user's options, the only part of the config kept in the stored state."""
        return {"fuse_amps": self.fuse_amps}

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> DetectorConfig:
        """A config with the stored user options and the current tuning defaults."""
        return cls(fuse_amps=options.get("fuse_amps"))
