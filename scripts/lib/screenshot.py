"""Screenshots of the example dashboard, from a real Home Assistant with the demo home.

Run by `scripts/screenshot` inside the project's environment, with the python of a venv of its own
that sees the test venv's packages and adds playwright and the Home Assistant frontend (so the test
venv stays as it is). Starts Home Assistant on a free port of 127.0.0.1 with a throwaway
configuration, creates the owner through the onboarding API, adds the demo home through the config
flow API, stores `examples/dashboard.yaml` as a dashboard, and has headless Chromium take two
pictures: the demo home normal, and in alarm once the heater left on at night is flagged (after
checking that the page shows the anomaly's reason). Any failure ends the script with a message and
exit code 1.
"""

import argparse
import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
import json
import os
from pathlib import Path
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from typing import TYPE_CHECKING, Any

import aiohttp
import yaml

if TYPE_CHECKING:
    from playwright.async_api import Page

REPO = Path(__file__).resolve().parents[2]
DASHBOARD = REPO / "examples" / "dashboard.yaml"
IMAGES = REPO / "images"
VIEWPORT = {"width": 1280, "height": 900}
DEMO_SPEED = 12
"""Rows replayed a second (120 times real speed): 02:08 on the demo clock, when the heater left
on at night is flagged, comes 64 s into the replay instead of 13 minutes."""
ENTITY_KEYS = frozenset({"entity", "entities", "entity_id"})
NORMAL_REPLAY = 25.0
"""Seconds of replay before the normal picture (demo clock 00:00 to 00:50)."""
ALARM_REPLAY = 15.0
"""Seconds of replay after the alarm before its picture, so the graph shows the heater on."""
GRAPH_MARGIN = 5.0
"""Seconds the graphs reach back before the first data."""
START_TIMEOUT = 180.0
"""Seconds Home Assistant may take to answer (first start on a loaded 2-core machine)."""
ACTIVE_TIMEOUT = 120.0
"""Seconds the demo home may take to learn its past and become active."""
ALARM_TIMEOUT = 240.0
"""Seconds the demo may take to flag the heater (65 s of replay, more when the machine is busy)."""
RENDER_TIMEOUT_MS = 60_000
SETTLE = 3.0
"""Seconds for the cards' charts to draw after the awaited text shows."""
DASHBOARD_PATH = "energy-anomaly"
TITLE = "Energy"
ANOMALY = "binary_sensor.demo_home_anomaly"
STATUS = "sensor.demo_home_detector_status"
USER = {"name": "Demo", "username": "demo", "password": "demo-screenshot", "language": "en"}

CONFIGURATION = """
homeassistant:
  name: Home
  time_zone: Europe/Oslo
  unit_system: metric
  currency: NOK
  country: "NO"
  latitude: 59.91
  longitude: 10.75
frontend:
config:
history:
logbook:
recorder:
  commit_interval: 1
logger:
  default: error
  logs:
    custom_components.energy_anomaly: info
    haffmpeg: critical  # no ffmpeg here, and no camera needs it
    homeassistant.components.camera.img_util: critical
"""
"""Only what the dashboard needs (no default_config: less to install, nothing that calls out)."""
DOMAINS = ("frontend", "config", "history", "logbook", "recorder")
"""The integrations CONFIGURATION sets up (with their dependencies)."""
BASE_DOMAINS = (
    *("ai_task", "alarm_control_panel", "assist_satellite", "calendar", "camera", "climate"),
    *("cover", "fan", "humidifier", "light", "lock", "media_player", "notify", "remote", "siren"),
    *("todo", "update", "vacuum", "water_heater"),
)
"""What Home Assistant's service helper imports at once (`helpers/service.py`,
`_base_components`), before it would install their requirements itself."""

ONBOARDED_BUT_USER = {
    "version": 4,
    "minor_version": 1,
    "key": "onboarding",
    "data": {"done": ["core_config", "analytics", "integration"]},
}
"""The onboarding steps marked done beforehand; the user step is done through its API."""


def http_storage(port: int) -> dict[str, Any]:
    """Home Assistant's stored HTTP settings: 127.0.0.1 at `port`.

    In storage, not in YAML: from YAML they would be a trial the frontend asks to confirm.
    """
    from homeassistant.components.http import config  # noqa: PLC0415 - HA's own schema

    settings = config.HTTP_STORAGE_SCHEMA({"server_host": "127.0.0.1", "server_port": port})
    settings |= {"created_at": "2026-01-01T00:00:00+00:00", "error": None, "error_message": None}
    data = {"stable": settings, "pending": None, "yaml_migration_done": True}
    return {"version": 2, "minor_version": 2, "key": "http", "data": data}


class ScreenshotError(Exception):
    """What went wrong, said to the user as is."""


def free_port() -> int:
    """A port of 127.0.0.1 nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def prepare_config(config_dir: Path, port: int) -> None:
    """A throwaway configuration with the integration and onboarding all but the user step."""
    (config_dir / "configuration.yaml").write_text(CONFIGURATION)
    (config_dir / "custom_components").symlink_to(REPO / "custom_components")
    (config_dir / ".storage").mkdir()
    (config_dir / ".storage" / "onboarding").write_text(json.dumps(ONBOARDED_BUT_USER))
    (config_dir / ".storage" / "http").write_text(json.dumps(http_storage(port)))


def start_home_assistant(config_dir: Path) -> subprocess.Popen[bytes]:
    """Home Assistant with the demo replayed fast; its output goes to home-assistant.out."""
    env = {**os.environ, "ENERGY_ANOMALY_DEMO_SPEED": str(DEMO_SPEED)}
    with (config_dir / "home-assistant.out").open("wb") as out:  # the child keeps its copy
        return subprocess.Popen(
            [sys.executable, "-m", "homeassistant", "--config", str(config_dir)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )


def dashboard(first_data: float) -> dict[str, Any]:
    """The example dashboard, its graphs spanning the time since `first_data` (monotonic s).

    This Home Assistant has run only that long, its recorder has nothing older: the example's
    24 h would squeeze the replay into a few pixels at the right.
    """
    hours = (time.monotonic() - first_data + GRAPH_MARGIN) / 3600
    config: dict[str, Any] = yaml.safe_load(DASHBOARD.read_text())
    for view in config["views"]:
        for section in view.get("sections", []):
            for card in section.get("cards", []):
                if card["type"] == "history-graph":
                    card["hours_to_show"] = hours
    return config


def entity_ids(node: Any, named: bool = False) -> set[str]:
    """Every entity id in a dashboard configuration (values of ENTITY_KEYS, in any card)."""
    if isinstance(node, str):
        return {node} if named else set()
    if isinstance(node, list):
        return set().union(*(entity_ids(item, named) for item in node))
    if isinstance(node, dict):
        return set().union(*(entity_ids(value, key in ENTITY_KEYS) for key, value in node.items()))
    return set()


class HomeAssistantClient:
    """The few REST and websocket calls the script makes, as the owner once onboarded."""

    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        """Talk to the Home Assistant at `url`."""
        self.session = session
        self.url = url
        self.client_id = f"{url}/"
        self.tokens: dict[str, Any] = {}

    async def wait_until_up(self, process: subprocess.Popen[bytes]) -> None:
        """Until the onboarding API answers, or fail if Home Assistant stopped or is too slow."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise ScreenshotError(f"Home Assistant exited with code {process.returncode}")
            try:
                async with self.session.get(f"{self.url}/api/onboarding") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(1)
        raise ScreenshotError(f"Home Assistant did not answer within {START_TIMEOUT:.0f} s")

    async def onboard(self) -> None:
        """Create the owner and log in as them (the tokens the browser will use too)."""
        user = {**USER, "client_id": self.client_id}
        code = (await self._post("/api/onboarding/users", user))["auth_code"]
        form = {"grant_type": "authorization_code", "code": code, "client_id": self.client_id}
        async with self.session.post(f"{self.url}/auth/token", data=form) as response:
            if response.status != 200:
                raise ScreenshotError(f"Login failed: {response.status} {await response.text()}")
            self.tokens = await response.json()

    async def add_demo_home(self) -> None:
        """Add Energy Anomaly's demo home as a user would: menu, then the demo step."""
        flow = await self._post("/api/config/config_entries/flow", {"handler": "energy_anomaly"})
        step = f"/api/config/config_entries/flow/{flow['flow_id']}"
        await self._post(step, {"next_step_id": "demo"})
        result = await self._post(step, {})
        if result.get("type") != "create_entry":
            raise ScreenshotError(f"The demo home was not added: {result}")

    async def add_dashboard(self) -> None:
        """Add the (empty) dashboard DASHBOARD_PATH, as Settings → Dashboards would."""
        await self._websocket(
            {"type": "lovelace/dashboards/create", "url_path": DASHBOARD_PATH, "title": TITLE}
        )

    async def save_dashboard(self, config: dict[str, Any]) -> None:
        """Store `config` as DASHBOARD_PATH's configuration, as its raw editor would."""
        await self._websocket(
            {"type": "lovelace/config/save", "url_path": DASHBOARD_PATH, "config": config}
        )

    async def state(self, entity_id: str) -> dict[str, Any] | None:
        """The entity's state object, or None while it does not exist."""
        headers = {"Authorization": f"Bearer {self.access_token}"}
        async with self.session.get(f"{self.url}/api/states/{entity_id}", headers=headers) as r:
            return await r.json() if r.status == 200 else None  # type: ignore[no-any-return]

    async def warn_about_missing(self, wanted: set[str]) -> None:
        """Say which entities the dashboard shows as "Entity not found" (not an error)."""
        missing = [entity_id for entity_id in sorted(wanted) if await self.state(entity_id) is None]
        if missing:
            print(f"warning: not in this Home Assistant (shown as not found): {', '.join(missing)}")

    async def wait_for_state(
        self, entity_id: str, holds: Callable[[str], bool], within: float, what: str
    ) -> dict[str, Any]:
        """Poll `entity_id` until its state satisfies `holds`; fail saying `what` did not come."""
        try:
            async with asyncio.timeout(within):
                while True:
                    state = await self.state(entity_id)
                    if state is not None and holds(state["state"]):
                        return state
                    await asyncio.sleep(1)
        except TimeoutError:
            raise ScreenshotError(
                f"{what} did not come within {within:.0f} s ({entity_id})"
            ) from None

    @property
    def access_token(self) -> str:
        """The owner's access token."""
        token: str = self.tokens["access_token"]
        return token

    async def _websocket(self, command: dict[str, Any]) -> None:
        """Send one command over the websocket API; fail unless it succeeds."""
        async with self.session.ws_connect(f"{self.url}/api/websocket") as websocket:
            await websocket.receive_json()  # auth_required
            await websocket.send_json({"type": "auth", "access_token": self.access_token})
            if (await websocket.receive_json())["type"] != "auth_ok":
                raise ScreenshotError("The websocket refused the owner's token")
            await websocket.send_json({"id": 1, **command})
            if not (result := await websocket.receive_json()).get("success"):
                raise ScreenshotError(f"{command['type']} failed: {result}")

    async def _post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.access_token}"} if self.tokens else {}
        async with self.session.post(f"{self.url}{path}", json=payload, headers=headers) as r:
            if r.status != 200:
                raise ScreenshotError(f"POST {path} failed: {r.status} {await r.text()}")
            return await r.json()  # type: ignore[no-any-return]


def login_script(client: HomeAssistantClient) -> str:
    """JavaScript that gives the frontend the owner's tokens, as if they had just logged in."""
    tokens = {
        **client.tokens,
        "hassUrl": client.url,
        "clientId": client.client_id,
        "expires": int(time.time() * 1000) + client.tokens["expires_in"] * 1000,
    }
    return f"localStorage.setItem('hassTokens', {json.dumps(json.dumps(tokens))});"


async def shoot(page: Page, url: str, text: str, path: Path) -> None:
    """Open the dashboard, wait until `text` shows, let the charts draw, save the picture."""
    await page.goto(url)
    try:
        await page.get_by_text(text, exact=False).first.wait_for(timeout=RENDER_TIMEOUT_MS)
    except Exception as err:
        await page.screenshot(path=path.with_suffix(".failed.png"))
        raise ScreenshotError(
            f"The dashboard does not show {text!r} (what it showed: "
            f"{path.with_suffix('.failed.png')})"
        ) from err
    await asyncio.sleep(SETTLE)
    await page.screenshot(path=path)
    print(f"Saved {path.relative_to(REPO)}")


@asynccontextmanager
async def chromium_page(client: HomeAssistantClient) -> AsyncIterator[Page]:
    """A page of headless Debian Chromium, logged in as the owner, the sidebar hidden."""
    executable = shutil.which("chromium")
    if executable is None:
        raise ScreenshotError("chromium is not installed (scripts/screenshot installs it)")
    from playwright.async_api import async_playwright  # noqa: PLC0415 - installed apart

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=executable, args=["--no-sandbox"], headless=True
        )
        context = await browser.new_context(viewport=VIEWPORT, locale="en-GB")  # type: ignore[arg-type]
        await context.add_init_script(
            login_script(client) + "localStorage.setItem('dockedSidebar', '\"always_hidden\"');"
        )
        try:
            yield await context.new_page()
        finally:
            await browser.close()


async def take_screenshots(process: subprocess.Popen[bytes], port: int) -> None:
    """Onboard, add the demo, store the dashboard, and take the normal and the alarm picture."""
    url = f"http://127.0.0.1:{port}"
    view = f"{url}/{DASHBOARD_PATH}/0"
    async with aiohttp.ClientSession() as session:
        client = HomeAssistantClient(session, url)
        await client.wait_until_up(process)
        await client.onboard()
        await client.add_demo_home()
        await client.add_dashboard()
        await client.wait_for_state(STATUS, lambda s: s == "active", ACTIVE_TIMEOUT, "Detection")
        first_data = time.monotonic()
        await client.warn_about_missing(entity_ids(dashboard(first_data)))
        IMAGES.mkdir(exist_ok=True)
        async with chromium_page(client) as page:
            await asyncio.sleep(NORMAL_REPLAY)
            await client.save_dashboard(dashboard(first_data))
            await shoot(page, view, "No anomaly", IMAGES / "dashboard-normal.png")
            alarm = await client.wait_for_state(
                ANOMALY, lambda s: s == "on", ALARM_TIMEOUT, "The heater's alarm"
            )
            reason = alarm["attributes"]["reason"]
            print(f"Anomaly on: {reason}")
            await asyncio.sleep(ALARM_REPLAY)
            await client.save_dashboard(dashboard(first_data))
            await shoot(page, view, reason, IMAGES / "dashboard-alarm.png")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop Home Assistant as Ctrl+C would, then for good if it hangs."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def install_requirements() -> None:
    """Install what Home Assistant will import before it installs it (with its own installer)."""
    from homeassistant import components  # noqa: PLC0415 - only for this
    from homeassistant.util import package  # noqa: PLC0415

    base = Path(components.__path__[0])
    constraints = str(base.parent / "package_constraints.txt")
    domains, seen = [*DOMAINS, *BASE_DOMAINS], set()
    while domains:
        domain = domains.pop()
        if domain in seen:
            continue
        seen.add(domain)
        manifest = json.loads((base / domain / "manifest.json").read_text())
        domains += manifest.get("dependencies", []) + manifest.get("after_dependencies", [])
        for requirement in manifest.get("requirements", []):
            if not package.is_installed(requirement):
                print(f"Installing {requirement} ({domain})")
                if not package.install_package(requirement, constraints=constraints):
                    raise ScreenshotError(f"Could not install {requirement}")


def main() -> int:
    """Run it all; say what failed and return 1 if anything did."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--install-requirements",
        action="store_true",
        help="only install the requirements of the integrations Home Assistant will load",
    )
    if parser.parse_args().install_requirements:
        try:
            install_requirements()
        except ScreenshotError as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        return 0
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="energy-anomaly-screenshot-") as temp:
        config_dir = Path(temp)
        port = free_port()
        prepare_config(config_dir, port)
        process = start_home_assistant(config_dir)
        try:
            asyncio.run(take_screenshots(process, port))
        except Exception as err:  # noqa: BLE001 - whatever failed, say it and show HA's output
            print(
                f"error: {err}" if isinstance(err, ScreenshotError) else f"error: {err!r}",
                file=sys.stderr,
            )
            log = (config_dir / "home-assistant.out").read_text(errors="replace")
            print("Home Assistant's last output:\n" + log[-4000:], file=sys.stderr)
            return 1
        finally:
            stop(process)
    print(f"Done in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
