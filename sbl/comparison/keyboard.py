"""The keyboard analysis: accuracy and response time by condition, for trials with a correct
answer (``text`` and ``html_keyboard`` with a ``correct_key``, ``choice`` with a
``correct_choice``).

A **condition** is what varies between the trials of one stimulus. When its rows carry
columns of their own (condition columns and custom data fields: anything beyond the core
columns and the kind's data fields and parameters, docs/data.md, less the columns every row
of the data has a value in, which are taken for shared variables), those that vary are the
condition (e.g. ``task``, ``congruent`` and ``switch``); otherwise the
recorded parameters whose values differ across its rows (words before HTML and media file
paths, so a picture is named by its description). Either way at most 8 values each,
at most 16 conditions in all, none that only repeats another (an HTML stimulus and its text
description) and none that decides correctness by itself (``error: not correct``); the
answer itself, ``correct_key``/``correct_choice``, and the list of valid keys are not
conditions. In the Stroop example that is the word and its ink (``word``, ``color``).
``--by COLUMN`` names the columns instead. Response times are the mean rt of correct
responses, where rt was recorded: text runs record none.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas

from sbl import kinds, types
from sbl.comparison import stats
from sbl.comparison.registry import Dataset, Headline, Options, Plot, Section, Table, analysis
from sbl.data.schema import declared_names, encode_cell, recorded_params

NOT_CONDITIONS = frozenset({"correct_key", "correct_choice", "choices"})
MAX_LEVELS = 8
MAX_CONDITIONS = 16
LABEL_WIDTH = 40


@analysis()
def keyboard(datasets: Sequence[Dataset], options: Options) -> Section | None:
    """Accuracy and response time by condition, per dataset."""
    scored = [(d.label, [dict(r) for r in d.rows if r.get("correct") is not None])
              for d in datasets]
    scored = [(label, rows) for label, rows in scored if rows]
    if not scored:
        return None
    label_of = _conditions([r for _, rows in scored for r in rows], options.by,
                           options.not_conditions)
    trials = pandas.DataFrame([_trial(label, r, label_of(r)) for label, rows in scored
                               for r in rows])
    accuracy = _by_condition(trials, "correct")
    headline = Headline("accuracy per participant", _per_participant(trials, "correct", []),
                        digits=2, ylim=(0, 1))
    timed = trials[trials["correct"] & trials["rt"].notna()]
    rt = _by_condition(timed, "rt")
    frames = {"trials": trials, "accuracy": accuracy, "rt": rt,
              "score": headline.frame}
    untimed = [label for label, _ in scored if label not in set(timed["dataset"])]
    notes = [f"No response times for {', '.join(untimed)}: text runs record none."] \
        if untimed else []
    return Section("keyboard", "Keyboard and choice trials: accuracy and response time",
                   frames, tables=_tables(accuracy, rt), plots=_plots(accuracy, rt),
                   headline=headline,
                   notes=tuple(notes))


def _trial(label: str, row: dict[str, Any], condition: str) -> dict[str, Any]:
    rt = row.get("rt")
    return {"dataset": label, "participant": row.get("participant"), "condition": condition,
            "correct": bool(row.get("correct")),
            "rt": float(rt) if isinstance(rt, (int, float)) else math.nan}


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
    order = {d: i for i, d in enumerate(dict.fromkeys(trials["dataset"]))}
    summary = summary.sort_values(["condition", "dataset"], key=lambda col: col.map(
        order if col.name == "dataset" else stats.natural_key), kind="stable")
    return summary[["condition", "dataset", *stats.SUMMARY]].reset_index(drop=True)


def _conditions(rows: list[dict[str, Any]], by: Sequence[str],  # type: ignore[no-untyped-def]
                state: frozenset[str]):
    """A function giving each row's condition label."""
    trial_ids = list(dict.fromkeys(str(r.get("trial")) for r in rows))
    columns = {t: _named(own, by) if by else _varying(own, state)
               for t in trial_ids for own in [[r for r in rows if r.get("trial") == t]]}

    def label(row: dict[str, Any]) -> str:
        tid = str(row.get("trial"))
        parts = [f"{c}={_cell(row.get(c))}" for c in columns[tid]]
        if len(trial_ids) > 1:
            parts.insert(0, tid)
        return ", ".join(parts) or tid
    return label


def _named(rows: list[dict[str, Any]], by: Sequence[str]) -> list[str]:
    """The ``--by`` columns these rows of one stimulus have a value in: a stimulus outside
    the block that records a column is labelled by its trial alone, not ``column=``."""
    return [c for c in by if any(r.get(c) is not None for r in rows)]


def _cell(value: Any) -> str:
    """A condition's value as shown: ``none`` where a row lacks it."""
    return "none" if value is None else _short(encode_cell(value))


def _varying(rows: list[dict[str, Any]], state: frozenset[str]) -> list[str]:
    """The columns of their own (see the module docstring) that vary across these rows of
    one stimulus, else its parameters that do."""
    own = [c for c in _own_columns(rows) if c not in state]
    return _choose(rows, own) or _choose(rows, None)


def _own_columns(rows: list[dict[str, Any]]) -> list[str]:
    """The columns these rows have beyond the core ones and their kind's data fields and
    parameters, in order of first appearance."""
    kind = kinds.get(str(rows[0].get("kind")))
    declared = declared_names(kind.name if kind else None)
    return [c for c in dict.fromkeys(c for r in rows for c in r) if c not in declared]


def _choose(rows: list[dict[str, Any]], own: list[str] | None) -> list[str]:
    """Of ``own`` (None: the kind's parameters), those that vary across the rows: plain text
    before HTML and media files, fewest values first; one that splits the rows no further
    than those already taken (an HTML stimulus and its description), one that decides
    ``correct`` by itself, and any that would make more than MAX_CONDITIONS conditions are
    left out."""
    kind = kinds.get(str(rows[0].get("kind")))
    params = [p for p in recorded_params(kind) if p.name not in NOT_CONDITIONS] if kind else []
    # markup and file paths label a condition worse than the words that describe them
    html = {p.name for p in params if types.strip_optional(p.type) in (types.HTML, types.MEDIA)}
    names = [p.name for p in params] if own is None else [
        n for n in own if not _decides_correct(rows, n)]
    cells = {n: [encode_cell(r.get(n)) for r in rows] for n in names}
    levels = {n: len(set(cells[n])) for n in names}
    candidates = sorted((n for n in names if 1 < levels[n] <= MAX_LEVELS),
                        key=lambda n: (n in html, levels[n], names.index(n)))
    chosen: list[str] = []
    count = 1
    for name in candidates:
        combined = len(set(zip(*(cells[c] for c in [*chosen, name]), strict=True)))
        if combined > count and combined <= MAX_CONDITIONS:
            chosen.append(name)
            count = combined
    return sorted(chosen, key=names.index)


def _decides_correct(rows: list[dict[str, Any]], name: str) -> bool:
    """Whether ``correct`` varies and each value of column ``name`` has only one value of
    it: a column computed from the answer, not a condition."""
    pairs = {(encode_cell(r.get(name)), bool(r.get("correct"))) for r in rows}
    return len({c for _, c in pairs}) > 1 and len(pairs) == len({v for v, _ in pairs})


def _short(text: str) -> str:
    return text if len(text) <= LABEL_WIDTH else text[:LABEL_WIDTH - 1] + "…"


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
