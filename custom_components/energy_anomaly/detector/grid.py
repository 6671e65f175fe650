"""Which grid a home's phases are of, told by the voltages they read.

The power quality checks judge a phase against its grid's nominal voltage (`DetectorConfig.
nominal_v`). A power sensor home's form reads the grid from its voltage sensors; one whose
sensors gave no value there, and a CSV scored offline without `--grid`, take it from their
readings (`GridReader`).
"""

from collections.abc import Iterable, Mapping
from typing import Final

from .config import GRID_120_V, NOMINAL_V
from .model import Reading

# What a phase must read, when it reads a value, by the grid it is then taken for (its nominal, V,
# which the power quality checks judge a phase against ± 10 %): any other value (Japan's 100 V
# grid, the voltage between two phases, 400 V, or a phase not wired, 0 V) would hold a power
# quality alarm from the second minute on. 230 V: halfway between 230 V and 120 V or 400 V. 120 V:
# a 120 V phase (ANSI C84.1 keeps the service at 110-127 V, a little lower under load) or a 127 V
# one (Mexico, parts of Brazil: 114-140 V at ± 10 %). From 108 V, the 120 V band's own low limit:
# Japan's 100 V grid reads at most 107 V (101 ± 6 V), and judged against 120 V it would be in
# undervoltage for good. Up to 145 V, above a 127 V phase's 140 V: no grid's phase reads 145-175 V.
PHASE_VOLTAGE_V: Final[Mapping[float, tuple[float, float]]] = {
    NOMINAL_V: (175.0, 315.0),
    GRID_120_V: (108.0, 145.0),
}
# The phases must read one grid this long (s) before it is taken: one sample of a deep sag (a
# 230 V phase at half, a brownout) reads as a 120 V phase, and the grid taken stays. Under the
# power quality checks' 2 minutes (`PowerQualityConfig.voltage_min_s`), so a 120 V home, judged
# against 230 V until then, raises no undervoltage alarm: its episode starts afresh with the grid
# (`Detector.judge_against`).
GRID_READ_AFTER_S: Final = 60.0


def grid_of_phase(volts: float) -> float | None:
    """The grid (its nominal, V) whose phase reads `volts` (PHASE_VOLTAGE_V), else None."""
    for nominal, (low, high) in PHASE_VOLTAGE_V.items():
        if low <= volts <= high:
            return nominal
    return None


def phases_grid(voltages: Iterable[float | None]) -> float | None:
    """The grid (its nominal, V) that a reading's phases of a grid all read; else None.

    Phases that read no value or no grid's phase (a lost phase's 0 V, a sag below 108 V) are left
    out; phases of two grids (a wrong sensor, which the form refuses when it reads) tell none.
    """
    read = (grid_of_phase(volts) for volts in voltages if volts is not None)
    grids = {grid for grid in read if grid is not None}
    return grids.pop() if len(grids) == 1 else None


class GridReader:
    """Tells a home's grid once its readings' phases have read one for GRID_READ_AFTER_S.

    Readings whose phases read no grid tell nothing; a reading of the other grid starts the
    count again.
    """

    def __init__(self) -> None:
        """Read from nothing: no grid seen yet."""
        # The grid the latest readings' phases read, and since when (epoch s) without another
        self._seen: tuple[float, float] | None = None

    def read(self, reading: Reading) -> float | None:
        """The grid, once `reading` makes it GRID_READ_AFTER_S of one grid's phases; else None."""
        if (grid := phases_grid(reading.voltage)) is None:
            return None
        if self._seen is None or self._seen[0] != grid:
            self._seen = (grid, reading.epoch)
            return None
        return grid if reading.epoch - self._seen[1] >= GRID_READ_AFTER_S else None
