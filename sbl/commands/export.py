"""``sbl export``: data as a Psych-DS dataset or as Psych-101 text (jsonl)."""

from __future__ import annotations

import click

from sbl.commands import check_folder, check_output, given_options, reports_errors
from sbl.source import counted


@click.command()
@click.argument("data", type=click.Path(dir_okay=False))
@click.option("--psych-ds", "psych_ds", type=click.Path(file_okay=False), metavar="DIR",
              help="Write a Psych-DS dataset here: dataset_description.json, one CSV per "
                   "participant in data/, and the experiment in materials/.")
@click.option("--psych101", type=click.Path(dir_okay=False), metavar="FILE",
              help="Write Psych-101 jsonl here: one record per participant, the text they "
                   "read with their responses marked <<like this>> (needs --experiment).")
@click.option("-e", "--experiment", type=click.Path(dir_okay=False), metavar="FILE.sbl",
              help="The experiment the data is from: replayed to rebuild the Psych-101 text; "
                   "names and describes the Psych-DS dataset and is copied to materials/.")
@click.option("--name", help="The study's name: Psych-DS's study-NAME keyword and Psych-101's "
                             "experiment field (default: the .sbl file's name).")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Psych-101: the --seed of the run that made DATA, for participants whose "
                   "data recorded none (the page records it): participant k of an sbl run "
                   "had SEED + k - 1, any other id SEED.")
@reports_errors
def export(data: str, psych_ds: str | None, psych101: str | None, experiment: str | None,
           name: str | None, seed: int) -> None:
    """Export DATA (the page's jsPsych JSON/CSV or sbl rows) for others to read: a Psych-DS
    dataset for sharing, or Psych-101 text to fine-tune or evaluate a language model.

    \b
    Examples:
      sbl export bandit.json --psych-ds dataset/ --experiment bandit.sbl
      sbl export bandit.json --psych101 bandit.jsonl --experiment bandit.sbl
    """
    from sbl.data import read_data
    from sbl.experiment import load

    if not psych_ds and not psych101:
        raise click.UsageError("say what to write: --psych-ds DIR or --psych101 FILE")
    if psych101 and not experiment:
        raise click.UsageError("--psych101 needs --experiment FILE.sbl: the text is rebuilt "
                               "by replaying the data through the experiment")
    if not psych101 and given_options(("seed",)):
        raise click.UsageError("--seed is for --psych101 (it rebuilds the text each "
                               "participant read); --psych-ds alone ignores it")
    check_output(psych101, (".jsonl",))
    check_folder(psych_ds)
    rows = read_data(data)
    loaded = load(experiment) if experiment else None
    if psych_ds:
        _psych_ds(rows, psych_ds, loaded, name)
    if psych101:
        from sbl.export import export_psych101

        records = export_psych101(rows, loaded, psych101, name=name, seed=seed)
        responses = sum(r["text"].count(" <<") for r in records)
        click.echo(f"wrote {psych101}: {counted(len(records), 'participant')}, "
                   f"{counted(responses, 'marked response')}", err=True)


def _psych_ds(rows, folder: str, experiment, name: str | None) -> None:  # type: ignore[no-untyped-def]
    """Write the dataset, then check it against Psych-DS's rules."""
    from sbl.export import export_psych_ds, validate_psych_ds
    from sbl.source import SblError

    export_psych_ds(rows, folder, name=name, experiment=experiment)
    problems = validate_psych_ds(folder)
    if problems:  # an exporter bug, never the user's: say so plainly
        raise SblError.at(None, "the exported dataset breaks Psych-DS rules: "
                                + "; ".join(problems))
    click.echo(f"wrote {folder}: {counted(len(rows.participants), 'data file')} in data/, "
               f"{counted(len(rows.columns), 'column')} described; valid Psych-DS", err=True)
