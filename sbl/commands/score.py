"""``sbl score``: the negative log-likelihood of people's choices under a model."""

from __future__ import annotations

import click

from sbl.commands import (
    ParticipantSpec,
    check_output,
    given_options,
    participant_help,
    refuse_ignored,
    reports_errors,
    threads_option,
    timeout_option,
)


@click.command()
@click.argument("data", type=click.Path(dir_okay=False, exists=True))
@click.option("--model", "-m", required=True, type=ParticipantSpec(scores=True),
              metavar="NAME|DIR|openai:URL#MODEL",
              help=participant_help("The model, named as for sbl simulate; it must give "
                                    "log-probabilities (hf does, and openai on a server that "
                                    "echoes them, such as vLLM):"))
@click.option("--experiment", "-e", type=click.Path(dir_okay=False), metavar="FILE.sbl",
              help="The experiment the data was recorded with (needed unless DATA is "
                   "Psych-101 jsonl).")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Write one row per scored response here (CSV): participant, choice, "
                   "response, tokens, nll, options, nll_random.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="The --seed of the run that made DATA, for participants whose data "
                   "recorded none (the page records it): participant k of an sbl run had "
                   "SEED + k - 1, any other id SEED.")
@timeout_option
@threads_option
@reports_errors
def score(data: str, model: str, experiment: str | None, output: str | None,
          seed: int, timeout: float, threads: int | None) -> None:
    """Score recorded DATA under a model, as the Centaur paper does: the transcript each
    participant read is rebuilt from their rows and the model's negative log-likelihood of
    their responses (only the tokens between ' <<' and '>>') is summed per choice and per
    participant. Pseudo-R² = 1 - NLL / NLL of choosing at random (ln k per choice).

    \b
    Examples:
      sbl score bandit.json --experiment examples/bandit.sbl --model smollm2
      sbl score psych101.jsonl --model centaur
    """
    from rich.console import Console
    from rich.table import Table

    from sbl.scoring import is_psych101
    from sbl.scoring import score as run_score

    refuse_ignored(model, ("timeout", "threads"), "--model")
    ignored = given_options(("experiment", "seed")) if is_psych101(data) else []
    if ignored:
        raise click.UsageError(f"{data} is Psych-101 text, which holds what each participant "
                               f"read: {' and '.join(ignored)} "
                               f"{'have' if len(ignored) > 1 else 'has'} no use with it")
    check_output(output, (".csv",))
    scores = run_score(data, model, experiment, seed=seed, timeout=timeout, threads=threads)
    table = Table(title=f"{data} under {scores.model}")
    for column in ("participant", "choices", "NLL", "NLL/choice", "random NLL", "pseudo-R²"):
        table.add_column(column, justify="right")
    for participant, result in scores.participants.items():
        n = len(result.choices)
        table.add_row(participant, str(n), f"{result.nll:.3f}",
                      f"{result.nll / n:.3f}" if n else "-",
                      _num(result.nll_random), _num(result.pseudo_r2))
    Console(stderr=False).print(table)
    r2 = scores.pseudo_r2
    click.echo(f"{scores.choices} choices, NLL {scores.nll:.3f} "
               f"({scores.nll / max(scores.choices, 1):.3f} per choice), pseudo-R² "
               f"{'n/a' if r2 is None else f'{r2:.3f}'}")
    if output:
        scores.write_csv(output)


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
