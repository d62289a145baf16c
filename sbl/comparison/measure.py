"""``--measure COLUMN``: the mean of a data field (a custom data field, a condition column, a
kind's data field) per dataset and condition, for the measures a task defines itself: a
staircase's level, a stop-signal delay, a balloon's pumps, a deck's net score, an
indifference point.

Every row with a value in the column counts, whatever its kind, except that running state
(a shared variable, on every row, or a copy of one's earlier value: the columns that are
never conditions) counts on the trials with a correct answer only, when there are any;
true and false count 1 and 0, so the mean of a true/false field is a proportion.
As everywhere in ``sbl compare``, the mean is taken per participant first (per condition),
then over participants (n, mean, se).
Conditions are found as :mod:`sbl.comparison.conditions` says (the measured columns are
never conditions); ``--by`` names them instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas

from sbl.comparison import stats
from sbl.comparison.conditions import labeller
from sbl.comparison.registry import Dataset, Headline, Options, Plot, Section, Table
from sbl.source import SblError, did_you_mean


def check_measures(datasets: Sequence[Dataset], columns: Sequence[str]) -> None:
    """Every measured column is a column of the data holding numbers (or true/false): an
    error names the column the data lacks (with the closest one) or the first row whose
    value is not a number."""
    known = {c for d in datasets for c in d.rows.columns}
    for name in columns:
        if name not in known:
            raise SblError.at(None, f"--measure names the column '{name}', which the data "
                                    f"does not have",
                              help=did_you_mean(name, known)
                              or "columns: " + ", ".join(sorted(known)))
        for d in datasets:
            for i, row in enumerate(d.rows):
                if row.get(name) is not None and _number(row[name]) is None:
                    raise SblError.at(None, f"--measure {name}: {d.rows.where(i)} holds "
                                            f"{row[name]!r} there, not a number",
                                      help=f"a measure is averaged, so its column must hold "
                                           f"numbers or true/false; to compare by its values "
                                           f"instead, give --by {name}")


def measure_section(datasets: Sequence[Dataset], options: Options) -> Section | None:
    """The mean of each ``options.measures`` column by condition, per dataset; its headline
    is the first column's mean per participant."""
    frames: dict[str, pandas.DataFrame] = {}
    tables: list[Table] = []
    plots: list[Plot] = []
    notes: list[str] = []
    headline: Headline | None = None
    for name in options.measures:
        values = _values(datasets, name, options)
        if values is None:
            notes.append(f"No row holds a value of {name}.")
            continue
        trials, note = values
        per_participant = _means(trials, [])
        headline = headline or Headline(f"mean {name} per participant", per_participant,
                                        digits=2)
        summary = stats.sort_by(stats.summarise(_means(trials, ["condition"]), ["condition"]),
                                "condition")[["condition", "dataset", *stats.SUMMARY]]
        frames[name] = summary
        frames[f"{name}.participants"] = per_participant
        tables.append(Table(name, f"Mean {name} by condition", summary, keys=("condition",),
                            digits=2))
        plots.append(Plot(name, f"Mean {name} by condition", "bars", summary,
                          x="condition", xlabel="condition", ylabel=name))
        notes.extend([note] if note else [])
    if not frames and not notes:
        return None
    return Section("measure", "Measures: " + ", ".join(options.measures), frames,
                   tables=tuple(tables), plots=tuple(plots), headline=headline,
                   notes=tuple(dict.fromkeys(notes)))


def _values(datasets: Sequence[Dataset], name: str,
            options: Options) -> tuple[pandas.DataFrame, str] | None:
    """One row per data row holding ``name``: dataset, participant, condition, value; and
    the conditions' note (columns left out). None when no row holds a value."""
    rows = [(d.label, dict(r)) for d in datasets for r in d.rows if r.get(name) is not None]
    scored = [(label, r) for label, r in rows if r.get("correct") is not None]
    if name in options.not_conditions and scored:
        # running state is on every row, instructions and fixations included: its value
        # on the trials with a correct answer is the measure (a staircase's level)
        rows = scored
    if not rows:
        return None
    # a measure is never its own condition, nor is another measured column
    state = options.not_conditions | set(options.measures)
    label_of = labeller([r for _, r in rows], options.by, frozenset(state))
    frame = pandas.DataFrame([{"dataset": label, "participant": r.get("participant"),
                               "condition": label_of(r), "value": _number(r[name])}
                              for label, r in rows])
    return frame, label_of.note


def _means(trials: pandas.DataFrame, keys: list[str]) -> pandas.DataFrame:
    """Each participant's mean value within each combination of ``keys``."""
    cols = ["dataset", "participant", *keys]
    return trials.groupby(cols, sort=False)["value"].mean().reset_index()


def _number(value: Any) -> float | None:
    """The value as a number (true 1, false 0), or None when it is not one."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    return None
