"""How fast `sbl check` answers, and what CSV tables cost to check and compile.

Targets (issue "The .sbl language"): the whole `sbl check` process on the bandit is quick
(the model stack is never imported); a 10,000-row CSV table checks in under 2 s and under
200 MB. Issue 13: tables linear in their size, a 50 MB CSV table checks in <= 10 s and
compiles in <= 20 s, in at most 5x the file's size of memory. Each number is measured here,
in this run, and printed beside its target. The big table's runs are stopped at --limit
seconds and at 4 GB of address space, so a machine shared with others is not exhausted; a run
that was stopped prints as "> LIMIT s (stopped)".

    python benchmarks/bench_check.py [--runs 7] [--table-mb 50] [--limit 120]
"""

from __future__ import annotations

import argparse
import os
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


CAP = 4 * 1024**3  # bytes of address space a big-table run may take


def _capped() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (CAP, CAP))


def limited(args: list[str], limit: float) -> tuple[float | None, float | None]:
    """Wall seconds and peak RSS (MB) of one child run under a time and memory cap; None for
    both when it was stopped (or failed: out of memory under the cap). The peak is read from
    the child's own rusage with wait4, so earlier children do not count."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            preexec_fn=_capped)
    deadline = start + limit
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            proc.kill()
            os.wait4(proc.pid, 0)
            return None, None
        time.sleep(0.05)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        return None, None
    return time.perf_counter() - start, usage.ru_maxrss / 1024


def table_rows_for(megabytes: float) -> int:
    """How many rows of csv_experiment's table make about ``megabytes`` MB."""
    return int(megabytes * 1024 * 1024 / 19.7)


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
    parser.add_argument("--table-mb", type=float, default=50,
                        help="size of the big CSV table (issue 13's target is for 50 MB)")
    parser.add_argument("--limit", type=float, default=120,
                        help="seconds after which a big-table run is stopped")
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
    big_table(args.table_mb, args.limit)


def big_table(megabytes: float, limit: float) -> None:
    """Check and compile a table of about ``megabytes`` MB, against issue 13's targets."""
    with tempfile.TemporaryDirectory() as tmp:
        path = csv_experiment(Path(tmp), table_rows_for(megabytes))
        size = (Path(tmp) / "words.csv").stat().st_size / 1024**2
        target_s = {"check": 10 * megabytes / 50, "compile": 20 * megabytes / 50}
        for step, args in (("check", CHECK + [str(path)]),
                           ("compile", [sys.executable, "-m", "sbl", "compile", str(path),
                                        "-o", str(Path(tmp) / "page.html")])):
            seconds, peak = limited(args, limit)
            what = f"sbl {step}, {size:.0f} MB CSV table"
            shown = f"{seconds:>9.3f}s" if seconds is not None else f"> {limit:.0f}s (stopped)"
            print(f"{what:44} {shown:>10} {target_s[step]:>9.3f}s")
            memory = f"{peak:>8.0f}MB" if peak is not None else "stopped"
            print(f"{what + ', peak RSS':44} {memory:>10} {5 * size:>8.0f}MB")


if __name__ == "__main__":
    main()
