"""Running participants: each one a :class:`ParticipantRun` generator, advanced in lockstep.

Up to ``batch`` participants run at once. At each step the driver collects one Ask from each
participant that waits for an answer and calls ``responder.answer(asks)`` once; a person or a
script answers batches of one, a model answers the whole batch on one KV cache. Rows go to
``on_row`` as each trial ends (a :class:`~sbl.data.RowWriter` flushes them to disk).
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from sbl.backends.text.program import Program
from sbl.backends.text.replay import Replay
from sbl.backends.text.runtime import ParticipantRun
from sbl.data.rows import Rows
from sbl.protocol import Ask, Responder


@dataclass(frozen=True, slots=True)
class Job:
    """One participant to run: its id, its seed, and the recorded rows to replay first."""

    participant: str
    seed: int
    prefix: Rows | None = None


@dataclass
class RunSummary:
    """What a run cost, as ``--summary`` writes it: ``model`` is the responder's name (the
    model that ran), ``retries`` the server requests tried again (None off a server)."""

    model: str = ""
    participants: int = 0
    trials: int = 0
    asks: int = 0
    tokens_processed: int = 0
    transcript_tokens: int | None = None
    invalid_mass: float | None = None
    seconds: float = 0.0
    retries: int | None = None
    per_participant: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_json(self) -> str:
        """The summary as indented JSON."""
        return json.dumps(asdict(self), indent=2) + "\n"


def seed_for(participant: str, recorded: Mapping[str, int], seed: int = 0) -> int:
    """The one rule for a recorded participant's seed: the seed the data recorded for them;
    else, as ``sbl run`` and ``sbl simulate`` number participants, ``seed + k - 1`` for
    participant ``k`` (1, 2, ...); else (any other id) ``seed``. Mod 2**32."""
    if participant in recorded:
        return recorded[participant]
    if participant.isdigit() and int(participant) >= 1:
        return (seed + int(participant) - 1) & 0xFFFFFFFF
    return seed & 0xFFFFFFFF


def jobs_for(participants: int, seed: int, prefix: Rows | None) -> list[Job]:
    """The jobs of a run: one per recorded participant of ``prefix`` (continuing it, seeded
    by :func:`seed_for`), else ``participants`` new ones, ids "1", "2", ... with seeds seed,
    seed + 1, ... (mod 2**32)."""
    if prefix is not None and len(prefix):
        return [Job(p, seed_for(p, prefix.seeds, seed), rows)
                for p, rows in prefix.by_participant().items()]
    return [Job(str(i + 1), (seed + i) & 0xFFFFFFFF) for i in range(participants)]


@dataclass(frozen=True, slots=True)
class Replayed:
    """What one recorded participant read: the transcript up to the end of their last
    recorded trial (no trailing newline), the option count of each marked response in it
    (None for free text), the seed it was replayed with, and each marked response's options."""

    transcript: str
    option_counts: tuple[int | None, ...]
    seed: int
    response_options: tuple[tuple[str, ...] | None, ...] = ()


def replay_rows(program: Program, rows: Rows, *, seed: int = 0,
                seeds: Mapping[str, int] | None = None) -> dict[str, Replayed]:
    """Each participant of ``rows`` replayed through the runtime, every row checked against
    the experiment: the one way recorded rows become text (``sbl score``, ``sbl export
    --psych101``, ``transcript``). Seeds follow :func:`seed_for`, with ``seeds`` (by
    participant) used where the data recorded none. A recording that stops early gives
    the text up to its last trial; trials after it, which nobody saw, are left out."""
    known = {**(seeds or {}), **rows.seeds}
    out = {}
    for participant, own in rows.by_participant().items():
        chosen = seed_for(participant, known, seed)
        run = ParticipantRun(program, participant, chosen, "replay", replay=Replay(own))
        for _ in run.run():
            break  # asked for an answer: the recording ended before the experiment did
        text = run.transcript_until(len(own))
        out[participant] = Replayed(text, tuple(run.option_counts), chosen,
                                    tuple(run.response_options))
    return out


def drive(program: Program, jobs: Iterable[Job], responder: Responder, *, batch: int = 1,
          on_row: Callable[[dict[str, Any]], None] | None = None,
          on_done: Callable[[ParticipantRun], None] | None = None,
          make_run: type[ParticipantRun] = ParticipantRun) -> Rows:
    """Run every job, ``batch`` at a time in lockstep; returns their rows, participant by
    participant, with ``transcripts`` and ``summary`` set. ``on_row`` gets each row as its
    trial ends, ``on_done`` each participant's run as it ends."""
    started = time.perf_counter()
    queue = deque(jobs)
    order = {job.participant: i for i, job in enumerate(queue)}
    active: dict[str, tuple[ParticipantRun, Any, Ask]] = {}
    done: list[ParticipantRun] = []
    summary = RunSummary()

    def start(job: Job) -> None:
        run = make_run(program, job.participant, job.seed, responder.name,
                       replay=Replay(job.prefix) if job.prefix is not None else None,
                       on_row=on_row)
        _advance(run, run.run(), None, active, done, responder, on_done)

    while queue or active:
        while queue and len(active) < max(1, batch):
            start(queue.popleft())
        if not active:
            continue
        waiting = list(active.items())
        answers = responder.answer([ask for _, (_, _, ask) in waiting])
        summary.asks += len(waiting)
        for (_, (run, gen, _)), answer in zip(waiting, answers, strict=True):
            _advance(run, gen, answer, active, done, responder, on_done)
    done.sort(key=lambda run: order[run.participant])
    return _collect(done, responder, summary, started)


def _advance(run: ParticipantRun, gen: Any, answer: Any, active: dict[str, Any],
             done: list[ParticipantRun], responder: Responder,
             on_done: Callable[[ParticipantRun], None] | None) -> None:
    """Send ``answer`` to a participant's generator; note its next ask, or that it ended."""
    try:
        ask = gen.send(answer)
    except StopIteration:
        active.pop(run.participant, None)
        done.append(run)
        responder.finish(run.participant, run.transcript)
        if on_done is not None:
            on_done(run)
        return
    active[run.participant] = (run, gen, ask)


def _collect(done: list[ParticipantRun], responder: Responder, summary: RunSummary,
             started: float) -> Rows:
    runs = done
    rows = [row for run in runs for row in run.rows]
    masses = [m for run in runs for m in run.invalid_mass]
    summary.participants = len(runs)
    summary.trials = len(rows)
    summary.tokens_processed = sum(run.tokens for run in runs)
    summary.invalid_mass = sum(masses) / len(masses) if masses else None
    summary.transcript_tokens = _transcript_tokens(responder)
    summary.model = responder.name
    summary.retries = getattr(responder, "retries", None)
    summary.per_participant = {run.participant: {
        "trials": len(run.rows), "tokens": run.tokens,
        "invalid_mass": sum(run.invalid_mass) / len(run.invalid_mass)
        if run.invalid_mass else None} for run in runs}
    summary.seconds = round(time.perf_counter() - started, 3)
    return Rows(rows, transcripts={run.participant: run.transcript for run in runs},
                summary=summary)


def _transcript_tokens(responder: Responder) -> int | None:
    """Tokens of the final transcripts, if the responder counts them (``usage()``)."""
    usage = getattr(responder, "usage", None)
    if usage is None:
        return None
    return getattr(usage(), "transcript_tokens", None)
