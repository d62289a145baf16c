"""Conditions: what varies between the trials of one stimulus, as a label per row
(``congruent=true, task=colour``) for the analyses that summarise by condition.

When a stimulus's rows carry columns of their own (condition columns and custom data
fields: anything beyond the core columns and the kind's data fields and parameters,
docs/data.md, less the columns every row of the data has a value in, which are taken for
shared variables, and the participant's counterbalancing group), those that vary are the
condition (e.g. ``task``, ``congruent`` and ``switch``); otherwise the recorded parameters
whose values differ across its rows (words before HTML and media file paths, so a picture
is named by its description). Either way at most 8 values each, at most 16 conditions in
all, none that only repeats another (an HTML stimulus and its text description) and none
that decides correctness by itself (``error: not correct``); the answer itself,
``correct_key``/``correct_choice``, the list of valid keys and a slider's scale are not
conditions. ``--by COLUMN`` names the columns instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sbl import kinds, types
from sbl.data.schema import declared_names, encode_cell, recorded_params

NOT_CONDITIONS = frozenset({"correct_key", "correct_choice", "choices", "low", "high", "step",
                            "start", "anchors", "button_label", "require_movement"})
MAX_LEVELS = 8
MAX_CONDITIONS = 16
LABEL_WIDTH = 40


def labeller(rows: list[dict[str, Any]], by: Sequence[str],
             state: frozenset[str]) -> Callable[[dict[str, Any]], str]:
    """A function giving each of ``rows`` its condition label: ``--by`` columns ``by`` when
    given, else the columns found (``state``: columns never taken); the trial's id first
    when the rows are of several stimuli."""
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
