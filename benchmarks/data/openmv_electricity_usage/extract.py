"""Cut the benchmark's slice out of openmv.net's `electricity-usage.csv` (hourly kWh, one home).

    python3 benchmarks/data/openmv_electricity_usage/extract.py electricity-usage.csv

Writes `hourly.csv.gz` beside this file: the 42 days from Monday 2012-01-02 00:00 (six whole
weeks), columns `hour_ending,kwh` exactly as in the source rows.
"""

import csv
import gzip
from pathlib import Path
import sys

FIRST_ROW = "01/02/2012 01:00:00"  # the hour 00:00-01:00 of Monday 2012-01-02
HOURS = 42 * 24

with Path(sys.argv[1]).open(newline="") as src:
    rows = list(csv.DictReader(src))
first = next(i for i, row in enumerate(rows) if row["DateTime"] == FIRST_ROW)
out = Path(__file__).with_name("hourly.csv.gz")
with gzip.open(out, "wt", newline="") as dst:
    writer = csv.writer(dst)
    writer.writerow(["hour_ending", "kwh"])
    for row in rows[first : first + HOURS]:
        writer.writerow([row["DateTime"], row["Consumption kWh"]])
