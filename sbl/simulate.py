"""Synthetic participants: run an experiment on a language model, many participants at once.

Rows are written participant by participant as each one finishes (DESIGN decision 10): the
rows first, flushed and synced, then the participant's id in a ``<output>.progress`` file.
A run killed at any moment (``kill -9``) is continued with ``resume=True``: the finished
participants are kept, anything half-written is dropped, the rest run with the same seeds,
and the file ends identical to an uninterrupted run's (rows in participant order).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sbl.backends.text.driver import drive, jobs_for
from sbl.backends.text.program import program
from sbl.data import Rows, RowWriter, read_data
from sbl.source import SblError

if TYPE_CHECKING:
    from sbl import ir
    from sbl.backends.text.runtime import ParticipantRun
    from sbl.protocol import Responder

Progress = Callable[[int, int, int], None]  # participants done, trials done, tokens processed


def simulate(experiment: ir.Experiment, responder: Responder, *, participants: int = 1,
             batch: int = 8, seed: int = 0, prefix: Rows | None = None,
             output: str | Path | None = None, resume: bool = False,
             progress: Progress | None = None) -> Rows:
    """Run ``participants`` model participants (or continue each participant of ``prefix``),
    ``batch`` at a time; rows go to ``output`` as each participant finishes."""
    prog = program(experiment)
    jobs = jobs_for(participants, seed, prefix)
    if output is None:
        return drive(prog, jobs, responder, batch=batch,
                     on_done=_counter(responder, progress))
    store = _Store(Path(output), prog.columns, resume)
    jobs = [job for job in jobs if job.participant not in store.finished]
    with store:
        counter = _counter(responder, progress, len(store.finished))

        def finished(run: ParticipantRun) -> None:
            store.add(run.participant, run.rows)
            counter(run)

        rows = drive(prog, jobs, responder, batch=batch, on_done=finished)
    store.finish([job.participant for job in jobs_for(participants, seed, prefix)])
    return Rows(read_data(output), transcripts=rows.transcripts, summary=rows.summary)


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


class _Store:
    """The output file and its progress file: finished participants, appended safely."""

    def __init__(self, path: Path, columns: Sequence[str], resume: bool) -> None:
        self.path, self.columns = path, list(columns)
        self.progress = path.with_name(path.name + ".progress")
        self.finished: dict[str, list[dict[str, Any]]] = {}
        if resume:
            self._recover()
        elif self.progress.exists():
            raise SblError.at(None, f"{path} belongs to a run that did not finish",
                              help="add --resume to continue it, or remove "
                                   f"{self.progress.name} to start again")
        self.writer = RowWriter(path, self.columns)
        for rows in self.finished.values():
            for row in rows:
                self.writer.write(row)
        self._sync()

    def _recover(self) -> None:
        if not self.progress.exists():
            raise SblError.at(None, f"there is nothing to resume in {self.path}",
                              help="the run finished, or never started: run without --resume")
        done = [line for line in self.progress.read_text().splitlines() if line]
        recorded = read_data(self.path).by_participant() if self.path.exists() else {}
        self.finished = {p: list(recorded[p]) for p in done if p in recorded}
        # participants written before the progress line was synced are run again

    def add(self, participant: str, rows: list[dict[str, Any]]) -> None:
        """Append one finished participant's rows, then record that it finished."""
        for row in rows:
            self.writer.write(row)
        self._sync()
        with self.progress.open("a", encoding="utf-8") as f:
            f.write(participant + "\n")
            f.flush()
            os.fsync(f.fileno())
        self.finished[participant] = rows

    def _sync(self) -> None:
        os.fsync(self.writer._file.fileno())  # noqa: SLF001 - the writer flushes, we sync

    def finish(self, order: list[str]) -> None:
        """Rewrite the file in participant order and drop the progress file."""
        rows = [row for p in order for row in self.finished.get(p, [])]
        temporary = self.path.with_name(".tmp-" + self.path.name)
        with RowWriter(temporary, self.columns) as writer:
            for row in rows:
                writer.write(row)
        temporary.replace(self.path)
        self.progress.unlink(missing_ok=True)

    def __enter__(self) -> _Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.writer.close()


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
