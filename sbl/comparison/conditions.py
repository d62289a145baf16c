"""Conditions: what varies between the trials of one stimulus, as a label per row
(``congruent=true, task=colour``) for the analyses that summarise by condition.

When a stimulus's rows carry columns of their own (condition columns and custom data
fields: anything beyond the core columns and the kind's data fields and parameters,
docs/data.md), those that vary are the condition (e.g. ``task``, ``congruent`` and
``switch``); otherwise the recorded parameters whose values differ across its rows (words
before HTML and media file paths, so a picture is named by its description). Never taken
(:func:`not_conditions`, found over whole runs): the columns every row of the data has a
value in (shared variables), a copy of a shared variable's earlier value (``ssd_now: ssd``,
a tracking delay), a column of which each participant saw at most half the values (drawn
per participant: their group, their own shuffled locations). Within a stimulus, columns
are taken fewest values first, at most 8 values each and 16 conditions in all (the columns
left out for that are named: :attr:`Labeller.note`), none that only repeats those taken
(an HTML stimulus and its text description) and none computed from the answer (within the
conditions taken, each value goes with one value of ``correct``: ``error: not correct``,
an n-back's ``hit``); the answer itself, ``correct_key``/``correct_choice``, the list of
valid keys and a slider's scale are not conditions. ``--by COLUMN`` names the columns
instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sbl import kinds, types
from sbl.data.schema import declared_names, encode_cell, recorded_params

NOT_CONDITIONS = frozenset({"correct_key", "correct_choice", "choices", "low", "high", "step",
                            "start", "anchors", "button_label", "require_movement"})
MAX_LEVELS = 8
MAX_CONDITIONS = 16
LABEL_WIDTH = 40


@dataclass(frozen=True)
class Labeller:
    """Gives each row its condition label (call it with the row); ``left_out`` names the
    columns that varied but were left out because they made too many conditions."""

    columns: dict[str, list[str]]
    several: bool
    left_out: tuple[str, ...] = ()

    def __call__(self, row: dict[str, Any]) -> str:
        tid = str(row.get("trial"))
        parts = [f"{c}={_cell(row.get(c))}" for c in self.columns[tid]]
        if self.several:
            parts.insert(0, tid)
        return ", ".join(parts) or tid

    @property
    def note(self) -> str:
        """What to tell the reader about the columns left out (empty when none were)."""
        if not self.left_out:
            return ""
        names = ", ".join(self.left_out)
        return (f"Conditions leave out {names}: with them there would be more than "
                f"{MAX_CONDITIONS} conditions. --by COLUMN[,COLUMN] chooses the columns.")


def labeller(rows: list[dict[str, Any]], by: Sequence[str],
             state: frozenset[str]) -> Labeller:
    """The condition label of each of ``rows``: by the ``--by`` columns ``by`` when given,
    else by the columns found (``state``: columns never taken); the trial's id first when
    the rows are of several stimuli."""
    trial_ids = list(dict.fromkeys(str(r.get("trial")) for r in rows))
    columns: dict[str, list[str]] = {}
    left_out: list[str] = []
    for tid in trial_ids:
        own = [r for r in rows if r.get("trial") == tid]
        columns[tid] = _named(own, by) if by else _varying(own, state, left_out)
    return Labeller(columns, len(trial_ids) > 1, tuple(dict.fromkeys(left_out)))


def _named(rows: list[dict[str, Any]], by: Sequence[str]) -> list[str]:
    """The ``--by`` columns these rows of one stimulus have a value in: a stimulus outside
    the block that records a column is labelled by its trial alone, not ``column=``."""
    return [c for c in by if any(r.get(c) is not None for r in rows)]


def _cell(value: Any) -> str:
    """A condition's value as shown: ``none`` where a row lacks it."""
    return "none" if value is None else _short(encode_cell(value))


def _varying(rows: list[dict[str, Any]], state: frozenset[str],
             left_out: list[str]) -> list[str]:
    """The columns of their own (see the module docstring) that vary across these rows of
    one stimulus, else its parameters that do; adds to ``left_out`` those that would make
    too many conditions."""
    own = [c for c in _own_columns(rows) if c not in state]
    return _choose(rows, own, left_out) or _choose(rows, None, left_out)


def _own_columns(rows: list[dict[str, Any]]) -> list[str]:
    """The columns these rows have beyond the core ones and their kind's data fields and
    parameters, in order of first appearance."""
    kind = kinds.get(str(rows[0].get("kind")))
    declared = declared_names(kind.name if kind else None)
    return [c for c in dict.fromkeys(c for r in rows for c in r) if c not in declared]


def _choose(rows: list[dict[str, Any]], own: list[str] | None,
            left_out: list[str]) -> list[str]:
    """Of ``own`` (None: the kind's parameters), those that vary across the rows: plain text
    before HTML and media files, fewest values first. Left out: one that splits the rows no
    further than those already taken (an HTML stimulus and its description), one that
    decides ``correct`` within the conditions already taken (an outcome: ``hit``), and any
    that would make more than MAX_CONDITIONS conditions (added to ``left_out``)."""
    kind = kinds.get(str(rows[0].get("kind")))
    params = [p for p in recorded_params(kind) if p.name not in NOT_CONDITIONS] if kind else []
    # markup and file paths label a condition worse than the words that describe them
    html = {p.name for p in params if types.strip_optional(p.type) in (types.HTML, types.MEDIA)}
    names = [p.name for p in params] if own is None else own
    cells = {n: [encode_cell(r.get(n)) for r in rows] for n in names}
    levels = {n: len(set(cells[n])) for n in names}
    candidates = sorted((n for n in names if 1 < levels[n] <= MAX_LEVELS),
                        key=lambda n: (n in html, levels[n], names.index(n)))
    correct = [bool(r.get("correct")) for r in rows]
    chosen: list[str] = []
    count = 1
    for name in candidates:
        if own is not None and _decides(cells[name], correct, [cells[c] for c in chosen]):
            continue
        combined = len(set(zip(*(cells[c] for c in [*chosen, name]), strict=True)))
        if combined > MAX_CONDITIONS:
            left_out.append(name)
        elif combined > count:
            chosen.append(name)
            count = combined
    return sorted(chosen, key=names.index)


def _decides(values: list[str], correct: list[bool], given: list[list[str]]) -> bool:
    """Whether a column (``values`` per row) is computed from the answer: within the
    conditions ``given`` (one list of cells per column taken), wherever it varies, each of
    its values goes with one value of ``correct``, and somewhere it varies. Its values must
    recur (two rows each on average): with one row per value, any column would pass."""
    groups: dict[tuple[str, ...], list[tuple[str, bool]]] = {}
    for i, value in enumerate(values):
        groups.setdefault(tuple(g[i] for g in given), []).append((value, correct[i]))
    varying = [rows for rows in groups.values() if len({v for v, _ in rows}) > 1]
    distinct = sum(len({v for v, _ in rows}) for rows in varying)
    return bool(varying) and sum(map(len, varying)) >= 2 * distinct and all(
        len(set(rows)) == len({v for v, _ in rows}) and len({c for _, c in rows}) > 1
        for rows in varying)


def not_conditions(runs: Sequence[Sequence[dict[str, Any]]],
                   running: frozenset[str]) -> frozenset[str]:
    """Columns that vary but are no condition, from ``runs`` (each participant's rows in
    order) and ``running`` (the shared variables): a copy of a shared variable as it stood
    before the trial (``ssd_now: ssd``, a staircase's level), and a column of which each
    participant saw at most half the values (drawn per participant, as their group is, or
    their own shuffled locations)."""
    columns = {c for run in runs for r in run for c in r} - running
    return frozenset(c for c in columns if _per_participant(runs, c)
                     or any(_copies(runs, c, s) for s in running))


def _per_participant(runs: Sequence[Sequence[dict[str, Any]]], column: str) -> bool:
    """Whether each participant has at most half the values of ``column`` in the data
    (and it has two or more)."""
    values = [{encode_cell(r[column]) for r in run if r.get(column) is not None}
              for run in runs]
    every = len(set().union(*values))
    return every > 1 and all(2 * len(v) <= every for v in values)


def _copies(runs: Sequence[Sequence[dict[str, Any]]], column: str, shared: str) -> bool:
    """Whether ``column``, wherever set, holds the value the shared variable ``shared``
    had on the participant's row before, and that value changed during some run."""
    seen = False
    for run in runs:
        for before, row in zip(run, run[1:], strict=False):
            if row.get(column) is None:
                continue
            if encode_cell(row[column]) != encode_cell(before.get(shared)):
                return False
            seen = True
    return seen and any(len({encode_cell(r.get(shared)) for r in run}) > 1 for run in runs)


def _short(text: str) -> str:
    return text if len(text) <= LABEL_WIDTH else text[:LABEL_WIDTH - 1] + "…"
