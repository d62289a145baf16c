"""How fast `sbl check` answers, and what a 10,000-row CSV table costs to check.

Targets (issue "The .sbl language"): the whole `sbl check` process on the bandit is quick
(the model stack is never imported); a 10,000-row CSV table checks in under 2 s and under
200 MB. Each number is measured here, in this run, and printed beside its target.

    python benchmarks/bench_check.py [--runs 7]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECK = [sys.executable, "-m", "sbl", "check"]


def timed(args: list[str]) -> tuple[float, float]:
    """Wall seconds and peak memory (MB) of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, max(peak, before) / 1024


def csv_experiment(folder: Path, rows: int) -> Path:
    with (folder / "words.csv").open("w") as f:
        f.write("word,color,congruent,soa\n")
        for i in range(rows):
            f.write(f"{['RED', 'GREEN'][i % 2]},{['red', 'green'][i // 2 % 2]},"
                    f"{str(i % 3 == 0).lower()},{100 + i % 7 * 50}\n")
    path = folder / "stroop10k.sbl"
    path.write_text('experiment "Big Stroop"\ntable words from "words.csv"\n'
                    'block test over words {\n  text {\n    text: word\n    color: color\n'
                    '    choices: ["f", "j"]\n'
                    '    correct_key: if color == "red" then "f" else "j"\n  }\n}\n')
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    python = [timed([sys.executable, "-c", "pass"])[0] for _ in range(args.runs)]
    bandit = [timed(CHECK + [str(ROOT / "examples" / "bandit.sbl")])[0]
              for _ in range(args.runs)]
    with tempfile.TemporaryDirectory() as tmp:
        big = csv_experiment(Path(tmp), 10_000)
        results = [timed(CHECK + [str(big)]) for _ in range(3)]
    big_s = statistics.median(r[0] for r in results)
    big_mb = max(r[1] for r in results)
    print(f"{'measure':44} {'measured':>10} {'target':>10}")
    print(f"{'python -c pass (interpreter start)':44} {statistics.median(python):>9.3f}s "
          f"{'':>10}")
    print(f"{'sbl check examples/bandit.sbl':44} {statistics.median(bandit):>9.3f}s "
          f"{'':>10}")
    print(f"{'sbl check, 10,000-row CSV table':44} {big_s:>9.3f}s {'2.000s':>10}")
    print(f"{'sbl check, 10,000-row CSV table, peak RSS':44} {big_mb:>8.0f}MB {'200MB':>10}")
    ratio = statistics.median(bandit) / statistics.median(python)
    print(f"ratios: check/interpreter start {ratio:.1f}x; 10k CSV time/target "
          f"{big_s / 2:.2f}; 10k CSV memory/target {big_mb / 200:.2f}")


if __name__ == "__main__":
    main()
