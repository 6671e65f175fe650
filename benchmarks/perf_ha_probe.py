"""Event-loop probe: the integration inside a real Home Assistant test instance, fed live
measurements by the local Tibber server over wss (pyTibber for the account, the integration's own
websocket for live data).

Not a test: `benchmarks.perf` runs it explicitly with pytest (the harness builds `hass`):

    ENERGY_ANOMALY_PERF_PROBE=config.json python -m pytest benchmarks/perf_ha_probe.py \
        -p pytest_homeassistant_custom_component -q

The config (JSON, written by `benchmarks.perf`) holds the detector state to start from (so the
home is past learning and every model runs), the live measurements to push (realistic 2-s
timestamps), and where to write the results. What is measured:

- every event-loop callback (`asyncio.events.Handle._run`) is timed; its time is attributed to
  the integration when the callback is a step of one of the integration's tasks (its coroutine
  lives in `custom_components/energy_anomaly`, e.g. its websocket listener); the time inside
  its message handler (reading parsing and queueing, incl. the eagerly started worker step) is
  also recorded on its own;
- a loop-lag probe: a task sleeping 1 ms in a loop records how late it wakes up (everything
  that delays the loop, incl. GIL contention from executor threads, gql and the local
  server, which shares the loop);
- storage writes of the home's Store while the runner's clock follows the readings'
  timestamps (so 2-s readings span simulated minutes), and the final write on unload.

Scenario `naive_inline` runs naive per-reading rrcf (40 trees x 256, shingle 4) inline in the
runner's reading callback, on the event loop, to show what the budget guards against.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
import json
import os
from pathlib import Path
import time
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_ACCESS_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import storage as ha_storage
from homeassistant.util import dt as dt_util
from homeassistant.util.ssl import get_default_context
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_anomaly import runner as runner_module
from custom_components.energy_anomaly.const import CONF_HOMES, CONF_SOURCE, DOMAIN, SOURCE_TIBBER
from custom_components.energy_anomaly.live_source import TibberLiveSource
from custom_components.energy_anomaly.runner import HomeRunner
from tests.tibber_server import (
    DEFAULT_TOKEN,
    LocalAccount,
    LocalHome,
    LocalTibberServer,
    point_pytibber_at,
)

HOME = "00000000-0000-4000-8000-0000000000f0"
KEY = f"{DOMAIN}.{HOME}"
INTEGRATION_DIR = str(Path(__file__).resolve().parent.parent / "custom_components")
CONFIG = os.environ.get("ENERGY_ANOMALY_PERF_PROBE")
PLAIN_WRITES = 7  # baseline Store writes of the plain state after the stream


def _config() -> dict[str, Any]:
    if not CONFIG:
        pytest.skip("run by benchmarks.perf (ENERGY_ANOMALY_PERF_PROBE not set)")
    return json.loads(Path(CONFIG).read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load custom_components/energy_anomaly."""


class LoopMeter:
    """Times every event-loop callback and attributes the integration's share."""

    def __init__(self) -> None:
        self.active = False
        self.nested = 0.0
        self.records: list[tuple[float, float, str]] = []  # (total, ours, label)
        self.cpu: list[tuple[float, float]] = []  # thread CPU seconds: (total, ours) per record
        self.nested_cpu = 0.0
        self.handler: list[float] = []  # our live message handler, per reading
        self.publish: list[tuple[int, float]] = []  # (batch size, seconds) on the loop
        self.detector: list[tuple[int, float]] = []  # (batch size, seconds) in the executor
        self.store_writes: list[float] = []  # loop seconds of our Store's write steps

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        original = asyncio.events.Handle._run
        meter = self
        clock = time.perf_counter
        cpu = time.thread_time

        def _run(handle: asyncio.Handle) -> None:
            if not meter.active:
                original(handle)
                return
            label, ours, store = _classify(handle)  # before: a run may clear the callback
            meter.nested = meter.nested_cpu = 0.0
            c0 = cpu()
            t0 = clock()
            original(handle)
            total = clock() - t0
            busy = cpu() - c0
            if store:
                meter.store_writes.append(total)
            meter.records.append((total, total if ours else meter.nested, label))
            meter.cpu.append((busy, busy if ours else meter.nested_cpu))

        monkeypatch.setattr(asyncio.events.Handle, "_run", _run)

        handle_message = TibberLiveSource._async_handle

        def timed_handle(source: TibberLiveSource, home_id: str, data: object) -> None:
            c0 = cpu()
            t0 = clock()
            handle_message(source, home_id, data)
            dt = clock() - t0
            if meter.active:
                meter.nested += dt
                meter.nested_cpu += cpu() - c0
                meter.handler.append(dt)

        monkeypatch.setattr(TibberLiveSource, "_async_handle", timed_handle)

        publish = HomeRunner._async_publish

        def timed_publish(runner: Any, done: Any) -> None:
            t0 = clock()
            publish(runner, done)
            if meter.active:
                meter.publish.append((len(done.results), clock() - t0))

        monkeypatch.setattr(HomeRunner, "_async_publish", timed_publish)

        update = HomeRunner._detector_update

        def timed_update(runner: Any, batch: Any) -> Any:
            t0 = clock()
            out = update(runner, batch)
            if meter.active:
                meter.detector.append((len(batch), clock() - t0))
            return out

        monkeypatch.setattr(HomeRunner, "_detector_update", timed_update)


def _classify(handle: asyncio.Handle) -> tuple[str, bool, bool]:
    """(label, the integration's own task step?, our Store's write step?)."""
    callback = handle._callback  # type: ignore[attr-defined]
    task = getattr(callback, "__self__", None)
    if isinstance(task, asyncio.Task):
        coro = task.get_coro()
        code = getattr(coro, "cr_code", None)
        if code is None:
            return repr(coro)[:60], False, False
        label = code.co_qualname
        if label.endswith("_async_handle_write_data"):
            frame = getattr(coro, "cr_frame", None)
            store = frame.f_locals.get("self") if frame is not None else None
            if getattr(store, "key", None) == KEY:
                return "Store write (" + KEY.split(".", maxsplit=1)[0] + ")", False, True
        return label, code.co_filename.startswith(INTEGRATION_DIR), False
    owner = getattr(callback, "__self__", None)
    if isinstance(owner, ha_storage.Store) and owner.key == KEY:
        return "Store delayed write (" + KEY.split(".", maxsplit=1)[0] + ")", False, True
    func = getattr(callback, "__func__", callback)
    code = getattr(func, "__code__", None)
    label = getattr(func, "__qualname__", None) or repr(callback)[:60]
    return label, bool(code and code.co_filename.startswith(INTEGRATION_DIR)), False


class SimClock:
    """`dt_util` for the runner: `utcnow()` follows the pushed readings' timestamps."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def utcnow(self) -> datetime:
        return self.now

    def __getattr__(self, name: str) -> Any:
        return getattr(dt_util, name)


@pytest.fixture
async def server(
    hass: HomeAssistant, socket_enabled: None, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[LocalTibberServer]:
    account = LocalAccount(
        user_id="perf-user",
        name="Perf",
        homes=[LocalHome(HOME, nickname="Perf", address1="Benkveien 1", time_zone="Europe/Oslo")],
    )
    async with LocalTibberServer(account=account, tls=True) as srv:
        srv.trust(get_default_context())
        point_pytibber_at(srv, monkeypatch)
        yield srv
        for entry in hass.config_entries.async_entries(DOMAIN):
            if entry.state is ConfigEntryState.LOADED:
                await hass.config_entries.async_unload(entry.entry_id)


def _fields(row: list[Any]) -> dict[str, Any]:
    ts, power, v1, v2, v3, c1, c2, c3, prod = row
    return {
        "timestamp": ts,
        "power": power,
        "voltagePhase1": v1,
        "voltagePhase2": v2,
        "voltagePhase3": v3,
        "currentL1": c1,
        "currentL2": c2,
        "currentL3": c3,
        "powerProduction": prod,
    }


async def _lag_probe(samples: list[float], stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        t0 = loop.time()
        await asyncio.sleep(0.001)
        samples.append(loop.time() - t0 - 0.001)


async def _plain_store_writes(hass: HomeAssistant, runner: HomeRunner) -> list[float]:
    """Baseline for the Store write step, same loop and harness: HA's default way.

    The home's current state handed to a Store as plain data, which the Store serialises on
    the loop (the harness's mock write also checks it for mocks and re-parses it), timed per
    write; the integration hands it serialised by its worker instead.
    """
    store: ha_storage.Store[Any] = ha_storage.Store(hass, 1, f"{DOMAIN}.perf_baseline")
    plain = {"detector": runner._detector.to_state(), "reported": sorted(runner._reported)}
    seconds = []
    for _ in range(PLAIN_WRITES):
        data = {"version": 1, "minor_version": 1, "key": store.key, "data": plain}
        t0 = time.perf_counter()
        await store._async_write_data(data)  # the harness's mock: runs at once, on the loop
        seconds.append(time.perf_counter() - t0)
    return seconds


async def _run_scenario(  # noqa: PLR0915
    hass: HomeAssistant,
    server: LocalTibberServer,
    monkeypatch: pytest.MonkeyPatch,
    hass_storage: dict[str, Any],
    scenario: str,
) -> None:
    config = _config()
    if scenario not in config["scenarios"]:
        pytest.skip(f"{scenario} not requested")
    pushes = (
        config["pushes"][: config["naive_pushes"]]
        if scenario == "naive_inline"
        else config["pushes"]
    )
    loop = asyncio.get_running_loop()
    debug = loop.get_debug()
    loop.set_debug(False)  # production runs without asyncio debug mode

    if config.get("state") is not None:
        hass_storage[KEY] = {
            "version": 1,
            "minor_version": 1,
            "key": KEY,
            "data": {"detector": config["state"], "reported": config["reported"]},
        }
    first = datetime.fromisoformat(pushes[0][0]).astimezone(UTC)
    sim = SimClock(first)
    monkeypatch.setattr(runner_module, "dt_util", sim)

    writes: list[dict[str, Any]] = []
    phase = ["setup"]
    decided: list[str] = []  # the runner's clock at each snapshot it decided to write
    snapshot_if_due = HomeRunner._async_snapshot_if_due

    async def stamped_snapshot(runner: HomeRunner, *, now: bool = False) -> Any:
        clock = sim.now  # what the runner compares (it reads the clock before its first await)
        data = await snapshot_if_due(runner, now=now)
        if data is not None:
            decided.append(clock.isoformat())
        return data

    monkeypatch.setattr(HomeRunner, "_async_snapshot_if_due", stamped_snapshot)

    meter = LoopMeter()
    meter.install(monkeypatch)
    naive_seconds: list[float] = []
    if scenario == "naive_inline":
        from .perf_common import NaiveRrcf  # noqa: PLC0415

        naive = NaiveRrcf()
        for power in config["naive_warm"]:
            naive.update(power)
        add = HomeRunner.async_add_readings

        def add_with_naive(runner: Any, readings: Any) -> None:
            t0 = time.perf_counter()
            for reading in readings:
                naive.update(reading.power)
            naive_seconds.append(time.perf_counter() - t0)
            add(runner, readings)

        monkeypatch.setattr(HomeRunner, "async_add_readings", add_with_naive)

    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Perf",
        unique_id="perf-user",
        data={
            CONF_SOURCE: SOURCE_TIBBER,
            CONF_ACCESS_TOKEN: DEFAULT_TOKEN,
            CONF_HOMES: {HOME: "Perf"},
        },
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await server.wait_for_subscriptions(1)
    runner = entry.runtime_data.sink.runners[HOME]
    coordinator = runner.coordinator
    status_at_start = runner.diagnostics()["status"]
    # count this home's Store writes (the instance's method; HA's harness mocks the class one)
    store = runner._store._store
    write_data = store._async_write_data

    async def counting_write(data: dict[str, Any]) -> None:
        # stamped with the runner's clock when it decided the snapshot this writes: the write
        # itself may run readings later on a busy loop
        writes.append({"sim": decided[-1] if decided else sim.now.isoformat(), "phase": phase[0]})
        await write_data(data)

    store._async_write_data = counting_write  # type: ignore[method-assign]

    # idle baseline for the lag probe (no pushes), then the stream
    lag_idle: list[float] = []
    stop = asyncio.Event()
    probe = hass.async_create_background_task(_lag_probe(lag_idle, stop), "perf lag probe idle")
    await asyncio.sleep(1.0)
    stop.set()
    await probe

    lag: list[float] = []
    stop = asyncio.Event()
    probe = hass.async_create_background_task(_lag_probe(lag, stop), "perf lag probe")
    phase[0] = "stream"
    meter.active = True
    pace = config["pace"]
    lost = 0
    w0 = time.perf_counter()
    for row in pushes:
        sim.now = datetime.fromisoformat(row[0]).astimezone(UTC)
        if not await server.push(HOME, **_fields(row)):
            lost += 1
        await asyncio.sleep(pace)
    last = datetime.fromisoformat(pushes[-1][0])
    async with asyncio.timeout(120):
        while coordinator.data is None or coordinator.data.reading.timestamp != last:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    await hass.async_block_till_done()
    stream_wall = time.perf_counter() - w0
    meter.active = False
    stop.set()
    await probe
    plain_writes = await _plain_store_writes(hass, runner)
    status_at_end = runner.diagnostics()["status"]
    results = coordinator.data.result

    phase[0] = "final"
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    stored = hass_storage.get(KEY)

    span = (
        datetime.fromisoformat(pushes[-1][0]) - datetime.fromisoformat(pushes[0][0])
    ).total_seconds()
    out = {
        "scenario": scenario,
        "asyncio_debug_in_harness": debug,
        "pushed": len(pushes),
        "lost": lost,
        "processed": sum(n for n, _ in meter.publish),
        "stream_wall_s": stream_wall,
        "span_s": span,
        "status": [status_at_start, status_at_end],
        "last_anomaly": results.anomaly,
        "records": meter.records,
        "cpu": meter.cpu,
        "handler": meter.handler,
        "publish": meter.publish,
        "detector": meter.detector,
        "store_writes_loop": meter.store_writes,
        "store_writes_plain": plain_writes,
        "naive_inline": naive_seconds,
        "lag": lag,
        "lag_idle": lag_idle,
        "writes": writes,
        "stored_bytes": len(json.dumps(stored, separators=(",", ":")).encode()) if stored else 0,
    }
    path = Path(config["out"]) / f"ha_{scenario}.json"
    path.write_text(json.dumps(out), encoding="utf-8")


async def test_engine(
    hass: HomeAssistant,
    server: LocalTibberServer,
    monkeypatch: pytest.MonkeyPatch,
    hass_storage: dict[str, Any],
) -> None:
    await _run_scenario(hass, server, monkeypatch, hass_storage, "engine")


async def test_naive_inline(
    hass: HomeAssistant,
    server: LocalTibberServer,
    monkeypatch: pytest.MonkeyPatch,
    hass_storage: dict[str, Any],
) -> None:
    await _run_scenario(hass, server, monkeypatch, hass_storage, "naive_inline")
