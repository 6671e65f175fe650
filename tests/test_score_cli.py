"""`scripts/score`: the offline scoring command, run as users run it (a subprocess on CSV files)."""

import csv
from datetime import datetime, timedelta, timezone
from pathlib import Path
import subprocess
import sys

import pytest

SCORE = Path(__file__).parents[1] / "scripts" / "score"
START = datetime(2024, 1, 8, tzinfo=timezone(timedelta(hours=1)))


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """No Home Assistant here: override the package's autouse fixture that would start it."""


def _score(tmp_path: Path, text: str, *args: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text(text, encoding="utf-8")
    completed = subprocess.run(
        [sys.executable, str(SCORE), str(source), str(target), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    return completed, target


def _rows(minutes: int, power: float = 300.0) -> str:
    lines = ["timestamp,power,voltage_l1,current_l1,temperature"]
    for minute in range(minutes):
        moment = START + timedelta(minutes=minute)
        lines.append(f"{moment.isoformat()},{power:.0f},231.5,1.3,4.5")
    return "\n".join(lines) + "\n"


def test_every_row_gets_a_verdict_and_a_fault_is_flagged(tmp_path: Path) -> None:
    text = _rows(180)
    for minute in range(180, 240):  # then an hour of negative power without production: a fault
        text += f"{(START + timedelta(minutes=minute)).isoformat()},-200,,,\n"

    completed, target = _score(tmp_path, text, "--fuse", "25")

    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == ""
    with target.open(newline="") as file:
        rows = list(csv.DictReader(file))
    assert list(rows[0]) == ["timestamp", "score", "anomaly", "kind", "reason"]
    assert len(rows) == 240
    assert rows[0]["timestamp"] == START.isoformat()
    assert {row["anomaly"] for row in rows[:180]} == {"0"}
    faults = [row for row in rows[180:] if row["anomaly"] == "1"]
    assert faults
    assert {row["kind"] for row in faults} == {"meter_fault"}
    assert all(row["reason"] for row in faults)
    assert float(faults[-1]["score"]) >= 1.0


def test_bad_rows_are_reported_with_their_line_and_skipped(tmp_path: Path) -> None:
    good = [f"{(START + timedelta(minutes=m)).isoformat()},300" for m in range(4)]
    text = "\n".join(
        [
            "timestamp,power",
            good[0],
            f"{good[1].split(',')[0]},lots",  # line 3: power not a number
            "yesterday,300",  # line 4: bad timestamp
            f"{good[2].split(',')[0]},",  # line 5: power missing
            good[3],
            good[1],  # line 7: before the previous row
            "2024-01-08T01:00:00,300",  # line 8: no offset
        ]
    )

    completed, target = _score(tmp_path, text + "\n")

    assert completed.returncode == 0
    assert "Traceback" not in completed.stderr
    for line in (3, 4, 5, 7, 8):
        assert f":{line}: skipped" in completed.stderr
    assert ":2: " not in completed.stderr
    assert ":6: " not in completed.stderr
    with target.open(newline="") as file:
        assert [row["timestamp"] for row in csv.DictReader(file)] == [
            good[0].split(",")[0],
            good[3].split(",")[0],
        ]


def test_a_header_without_power_is_refused(tmp_path: Path) -> None:
    completed, _ = _score(tmp_path, "time,watts\n2024-01-08T00:00:00+01:00,300\n")

    assert completed.returncode == 2
    assert "power" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, str(SCORE), str(tmp_path / "nope.csv"), str(tmp_path / "out.csv")],
        capture_output=True,
        text=True,
        check=False,
    )

    assert completed.returncode == 2
    assert "cannot read" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_it_runs_without_home_assistant(tmp_path: Path) -> None:
    program = (
        "import runpy, sys\n"
        "sys.modules['homeassistant'] = None\n"
        f"sys.argv = ['score', {str(tmp_path / 'in.csv')!r}, {str(tmp_path / 'out.csv')!r}]\n"
        f"runpy.run_path({str(SCORE)!r}, run_name='__main__')\n"
    )
    (tmp_path / "in.csv").write_text(_rows(5), encoding="utf-8")

    completed = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=False
    )

    assert completed.returncode == 0, completed.stderr
    assert len((tmp_path / "out.csv").read_text(encoding="utf-8").splitlines()) == 6
