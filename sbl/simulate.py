"""Synthetic participants: run an experiment on a language model, many participants at once.

Rows are written participant by participant as each one finishes (DESIGN decision 10): the
rows first, flushed and synced, then the participant in a ``<output>.progress`` file
(:mod:`sbl.progress`). A run killed at any moment (``kill -9``) is continued with
``resume=True``: the finished participants are kept (once the run's settings and their bytes
are checked), anything half-written is dropped, the rest run with the same seeds, and the file
ends identical to an uninterrupted run's (rows in participant order).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sbl.backends.text.driver import drive, jobs_for
from sbl.backends.text.program import program
from sbl.data import Rows, read_data
from sbl.progress import Store, fingerprint, recover

if TYPE_CHECKING:
    from sbl import ir
    from sbl.backends.text.runtime import ParticipantRun
    from sbl.protocol import Responder

Progress = Callable[[int, int, int], None]  # participants done, trials done, tokens processed


def simulate(experiment: ir.Experiment, responder: Responder, *, participants: int = 1,
             batch: int = 8, seed: int = 0, prefix: Rows | None = None,
             output: str | Path | None = None, resume: bool = False,
             progress: Progress | None = None, model: str | None = None) -> Rows:
    """Run ``participants`` model participants (or continue each participant of ``prefix``),
    ``batch`` at a time; rows go to ``output`` as each participant finishes. ``model`` names
    the model as the user did (for the progress file; default: the responder's name)."""
    prog = program(experiment)
    jobs = jobs_for(participants, seed, prefix)
    if output is None:
        return drive(prog, jobs, responder, batch=batch,
                     on_done=_counter(responder, progress))
    settings = run_settings(experiment, model or responder.name,
                            getattr(responder, "temperature", None), participants=participants,
                            batch=batch, seed=seed, prefix=prefix)
    store = Store(Path(output), prog.columns, resume, settings)
    jobs = [job for job in jobs if job.participant not in store.finished]
    with store:
        counter = _counter(responder, progress, len(store.finished))

        def finished(run: ParticipantRun) -> None:
            store.add(run.participant, run.rows)
            counter(run)

        rows = drive(prog, jobs, responder, batch=batch, on_done=finished)
    store.finish([job.participant for job in jobs_for(participants, seed, prefix)])
    return Rows(read_data(output), transcripts=rows.transcripts, summary=rows.summary)


def run_settings(experiment: ir.Experiment, model: str, temperature: float | None, *,
                 participants: int, batch: int, seed: int,
                 prefix: Rows | None) -> dict[str, Any]:
    """What makes a run's rows what they are, recorded so that a resume can check it is the
    same run: the experiment, the model and its sampling, the participants and their seeds."""
    from sbl import ir
    from sbl.data.schema import columns_for, to_json

    return {"experiment": fingerprint(ir.to_json(experiment)), "model": model,
            "temperature": temperature, "seed": seed, "batch": batch,
            "participants": participants if prefix is None else None,
            "prefix": None if prefix is None else fingerprint(to_json([dict(r) for r in prefix])),
            "columns": list(columns_for(experiment))}


def check_resume(experiment: ir.Experiment, output: str | Path, resume: bool, model: str,
                 temperature: float | None, *, participants: int, batch: int, seed: int,
                 prefix: Rows | None) -> None:
    """Before loading a model: an output that belongs to an unfinished run needs ``resume``,
    and ``resume`` needs an unfinished run of this very command with its rows intact."""
    recover(Path(output), resume, run_settings(experiment, model, temperature,
                                               participants=participants, batch=batch,
                                               seed=seed, prefix=prefix))


def _counter(responder: Responder, progress: Progress | None,
             start: int = 0) -> Callable[[ParticipantRun], None]:
    state = {"participants": start, "trials": 0}

    def count(run: ParticipantRun) -> None:
        state["participants"] += 1
        state["trials"] += len(run.rows)
        if progress is not None:
            usage = getattr(responder, "usage", None)
            tokens = getattr(usage(), "tokens_processed", 0) if usage else 0
            progress(state["participants"], state["trials"], tokens)
    return count


def timed_progress(total: int) -> tuple[Progress, Callable[[], None]]:
    """A rich progress bar over participants, showing trials and tokens per second."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn("[bold]participants"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("{task.fields[trials]} trials · {task.fields[rate]} tokens/s"),
                   TimeElapsedColumn(), transient=False)
    task = bar.add_task("simulate", total=total, trials=0, rate="-")
    started = time.perf_counter()
    bar.start()

    def update(participants: int, trials: int, tokens: int) -> None:
        rate = tokens / max(time.perf_counter() - started, 1e-9)
        bar.update(task, completed=participants, trials=trials, rate=f"{rate:,.0f}")
    return update, bar.stop
