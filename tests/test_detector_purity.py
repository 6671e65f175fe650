"""The detector package is the functional core: it must never depend on Home Assistant."""

import ast
from pathlib import Path
import subprocess
import sys

DETECTOR = Path(__file__).parents[1] / "custom_components" / "energy_anomaly" / "detector"


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_no_detector_module_imports_homeassistant() -> None:
    offenders = {
        path.name: sorted(
            name for name in _imported_modules(path) if name.split(".")[0] == "homeassistant"
        )
        for path in DETECTOR.rglob("*.py")
    }
    assert {name: mods for name, mods in offenders.items() if mods} == {}


def test_detector_runs_where_homeassistant_and_pkg_resources_cannot_be_imported() -> None:
    """Import every detector module and score a reading with `homeassistant` unimportable.

    `pkg_resources` is blocked too: Home Assistant's setuptools (84) no longer ships it.
    """
    program = """
import importlib, pkgutil, sys
from datetime import datetime, timezone
sys.modules["homeassistant"] = None
sys.modules["pkg_resources"] = None
import detector
for module in pkgutil.iter_modules(detector.__path__):
    importlib.import_module(f"detector.{module.name}")
from detector.engine import Detector
from detector.model import Reading
result = Detector().update(Reading(timestamp=datetime.now(timezone.utc), power=100.0))
print(type(result).__name__, result.status)
"""
    completed = subprocess.run(
        [sys.executable, "-c", program],
        cwd=DETECTOR.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("Result learning")
