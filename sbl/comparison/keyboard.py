"""The keyboard analysis: accuracy and response time by condition, for trials with a correct
answer (``text`` and ``html_keyboard`` with a ``correct_key``, ``choice`` with a
``correct_choice``, and the image, audio and video kinds with either).

Conditions are found as :mod:`sbl.comparison.conditions` says (in the Stroop example the
word and its ink, ``word`` and ``color``); ``--by COLUMN`` names the columns instead.
Response times are the mean rt of correct responses, where rt was recorded: text runs
record none. When the rows of a block hold more than one ``pass`` (``repeat N``, a loop;
docs/data.md "Which pass"), accuracy by pass of each such block is a learning curve.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas

from sbl.comparison import stats
from sbl.comparison.conditions import labeller
from sbl.comparison.registry import Dataset, Headline, Options, Plot, Section, Table, analysis


@analysis()
def keyboard(datasets: Sequence[Dataset], options: Options) -> Section | None:
    """Accuracy and response time by condition, per dataset."""
    scored = [(d.label, [dict(r) for r in d.rows if r.get("correct") is not None])
              for d in datasets]
    scored = [(label, rows) for label, rows in scored if rows]
    if not scored:
        return None
    label_of = labeller([r for _, rows in scored for r in rows], options.by,
                        options.not_conditions)
    trials = pandas.DataFrame([_trial(label, r, label_of(r)) for label, rows in scored
                               for r in rows])
    accuracy = _by_condition(trials, "correct")
    headline = Headline("accuracy per participant", _per_participant(trials, "correct", []),
                        digits=2, ylim=(0, 1))
    timed = trials[trials["correct"] & trials["rt"].notna()]
    rt = _by_condition(timed, "rt")
    curve = _by_pass(trials)
    frames = {"trials": trials, "accuracy": accuracy, "rt": rt,
              "score": headline.frame, "by_pass": curve}
    untimed = [label for label, _ in scored if label not in set(timed["dataset"])]
    notes = [f"No response times for {', '.join(untimed)}: text runs record none."] \
        if untimed else []
    notes.extend([label_of.note] if label_of.note else [])
    return Section("keyboard", "Keyboard and choice trials: accuracy and response time",
                   frames, tables=_tables(accuracy, rt) + _curve_tables(curve),
                   plots=_plots(accuracy, rt) + _curve_plots(curve),
                   headline=headline,
                   notes=tuple(notes))


def _trial(label: str, row: dict[str, Any], condition: str) -> dict[str, Any]:
    rt = row.get("rt")
    passed = row.get("pass")
    return {"dataset": label, "participant": row.get("participant"), "condition": condition,
            "correct": bool(row.get("correct")),
            "rt": float(rt) if isinstance(rt, (int, float)) else math.nan,
            "block": str(row.get("block") or ""),
            "pass": passed if isinstance(passed, int) and not isinstance(passed, bool) else None}


def _per_participant(trials: pandas.DataFrame, value: str, keys: list[str]) -> pandas.DataFrame:
    """Each participant's mean of ``value`` within each combination of ``keys``."""
    cols = ["dataset", "participant", *keys]
    if not len(trials):
        return pandas.DataFrame(columns=[*cols, "value"])
    means = trials.groupby(cols, sort=False)[value].mean().reset_index()
    return means.rename(columns={value: "value"})


def _by_condition(trials: pandas.DataFrame, value: str) -> pandas.DataFrame:
    """Mean ± SE over participants of each one's mean ``value`` per condition; conditions
    sorted by name (numbers in them by value: ``group=2`` before ``group=10``), datasets in
    the order given."""
    summary = stats.summarise(_per_participant(trials, value, ["condition"]), ["condition"])
    return stats.sort_by(summary, "condition")[["condition", "dataset", *stats.SUMMARY]]


def _by_pass(trials: pandas.DataFrame) -> pandas.DataFrame:
    """Mean ± SE over participants of accuracy per block and pass, for the blocks whose
    rows hold more than one pass (rows recorded before format 4 have none)."""
    passed = trials[trials["pass"].notna()].astype({"pass": int})
    counts = passed.groupby("block")["pass"].nunique()
    repeated = passed[passed["block"].isin(counts[counts > 1].index)]
    summary = stats.summarise(_per_participant(repeated, "correct", ["block", "pass"]),
                              ["block", "pass"])
    return summary.sort_values(["block", "pass"], kind="stable").reset_index(drop=True)


def _curve_tables(curve: pandas.DataFrame) -> tuple[Table, ...]:
    if not len(curve):
        return ()
    return (Table("by_pass", "Accuracy by pass of a repeated block (a learning curve)",
                  curve, keys=("block", "pass"), digits=2),)


def _curve_plots(curve: pandas.DataFrame) -> tuple[Plot, ...]:
    if not len(curve):
        return ()
    several = curve["block"].nunique() > 1
    return (Plot("by_pass", "Accuracy by pass (learning curve)", "lines", curve, x="pass",
                 panels="block" if several else None, xlabel="pass",
                 ylabel="proportion correct", ylim=(0, 1),
                 caption="" if several else f"block {curve['block'].iloc[0]}"),)


def _tables(accuracy: pandas.DataFrame, rt: pandas.DataFrame) -> tuple[Table, ...]:
    out = [Table("accuracy", "Accuracy by condition (proportion correct)",
                 accuracy, keys=("condition",), digits=2)]
    if len(rt):
        out.append(Table("rt", "Response time by condition (ms, correct only)", rt,
                         keys=("condition",), digits=0))
    return tuple(out)


def _plots(accuracy: pandas.DataFrame, rt: pandas.DataFrame) -> tuple[Plot, ...]:
    out = [Plot("accuracy", "Accuracy by condition", "bars", accuracy, x="condition",
                xlabel="condition", ylabel="proportion correct", ylim=(0, 1))]
    if len(rt):
        out.append(Plot("rt", "Response time of correct responses by condition", "bars", rt,
                        x="condition", xlabel="condition", ylabel="rt (ms)"))
    return tuple(out)
