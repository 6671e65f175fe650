"""Base entity: one device per watched home, entities keyed by home and description."""

from collections.abc import Callable, Coroutine, Iterable, Sequence
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN, NAME
from .coordinator import Controls, EnergyAnomalyCoordinator, HomeData
from .runner import HomeRunner
from .runtime import EnergyAnomalyConfigEntry, new_home_signal

type PlatformSetup = Callable[
    [HomeAssistant, EnergyAnomalyConfigEntry, AddConfigEntryEntitiesCallback],
    Coroutine[Any, Any, None],
]


class EnergyAnomalyEntity(CoordinatorEntity[EnergyAnomalyCoordinator]):
    """An entity of one home's device, showing only what its coordinator holds (`data`).

    A reading every few seconds reaches every entity of the home, but most of them (status,
    baseload, the anomaly sensor while off) show the same thing as before: those write nothing,
    so the state machine, the recorder and the frontend only hear of values that moved. An entity
    whose value moves with nearly every reading (voltage, current, score) may also hold a moved
    value back (`_write_due`) until it matters or enough of the readings' time has passed.
    """

    _attr_has_entity_name = True

    def __init__(
        self, coordinator: EnergyAnomalyCoordinator, description: EntityDescription
    ) -> None:
        """Attach the entity to the home's device."""
        super().__init__(coordinator)
        self.entity_description = description
        home = coordinator.home
        self._attr_unique_id = f"{home.home_id}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, home.home_id)},
            name=home.name,
            manufacturer=NAME,
            model=home.model,
        )
        self._written: tuple[Any, ...] | None = None
        self._written_at: float | None = None  # the epoch (s) of the reading last written

    @property
    def available(self) -> bool:
        """Available while the home's live data flows (and after the first reading)."""
        return super().available and self.coordinator.data is not None

    async def async_update(self) -> None:
        """Nothing to fetch: readings are pushed, and what the entity shows is their latest.

        Called only by the `homeassistant.update_entity` action; the coordinator's refresh would
        fail (it has nothing to poll) and mark the home unavailable until its next reading.
        """

    @property
    def data(self) -> HomeData:
        """The home's current data; Home Assistant reads state only while `available`."""
        data = self.coordinator.data
        assert data is not None, "state read while unavailable"
        return data

    def _shown(self) -> tuple[Any, ...]:
        """What the entity would write now: availability, value and attributes."""
        if not self.available:
            return (False,)
        return (True, self._value(), self.extra_state_attributes)

    def _value(self) -> Any:
        """The value `_shown` compares: the state, unless a platform compares another."""
        return self.state

    def _write_due(self, written: tuple[Any, ...], shown: tuple[Any, ...], since: float) -> bool:
        """Whether a moved `shown` is written now; `since` = seconds of readings since the last.

        Only called while available before and after; by default every change is written.
        """
        return True

    def _remember_written(self, shown: tuple[Any, ...]) -> None:
        self._written = shown
        data = self.coordinator.data  # None for a control shown before the first reading
        self._written_at = data.reading.epoch if shown[0] and data is not None else None

    async def async_added_to_hass(self) -> None:
        """Remember what Home Assistant writes right after adding the entity."""
        await super().async_added_to_hass()
        self._remember_written(self._shown())

    @callback
    def _handle_coordinator_update(self) -> None:
        """Write the state only when what the entity shows changed and the change is due."""
        shown, written = self._shown(), self._written
        if shown == written:
            return
        if written is not None and written[0] and shown[0] and self._written_at is not None:
            # abs: readings stamped before the one written (a host's clock set back) are as far
            # from it; held back, a small move would wait until they passed it again
            since = abs(self.data.reading.epoch - self._written_at)
            if not self._write_due(written, shown, since):
                return
        self._remember_written(shown)
        self.async_write_ha_state()


@callback
def async_for_each_home(
    hass: HomeAssistant, entry: EnergyAnomalyConfigEntry, add: Callable[[HomeRunner], None]
) -> None:
    """Call `add` for every watched home now, and for each home added while the entry runs.

    `add` must be a callback: the dispatcher runs anything else in the executor.
    """
    for runner in entry.runtime_data.sink.runners.values():
        add(runner)
    entry.async_on_unload(async_dispatcher_connect(hass, new_home_signal(entry), add))


def per_home(entities: Callable[[HomeRunner], Iterable[EnergyAnomalyEntity]]) -> PlatformSetup:
    """A platform's `async_setup_entry` adding the `entities` of every watched home."""

    async def async_setup_entry(
        hass: HomeAssistant,
        entry: EnergyAnomalyConfigEntry,
        async_add_entities: AddConfigEntryEntitiesCallback,
    ) -> None:
        @callback
        def add_home(runner: HomeRunner) -> None:
            async_add_entities(entities(runner))

        async_for_each_home(hass, entry, add_home)

    return async_setup_entry


def one_per_home(
    entity: Callable[[EnergyAnomalyCoordinator, EntityDescription], EnergyAnomalyEntity],
    description: EntityDescription,
) -> PlatformSetup:
    """A platform's `async_setup_entry` adding one `entity` per home (anomaly sensor, event)."""
    return per_home(lambda runner: [entity(runner.coordinator, description)])


class EnergyAnomalyControl(EnergyAnomalyEntity):
    """A control of one home (mode, sensitivity, silencing).

    It shows `coordinator.controls` and sends changes to the home's runner, whose
    worker applies them in turn with the readings.
    """

    def __init__(self, runner: HomeRunner, description: EntityDescription) -> None:
        """Attach the control to the home's device and runner."""
        super().__init__(runner.coordinator, description)
        self.runner = runner

    @property
    def available(self) -> bool:
        """Always: what the household chose is restored with the detector.

        So it shows before the home's first reading and while its live data is down, and
        choosing *Away* while the meter is offline (a Pulse without Wi-Fi before a holiday, or
        at a restart) must not wait for it to come back.
        """
        return True

    @property
    def controls(self) -> Controls:
        """What the household set, as the home's runner last told the coordinator."""
        return self.coordinator.controls


type ControlFactory = Callable[[HomeRunner, EntityDescription], EnergyAnomalyControl]


def controls_per_home(
    controls: Sequence[tuple[ControlFactory, EntityDescription]],
) -> PlatformSetup:
    """A platform's `async_setup_entry` adding each (control, description) to every home."""
    return per_home(
        lambda runner: [control(runner, description) for control, description in controls]
    )
