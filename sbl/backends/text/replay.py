"""Replaying recorded rows: the interpreter runs the experiment as usual, but takes each
trial's response from the recording instead of asking anyone.

Rows are matched to trials by their stable ``trial`` id, in order: a row for another trial
(another experiment, an edited one) is an error naming the row and the trial expected. The
parameters, data fields and shared variables are recomputed and checked against the recorded
values; a mismatch names the column, both values and the row. The replayed row keeps the
recording's ``source`` and ``rt``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sbl import groups, ir, kinds, repetitions
from sbl.backends.text import answers
from sbl.backends.text.answers import Question
from sbl.data import schema
from sbl.data.rows import Rows
from sbl.source import SblError

# Columns that are not recomputed: who, where from, when, and the response itself.
_NOT_CHECKED = frozenset({"participant", "seed", "source", "rt", "response", "trial_index"})
_HELP = ("the data must come from this experiment, unchanged since it was recorded, and "
         "from the same seed")


def _short(value: Any, limit: int = 80) -> str:
    text = schema.to_json(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


class Replay:
    """The recorded rows of one participant, taken trial by trial."""

    def __init__(self, rows: Rows) -> None:
        self.rows = rows
        self.next = 0

    @property
    def pending(self) -> bool:
        """Whether recorded rows remain."""
        return self.next < len(self.rows)

    def group(self, count: int) -> int | None:
        """The group (1 to ``count``) the recording's first row records, or None without one."""
        if not len(self.rows) or self.rows[0].get(groups.COLUMN) is None:
            return None
        value = self.rows[0][groups.COLUMN]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                value != int(value) or not 1 <= value <= count:
            raise SblError.at(None, f"{self.rows.where(0)} records group {value!r}, but the "
                                    f"experiment has groups 1 to {count}",
                              help="replay data recorded with this experiment")
        return int(value)

    def take(self, stim: ir.Stimulus) -> tuple[dict[str, Any], str] | None:
        """The recorded row for ``stim`` and where it is, or None when the recording has ended."""
        if not self.pending:
            return None
        i = self.next
        row = self.rows[i]
        if row.get("trial") != stim.id or row.get("kind") != stim.kind:
            raise SblError.at(stim.span, f"{self.rows.where(i)} is for trial "
                                         f"'{row.get('trial')}' ({row.get('kind')}), but the "
                                         f"experiment's next trial is '{stim.id}' ({stim.kind})",
                              help=_HELP)
        self.next += 1
        return row, self.rows.where(i)

    def check_response(self, kind: kinds.Kind, qs: list[Question],
                       recorded: Mapping[str, Any], where: str) -> None:
        """The recorded response is one this trial accepts (an arm it has, a key it takes),
        before anything is computed from it."""
        values = answers.slot_values(kind, recorded.get("response"), len(qs))
        for q, value in zip(qs, values, strict=True):
            if value is None or q.options is None or q.accepts(value):
                continue
            valid = ", ".join(schema.to_json(v) for v in q.values)
            raise SblError.at(None, f"{where}, column 'response' (trial "
                                    f"'{recorded.get('trial')}'): {_short(value)} is not one "
                                    f"of the trial's answers ({valid})", help=_HELP)

    def check(self, recorded: Mapping[str, Any], row: Mapping[str, Any], where: str,
              kinds_of: Mapping[str, str], unchecked: frozenset[str] = frozenset()) -> None:
        """Recomputed ``row`` against the ``recorded`` one: every column both have must agree,
        but ``unchecked`` ones. Parameters are compared first: when they differ, everything
        computed from them does."""
        rank = {"parameter": 0, "data field": 1}
        for name, value in sorted(row.items(), key=lambda kv: rank.get(kinds_of.get(kv[0], ""), 2)):
            if name in _NOT_CHECKED or name in unchecked or name not in recorded:
                continue
            if name in repetitions.COLUMNS and recorded[name] in (None, ""):
                continue  # recorded before format 4, which has no pass columns
            if not schema.same_cell(recorded[name], value):
                what = kinds_of.get(name, "column")
                raise SblError.at(None, f"{where} (trial '{row.get('trial')}'): the {what} "
                                        f"'{name}' was {_short(recorded[name])} in the recording "
                                        f"but is {_short(value)} when recomputed", help=_HELP)

    def finish(self) -> None:
        """At the end of the experiment: rows left over are an error."""
        if self.pending:
            i = self.next
            raise SblError.at(None, f"{self.rows.where(i)} is for trial "
                                    f"'{self.rows[i].get('trial')}', but the experiment has "
                                    f"ended: the data has {len(self.rows) - i} more rows than "
                                    f"the experiment has trials", help=_HELP)
