"""rrcf's forest must load where `import rrcf` fails: Home Assistant ships no pkg_resources."""

from pathlib import Path
import subprocess
import sys

PACKAGE = Path(__file__).parents[2] / "custom_components" / "energy_anomaly"

PROGRAM = """
import sys
sys.modules["pkg_resources"] = None  # what Home Assistant's setuptools amounts to
try:
    import rrcf
except ImportError:
    pass
else:
    raise SystemExit("import rrcf worked: this test would prove nothing")
sys.modules.pop("rrcf", None)

from datetime import datetime, timedelta, timezone
from detector.engine import Detector
from detector.model import Reading

start = datetime(2024, 1, 8, tzinfo=timezone.utc)
detector = Detector()
for minute in range(26 * 60):
    power = 150.0 + 100.0 * (minute % 45 < 15) + (2000.0 if minute % 240 < 10 else 0.0)
    result = detector.update(Reading(start + timedelta(minutes=minute), power))
print(result.score > 0, "rrcf" in sys.modules)
"""


def test_the_detector_scores_without_pkg_resources() -> None:
    completed = subprocess.run(
        [sys.executable, "-c", PROGRAM],
        cwd=PACKAGE,
        capture_output=True,
        text=True,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == ["True", "False"]
