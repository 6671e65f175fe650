"""The live-data soak over a simulated week (the suite runs one day) and its figures.

    scripts/run python -m benchmarks.soak            # 7 simulated days, about 5 minutes
    scripts/run python -m benchmarks.soak --days 3

It runs `tests/test_live_soak.py` (Home Assistant, the real pyTibber client, the local Tibber
server, a disconnect every 30 simulated minutes, a stall, a 4429 period, a restart and malformed
payloads) with more days, and prints the test's figures line.
"""

import argparse
import os
import subprocess
import sys


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=7, help="simulated days (default 7)")
    args = parser.parse_args()
    env = {**os.environ, "ENERGY_ANOMALY_SOAK_DAYS": str(args.days)}
    command = [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider"]
    done = subprocess.run(
        [*command, "tests/test_live_soak.py"], env=env, capture_output=True, text=True, check=False
    )
    figures = [line for line in done.stdout.splitlines() if line.startswith("soak:")]
    print("\n".join(figures) or done.stdout[-3000:])
    print(done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-2000:])
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
