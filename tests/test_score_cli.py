"""`scripts/score`: the offline scoring command, run as users run it (a subprocess on CSV files)."""

import ast
import csv
from datetime import UTC, datetime, timedelta, timezone
import os
from pathlib import Path
import subprocess
import sys

import pytest

SCORE = Path(__file__).parents[1] / "scripts" / "score"
SHARED = "ENERGY_ANOMALY_SHARED"  # set by scripts/run: the only host directory it shares
START = datetime(2024, 1, 8, tzinfo=timezone(timedelta(hours=1)))


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """No Home Assistant here: override the package's autouse fixture that would start it."""


@pytest.fixture(autouse=True)
def files_anywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests' files are in a temporary directory, which `scripts/run` does not share."""
    monkeypatch.delenv(SHARED, raising=False)


def _score(
    tmp_path: Path, text: str | bytes, *args: str
) -> tuple[subprocess.CompletedProcess[str], Path]:
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_bytes(text if isinstance(text, bytes) else text.encode())
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


def test_a_header_with_a_column_it_reads_twice_is_refused(tmp_path: Path) -> None:
    """Which of the two is the power? Using the last without a word scored the wrong one."""
    completed, target = _score(
        tmp_path, "timestamp,power,note,power,note\n2024-01-08T00:00:00+01:00,300,a,3,b\n"
    )

    assert completed.returncode == 2
    assert completed.stderr.endswith("in.csv: column power appears twice in the header: keep one\n")
    assert not target.exists()


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


def _stamp(minute: int) -> str:
    return (START + timedelta(minutes=minute)).isoformat()


def _scored(target: Path) -> list[str]:
    with target.open(newline="", encoding="utf-8") as file:
        return [row["timestamp"] for row in csv.DictReader(file)]


def _power_csv(rows: list[str]) -> str:
    return "timestamp,power\n" + "\n".join(rows) + "\n"


def _assert_every_row_scored(
    completed: subprocess.CompletedProcess[str], target: Path, stamps: list[str]
) -> None:
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == ""
    assert _scored(target) == stamps


@pytest.mark.parametrize(
    ("row", "column"),
    [
        ("{t},nan,,", "power"),
        ("{t},inf,,", "power"),
        ("{t},-inf,,", "power"),
        ("{t},1e999,,", "power"),
    ],
)
def test_a_non_finite_power_is_skipped_with_its_line(tmp_path: Path, row: str, column: str) -> None:
    text = f"timestamp,power,voltage_l1,temperature\n{_stamp(0)},300,,\n"
    text += row.format(t=_stamp(1)) + f"\n{_stamp(2)},300,,\n"

    completed, target = _score(tmp_path, text)

    assert completed.returncode == 0, completed.stderr
    assert "Traceback" not in completed.stderr
    assert f":3: skipped: {column}" in completed.stderr
    assert "not a finite number" in completed.stderr
    assert _scored(target) == [_stamp(0), _stamp(2)]


@pytest.mark.parametrize(
    ("row", "column", "why"),
    [
        ("{t},300,NaN,", "voltage_l1", "not a finite number"),
        ("{t},300,,1e999", "temperature", "not a finite number"),
        ("{t},300,unavailable,", "voltage_l1", "'unavailable' is not a number"),
        ("{t},300,,n/a", "temperature", "'n/a' is not a number"),
    ],
)
def test_an_optional_value_not_finite_or_not_a_number_is_left_out_and_the_row_scored(
    tmp_path: Path, row: str, column: str, why: str
) -> None:
    """Only the power is needed: a broken optional column costs only its value."""
    text = f"timestamp,power,voltage_l1,temperature\n{_stamp(0)},300,,\n"
    text += row.format(t=_stamp(1)) + f"\n{_stamp(2)},300,,\n"

    completed, target = _score(tmp_path, text)

    assert completed.returncode == 0, completed.stderr
    assert f":3: left out: {column} " in completed.stderr
    assert f"{why}; the rest of the row is scored" in completed.stderr
    assert "1 value(s) left out" in completed.stderr
    assert "skipped" not in completed.stderr
    assert _scored(target) == [_stamp(0), _stamp(1), _stamp(2)]


@pytest.mark.parametrize(
    ("value", "column"),
    [
        ("power=1000001", "power"),
        ("power=-1000001", "power"),
    ],
)
def test_an_implausible_power_is_skipped_with_its_line(
    tmp_path: Path, value: str, column: str
) -> None:
    completed, target = _score(tmp_path, _rows_with_one_odd_value(value))

    assert completed.returncode == 0, completed.stderr
    assert f":3: skipped: {column} " in completed.stderr
    assert "is outside" in completed.stderr
    assert _scored(target) == [_stamp(0), _stamp(2)]


@pytest.mark.parametrize(
    ("value", "column"),
    [
        ("power_production=-51", "power_production"),
        ("power_production=2000000", "power_production"),
        ("voltage_l2=501", "voltage_l2"),
        ("voltage_l3=-1", "voltage_l3"),
        ("current_l1=1001", "current_l1"),
        ("current_l3=1500", "current_l3"),
        ("temperature=70.5", "temperature"),
        ("temperature=-81", "temperature"),
    ],
)
def test_an_implausible_optional_value_is_left_out_and_the_row_scored(
    tmp_path: Path, value: str, column: str
) -> None:
    completed, target = _score(tmp_path, _rows_with_one_odd_value(value))

    assert completed.returncode == 0, completed.stderr
    assert f":3: left out: {column} " in completed.stderr
    assert "is outside" in completed.stderr
    assert "skipped" not in completed.stderr
    assert _scored(target) == [_stamp(0), _stamp(1), _stamp(2)]


def _rows_with_one_odd_value(value: str) -> str:
    """Three rows of every column, the second with `value` ("column=number") instead."""
    columns = ["power", "power_production", "voltage_l1", "voltage_l2", "voltage_l3"]
    columns += ["current_l1", "current_l2", "current_l3", "temperature"]
    normal = dict(zip(columns, ["300", "0", "230", "230", "230", "1", "1", "1", "5"], strict=True))
    name, number = value.split("=")
    odd = normal | {name: number}
    lines = ["timestamp," + ",".join(columns)]
    for minute, values in enumerate((normal, odd, normal)):
        lines.append(_stamp(minute) + "," + ",".join(values[c] for c in columns))
    return "\n".join(lines) + "\n"


def test_the_extremes_of_the_plausible_ranges_are_scored(tmp_path: Path) -> None:
    text = "timestamp,power,power_production,voltage_l1,current_l1,temperature\n"
    text += f"{_stamp(0)},-1000000,1000000,500,1000,-80\n{_stamp(1)},1000000,0,0,0,70\n"

    completed, target = _score(tmp_path, text)

    _assert_every_row_scored(completed, target, [_stamp(0), _stamp(1)])


@pytest.mark.parametrize("stamp", ["0001-01-01T00:00:00+01:00", "1999-12-31T23:59:59+00:00"])
def test_a_time_before_2000_is_skipped_with_its_line(tmp_path: Path, stamp: str) -> None:
    text = f"timestamp,power\n{_stamp(0)},300\n{stamp},300\n{_stamp(1)},300\n"

    completed, target = _score(tmp_path, text)

    assert completed.returncode == 0, completed.stderr
    assert "Traceback" not in completed.stderr
    assert f":3: skipped: timestamp {stamp!r} is before 2000" in completed.stderr
    assert _scored(target) == [_stamp(0), _stamp(1)]


def test_a_time_the_detector_finds_before_2000_on_the_host_clock_is_skipped(
    tmp_path: Path,
) -> None:
    """West of UTC, 2000 begins later on the host's clock: the detector's bound, not UTC's."""
    early = "2000-01-01T02:00:00+00:00"  # 2000 in UTC, still 1999 in New York
    text = f"timestamp,power\n{early},300\n{_stamp(0)},300\n"
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text(text, encoding="utf-8")

    completed = subprocess.run(
        [sys.executable, str(SCORE), str(source), str(target)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "TZ": "America/New_York"},
    )

    assert completed.returncode == 0, completed.stderr
    assert ":2: skipped: the detector refuses it: its timestamp" in completed.stderr
    assert "is before 2000" in completed.stderr
    assert _scored(target) == [_stamp(0)]


def test_a_time_in_the_future_is_skipped_and_later_rows_are_scored(tmp_path: Path) -> None:
    future = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    text = f"timestamp,power\n{_stamp(0)},300\n{future},300\n{_stamp(1)},300\n{_stamp(2)},300\n"

    completed, target = _score(tmp_path, text)

    assert completed.returncode == 0, completed.stderr
    assert f":3: skipped: timestamp {future!r} is in the future" in completed.stderr
    assert "before the previous row" not in completed.stderr
    assert _scored(target) == [_stamp(0), _stamp(1), _stamp(2)]


def test_one_wrong_time_far_ahead_does_not_make_later_rows_out_of_order(tmp_path: Path) -> None:
    wrong = "2025-06-01T12:00:00+02:00"  # in the past of the host, far ahead of its neighbours
    rows = [f"{_stamp(m)},300" for m in range(10)]
    rows.insert(5, f"{wrong},300")  # line 7

    completed, target = _score(tmp_path, _power_csv(rows))

    assert completed.returncode == 0, completed.stderr
    assert completed.stderr.count("skipped") == 2  # the row and the summary
    assert f":7: skipped: timestamp {wrong} is later than the next row's (line 8)" in (
        completed.stderr
    )
    assert _scored(target) == [_stamp(m) for m in range(10)]


def test_a_wrong_time_on_the_first_row_does_not_make_every_row_out_of_order(
    tmp_path: Path,
) -> None:
    wrong = "2025-06-01T12:00:00+02:00"
    rows = [f"{wrong},300", *(f"{_stamp(m)},300" for m in range(5))]

    completed, target = _score(tmp_path, _power_csv(rows))

    assert completed.returncode == 0, completed.stderr
    assert ":2: skipped: timestamp" in completed.stderr
    assert "before the previous row" not in completed.stderr
    assert _scored(target) == [_stamp(m) for m in range(5)]


def test_a_real_gap_of_days_keeps_every_row(tmp_path: Path) -> None:
    minutes = [0, 1, 2, 3 * 1440, 3 * 1440 + 1, 3 * 1440 + 2]
    rows = [f"{_stamp(m)},300" for m in minutes]

    completed, target = _score(tmp_path, _power_csv(rows))

    _assert_every_row_scored(completed, target, [_stamp(m) for m in minutes])


def test_a_row_out_of_order_after_a_gap_is_skipped_and_the_gap_kept(tmp_path: Path) -> None:
    rows = [f"{_stamp(m)},300" for m in (0, 1, 2, 1440, 1441)]
    rows.insert(4, f"{_stamp(0)},300")  # line 6: before the last row scored, not after the gap

    completed, target = _score(tmp_path, _power_csv(rows))

    assert completed.returncode == 0, completed.stderr
    assert ":6: skipped: timestamp" in completed.stderr
    assert "before the previous row" in completed.stderr
    assert _scored(target) == [_stamp(m) for m in (0, 1, 2, 1440, 1441)]


def test_an_excel_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    completed, target = _score(tmp_path, "\ufeff" + _rows(3))

    _assert_every_row_scored(completed, target, [_stamp(m) for m in range(3)])


@pytest.mark.parametrize(
    ("rows", "why"),
    [
        (6, "runs over 4 lines"),
        # past csv's field limit (131,072 characters; 30 a row): csv gives up thousands of lines on
        (6_000, "has a quote that is never closed"),
    ],
)
def test_an_unterminated_quote_stops_with_its_line_and_keeps_earlier_verdicts(
    tmp_path: Path, rows: int, why: str
) -> None:
    lines = [f"{_stamp(m)},300" for m in range(rows)]
    lines[2] = f'{_stamp(2)},"300'  # line 4: the quote is never closed

    completed, target = _score(tmp_path, _power_csv(lines))

    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr
    assert f":4: the row starting here {why}" in completed.stderr
    assert "stopped" in completed.stderr
    assert _scored(target) == [_stamp(0), _stamp(1)]


def test_a_quote_closed_lines_later_stops_at_the_line_it_opened(tmp_path: Path) -> None:
    rows = [f"{_stamp(m)},300" for m in range(6)]
    rows[1] = f'{_stamp(1)},"300'  # line 3
    rows[3] = f'{_stamp(3)},300"'  # line 5 closes it

    completed, target = _score(tmp_path, _power_csv(rows))

    assert completed.returncode == 2
    assert ":3: the row starting here runs over 3 lines" in completed.stderr
    assert _scored(target) == [_stamp(0)]


def test_a_row_with_the_wrong_number_of_fields_is_skipped(tmp_path: Path) -> None:
    text = f"timestamp,power\n{_stamp(0)},300\n{_stamp(1)},300,12\n{_stamp(2)}\n{_stamp(3)},300\n"

    completed, target = _score(tmp_path, text)

    assert completed.returncode == 0, completed.stderr
    assert ":3: skipped: 3 fields where the header has 2" in completed.stderr
    assert ":4: skipped: 1 fields where the header has 2" in completed.stderr
    assert _scored(target) == [_stamp(0), _stamp(3)]


def test_verdicts_are_written_as_the_csv_module_writes_them(tmp_path: Path) -> None:
    """CRLF lines, and a time written with a decimal comma (ISO 8601 allows it) is quoted."""
    comma = "2024-01-08T00:01:00,5+01:00"
    text = f'timestamp,power\n{_stamp(0)},300\n"{comma}",300\n{_stamp(2)},300\n'

    completed, target = _score(tmp_path, text)

    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == ""
    assert target.read_bytes().decode().split("\r\n") == [
        "timestamp,score,anomaly,kind,reason",
        f"{_stamp(0)},0.000,0,,",
        f'"{comma}",0.000,0,,',
        f"{_stamp(2)},0.000,0,,",
        "",
    ]


def test_blank_lines_are_ignored(tmp_path: Path) -> None:
    text = f"timestamp,power\n{_stamp(0)},300\n\n{_stamp(1)},300\n\n"

    completed, target = _score(tmp_path, text)

    _assert_every_row_scored(completed, target, [_stamp(0), _stamp(1)])


@pytest.mark.parametrize("link", ["same path", "symlink", "hard link", "dot path"])
def test_the_output_cannot_be_the_input(tmp_path: Path, link: str) -> None:
    source = tmp_path / "in.csv"
    text = _rows(300)
    source.write_text(text, encoding="utf-8")
    target = {
        "same path": source,
        "symlink": tmp_path / "sym.csv",
        "hard link": tmp_path / "hard.csv",
        "dot path": tmp_path / "." / "in.csv",
    }[link]
    if link == "symlink":
        target.symlink_to(source)
    if link == "hard link":
        target.hardlink_to(source)

    completed = subprocess.run(
        [sys.executable, str(SCORE), str(source), str(target)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert completed.returncode == 2
    assert "is the input file" in completed.stderr
    assert source.read_text(encoding="utf-8") == text


@pytest.mark.parametrize("fuse", ["nan", "inf", "-inf", "-5", "0", "1001", "lots"])
def test_an_implausible_fuse_is_refused(tmp_path: Path, fuse: str) -> None:
    completed, target = _score(tmp_path, _rows(5), f"--fuse={fuse}")

    assert completed.returncode == 2
    assert "argument --fuse" in completed.stderr
    assert "Traceback" not in completed.stderr
    assert not target.exists()


@pytest.mark.parametrize("fuse", ["0.5", "25", "1000"])
def test_a_plausible_fuse_is_accepted(tmp_path: Path, fuse: str) -> None:
    completed, target = _score(tmp_path, _rows(5), "--fuse", fuse)

    assert completed.returncode == 0, completed.stderr
    assert len(_scored(target)) == 5


@pytest.mark.parametrize(
    ("grid", "kinds"),
    [(("--grid", "230"), {"power_quality"}), (("--grid", "120"), set()), ((), set())],
    ids=["230", "120", "read"],
)
def test_the_grid_chosen_or_read_is_the_one_a_phases_voltage_is_judged_against(
    tmp_path: Path, grid: tuple[str, ...], kinds: set[str]
) -> None:
    completed, target = _score(tmp_path, _rows(30).replace(",231.5,", ",120.0,"), *grid)

    assert completed.returncode == 0, completed.stderr
    with target.open(newline="") as file:
        alarms = [row for row in csv.DictReader(file) if row["anomaly"] == "1"]
    assert {row["kind"] for row in alarms} == kinds


def test_a_grid_read_from_the_voltages_is_said_on_stderr(tmp_path: Path) -> None:
    """As a power sensor home whose form read no voltage: a minute of one grid's phases."""
    completed, _ = _score(tmp_path, _rows(30).replace(",231.5,", ",120.0,"))

    assert completed.returncode == 0, completed.stderr
    moment = (START + timedelta(minutes=1)).isoformat()
    assert f"the voltages read a 120 V grid's phases from {moment} on" in completed.stderr


def test_a_grid_the_integration_does_not_know_is_refused(tmp_path: Path) -> None:
    completed, target = _score(tmp_path, _rows(5), "--grid", "100")

    assert completed.returncode == 2
    assert "argument --grid" in completed.stderr
    assert not target.exists()


def test_an_older_python_is_told_what_to_run(tmp_path: Path) -> None:
    program = (
        "import runpy, sys\n"
        "sys.version_info = (3, 11, 7, 'final', 0)\n"
        "sys.argv = ['scripts/score', 'in.csv', 'out.csv', '--fuse', '25']\n"
        f"runpy.run_path({str(SCORE)!r}, run_name='__main__')\n"
    )

    completed = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=False, cwd=tmp_path
    )

    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr
    assert "needs Python 3.14.2 or newer; this is Python 3.11.7" in completed.stderr
    assert "scripts/run scripts/score in.csv out.csv --fuse 25" in completed.stderr
    assert not (tmp_path / "out.csv").exists()


def test_the_script_is_python_3_11_syntax_up_to_its_version_check() -> None:
    source = SCORE.read_text(encoding="utf-8")

    ast.parse(source, feature_version=(3, 11))  # raises SyntaxError on newer syntax
    engine_import = source.index("from detector")
    assert source.index("\n_require_python()\n") < engine_import


def test_a_full_disk_is_a_clear_error(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text(_rows(300), encoding="utf-8")

    completed = subprocess.run(
        [sys.executable, str(SCORE), str(source), "/dev/full"],
        capture_output=True,
        text=True,
        check=False,
    )

    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr
    assert "cannot write /dev/full: No space left on device" in completed.stderr


def test_blank_and_padded_cells_are_read_as_written(tmp_path: Path) -> None:
    text = "timestamp, power ,voltage_l1\n"
    text += f" {_stamp(0)} , 300 ,  \n{_stamp(1)},301, 231.5\n"

    completed, target = _score(tmp_path, text)

    _assert_every_row_scored(completed, target, [_stamp(0), _stamp(1)])


def test_a_jump_on_the_last_row_is_scored(tmp_path: Path) -> None:
    rows = [f"{_stamp(m)},300" for m in (0, 1, 2, 600)]

    completed, target = _score(tmp_path, _power_csv(rows))

    assert completed.returncode == 0, completed.stderr
    assert _scored(target) == [_stamp(m) for m in (0, 1, 2, 600)]


def test_two_rows_agreeing_on_a_jump_make_it_real(tmp_path: Path) -> None:
    rows = [f"{_stamp(m)},300" for m in (0, 1, 600, 601, 2, 602)]

    completed, target = _score(tmp_path, _power_csv(rows))

    assert completed.returncode == 0, completed.stderr
    assert f":6: skipped: timestamp {_stamp(2)} is before the previous row" in completed.stderr
    assert _scored(target) == [_stamp(m) for m in (0, 1, 600, 601, 602)]


@pytest.mark.parametrize(("cell", "column"), [(0, "timestamp"), (1, "power"), (2, "voltage_l1")])
def test_a_cell_that_is_not_utf8_skips_only_its_row(tmp_path: Path, cell: int, column: str) -> None:
    """Far into the file (past the first chunk decoded), where one byte of Latin-1 crept in."""
    rows = [[_stamp(m).encode(), b"300", b"230"] for m in range(2_000)]
    rows[1_500][cell] += b"\xb0"  # line 1502; UTF-8 would be b"\xc2\xb0"
    text = b"timestamp,power,voltage_l1\n" + b"".join(b",".join(row) + b"\n" for row in rows)

    completed, target = _score(tmp_path, text)

    assert completed.returncode == 0, completed.stderr
    assert f":1502: skipped: {column} " in completed.stderr
    assert "\\xb0' is not UTF-8 text" in completed.stderr
    assert completed.stderr.count("skipped") == 2  # the row and the summary
    assert _scored(target) == [_stamp(m) for m in range(2_000) if m != 1_500]


def test_a_byte_that_is_not_utf8_in_a_column_not_scored_is_harmless(tmp_path: Path) -> None:
    text = f"timestamp,power,note\n{_stamp(0)},300,ok\n{_stamp(1)},300,caf".encode()
    text += b"\xe9\n" + f"{_stamp(2)},300,ok\n".encode()

    completed, target = _score(tmp_path, text)

    _assert_every_row_scored(completed, target, [_stamp(0), _stamp(1), _stamp(2)])


def test_a_header_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    text = b"timestamp,power,temperature (\xb0C)\n" + f"{_stamp(0)},300,4\n".encode()

    completed, target = _score(tmp_path, text)

    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr
    assert "in.csv is not UTF-8 text: byte 0xb0 in its header" in completed.stderr
    assert not target.exists()


def _score_over(tmp_path: Path, text: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    """Score `text` into an output file that a previous run wrote."""
    (tmp_path / "out.csv").write_text("timestamp,score,anomaly,kind,reason\nprevious\n")
    return _score(tmp_path, text)


def test_a_file_with_no_rows_is_an_error_that_keeps_the_previous_output(tmp_path: Path) -> None:
    completed, target = _score_over(tmp_path, "timestamp,power\n\n")

    assert completed.returncode == 2
    assert completed.stderr.endswith("in.csv: no row to score after the header\n")
    assert target.read_text() == "timestamp,score,anomaly,kind,reason\nprevious\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["in.csv", "out.csv"]


def test_when_every_row_is_skipped_one_error_says_how_many_and_why_the_first(
    tmp_path: Path,
) -> None:
    rows = [f"2024-01-08T00:0{m}:00,300" for m in range(3)]  # no UTC offset

    completed, target = _score_over(tmp_path, _power_csv(rows))

    assert completed.returncode == 2
    assert completed.stderr.splitlines()[-1].endswith(
        "in.csv: no row could be scored: 3 row(s) skipped, the first (line 2) because "
        "timestamp '2024-01-08T00:00:00' has no UTC offset"
    )
    assert completed.stderr.count("error:") == 1
    assert target.read_text() == "timestamp,score,anomaly,kind,reason\nprevious\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["in.csv", "out.csv"]


def test_the_verdicts_replace_a_previous_output(tmp_path: Path) -> None:
    completed, target = _score_over(tmp_path, _rows(2))

    _assert_every_row_scored(completed, target, [_stamp(0), _stamp(1)])
    assert sorted(path.name for path in tmp_path.iterdir()) == ["in.csv", "out.csv"]


def test_an_output_that_is_a_symlink_is_written_through_it(tmp_path: Path) -> None:
    (tmp_path / "verdicts").mkdir()
    real = tmp_path / "verdicts" / "real.csv"
    (tmp_path / "out.csv").symlink_to(real)

    completed, target = _score(tmp_path, _rows(2))

    _assert_every_row_scored(completed, real, [_stamp(0), _stamp(1)])
    assert target.is_symlink()
    assert [path.name for path in real.parent.iterdir()] == ["real.csv"]


@pytest.mark.parametrize(
    ("minutes", "why"),
    [
        (range(30, 0, -1), "29 of 30 rows were skipped as out of order"),  # newest first
        ([*range(100, 110), *range(30)], "30 of 40 rows were skipped as out of order"),
    ],
)
def test_rows_mostly_out_of_order_are_an_error_that_says_to_sort_them(
    tmp_path: Path, minutes: list[int], why: str
) -> None:
    completed, target = _score_over(tmp_path, _power_csv([f"{_stamp(m)},300" for m in minutes]))

    assert completed.returncode == 2
    assert completed.stderr.splitlines()[-1].endswith(f"in.csv: {why}: sort the rows oldest first")
    assert completed.stderr.count("error:") == 1
    assert target.read_text() == "timestamp,score,anomaly,kind,reason\nprevious\n"


def test_after_20_rows_skipped_for_one_reason_the_rest_are_counted_in_one_line(
    tmp_path: Path,
) -> None:
    rows = [f"{_stamp(m)},unavailable" for m in range(30)]  # lines 2-31
    rows += [_stamp(30), f"{_stamp(31)},300"]  # line 32: another reason; line 33 is scored

    completed, target = _score(tmp_path, _power_csv(rows))

    assert completed.returncode == 0, completed.stderr
    lines = completed.stderr.splitlines()
    assert sum(": skipped: power 'unavailable' is not a number" in line for line in lines) == 20
    assert ":21: skipped" in completed.stderr
    assert ":22: skipped" not in completed.stderr
    assert ":32: skipped: 1 fields where the header has 2" in completed.stderr
    assert lines[-2].endswith("in.csv: 10 more row(s) skipped: power … is not a number")
    assert lines[-1] == "31 bad row(s) skipped"
    assert _scored(target) == [_stamp(31)]


@pytest.mark.parametrize(
    ("power", "hours", "warned"),
    [
        ("0.301", 25, True),  # kW: a home that drew 301 W
        ("-0.8", 25, True),  # kW, net power while exporting
        ("60", 25, False),  # low for a home, yet W
        ("0.301", 23, False),  # less than a day: a home may rest that long
    ],
)
def test_a_day_of_power_too_small_for_watts_is_warned_as_perhaps_kw(
    tmp_path: Path, power: str, hours: int, warned: bool
) -> None:
    stamps = [_stamp(m) for m in range(0, hours * 60 + 1, 10)]

    completed, target = _score(tmp_path, _power_csv([f"{stamp},{power}" for stamp in stamps]))

    assert completed.returncode == 0, completed.stderr
    assert ("is the power in kW? Multiply it by 1000" in completed.stderr) is warned
    assert _scored(target) == stamps


@pytest.mark.parametrize("outside", ["input", "output"])
def test_a_file_outside_what_scripts_run_shares_is_refused_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, outside: str
) -> None:
    shared = tmp_path / "repository"
    shared.mkdir()
    files = {"input": shared / "in.csv", "output": shared / "out.csv"}
    files[outside] = tmp_path / f"{outside}.csv"  # e.g. /tmp in scripts/run's own root
    files["input"].write_text(_rows(10))
    monkeypatch.setenv(SHARED, str(shared))

    completed = subprocess.run(
        [sys.executable, str(SCORE), str(files["input"]), str(files["output"])],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )

    assert completed.returncode == 2
    assert f"{files[outside]} is outside {shared}: scripts/run shares only" in completed.stderr
    assert not files["output"].exists()


def test_an_output_that_only_passes_through_dev_is_refused_as_outside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """README: a path outside the repository "is refused with exit code 2 rather than ... written
    where you would never see it"; only /dev itself is the host's under scripts/run."""
    shared = tmp_path / "repository"
    shared.mkdir()
    (shared / "in.csv").write_text(_rows(10))
    outside = tmp_path / "out.csv"  # e.g. /tmp in scripts/run's own root
    written = f"/dev/..{outside}"
    monkeypatch.setenv(SHARED, str(shared))

    completed = subprocess.run(
        [sys.executable, str(SCORE), str(shared / "in.csv"), written],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )

    assert (completed.returncode, outside.exists()) == (2, False), completed.stderr


def test_an_output_that_only_passes_through_dev_replaces_an_earlier_output_as_its_file_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CHANGELOG: "/dev/../x is judged as x": an earlier run's out.csv is replaced, as when
    named out.csv, not kept with the new verdicts written after it."""
    monkeypatch.setenv(SHARED, str(tmp_path))
    (tmp_path / "in.csv").write_text(_rows(10))
    target = tmp_path / "out.csv"
    target.write_text("an earlier run's verdicts\n")

    completed = subprocess.run(
        [sys.executable, str(SCORE), str(tmp_path / "in.csv"), f"/dev/..{target}"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )

    assert completed.returncode == 0, completed.stderr
    assert target.read_text().splitlines()[0] == "timestamp,score,anomaly,kind,reason"


def test_a_voltage_left_out_as_unavailable_raises_no_lost_phase_alarm(tmp_path: Path) -> None:
    lines = ["timestamp,power,voltage_l1,voltage_l2,voltage_l3"]
    for step in range(240):  # every 10 s; L3's sensor unavailable for 10 minutes from 00:20
        l3 = "unavailable" if 120 <= step < 180 else "230.5"
        moment = START + timedelta(seconds=10 * step)
        lines.append(f"{moment.isoformat()},700,230.0,231.0,{l3}")

    completed, target = _score(tmp_path, "\n".join(lines) + "\n")

    assert completed.returncode == 0, completed.stderr
    assert ":122: left out: voltage_l3 'unavailable' is not a number" in completed.stderr
    with target.open(newline="") as file:
        alarms = [row["reason"] for row in csv.DictReader(file) if row["anomaly"] == "1"]
    assert alarms == []


def test_an_inverters_standby_a_few_watts_below_0_counts_as_0_w_as_in_home_assistant(
    tmp_path: Path,
) -> None:
    standby, zero = (tmp_path / name for name in ("standby", "zero"))
    standby.mkdir()
    zero.mkdir()

    scored_standby, standby_out = _score(standby, _rows_with_one_odd_value("power_production=-3"))
    scored_zero, zero_out = _score(zero, _rows_with_one_odd_value("power_production=0"))

    assert scored_standby.returncode == 0, scored_standby.stderr
    assert scored_standby.stderr == scored_zero.stderr == ""
    assert standby_out.read_text() == zero_out.read_text()


def test_verdicts_written_to_dev_stdout_under_scripts_run_reach_a_pipe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`scripts/run scripts/score in.csv /dev/stdout | grep ,1,`: the pipe is the host's own."""
    shared = tmp_path / "repository"
    shared.mkdir()
    (shared / "in.csv").write_text(_rows(3))
    monkeypatch.setenv(SHARED, str(shared))

    completed = subprocess.run(
        [sys.executable, str(SCORE), str(shared / "in.csv"), "/dev/stdout"],
        capture_output=True,  # stdout is a pipe, as with `| grep`
        text=True,
        check=False,
        timeout=120,
    )

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines()[0] == "timestamp,score,anomaly,kind,reason"
    assert len(completed.stdout.splitlines()) == 4


def test_every_value_left_out_of_a_row_is_reported_and_counted(tmp_path: Path) -> None:
    text = "timestamp,power,voltage_l1,voltage_l2,temperature\n"
    text += f"{_stamp(0)},300,230,230,5\n"
    text += f"{_stamp(1)},300,unavailable,unavailable,-127\n"  # line 3: three values left out
    text += f"{_stamp(2)},300,230,230,5\n"

    completed, target = _score(tmp_path, text)

    assert completed.returncode == 0, completed.stderr
    reported = [line for line in completed.stderr.splitlines() if ":3: left out" in line]
    for column in ("voltage_l1", "voltage_l2", "temperature"):
        assert any(column in line for line in reported), (column, completed.stderr)
    assert completed.stderr.splitlines()[-1] == "3 value(s) left out"
    assert _scored(target) == [_stamp(0), _stamp(1), _stamp(2)]


def _signed_production_rows(later_production: str) -> str:
    """26 hours of a home's draw a minute, then 15 minutes of an import meter stuck at 0 W.

    The production column starts 200 W below 0 (signed like a grid meter's net power, not a
    production sensor's); its later values are `later_production`.
    """
    lines = ["timestamp,power,power_production"]
    for minute in range(26 * 60 + 15):
        power = 0 if minute >= 26 * 60 else 250 + (minute % 7) * 20
        production = "-200" if minute == 0 else later_production
        lines.append(f"{_stamp(minute)},{power},{production}")
    return "\n".join(lines) + "\n"


def test_a_production_column_seen_far_below_0_is_left_out_from_then_on_as_in_home_assistant(
    tmp_path: Path,
) -> None:
    """A power sensor home's production sensor read 50 W or more below 0 is no production sensor:
    its values stay left out until the entry reloads (README, *Entities unavailable* and the
    form). Its 150 W while the home imports must not pass for production hiding the meter's
    zeros."""
    signed, blank = (tmp_path / name for name in ("signed", "blank"))
    signed.mkdir()
    blank.mkdir()

    scored_signed, signed_out = _score(signed, _signed_production_rows("150"))
    scored_blank, blank_out = _score(blank, _signed_production_rows(""))

    assert scored_signed.returncode == scored_blank.returncode == 0
    with blank_out.open(newline="") as file:
        assert "meter_fault" in {row["kind"] for row in csv.DictReader(file)}  # the zeros
    assert signed_out.read_text() == blank_out.read_text()


def test_a_production_far_below_0_in_a_row_skipped_for_its_power_leaves_the_column_as_it_was(
    tmp_path: Path,
) -> None:
    """Home Assistant reads the production only beside a power it takes (`_async_send` returns
    at a power sensor without a value, one far beyond a home's among them): a row whose power is
    refused sets nothing, so the later 150 W count as production, as when that row had none."""
    skipped, blank = (tmp_path / name for name in ("skipped", "blank"))
    skipped.mkdir()
    blank.mkdir()
    refused_power = f"{_stamp(0)},2000000,"  # line 2: a power no home draws

    scored_skipped, skipped_out = _score(
        skipped, _signed_production_rows("150").replace(f"{_stamp(0)},250,", refused_power, 1)
    )
    scored_blank, blank_out = _score(
        blank,
        _signed_production_rows("150").replace(f"{_stamp(0)},250,-200", refused_power, 1),
    )

    assert scored_skipped.returncode == scored_blank.returncode == 0
    assert ":2: skipped:" in scored_skipped.stderr
    assert skipped_out.read_text() == blank_out.read_text()


def test_a_production_far_below_0_in_a_row_skipped_as_out_of_order_leaves_the_column_as_it_was(
    tmp_path: Path,
) -> None:
    """CHANGELOG: the column is signed "from a row that counts"; a row skipped for its time
    (`_sign`: "or its time") is no reading Home Assistant took, so the later 150 W count as
    production, as when that row had none."""
    skipped, blank = (tmp_path / name for name in ("skipped", "blank"))
    skipped.mkdir()
    blank.mkdir()
    rows = _signed_production_rows("150").replace(f"{_stamp(0)},250,-200", f"{_stamp(0)},250,150")
    second = f"{_stamp(1)},270,150\n"  # line 3; line 4 goes back to minute 0: out of order
    assert second in rows

    scored_skipped, skipped_out = _score(
        skipped, rows.replace(second, f"{second}{_stamp(0)},250,-200\n", 1)
    )
    scored_blank, blank_out = _score(blank, rows.replace(second, f"{second}{_stamp(0)},250,\n", 1))

    assert scored_skipped.returncode == scored_blank.returncode == 0
    assert ":4: skipped: timestamp" in scored_skipped.stderr
    assert skipped_out.read_text() == blank_out.read_text()


def _signed_after_a_gap_rows(later_production: str) -> str:
    """26 hours of a home's draw a minute with no production, two hours without a row, then 30
    minutes of an import meter stuck at 0 W. The first row after the gap reads a production
    200 W below 0 (a grid meter's net power); the later ones read `later_production`."""
    lines = ["timestamp,power,power_production"]
    lines += [f"{_stamp(minute)},{250 + (minute % 7) * 20}," for minute in range(26 * 60)]
    after_gap = 26 * 60 + 120
    for minute in range(after_gap, after_gap + 30):
        production = "-200" if minute == after_gap else later_production
        lines.append(f"{_stamp(minute)},0,{production}")
    return "\n".join(lines) + "\n"


def test_a_production_far_below_0_in_the_row_after_a_gap_leaves_out_the_next_rows_value_too(
    tmp_path: Path,
) -> None:
    """CHANGELOG: "every later production value is now left out". A row more than an hour after
    the one before is held until the next row, and then fed: it counts, so the column is signed
    from it, and the next row's 150 W (the home's import) is no production hiding the zeros."""
    signed, blank = (tmp_path / name for name in ("signed", "blank"))
    signed.mkdir()
    blank.mkdir()
    signing_line = 26 * 60 + 2  # the header is line 1

    scored_signed, signed_out = _score(signed, _signed_after_a_gap_rows("150"))
    scored_blank, blank_out = _score(blank, _signed_after_a_gap_rows(""))

    assert scored_signed.returncode == scored_blank.returncode == 0
    assert signed_out.read_text() == blank_out.read_text()
    assert f"in.csv:{signing_line}: power_production -200 W is more" in scored_signed.stderr


def test_a_row_skipped_as_out_of_order_is_not_said_to_be_scored(tmp_path: Path) -> None:
    text = "timestamp,power,voltage_l1\n"
    text += f"{_stamp(0)},300,230\n{_stamp(2)},300,230\n"
    text += f"{_stamp(1)},300,unavailable\n"  # line 4: before the previous row
    text += f"{_stamp(3)},300,230\n"

    completed, target = _score(tmp_path, text)

    assert completed.returncode == 0, completed.stderr
    assert ":4: skipped: timestamp" in completed.stderr
    assert "the rest of the row is scored" not in completed.stderr
    assert "value(s) left out" not in completed.stderr
    assert _scored(target) == [_stamp(0), _stamp(2), _stamp(3)]


def test_verdicts_appended_through_dev_stdout_keep_what_the_file_held(tmp_path: Path) -> None:
    """`scripts/score in.csv /dev/stdout >> log.csv`: the shell appends, nothing is lost."""
    source, log = tmp_path / "in.csv", tmp_path / "log.csv"
    source.write_text(_rows(3))
    log.write_text("an earlier line\n")

    with log.open("a") as appended:
        completed = subprocess.run(
            [sys.executable, str(SCORE), str(source), "/dev/stdout"],
            stdout=appended,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
            timeout=120,
        )

    assert completed.returncode == 0, completed.stderr
    lines = log.read_text().splitlines()
    assert lines[:2] == ["an earlier line", "timestamp,score,anomaly,kind,reason"]
    assert len(lines) == 5


def test_a_header_with_a_quote_never_closed_is_refused_for_that_quote(tmp_path: Path) -> None:
    rows = [f"{_stamp(m)},300" for m in range(50)]

    completed, target = _score(tmp_path, '"timestamp,power\n' + "\n".join(rows) + "\n")

    said = completed.stderr.replace(str(tmp_path), "")  # its name holds the word "quote"
    assert completed.returncode == 2
    assert "Traceback" not in said
    assert "quote" in said
    assert _stamp(10) not in said  # the rows are not echoed as header names
    assert not target.exists()


def test_an_overlong_cell_on_one_line_skips_only_its_row(tmp_path: Path) -> None:
    """Only a row that runs over several lines stops the run; columns not read may hold anything."""
    lines = ["timestamp,power,note"]
    for minute in range(6):
        note = "x" * 200_000 if minute == 2 else "ok"  # line 4: beyond 131,072 characters
        lines.append(f"{_stamp(minute)},300,{note}")

    completed, target = _score(tmp_path, "\n".join(lines) + "\n")

    assert completed.returncode == 0, completed.stderr
    assert ":4: skipped" in completed.stderr
    assert _scored(target) == [_stamp(m) for m in (0, 1, 3, 4, 5)]


def test_a_value_left_out_beside_an_inverters_standby_is_the_one_named(tmp_path: Path) -> None:
    text = "timestamp,power,power_production,voltage_l1\n"
    text += f"{_stamp(0)},300,-3,230\n"
    text += f"{_stamp(1)},300,-3,600\n"  # line 3: a night's standby, and a voltage glitch
    text += f"{_stamp(2)},300,-3,230\n"

    completed, target = _score(tmp_path, text)

    assert completed.returncode == 0, completed.stderr
    assert ":3: left out: voltage_l1 600 V is outside 0..500 V" in completed.stderr
    assert "power_production" not in completed.stderr
    assert _scored(target) == [_stamp(0), _stamp(1), _stamp(2)]
