"""One-off: cut the appliance cycles the benchmark uses out of the shared archive.

Not run by the benchmark. Reproduce the committed slice with (host Python with numpy):

    python3 benchmarks/data/appliances/extract.py PATH/TO/appliances.tar.xz

It reads every `Normal` day (dishwasher, washing machine, dryer), cuts each appliance run (power
> 15 W, pauses up to 20 min merged, at least 0.2 kWh) and writes `cycles.csv.gz` beside this file:
`cycle,appliance,source,minute,watts` (one row per minute of a cycle, watts rounded to 1 W).
"""

import csv
import gzip
import io
from pathlib import Path
import sys
import tarfile

import numpy as np

OUT = Path(__file__).with_name("cycles.csv.gz")


def _cycles(power: np.ndarray) -> list[tuple[int, int]]:
    on = np.flatnonzero(power > 15)
    if not len(on):
        return []
    segments = []
    start = prev = int(on[0])
    for i in on[1:]:
        if i - prev > 20:
            segments.append((start, prev + 1))
            start = int(i)
        prev = int(i)
    segments.append((start, prev + 1))
    return [(a, b) for a, b in segments if power[a:b].sum() / 60_000 >= 0.2]


def main(archive: str) -> None:
    rows: list[tuple[int, str, str, int, int]] = []
    n = 0
    with tarfile.open(archive) as tar:
        members = sorted(
            (
                m
                for m in tar.getmembers()
                if m.isfile() and "/Normal/" in m.name and m.name.endswith(".csv")
            ),
            key=lambda m: m.name,
        )
        for member in members:
            text = tar.extractfile(member).read().decode("utf-8-sig")
            reader = csv.reader(io.StringIO(text))
            header = next(reader)
            col = header.index("activePower")
            power = np.array([float(r[col] or 0) for r in reader if r])
            appliance = member.name.split("/")[1].lower()
            for a, b in _cycles(power):
                for minute, watts in enumerate(power[a:b]):
                    rows.append(
                        (n, appliance, "/".join(member.name.split("/")[1:]), minute, round(watts))
                    )
                n += 1
    with gzip.open(OUT, "wt", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["cycle", "appliance", "source", "minute", "watts"])
        writer.writerows(rows)
    print(f"{n} cycles, {len(rows)} minutes -> {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main(sys.argv[1])
