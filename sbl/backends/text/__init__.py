"""The text backend: experiments as Psych-101 text, run by people, scripts and models.

``emit`` is the ``transcript`` backend of ``sbl compile --emit transcript`` (participant 1,
seed 0, answers left open: see :mod:`sbl.backends.text.transcript`). ``run_experiment`` runs
participants through the interpreter (:mod:`sbl.backends.text.runtime`), replaying recorded
rows first when given a prefix, and returns their rows in the one schema.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sbl import ir
from sbl.backends.text.driver import Job, RunSummary, drive, jobs_for, replay_rows
from sbl.backends.text.program import program
from sbl.backends.text.transcript import open_transcript

if TYPE_CHECKING:
    from sbl.data.rows import Rows
    from sbl.protocol import Responder

__all__ = ["Job", "RunSummary", "emit", "run_experiment", "transcript"]


def emit(experiment: ir.Experiment, *, cdn: bool = False,
         allow_simulate: bool = False, media_mode: str = "auto") -> str:
    """The transcript a model would read: participant 1, seed 0, answers open (`` <<?>>``)."""
    return open_transcript(experiment, seed=0) + "\n"


def run_experiment(experiment: ir.Experiment, participant: Responder, *, prefix: Rows | None = None,
                   seed: int = 0, output: str | Path | None = None, participants: int = 1,
                   batch: int = 1) -> Rows:
    """Run ``participants`` participants (or continue each participant of ``prefix``, its
    rows replayed first) with ``participant`` answering, ``batch`` at a time in lockstep.

    Rows are written to ``output`` (.csv, .json or .jsonl) as each trial ends; the returned
    :class:`~sbl.data.Rows` also carries ``transcripts`` and a ``summary``.
    """
    from sbl.data.write import RowWriter

    prog = program(experiment)
    jobs = jobs_for(participants, seed, prefix)
    if output is None:
        return drive(prog, jobs, participant, batch=batch)
    with RowWriter(output, prog.columns) as writer:
        return drive(prog, jobs, participant, batch=batch, on_row=writer.write)


def transcript(experiment: ir.Experiment, participant: Responder | None = None, *,
               prefix: Rows | None = None, seed: int = 0) -> str:
    """The transcript of one participant: answers open without ``participant`` or
    ``prefix``; the text that participant read (continuing ``prefix`` when given); without
    ``participant``, the text of ``prefix``'s first participant as far as it was recorded."""
    if participant is None and prefix is None:
        return open_transcript(experiment, seed=seed)
    if participant is None:
        assert prefix is not None
        replayed = replay_rows(program(experiment), prefix, seed=seed)
        return next(iter(replayed.values())).transcript if replayed else ""
    rows = run_experiment(experiment, participant, prefix=prefix, seed=seed)
    return next(iter(rows.transcripts.values()), "")
