"""``sbl pilot``: simulated people click through the compiled page in headless Chromium."""

from __future__ import annotations

import json
from pathlib import Path

import click

from sbl.commands import check_output, reports_errors
from sbl.source import counted


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("-n", "--participants", type=click.IntRange(min=1), default=1, show_default=True,
              help="How many simulated people (ids 1..N, as in text runs, so person k is in group "
                   "k under 'by participant' and, with NAME=k, under 'by url NAME'; seeds SEED..).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of person 1.")
@click.option("--mode", type=click.Choice(["data-only", "visual"]), default="data-only",
              show_default=True,
              help="jsPsych's simulation mode: data-only is fast; visual renders every "
                   "trial and fires real events, in real time.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True,
              help="Where to write the pages' jsPsych data (JSON, all participants).")
@reports_errors
def pilot(file: str, participants: int, seed: int, mode: str, output: str) -> None:
    """Pilot FILE: compile it and let jsPsych's simulation mode play the page in headless
    Chromium, as people would (random valid answers, plausible response times). The output
    is what the page downloads for real participants; `sbl data` reads it.

    \b
    Example:
      sbl pilot examples/bandit.sbl -n 8 -o pilot.json
    """
    from sbl.experiment import load
    from sbl.pilot import pilot as run_pilot

    check_output(output, (".json",))
    records = run_pilot(load(file), participants, seed=seed, mode=mode)
    Path(output).write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    click.echo(f"{counted(participants, 'simulated participant')}, "
               f"{counted(len(records), 'jsPsych row')} written to {output}", err=True)
