"""``sbl data``: the page's jsPsych data (or sbl rows) as tidy rows in the one schema."""

from __future__ import annotations

import sys

import click

from sbl.commands import ROW_SUFFIXES, check_output, reports_errors
from sbl.source import counted


@click.command()
@click.argument("data", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Write the rows here (.csv, .json or .jsonl); without it, CSV goes to stdout.")
@click.option("--until", type=click.IntRange(min=1), metavar="N",
              help="Keep each participant's rows before their N-th response (so N - 1 "
                   "responses): the prefix that `sbl run --from DATA --until N` replays.")
@reports_errors
def data(data: str, output: str | None, until: int | None) -> None:
    """Convert DATA (jsPsych JSON or CSV from a compiled page, or sbl's own rows) to tidy
    rows: one row per trial, the columns of docs/data.md. Prints how many participants,
    trials and responses it holds on stderr.

    \b
    Example (the tutorial's bandit):
      sbl data bandit.json                 rows as CSV on stdout, counts on stderr
      sbl data bandit.json --until 3 -o prefix.csv
    """
    from sbl.data import read_data
    from sbl.data.schema import union_columns
    from sbl.data.write import RowWriter

    check_output(output, ROW_SUFFIXES)
    rows = read_data(data)
    if until is not None:
        rows = rows.until_response(until)
    for participant, part in rows.by_participant().items():
        # a page that played itself (sbl pilot) is never a person: say so
        simulated = any(r.get("source") == "browser-simulated" for r in part)
        click.echo(f"participant {participant}: {counted(len(part), 'trial')}, "
                   f"{counted(part.n_responses, 'response')}"
                   f"{' (simulated by the page, not a person)' if simulated else ''}", err=True)
    click.echo(f"{data}: {counted(len(rows.participants), 'participant')}, "
               f"{counted(len(rows), 'trial')}, {counted(rows.n_responses, 'response')}",
               err=True)
    target = sys.stdout if output in (None, "-") else output
    with RowWriter(target, union_columns(rows)) as writer:
        for row in rows:
            writer.write(row)
    if output not in (None, "-"):
        click.echo(f"wrote {counted(len(rows), 'row')} to {output}", err=True)
