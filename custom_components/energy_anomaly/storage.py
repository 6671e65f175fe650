"""Per-home detector state in Home Assistant storage, so a restart does not restart learning."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
import os
from pathlib import Path
from typing import Any, NotRequired, TypedDict, cast

from homeassistant.core import DOMAIN as HOMEASSISTANT_DOMAIN
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import UnsupportedStorageVersionError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.json import json_bytes, json_fragment
from homeassistant.helpers.storage import Store
from homeassistant.util.json import json_loads

from .const import CONF_KEPT_HOMES, DOMAIN, STORAGE_VERSION

# The key of what could not be restored, kept aside: `energy_anomaly.<home id>.unreadable`.
UNREADABLE_SUFFIX = ".unreadable"
# What Home Assistant's Store renames a file that is not JSON to: `<key>.corrupt.<time>`, and
# the id of the repair issue it raises then: `storage_corruption_<key>_<time>`.
CORRUPT_INFIX = ".corrupt."
CORRUPT_ISSUE_PREFIX = "storage_corruption_"


class UnreadableFileError(Exception):
    """The file is JSON, but not as Home Assistant's Store writes it (its version damaged).

    Not `UnsupportedStorageVersionError`, a newer release's file, which is left as it is.
    """


class NotKeptAsideError(Exception):
    """What could not be restored could not be kept aside either: the card refused it.

    A card turned read-only (after errors, or a power cut) refuses the move, a full one the
    write of the copy.
    """


class StoredHomeData(TypedDict):
    """What is stored for one home: the detector's plain-data state and the quantities seen.

    `shown`: the anomalies of the episode the home was in when it was written (each a kind and
    start, epoch s, in the order shown), so one that goes on after a restart is not announced
    again; absent in states written before it. `history`: how the import of the home's past went
    (`HistoryImport`'s value), so a failed one still says so after a restart; absent before.
    """

    detector: dict[str, Any]
    reported: list[str]
    shown: NotRequired[list[Any] | None]
    history: NotRequired[str | None]


class PreparedHomeData(TypedDict):
    """What is written for one home: the same, with the detector state already JSON.

    Home Assistant's Store serialises on the event loop; the state (50-90 KB once learned) is
    serialised by the detector's worker in the executor instead (`prepare`), so the loop only
    copies bytes.
    """

    detector: json_fragment
    reported: list[str]
    shown: list[Any] | None
    history: str | None


def kept_homes(data: Mapping[str, Any], left: Iterable[str], watched: Iterable[str]) -> list[str]:
    """The homes of a Tibber entry's `data` whose learned state is stored but not watched.

    Those kept before and those just `left` (gone from the account, unticked), less the homes
    `watched` now: the entry deletes their stores with its own (`async_remove_entry`).
    """
    return sorted({*data.get(CONF_KEPT_HOMES, []), *left} - set(watched))


def prepare(
    detector_state: dict[str, Any],
    reported: list[str],
    shown: list[Any] | None = None,
    history: str | None = None,
) -> PreparedHomeData:
    """Executor: the data to write, with the detector state serialised here, off the loop."""
    return {
        "detector": json_fragment(json_bytes(detector_state)),
        "reported": reported,
        "shown": shown,
        "history": history,
    }


@dataclass
class HomeStateStore:
    """One storage file per home (`.storage/energy_anomaly.<home id>`), versioned for migrations.

    Keyed by the home, not the config entry, so removing and re-adding an account keeps what
    was learned until the entry is removed for good (then `async_remove` deletes it).
    """

    hass: HomeAssistant
    home_id: str
    _store: Store[StoredHomeData | PreparedHomeData] = field(init=False)
    # What could not be restored, kept aside (one copy: the latest).
    _unreadable: Store[Any] = field(init=False)

    def __post_init__(self) -> None:
        key = f"{DOMAIN}.{self.home_id}"
        # Atomic (flushed to the card before it replaces the old file), as core's registries: a
        # Pi's power cut mid-write must not cost the weeks learned
        self._store = Store(self.hass, STORAGE_VERSION, key, atomic_writes=True)
        self._unreadable = Store(self.hass, STORAGE_VERSION, f"{key}{UNREADABLE_SUFFIX}")

    async def async_load(self) -> StoredHomeData | None:
        """Return the stored state, or None for a home seen for the first time.

        A file that is not JSON at all (cut short, zeroed) is Home Assistant's to handle: its
        Store logs an error, keeps it as `<key>.corrupt.<time>`, raises a repair issue and
        returns None. Raises `UnreadableFileError` for JSON the Store cannot read, and the
        Store's `HomeAssistantError` for a file that could not be read at all (an I/O error).
        """
        try:
            # read back from JSON, what was written prepared is plain data again
            return cast(StoredHomeData | None, await self._store.async_load())
        except UnsupportedStorageVersionError:
            raise
        except Exception as err:  # Store raises whatever its envelope's damage leads to
            if isinstance(err.__cause__, OSError):  # not its content: the card failed a read
                raise
            raise UnreadableFileError from err

    @callback
    def async_schedule_save(self, data: PreparedHomeData) -> None:
        """Write `data` soon, once; a later call before the write replaces what is written."""
        self._store.async_delay_save(lambda: data)

    async def async_save(self, data: PreparedHomeData) -> None:
        """Write `data` now (unload, shutdown)."""
        await self._store.async_save(data)

    async def async_keep_unreadable(self, stored: Any) -> str:
        """Keep `stored`, which could not be restored, aside; the storage key it is kept under.

        So the fresh state written next does not destroy it: a release that reads it (after a
        downgrade), or a hand, can still bring it back. Raises NotKeptAsideError when the card
        refused the copy.
        """
        await self._unreadable.async_save(stored)
        # The Store logs a write the card refused and goes on: read the copy back to know (as
        # JSON gives it back: lists for tuples; a rare path, the copy is serialised once more)
        if await self._unreadable.async_load() != json_loads(json_bytes(stored)):
            raise NotKeptAsideError(
                f"the copy could not be written as .storage/{self._unreadable.key}"
            )
        return self._unreadable.key

    async def async_keep_file_aside(self) -> str:
        """Move the file `async_load` could not read to the key of what is kept aside.

        As it is, since the Store could not read it; the storage key it is kept under. Raises
        NotKeptAsideError when the card refused the move (read-only).
        """
        try:
            await self.hass.async_add_executor_job(
                os.replace, self._store.path, self._unreadable.path
            )
        except OSError as err:
            raise NotKeptAsideError(f"the file could not be moved aside ({err})") from err
        return self._unreadable.key

    @callback
    def leave_as_is(self) -> None:
        """Never write this session: the file is the only copy of something worth keeping.

        A newer release's, which may come back, or one the card refused to keep aside
        (`NotKeptAsideError`).
        """
        self._store.make_read_only()

    async def async_remove(self) -> None:
        """Delete the stored state and any copy kept aside (the config entry was removed).

        Also the copies Home Assistant kept of the file when it was not JSON (`async_load`), and
        the repair issues it raised for them, which would point at deleted files.
        """
        await self._store.async_remove()
        await self._unreadable.async_remove()
        await self.hass.async_add_executor_job(_remove_corrupt_copies, Path(self._store.path))
        registry = ir.async_get(self.hass)
        corrupt_issue = f"{CORRUPT_ISSUE_PREFIX}{self._store.key}_"
        for domain, issue_id in list(registry.issues):
            if domain == HOMEASSISTANT_DOMAIN and issue_id.startswith(corrupt_issue):
                ir.async_delete_issue(self.hass, domain, issue_id)


def _remove_corrupt_copies(path: Path) -> None:
    """Executor: delete the copies Home Assistant's Store kept of `path` as `.corrupt.<time>`."""
    for copy in path.parent.glob(f"{path.name}{CORRUPT_INFIX}*"):
        copy.unlink(missing_ok=True)
