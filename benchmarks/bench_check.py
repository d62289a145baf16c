"""How fast `sbl check` answers, and what CSV tables cost to check and compile.

Targets (issue "The .sbl language"): the whole `sbl check` process on the bandit is quick
(the model stack is never imported); a 10,000-row CSV table checks in under 2 s and under
200 MB. Issue 13: tables linear in their size, a 50 MB CSV table checks in <= 10 s and
compiles in <= 20 s, in at most 5x the file's size of memory. Each number is measured here,
in this run, and printed beside its target. The big table's runs are stopped at --limit
seconds and at 4 GB of address space, so a machine shared with others is not exhausted; a run
that was stopped prints as "> LIMIT s (stopped)".

    python benchmarks/bench_check.py [--runs 7] [--table-mb 50] [--limit 120]

Each line shows the measure, its target and their ratio (measured / target: 1.00 or less
meets the target); memory lines also say how many times the file's size the peak was, and
the big table's time lines the child's CPU seconds and the load average, since wall time on
a shared machine grows with the others' load.
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


def limited(args: list[str], limit: float) -> tuple[float | None, float | None, float]:
    """Wall seconds, peak RSS (MB) and CPU seconds (user + system) of one child run under a
    time and memory cap; None for the first two when it was stopped (or failed: out of memory
    under the cap). Both are read from the child's own rusage with wait4, so earlier children
    do not count; CPU time shows the work done when others share the machine's cores."""
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
            return None, None, 0.0
        time.sleep(0.05)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        return None, None, 0.0
    cpu = usage.ru_utime + usage.ru_stime
    return time.perf_counter() - start, usage.ru_maxrss / 1024, cpu


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
    start = statistics.median(python)
    print(f"{'measure':44} {'measured':>10} {'target':>10} {'ratio':>7}")
    line("python -c pass (interpreter start)", f"{start:.3f}s")
    line("sbl check examples/bandit.sbl", f"{statistics.median(bandit):.3f}s",
         note=f"{statistics.median(bandit) / start:.1f}x interpreter start")
    line("sbl check, 10,000-row CSV table", f"{big_s:.3f}s", "2.000s", big_s / 2)
    line("sbl check, 10,000-row CSV table, peak RSS", f"{big_mb:.0f}MB", "200MB", big_mb / 200)
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
            seconds, peak, cpu = limited(args, limit)
            what = f"sbl {step}, {size:.0f} MB CSV table"
            if seconds is None or peak is None:
                line(what, f"> {limit:.0f}s (stopped)", f"{target_s[step]:.3f}s")
                continue
            line(what, f"{seconds:.3f}s", f"{target_s[step]:.3f}s", seconds / target_s[step],
                 f"CPU {cpu:.3f}s, load average {os.getloadavg()[0]:.1f} on "
                 f"{os.cpu_count()} cores")
            line(what + ", peak RSS", f"{peak:.0f}MB", f"{5 * size:.0f}MB", peak / (5 * size),
                 f"{peak / size:.1f}x file")


def line(what: str, measured: str, target: str = "", ratio: float | str | None = None,
         note: str = "") -> None:
    """One row of the table: the measure, its target and measured/target (<= 1 meets it)."""
    shown = f"{ratio:.2f}" if isinstance(ratio, float) else ratio or ""
    print(f"{what:44} {measured:>10} {target:>10} {shown:>7} {note}".rstrip())


if __name__ == "__main__":
    main()
