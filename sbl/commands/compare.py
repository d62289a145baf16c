"""``sbl compare``: compare datasets (people, models) on one experiment, with numbers and plots."""

from __future__ import annotations

import click

from sbl.commands import check_folder, reports_errors


@click.command()
@click.argument("data", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(file_okay=False), metavar="DIR",
              help="Write the report here: index.html (self-contained: plots embedded, no "
                   "network, no script) and each plot as a PNG.")
@click.option("-l", "--label", "labels", multiple=True, metavar="LABEL",
              help="A dataset's label, once per DATA file, in the same order (default: each "
                   "file's name without its suffix).")
@click.option("--by", metavar="COLUMN[,COLUMN...]",
              help="Columns that make a condition for accuracy and rt (default: the "
                   "condition columns and custom data fields that vary between the trials "
                   "of a stimulus; in data without them, its parameters that vary). "
                   "The column group is the participant's counterbalancing group.")
@click.option("--measure", "measures", metavar="COLUMN[,COLUMN...]",
              help="Also compare the mean of these columns (a custom data field, a "
                   "condition column or a kind's data field; true/false count 1/0) per "
                   "dataset and condition, with n and se, as a table and a plot: a "
                   "staircase's level, a stop-signal delay, a balloon's pumps. Every row "
                   "holding a value counts (a shared variable or a copy of one: the trials "
                   "with a correct answer), averaged per participant first.")
@click.option("--win-above", type=float, metavar="POINTS",
              help="Bandit: a choice that pays more than POINTS is a win (default: halfway "
                   "between the fewest and the most points the machines offered).")
@reports_errors
def compare(data: tuple[str, ...], output: str | None, labels: tuple[str, ...],
            by: str | None, measures: str | None, win_above: float | None) -> None:
    """Compare DATA files, each one dataset (people from the page, a model's simulation, ...):
    any data `sbl data` reads. Prints the score of each dataset first (for a bandit: the total
    points per participant, averaged), then the analyses of the kinds of stimuli in the data:
    for a bandit, choices over trials, cumulative score, switch rate, win-stay and
    lose-shift; for key and choice trials, accuracy and response time by condition, and
    accuracy by pass (a learning curve) for each block whose rows hold several passes
    (repeat N, a loop: the column pass); for
    surveys and sliders, mean ratings, values and option proportions. Data of an experiment
    with counterbalancing groups (the column group) holding more than one group also gets
    each score per group and dataset. --measure adds the mean of any numeric column by
    condition.

    \b
    Conditions, without --by: the condition columns and custom data fields that vary
    between the trials of a stimulus, less shared variables, copies of a shared
    variable's earlier value (a tracking delay), columns each participant saw only some
    values of (drawn per participant), columns computed from the answer (hit, false
    alarm) and any that would make more than 16 conditions (a note names those).

    \b
    Examples (the first two: the tutorial's comparison; the third: per counterbalancing
    group):
      sbl compare bandit.json sim.csv -o report/
      sbl compare bandit.json centaur.csv smollm2.csv -l people -l centaur -l smollm2
      sbl compare people.json sim.csv --by group
      sbl compare people.csv sim.csv --measure ssd_now,stopped
    """
    from rich.console import Console

    from sbl.comparison import compare as run_compare

    if labels and len(labels) != len(data):
        raise click.UsageError(f"{len(labels)} --label for {len(data)} data files: give one "
                               f"per file, in the same order")
    check_folder(output)
    result = run_compare(list(data), output, labels=list(labels) or None, by=_names(by),
                         win_above=win_above, measures=_names(measures))
    result.print(Console())
    if result.output is not None:
        figures = sum(len(s.plots) for s in result.sections)
        click.echo(f"wrote {result.output} ({figures} plot{'s' if figures != 1 else ''}, "
                   f"also as PNG files)", err=True)


def _names(option: str | None) -> tuple[str, ...]:
    """The columns of a COLUMN[,COLUMN...] option."""
    return tuple(c.strip() for c in option.split(",") if c.strip()) if option else ()
