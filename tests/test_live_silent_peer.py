"""A Tibber websocket whose far end has gone silent (a half-open TCP connection)."""

import asyncio
import base64
from collections.abc import AsyncIterator
import hashlib
import logging
from pathlib import Path
import ssl
import tempfile
import time

from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_anomaly import live_source

from .tibber_server import CERTIFICATES, WEBSOCKET_PATH, LocalTibberServer

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class SilentPeer:
    """Accepts the websocket upgrade (TLS, graphql-transport-ws), then never reads nor writes."""

    def __init__(self) -> None:
        self.accepted = asyncio.Event()
        self._stopped = asyncio.Event()
        self._writers: list[asyncio.StreamWriter] = []
        self._server: asyncio.Server | None = None
        self._tempdir = tempfile.TemporaryDirectory(prefix="silent-peer-")

    async def start(self) -> None:
        ca_pem, cert_pem, key_pem = CERTIFICATES
        directory = Path(self._tempdir.name)
        (directory / "cert.pem").write_text(cert_pem + ca_pem)
        (directory / "key.pem").write_text(key_pem)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(directory / "cert.pem", directory / "key.pem")
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=context)

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"wss://127.0.0.1:{port}{WEBSOCKET_PATH}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.readuntil(b"\r\n\r\n")
        key = next(
            line.split(b":", 1)[1].strip()
            for line in request.split(b"\r\n")
            if line.lower().startswith(b"sec-websocket-key:")
        )
        accept = base64.b64encode(hashlib.sha1(key + _GUID).digest())
        writer.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept + b"\r\n"
            b"Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n"
        )
        await writer.drain()
        self._writers.append(writer)
        self.accepted.set()
        # From here on nothing is read or written: the far end of a dead connection.
        await self._stopped.wait()

    async def stop(self) -> None:
        self._stopped.set()
        for writer in self._writers:
            writer.transport.abort()
        if self._server is not None:
            self._server.close()
        self._tempdir.cleanup()


@pytest.fixture
async def silent_peer(
    tibber_server: LocalTibberServer, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[SilentPeer]:
    """Tibber's API answers as usual; its websocket address leads to a silent peer."""
    peer = SilentPeer()
    await peer.start()
    new_websocket = live_source.new_websocket
    monkeypatch.setattr(
        live_source, "new_websocket", lambda _url, token: new_websocket(peer.url, token)
    )
    yield peer
    await peer.stop()


async def test_stopping_while_tibber_is_silent_is_quick_and_logs_no_warning(
    hass: HomeAssistant,
    silent_peer: SilentPeer,
    tibber_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    tibber_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(tibber_entry.entry_id)
    await asyncio.wait_for(silent_peer.accepted.wait(), 30)
    await asyncio.sleep(0.5)  # connection_init sent; no connection_ack comes

    began = time.monotonic()
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)  # the entry's listener closes the source
    await hass.async_block_till_done()
    took = time.monotonic() - began

    shown = [
        f"{r.name}: {r.getMessage()}"
        for r in caplog.records
        if r.levelno >= logging.WARNING and r.name != "homeassistant.loader"
    ]
    assert (took, shown) == (pytest.approx(0, abs=3), [])
