"""``sbl run``: run an experiment as text with a person at the terminal, a script or a random
participant, optionally continuing recorded data."""

from __future__ import annotations

import click

from sbl.commands import (
    ROW_SUFFIXES,
    ParticipantSpec,
    check_output,
    participant_help,
    reports_errors,
)
from sbl.source import SblError, counted


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("-p", "--participant", default="terminal", show_default=True,
              type=ParticipantSpec(), metavar="NAME[:ARGUMENT]",
              help=participant_help("Who answers (any participant sbl simulate --model "
                                    "takes):"))
@click.option("--from", "from_", type=click.Path(dir_okay=False), metavar="DATA",
              help="Replay recorded data first (the page's jsPsych JSON/CSV or sbl rows): each "
                   "trial is checked against the experiment; alone, the whole recording is "
                   "replayed.")
@click.option("--until", type=click.IntRange(min=1), metavar="N",
              help="With --from: replay the rows before each participant's N-th response, "
                   "then the participant goes on from there.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="The participant's seed (trial order, option letters); data that recorded "
                   "a seed uses its own.")
@click.option("-n", "--participants", type=click.IntRange(min=1), default=1, show_default=True,
              help="How many participants (ids 1..N, seeds SEED..SEED+N-1; with groups "
                   "declared, participant k is in group k, cycling through the groups); not "
                   "with the terminal participant or --from.")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Write the rows here as the run goes (.csv, .json or .jsonl).")
@reports_errors
def run(file: str, participant: str, from_: str | None, until: int | None, seed: int,
        participants: int, output: str | None) -> None:
    """Run FILE as text: the participant reads the Psych-101 transcript and answers each
    free response. The terminal participant sees the text as it grows; another's final
    transcript is printed at the end (with -n above 1, none is: keep the rows with -o).

    \b
    Examples (the tutorial's bandit):
      sbl run examples/bandit.sbl
      sbl run examples/bandit.sbl --from bandit.json --until 3 -o rows.csv
      sbl run examples/bandit.sbl -p scripted:C,A,C -o rows.csv
    """
    from sbl.backends.text import run_experiment
    from sbl.data import read_data
    from sbl.experiment import load
    from sbl.participants import Options, make

    if until is not None and from_ is None:
        raise click.UsageError("--until needs --from DATA")
    if participants > 1 and (from_ or participant.partition(":")[0] == "terminal"):
        raise click.UsageError("-n needs a scripted or random participant and no --from")
    check_output(output, ROW_SUFFIXES)
    experiment = load(file)
    responder = make(participant, Options(seed=seed, batch=1))
    prefix = read_data(from_) if from_ else None
    if prefix is not None and until is not None:
        prefix = prefix.until_response(until)
    if prefix is not None and not len(prefix):
        raise SblError.at(None, f"{from_} holds no trials of an sbl experiment")
    rows = run_experiment(experiment.ir, responder, prefix=prefix, seed=seed, output=output,
                          participants=participants)
    if responder.name != "terminal" and participants == 1:
        for text in rows.transcripts.values():
            click.echo(text)
    where = f"; rows written to {output}" if output else " (use -o rows.csv to keep the rows)"
    click.echo(f"{counted(len(rows.participants), 'participant')}, "
               f"{counted(len(rows), 'trial')}, {counted(rows.n_responses, 'response')}{where}",
               err=True)


if __name__ == "__main__":
    run()
