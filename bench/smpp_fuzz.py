"""Long fuzz run of the SMPP codec: mutated valid PDUs into decode and the Framer.

Run: .venv/bin/python bench/smpp_fuzz.py [--count 1000000] [--seeds 3]

Any exception other than SmppError (or a decoded PDU that does not survive a re-encode)
stops the run with its traceback. Prints the outcome counts and the rate.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

# The engine lives with the tests, which are not an installed package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.smpp.test_fuzz import SEED, fuzz


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000, help="mutations per seed")
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    total: Counter[str] = Counter()
    started = time.perf_counter()
    for seed in range(SEED, SEED + args.seeds):
        outcomes = fuzz(args.count, seed)
        total.update(outcomes)
        print(f"seed {seed}: {sum(outcomes.values()):,} frames, no unexpected exception")
    elapsed = time.perf_counter() - started
    frames = sum(total.values())
    for outcome, count in total.most_common():
        print(f"  {outcome:<34}{count:>10,}")
    print(f"{frames:,} frames in {elapsed:.1f} s ({frames / elapsed:,.0f}/s)")


if __name__ == "__main__":
    main()
