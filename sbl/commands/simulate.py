"""``sbl simulate``: run an experiment on a language model, many participants at once."""

from __future__ import annotations

from pathlib import Path

import click

from sbl.commands import (
    ROW_SUFFIXES,
    ParticipantSpec,
    check_output,
    participant_help,
    refuse_ignored,
    reports_errors,
    threads_option,
    timeout_option,
)
from sbl.source import counted


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--model", "-m", required=True, type=ParticipantSpec(),
              metavar="NAME|DIR|openai:URL#MODEL",
              help=participant_help("Who answers, usually a language model:"))
@click.option("-n", "--participants", type=click.IntRange(min=1), default=1, show_default=True,
              help="How many participants (ids 1..N, seeds SEED..SEED+N-1; with groups "
                   "declared, participant k is in group k, cycling through the groups).")
@click.option("--batch", type=click.IntRange(min=1), default=8, show_default=True,
              help="Participants that advance together on one KV cache (or requests in flight "
                   "for a server).")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of participant 1: trial order, option letters and the model's draws.")
@click.option("--temperature", type=click.FloatRange(min=0.0), default=1.0, show_default=True,
              help="A model's sampling temperature over the valid options (0: always the "
                   "likeliest).")
@click.option("--from", "from_", type=click.Path(dir_okay=False), metavar="DATA",
              help="Continue recorded participants: replay their rows first (with --until, "
                   "only those before the N-th response).")
@click.option("--until", type=click.IntRange(min=1), metavar="N",
              help="With --from: the model takes over at each participant's N-th response.")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Write rows here (.csv, .json, .jsonl) as each participant finishes.")
@click.option("--resume", is_flag=True,
              help="Continue an interrupted run into the same --output: finished participants "
                   "are kept, the others run again with the same seeds. The command must be "
                   "the interrupted one (same experiment, model, seed, temperature, -n, "
                   "--batch, --from) and the kept rows unchanged; a run killed before any "
                   "participant finished starts over.")
@click.option("--summary", type=click.Path(dir_okay=False),
              help="Write what the run cost as JSON: model, participants, trials, "
                   "tokens_processed, transcript_tokens, invalid_mass, seconds, retries.")
@timeout_option
@click.option("--device", help="Where a local model runs: cpu, cuda, cuda:N, mps (default: "
                               "the best there is). One this machine does not have is an "
                               "error.")
@threads_option
@reports_errors
def simulate(file: str, model: str, participants: int, batch: int, seed: int,
             temperature: float, from_: str | None, until: int | None, output: str | None,
             resume: bool, summary: str | None, timeout: float, device: str | None,
             threads: int | None) -> None:
    """Run FILE with a language model as the participant: it reads the Psych-101 transcript
    and chooses among the valid answers by log-probability, continuing one KV cache so each
    token is processed once. Rows have the same columns as the browser's.

    \b
    Examples:
      sbl simulate examples/bandit.sbl --model smollm2 -n 10 -o sim.csv
      sbl simulate examples/bandit.sbl --model centaur --from bandit.json --until 3 -o sim.csv
      sbl simulate examples/bandit.sbl --model openai:http://localhost:8000/v1#centaur -n 100
    """
    from sbl.data import read_data
    from sbl.experiment import load
    from sbl.participants import Options, make
    from sbl.participants.models import describe
    from sbl.simulate import check_resume, timed_progress
    from sbl.simulate import simulate as run_simulation

    if until is not None and from_ is None:
        raise click.UsageError("--until needs --from DATA")
    if resume and output is None:
        raise click.UsageError("--resume needs the --output of the interrupted run")
    refuse_ignored(model, ("temperature", "timeout", "device", "threads"), "--model")
    check_output(output, ROW_SUFFIXES)
    check_output(summary, (".json",))
    experiment = load(file)
    prefix = read_data(from_) if from_ else None
    if prefix is not None and until is not None:
        prefix = prefix.until_response(until)
    if output is not None:  # everything about --resume is checked before the model loads
        check_resume(experiment.ir, output, resume, model, temperature, participants=participants,
                     batch=batch, seed=seed, prefix=prefix)
    click.echo(f"loading {model} ...", err=True)
    responder = make(model, Options(seed=seed, temperature=temperature, batch=batch,
                                    device=device, timeout=timeout, threads=threads))
    total = len(prefix.participants) if prefix is not None else participants
    update, stop = timed_progress(total)
    try:
        rows = run_simulation(experiment.ir, responder, participants=participants, batch=batch,
                              seed=seed, prefix=prefix, output=output, resume=resume,
                              progress=update, model=model)
    finally:
        stop()
    if summary:
        Path(summary).write_text(rows.summary.to_json(), encoding="utf-8")
    where = f"; rows in {output}" if output else " (use -o sim.csv to keep the rows)"
    click.echo(f"{counted(len(rows.participants), 'participant')}, "
               f"{counted(len(rows), 'trial')}, {counted(rows.n_responses, 'response')}{where}",
               err=True)
    click.echo(f"model: {describe(responder.name)}", err=True)
